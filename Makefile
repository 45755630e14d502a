# The README's commands. Each target sets up what it needs on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKERS ?= 2
FLASK := $(BIN)/flask --app webapp

.PHONY: run test dev lint bench clean db

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(BIN)/activate

.PHONY: venv
venv: $(BIN)/activate

db: venv
	$(FLASK) db upgrade
	$(FLASK) seed-reference
	$(FLASK) seed-demo --if-empty

run: db
	$(BIN)/gunicorn --config gunicorn.conf.py --workers $(WORKERS) --bind 127.0.0.1:$(PORT) 'webapp:create_app()'

dev: db
	$(FLASK) run --debug --port $(PORT)

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check webapp tests bench
	$(BIN)/bandit -q -c pyproject.toml -r webapp

bench: venv
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
