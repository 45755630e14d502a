"""The catalog table's rows, read as columns: what the table shows of each row and the
stored index it shows badge, tier and stale marker from (listing.shown_marks), with the
reference entries the labels read, kept per data version (services.reference_memo).

No Submission entity is loaded: building 25 of them with their four joined reference
rows cost more than the rest of the query. labels.* read a CatalogRow as they read a
Submission.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from webapp.models import Hardware, ModelVariant, Quant, Runtime, Submission
from webapp.services import data_version, reference_memo

_COLUMNS = (
    Submission.id, Submission.kind, Submission.is_demo,
    Submission.model_id, Submission.hardware_id, Submission.quant_id, Submission.runtime_id,
    Submission.hardware_count, Submission.other_model, Submission.other_hardware,
    Submission.other_quant, Submission.other_runtime, Submission.cpu_family,
    Submission.runtime_version,
    Submission.decode_tps, Submission.ttft_ms, Submission.vram_peak_mib,
    Submission.derived_ceiling_share, Submission.created_at,
    Submission.derived_badge, Submission.derived_tier, Submission.derived_tier_lifted_off,
    Submission.derived_lift_until, Submission.derived_tier_aged, Submission.derived_newest_at,
    Submission.derived_repro_count,
    Submission.derived_trust_rank,  # a sort's key (listing._key_of reads every sort column)
)
_NAMES = tuple(column.key for column in _COLUMNS)
# Built once: a statement's structure (and its cache key) is then not rebuilt per request.
_BY_ID = select(*_COLUMNS).where(Submission.id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True, slots=True)
class Entry:
    """What a label reads of a reference entry (the rules stay on the models: is_other,
    Quant.label)."""

    slug: str
    name: str
    label: str
    is_other: bool
    kind: str = ""  # hardware: gpu | unified | cpu | other


class CatalogRow:
    """One catalog row's columns under their Submission names, and its reference entries."""

    __slots__ = (*_NAMES, "model", "hardware", "quant", "runtime")

    model: Entry
    hardware: Entry
    quant: Entry
    runtime: Entry

    def __init__(self, values: Sequence[Any], references: _References) -> None:
        for name, value in zip(_NAMES, values, strict=True):
            setattr(self, name, value)
        self.model = references.models[self.model_id]
        self.hardware = references.hardware[self.hardware_id]
        self.quant = references.quants[self.quant_id]
        self.runtime = references.runtimes[self.runtime_id]


@dataclass(frozen=True)
class _References:
    models: dict[int, Entry]
    hardware: dict[int, Entry]
    quants: dict[int, Entry]
    runtimes: dict[int, Entry]


def _read_references(session: Session) -> _References:
    models = {
        id_: Entry(slug, name, name, ModelVariant(variant=variant).is_other)
        for id_, slug, name, variant in session.execute(
            select(ModelVariant.id, ModelVariant.slug, ModelVariant.name, ModelVariant.variant))
    }
    hardware = {
        id_: Entry(slug, name, name, Hardware(kind=kind).is_other, kind)
        for id_, slug, name, kind in session.execute(
            select(Hardware.id, Hardware.slug, Hardware.name, Hardware.kind))
    }
    quants = {}
    for id_, slug, family, name in session.execute(
            select(Quant.id, Quant.slug, Quant.family, Quant.name)):
        quant = Quant(family=family, name=name)  # transient: the label rule stays on Quant
        quants[id_] = Entry(slug, name, quant.label, quant.is_other)
    runtimes = {
        id_: Entry(slug, name, name, Runtime(engine_family=family).is_other)
        for id_, slug, name, family in session.execute(
            select(Runtime.id, Runtime.slug, Runtime.name, Runtime.engine_family))
    }
    return _References(models, hardware, quants, runtimes)


def rows_by_id(session: Session, ids: Sequence[int]) -> dict[int, CatalogRow]:
    """The catalog rows with these ids (a listing.listing_page loader). Read on the
    session's connection, without the ORM's execution layer: listing._fetch flushed
    anything pending before it read the ids."""
    references = reference_memo.kept(session, "catalog-rows", data_version.current(session),
                                     _read_references)
    found = session.connection().execute(_BY_ID, {"ids": list(ids)}).all()
    return {row.id: row for row in (CatalogRow(values, references) for values in found)}
