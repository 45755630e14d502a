"""Hardware and model pages: a reference entry's facts, its public rows and their ceilings.

Both pages are one implementation. A Subject says what differs between them: which
reference table, which column of a row points at it, which facts it shows, and which
side of a configuration varies in the ceilings table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from webapp.models import Hardware, ModelVariant, Quant, Submission
from webapp.services import plausibility
from webapp.services.labels import Fact, shown
from webapp.services.listing import Listing, ListingPage, Sort, listing_page, public_conditions


@dataclass(frozen=True)
class Ceiling:
    """The single-device decode ceiling of one configuration; None when a fact is missing."""

    label: str  # what varies on the page: the model on a hardware page, and vice versa
    quant: str
    tps: float | None


def _ceiling(label: str, hardware: Hardware, model: ModelVariant, quant: Quant) -> Ceiling:
    tps = None
    if None not in (hardware.bandwidth_gb_s, model.active_params_b, quant.bits_per_weight):
        tps = plausibility.ceiling_tps(hardware.bandwidth_gb_s, 1, False,
                                       model.active_params_b, quant.bits_per_weight)
    return Ceiling(label, quant.label, tps)


def _ceilings(listings: Iterable[Listing], varies: Callable[[Submission], str]) -> list[Ceiling]:
    """One ceiling per configuration on the page, so never more than a page's worth."""
    seen: dict[tuple[int, int, int], Ceiling] = {}
    for listing in listings:
        row = listing.row
        key = (row.hardware_id, row.model_id, row.quant_id)
        if key not in seen:
            seen[key] = _ceiling(varies(row), row.hardware, row.model, row.quant)
    return sorted(seen.values(), key=lambda c: (c.label, c.quant))


def _amount(value: float | None, unit: str) -> str | None:
    # reference facts keep their published precision (8.03 billion, 51.2 GB/s)
    return None if value is None else f"{value:,g} {unit}"


def _hardware_facts(hardware: Hardware) -> tuple[Fact, ...]:
    return (
        Fact("Vendor", shown(hardware.vendor)),
        Fact("Kind", shown(hardware.kind)),
        Fact("Memory", _amount(hardware.memory_gib, "GiB")),
        Fact("Memory bandwidth", _amount(hardware.bandwidth_gb_s, "GB/s")),
        Fact("Note", shown(hardware.note)),
    )


def _model_facts(model: ModelVariant) -> tuple[Fact, ...]:
    return (
        Fact("Family", shown(model.family)),
        Fact("Variant", shown(model.variant)),
        Fact("Parameters", _amount(model.params_b, "billion")),
        Fact("Active parameters per token", _amount(model.active_params_b, "billion")),
    )


@dataclass(frozen=True)
class Subject:
    """What a reference page is about: a hardware entry or a model."""

    entity: type[Hardware] | type[ModelVariant]
    column: InstrumentedAttribute[int]  # the row's column that points at the entity
    facts: Callable[..., tuple[Fact, ...]]  # called with the entity
    varies: Callable[[Submission], str]  # the other side's name, in the ceilings table


HARDWARE = Subject(Hardware, Submission.hardware_id, _hardware_facts,
                   lambda row: row.model.name)
MODEL = Subject(ModelVariant, Submission.model_id, _model_facts,
                lambda row: row.hardware.name)


@dataclass(frozen=True)
class ReferencePage:
    """A hardware or model page: its reference facts and every public row of it."""

    subject: Hardware | ModelVariant
    facts: tuple[Fact, ...]
    rows: ListingPage
    ceilings: list[Ceiling]

    @property
    def demo_shown(self) -> bool:
        return self.rows.demo_shown


def reference_page(
    session: Session, subject: Subject, slug: str, page: int, *, now: datetime, per_page: int
) -> ReferencePage | None:
    """The page of the hardware or model `slug` (by `subject`), or None when there is none."""
    entity = subject.entity
    found = session.scalars(select(entity).where(entity.slug == slug)).one_or_none()
    if found is None:
        return None
    conditions: list[ColumnElement[bool]] = [*public_conditions(), subject.column == found.id]
    rows = listing_page(session, conditions, Sort.DECODE, page, per_page, now)
    return ReferencePage(found, subject.facts(found), rows,
                         _ceilings(rows.listings, subject.varies))
