"""The catalog table's rows, read as columns: what the table shows of each row and the
stored index it shows badge, tier and stale marker from (listing.shown_marks), with the
reference entries the labels and the plausibility flags read, kept per data version
(services.reference_memo).

No Submission entity is loaded: building 25 of them with their four joined reference
rows cost more than the rest of the query. labels.* read a CatalogRow as they read a
Submission.
"""

from __future__ import annotations

from collections import namedtuple
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
    Submission.speculative, Submission.batch_gt1, Submission.tensor_parallel,  # the flags'
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
    """What a label and plausibility.of_row read of a reference entry (the rules stay on
    the models: is_other, Quant.label). Each table's numbers are None on the others'."""

    slug: str
    name: str
    label: str
    is_other: bool
    kind: str = ""  # hardware: gpu | unified | cpu | other
    memory_gib: float | None = None  # hardware
    bandwidth_gb_s: float | None = None  # hardware
    active_params_b: float | None = None  # model
    bits_per_weight: float | None = None  # quant


_REFERENCE_NAMES = ("model", "hardware", "quant", "runtime")
_MODEL_AT, _HARDWARE_AT, _QUANT_AT, _RUNTIME_AT = (
    _NAMES.index(f"{name}_id") for name in _REFERENCE_NAMES)


class CatalogRow(namedtuple("CatalogRow", (*_NAMES, *_REFERENCE_NAMES))):
    """One catalog row's columns under their Submission names, and its reference entries:
    a named tuple, so that a page's rows are built in C (a class setting some thirty
    attributes one by one cost more than reading them)."""

    __slots__ = ()

    model: Entry
    hardware: Entry
    quant: Entry
    runtime: Entry

    @classmethod
    def of(cls, values: Sequence[Any], references: References) -> CatalogRow:
        return tuple.__new__(cls, (
            *values,
            references.models[values[_MODEL_AT]],
            references.hardware[values[_HARDWARE_AT]],
            references.quants[values[_QUANT_AT]],
            references.runtimes[values[_RUNTIME_AT]],
        ))


@dataclass(frozen=True)
class References:
    models: dict[int, Entry]
    hardware: dict[int, Entry]
    quants: dict[int, Entry]
    runtimes: dict[int, Entry]


def _read_references(session: Session) -> References:
    models = {
        id_: Entry(slug, name, name, ModelVariant(variant=variant).is_other,
                   active_params_b=active_params_b)
        for id_, slug, name, variant, active_params_b in session.execute(
            select(ModelVariant.id, ModelVariant.slug, ModelVariant.name, ModelVariant.variant,
                   ModelVariant.active_params_b))
    }
    hardware = {
        id_: Entry(slug, name, name, Hardware(kind=kind).is_other, kind,
                   memory_gib=memory_gib, bandwidth_gb_s=bandwidth_gb_s)
        for id_, slug, name, kind, memory_gib, bandwidth_gb_s in session.execute(
            select(Hardware.id, Hardware.slug, Hardware.name, Hardware.kind,
                   Hardware.memory_gib, Hardware.bandwidth_gb_s))
    }
    quants = {}
    for id_, slug, family, name, bits_per_weight in session.execute(
            select(Quant.id, Quant.slug, Quant.family, Quant.name, Quant.bits_per_weight)):
        quant = Quant(family=family, name=name)  # transient: the label rule stays on Quant
        quants[id_] = Entry(slug, name, quant.label, quant.is_other,
                            bits_per_weight=bits_per_weight)
    runtimes = {
        id_: Entry(slug, name, name, Runtime(engine_family=family).is_other)
        for id_, slug, name, family in session.execute(
            select(Runtime.id, Runtime.slug, Runtime.name, Runtime.engine_family))
    }
    return References(models, hardware, quants, runtimes)


def references(session: Session) -> References:
    """Every reference entry by id, plain, as labels.* and plausibility.of_row read it,
    kept per data version (the exports and the feed read theirs here too)."""
    return reference_memo.kept(session, "catalog-rows", data_version.current(session),
                               _read_references)


def rows_by_id(session: Session, ids: Sequence[int]) -> dict[int, CatalogRow]:
    """The catalog rows with these ids (a listing.listing_page loader). Read on the
    session's connection, without the ORM's execution layer: listing._fetch flushed
    anything pending before it read the ids."""
    entries = references(session)
    found = session.connection().execute(_BY_ID, {"ids": list(ids)}).all()
    return {values[0]: CatalogRow.of(values, entries) for values in found}
