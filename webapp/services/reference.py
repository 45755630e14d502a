"""Reference data shipped with the app (webapp/data/*.csv), loaded idempotently."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Hardware, ModelVariant, Quant, Runtime

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
OTHER_SLUG = "other"


def _floatish(value: str) -> float | None:
    return float(value) if value.strip() else None


# table -> (csv file, column converters, the "other" entry a submitter can pick)
SOURCES = {
    Hardware: (
        "hardware.csv",
        {"memory_gib": _floatish, "bandwidth_gb_s": _floatish},
        {"name": "Other hardware", "vendor": "other", "kind": "other", "memory_gib": None,
         "bandwidth_gb_s": None, "note": "named by the submitter"},
    ),
    ModelVariant: (
        "models.csv",
        {"params_b": _floatish, "active_params_b": _floatish},
        {"family": "Other", "name": "Other model", "variant": "other", "params_b": None,
         "active_params_b": None},
    ),
    Quant: (
        "quants.csv",
        {"bits_per_weight": _floatish},
        {"family": "other", "name": "Other quant", "bits_per_weight": None,
         "source": "named by the submitter"},
    ),
    Runtime: (
        "runtimes.csv",
        {},
        {"name": "Other runtime", "engine_family": "other", "version_example": ""},
    ),
}


def _rows(filename: str, converters: dict) -> Iterator[dict]:
    with (DATA_DIR / filename).open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            yield {key: converters.get(key, str)(value) for key, value in row.items()}


def load_reference(session: Session) -> dict[str, int]:
    """Insert new rows and update changed ones, keyed by slug; never duplicates.

    Returns how many rows of each table were inserted or updated. Adds and flushes;
    the caller commits.
    """
    changed: dict[str, int] = {}
    for model, (filename, converters, other) in SOURCES.items():
        existing = {row.slug: row for row in session.scalars(select(model))}
        count = 0
        for values in [*_rows(filename, converters), {"slug": OTHER_SLUG, **other}]:
            row = existing.get(values["slug"])
            if row is None:
                session.add(model(**values))
                count += 1
                continue
            if any(getattr(row, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                count += 1
        changed[model.__tablename__] = count
    session.flush()
    return changed
