"""Fixtures for the runner's tests: a programmable fake engine and an isolated runner call."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.runner.fake_engine import FakeEngine
from tests.runner.loader import tm


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    result: dict | None

    @property
    def last_err_line(self) -> str:
        lines = self.err.strip().splitlines()
        return lines[-1] if lines else ""


@pytest.fixture
def fake_engine():
    """Make fake engines; every one is stopped (and its threads joined) after the test."""
    engines: list[FakeEngine] = []

    def make(**config) -> FakeEngine:
        engine = FakeEngine(**config)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


@pytest.fixture
def tools_dir(tmp_path, monkeypatch):
    """An empty PATH and no GPU sysfs: the runner finds only the tools a test puts here."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setattr(tm, "DRM_ROOT", str(tmp_path / "no-drm"))
    monkeypatch.setattr(tm, "ROCM_VERSION_FILE", str(tmp_path / "no-rocm-version"))
    return folder


@pytest.fixture
def measure(tools_dir, tmp_path, capsys):
    """Call the runner's main() in-process; returns exit code, stdout, stderr and the result."""

    def run(*argv: str, out=None) -> Outcome:
        path = out or tmp_path / "result.json"
        code = tm.main([*argv, "--out", str(path)])
        captured = capsys.readouterr()
        result = json.loads(path.read_text()) if path.exists() else None
        return Outcome(code, captured.out, captured.err, result)

    return run
