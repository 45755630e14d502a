# The README's commands. Each target sets up what it needs on a fresh clone.
# Installs are pinned by constraints.txt (`make constraints` rewrites it): `make run`
# installs only what running needs; `make test`, `lint` and `bench` add the test tools.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKERS ?= 2
FLASK := $(BIN)/flask --app webapp
PIP := $(BIN)/python -m pip install --quiet -c constraints.txt

.PHONY: run test dev lint bench profile instructions clean db venv test-venv constraints

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.test-deps: $(VENV)/.run-deps
	$(PIP) -e '.[test]'
	touch $@

venv: $(VENV)/.run-deps

test-venv: $(VENV)/.test-deps

db: venv
	$(FLASK) db upgrade
	$(FLASK) seed-reference
	$(FLASK) seed-demo --if-empty
	$(FLASK) refresh --if-needed

run: db
	$(BIN)/gunicorn --config gunicorn.conf.py --workers $(WORKERS) --bind 127.0.0.1:$(PORT) 'webapp:create_app()'

dev: db
	$(FLASK) run --debug --port $(PORT)

# axe-core for the accessibility browser tests, pinned by tests/browser/package-lock.json;
# without npm those tests skip and say why (CI, with TRUSTBENCH_REQUIRE_BROWSER=1, fails).
tests/browser/node_modules/axe-core/axe.min.js: tests/browser/package-lock.json
	if command -v npm >/dev/null 2>&1; then cd tests/browser && npm ci --silent && touch node_modules/axe-core/axe.min.js; fi

test: test-venv tests/browser/node_modules/axe-core/axe.min.js
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: test-venv
	$(BIN)/ruff check webapp tests bench trustbench_measure.py
	$(BIN)/bandit -q -c pyproject.toml -r webapp trustbench_measure.py

bench: test-venv
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Where one page's time goes, in-process, beside the baseline: make profile URL=/ [DATABASE_URL=…]
# (without DATABASE_URL, the instance database make run serves, set up as make run does).
URL ?= /
profile: test-venv db
	$(BIN)/python bench/page_profile.py $(URL) --profile $(PROFILE_ARGS)

# Instructions one more request for a page costs, under valgrind's callgrind (repeatable
# where wall time is not): make instructions URL=/ [DATABASE_URL=…] [INSTRUCTIONS_ARGS=--store]
instructions: test-venv db
	$(BIN)/python bench/instructions.py $(URL) $(INSTRUCTIONS_ARGS)

# Rewrite the pins from a scratch environment with the runtime and test dependencies.
constraints:
	rm -rf .constraints-venv
	$(PYTHON) -m venv .constraints-venv
	.constraints-venv/bin/python -m pip install --quiet --upgrade pip
	.constraints-venv/bin/python -m pip install --quiet '.[test]'
	( echo "# Pinned runtime and test dependencies: make constraints rewrites this file."; \
	  .constraints-venv/bin/python -m pip freeze --exclude trustbench ) > constraints.txt
	rm -rf .constraints-venv build

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
