"""The matching set (SPEC §1): the four dimensions two runs must share to be one
configuration — model, hardware (SKU and count), quant, runtime engine family.

`key_of` is the one definition. The reproduce lock, the reviewer's check of a
reproduction, the fresh form's "reproduce one of these instead" and the reviewer's
possible duplicates all compare keys made here.

Runtimes compare by engine family (data in runtimes.csv). "Other" entries compare by
the name the submitter typed; CPU-only hardware also by CPU family. Text compares
case- and space-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Runtime, Submission
from webapp.services.labels import hardware_label, model_label, quant_label
from webapp.services.rules import State
from webapp.services.trust import comparable as _text

NAME_FIELDS = ("other_model", "other_hardware", "cpu_family", "other_quant", "other_runtime")


@dataclass(frozen=True)
class MatchingKey:
    model: tuple[int, str]
    hardware: tuple[int, int, str]
    quant: tuple[int, str]
    engine: tuple[str, str]


def key(
    *,
    model: Any,
    hardware: Any,
    hardware_count: int,
    quant: Any,
    runtime: Any,
    other_model: str | None = None,
    other_hardware: str | None = None,
    cpu_family: str | None = None,
    other_quant: str | None = None,
    other_runtime: str | None = None,
) -> MatchingKey:
    """The key of a configuration given by its reference rows and typed names."""
    if hardware.is_other:
        hardware_text = _text(other_hardware)
    elif hardware.kind == "cpu":
        hardware_text = _text(cpu_family)
    else:
        hardware_text = ""
    return MatchingKey(
        model=(model.id, _text(other_model) if model.is_other else ""),
        hardware=(hardware.id, hardware_count, hardware_text),
        quant=(quant.id, _text(other_quant) if quant.is_other else ""),
        engine=(runtime.engine_family, _text(other_runtime) if runtime.is_other else ""),
    )


def key_of(row: Any) -> MatchingKey:
    """The key of a stored row (or anything with a row's attributes)."""
    return key(model=row.model, hardware=row.hardware, hardware_count=row.hardware_count,
               quant=row.quant, runtime=row.runtime,
               **{name: getattr(row, name) for name in NAME_FIELDS})


# --- one dimension at a time, for the reviewer ---------------------------------------------


@dataclass(frozen=True)
class Dimension:
    label: str
    hub_value: str
    repro_value: str
    matches: bool
    note: str = ""


def _engine_text(row: Any) -> str:
    return f"{row.runtime.engine_family} ({row.other_runtime or row.runtime.name})"


def compare(hub: Any, repro: Any) -> tuple[Dimension, ...]:
    """Each of the four dimensions of `repro` against `hub`, with both values shown."""
    a, b = key_of(hub), key_of(repro)
    note = ""
    if a.engine == b.engine and hub.runtime_id != repro.runtime_id:
        note = f"Different runtimes of one engine family ({hub.runtime.engine_family})."
    return (
        Dimension("Model", model_label(hub), model_label(repro), a.model == b.model),
        Dimension("Hardware", hardware_label(hub), hardware_label(repro),
                  a.hardware == b.hardware),
        Dimension("Quant", quant_label(hub), quant_label(repro), a.quant == b.quant),
        Dimension("Runtime engine family", _engine_text(hub), _engine_text(repro),
                  a.engine == b.engine, note),
    )


def same(a: Any, b: Any) -> bool:
    return key_of(a) == key_of(b)


# --- public rows of one configuration ------------------------------------------------------


def public_rows(session: Session, wanted: MatchingKey, *, limit: int,
                exclude_id: int | None = None) -> list[Submission]:
    """Public rows with this key, the most reproduced and newest first.

    The ids, count and engine family narrow the rows in SQL; the typed names of
    "other" entries are compared here, on at most a few times `limit` rows.
    """
    model_id, _ = wanted.model
    hardware_id, count, _ = wanted.hardware
    quant_id, _ = wanted.quant
    family, _ = wanted.engine
    statement = (
        select(Submission)
        .join(Submission.runtime)
        .where(
            Submission.state == State.APPROVED,
            Submission.model_id == model_id,
            Submission.hardware_id == hardware_id,
            Submission.hardware_count == count,
            Submission.quant_id == quant_id,
            Runtime.engine_family == family,
        )
        .order_by(Submission.derived_repro_count.desc(), Submission.created_at.desc(),
                  Submission.id.desc())
        .limit(limit * 4)
    )
    if exclude_id is not None:
        statement = statement.where(Submission.id != exclude_id)
    rows = session.scalars(statement).unique().all()
    return [row for row in rows if key_of(row) == wanted][:limit]
