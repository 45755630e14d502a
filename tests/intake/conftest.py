"""Fixtures for the intake tests: the app's reference tables and the real tool outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from webapp.services.intake import References, parse

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DATA = Path(__file__).resolve().parents[2] / "webapp" / "data"


@pytest.fixture(scope="session")
def refs() -> References:
    return References.from_csv_dir(DATA)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def read(refs):
    """Parse a fixture file by name, as an upload would."""

    def run(name: str):
        return parse(fixture_bytes(name), filename=name, references=refs)

    return run


def as_shown(note: str) -> str:
    """An import's note or message as a page shows it (unescaped): commands in backticks
    set as code (web/intake.code_spans)."""
    import re

    return re.sub(r"`([^`\n]+)`", r"<code>\1</code>", note)
