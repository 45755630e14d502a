"""What a self-hoster installs and reads: pinned dependencies with safe floors, `make run`
installing only what running needs, and a README that says what the defaults are."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
FLOORS = {"flask": "3.1.1", "jinja2": "3.1.6", "werkzeug": "3.1.3"}


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, version = line.partition("==")
        assert version, f"constraints.txt pins with ==, not {line!r}"
        pins[_name(name)] = Version(version)
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in
            project["dependencies"] + project["optional-dependencies"]["test"]]


def test_every_runtime_and_test_dependency_is_pinned_within_its_range():
    pins = _pins()
    for requirement in _declared():
        name = _name(requirement.name)
        assert name in pins, f"{requirement.name} is not pinned in constraints.txt"
        assert pins[name] in requirement.specifier, (requirement, pins[name])


def test_pins_and_ranges_sit_above_known_advisories():
    pins = _pins()
    declared = {_name(r.name): r for r in _declared()}
    for name, floor in FLOORS.items():
        assert pins[name] >= Version(floor), name
        assert name in declared, f"{name} needs a floor in pyproject.toml"
        assert not declared[name].specifier.contains(_just_below(floor)), name


def _just_below(version: str) -> str:
    major, minor, patch = (int(part) for part in version.split("."))
    return f"{major}.{minor}.{patch - 1}" if patch else f"{major}.{minor - 1}.99"


def _dry_run(target: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    result = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    return result.stdout


def test_make_run_installs_only_what_running_needs_and_make_test_adds_the_tools():
    run = _dry_run("run")
    assert "-c constraints.txt -e ." in run
    assert "[test]" not in run
    test = _dry_run("test")
    assert "-c constraints.txt -e '.[test]'" in test


def test_the_readme_says_which_python_and_where_the_commands_live():
    readme = (ROOT / "README.md").read_text()
    assert "Python 3.11" in readme
    assert ".venv/bin/flask" in readme
    # The default database is a file in instance/, not a URL that changes with the folder
    # a command runs from.
    assert "`sqlite:///instance/trustbench.sqlite3` |" not in readme
    assert "12+ characters" in readme


def test_the_default_database_is_an_absolute_path_in_instance(tmp_path, monkeypatch):
    from webapp import create_app

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("TRUSTBENCH_CONFIG", raising=False)
    app = create_app({"SECRET_KEY": "x"}, instance_path=str(tmp_path / "instance"))
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri == f"sqlite:///{tmp_path / 'instance' / 'trustbench.sqlite3'}"
    assert Path(uri.removeprefix("sqlite:///")).is_absolute()
