"""Hardware and model pages: a reference entry's facts, its public rows and their ceilings.

Both pages are one implementation. A Subject says what differs between them: which
reference table, which column of a row points at it, which facts it shows, which side
of a configuration varies in the ceilings table, and which chart it draws: the hardware
page's decode-against-bytes scatter, the model page's decode by hardware.

A chart covers every public row of the entry, not one page of them: it is read from the
entry's summary (services.chart_summaries, kept by services.summaries whenever a commit
changes one of its public rows), one row however many the entry has, already drawn and
bounded (at most scatter_chart.MAX_DOTS dots or charts.MAX_BARS bars, the first lines of
its data table). The whole data table has its own paginated page (`chart_table_page`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, bindparam, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from webapp.models import ChartSummary, Hardware, ModelVariant, PublicRowCount, Quant, Submission
from webapp.services import (
    catalog_rows,
    chart_summaries,
    data_version,
    detail_rows,
    plausibility,
    reference_memo,
    summaries,
)
from webapp.services.chart_summaries import BarLine, Configuration, HardwareChart, ModelChart
from webapp.services.labels import Fact, shown
from webapp.services.listing import (
    Listing,
    ListingPage,
    listing_page,
    public_conditions,
)
from webapp.services.paging import Pagination, last_page
from webapp.services.sorting import Sort
from webapp.services.statements import equals_literal


@dataclass(frozen=True)
class Ceiling:
    """The decode ceiling of one configuration at one device count; None when a reference
    fact is missing."""

    label: str  # what varies on the page: the model on a hardware page, and vice versa
    quant: str
    devices: int
    tps: float | None  # one stream, layers split across the devices: one device's bandwidth
    tensor_parallel_tps: float | None  # bandwidths summed; None on one device

    @property
    def multi_device(self) -> bool:
        return self.devices > 1


class _Numbers(NamedTuple):
    """The reference numbers a ceiling reads, by id (the page's rows are read as columns)."""

    bandwidth_gb_s: dict[int, float | None]
    active_params_b: dict[int, float | None]
    bits_per_weight: dict[int, float | None]


def _read_numbers(session: Session) -> _Numbers:
    def read(key: Any, column: Any) -> dict[int, Any]:
        return dict(session.execute(select(key, column)).all())

    return _Numbers(read(Hardware.id, Hardware.bandwidth_gb_s),
                    read(ModelVariant.id, ModelVariant.active_params_b),
                    read(Quant.id, Quant.bits_per_weight))


def _by_slug(session: Session) -> dict[type, dict[str, Any]]:
    models, hardware, _quants, _runtimes = detail_rows.kept_references(session)
    return {ModelVariant: {entry.slug: entry for entry in models.values()},
            Hardware: {entry.slug: entry for entry in hardware.values()}}


def _entry(session: Session, entity: type[Hardware] | type[ModelVariant],
           slug: str) -> Hardware | ModelVariant | None:
    """The hardware entry or model named `slug`, or None: a transient copy of its row,
    from the reference rows kept per data version (detail_rows.kept_references, indexed
    by slug once per version; a page then reads one statement fewer, a round trip on
    PostgreSQL)."""
    entries = reference_memo.kept(session, "reference-entries-by-slug",
                                  data_version.current(session), _by_slug)
    return entries[entity].get(slug)


def _numbers(session: Session) -> _Numbers:
    """Every reference entry's numbers, kept per data version (reference data only)."""
    return reference_memo.kept(session, "reference-page-numbers",
                               data_version.current(session), _read_numbers)


def _ceiling(label: str, row: Any, numbers: _Numbers) -> Ceiling:
    devices = row.hardware_count
    bandwidth = numbers.bandwidth_gb_s.get(row.hardware_id)
    active = numbers.active_params_b.get(row.model_id)
    bits = numbers.bits_per_weight.get(row.quant_id)
    tps = parallel = None
    if None not in (bandwidth, active, bits):
        def ceiling(tensor_parallel: bool) -> float:
            return plausibility.ceiling_tps(bandwidth, devices, tensor_parallel, active, bits)

        tps = ceiling(False)
        if plausibility.tensor_parallel_counts(devices, True):
            parallel = ceiling(True)
    return Ceiling(label, row.quant.label, devices, tps, parallel)


def _ceilings(session: Session, listings: Sequence[Listing], varies: Callable[[Any], str]
              ) -> list[Ceiling]:
    """One ceiling per configuration and device count on the page, so never more than a
    page's worth: a 2× row is checked against another ceiling than a 1× row."""
    rows = [listing.row for listing in listings]
    numbers = _numbers(session)
    seen: dict[tuple[int, int, int, int], Ceiling] = {}
    for row in rows:
        key = (row.hardware_id, row.model_id, row.quant_id, row.hardware_count)
        if key not in seen:
            seen[key] = _ceiling(varies(row), row, numbers)
    return sorted(seen.values(), key=lambda c: (c.label, c.quant, c.devices))


# --- the charts ---------------------------------------------------------------------------


# Built once: a page reads it on every request.
_CHART_TEXT = select(ChartSummary.data).where(
    ChartSummary.subject == bindparam("subject"),
    ChartSummary.reference_id == bindparam("reference_id"))


# The entry's public row count and its chart, in one round trip (on PostgreSQL each
# statement is one): what a hardware or model page reads of its summaries.
_KEPT = select(
    select(PublicRowCount.rows).where(
        PublicRowCount.subject == bindparam("subject"),
        PublicRowCount.reference_id == bindparam("reference_id")).scalar_subquery(),
    _CHART_TEXT.scalar_subquery(),
)


def _kept(session: Session, subject: str, reference_id: int) -> tuple[int, str | None]:
    """The entry's public rows as services.summaries keeps them (what the index pages
    show, and what the page's pager counts to; none without a row) and its chart's
    text."""
    rows, text = session.connection().execute(
        _KEPT, {"subject": subject, "reference_id": reference_id}).one()
    return rows or 0, text


def _chart_text(session: Session, subject: str, reference_id: int) -> str | None:
    return session.connection().execute(
        _CHART_TEXT, {"subject": subject, "reference_id": reference_id}).scalar()


def _drawn_hardware(text: str | None, hardware: Hardware) -> HardwareChart:
    return chart_summaries.hardware_chart(chart_summaries.decode_head(text),
                                          hardware.bandwidth_gb_s)


def _drawn_model(text: str | None, _model: ModelVariant) -> ModelChart:
    return chart_summaries.model_chart(chart_summaries.decode_head(text))


def hardware_chart(session: Session, hardware: Hardware) -> HardwareChart:
    """Every public row of `hardware` as a dot: bytes per token against decode speed, as
    its summary keeps it (drawn, the page's part only)."""
    return _drawn_hardware(_chart_text(session, summaries.HARDWARE, hardware.id), hardware)


def model_chart(session: Session, model: ModelVariant) -> ModelChart:
    """One bar per hardware and device count, as the model's summary keeps them."""
    return _drawn_model(_chart_text(session, summaries.MODEL, model.id), model)


class FactSpec(NamedTuple):
    """One reference fact: its label, the entity's attribute, and the unit of an amount
    (None for text)."""

    label: str
    attribute: str
    unit: str | None = None

    def of(self, entity: object) -> Fact:
        value = getattr(entity, self.attribute)
        if self.unit is None:
            return Fact(self.label, shown(value))
        # reference facts keep their published precision (8.03 billion, 51.2 GB/s)
        return Fact(self.label, None if value is None else f"{value:,g} {self.unit}")


@dataclass(frozen=True)
class Subject:
    """What a reference page is about: a hardware entry or a model."""

    entity: type[Hardware] | type[ModelVariant]
    column: InstrumentedAttribute[int]  # the row's column that points at the entity
    facts: tuple[FactSpec, ...]
    varies: Callable[[Any], str]  # the other side's name, in the ceilings table
    draw: Callable[[str | None, Any], HardwareChart | ModelChart]  # its chart, from the text
    summary: str  # its chart's subject in chart_summaries
    table: Callable[[dict[str, Any] | None], list[Any]]  # its chart's whole data table


HARDWARE = Subject(
    entity=Hardware,
    column=Submission.hardware_id,
    facts=(FactSpec("Vendor", "vendor"), FactSpec("Kind", "kind"),
           FactSpec("Memory", "memory_gib", "GiB"),
           FactSpec("Memory bandwidth", "bandwidth_gb_s", "GB/s"), FactSpec("Note", "note")),
    varies=lambda row: row.model.name,
    draw=_drawn_hardware,
    summary=summaries.HARDWARE,
    table=chart_summaries.hardware_table,
)
MODEL = Subject(
    entity=ModelVariant,
    column=Submission.model_id,
    facts=(FactSpec("Family", "family"), FactSpec("Variant", "variant"),
           FactSpec("Parameters", "params_b", "billion"),
           FactSpec("Active parameters per token", "active_params_b", "billion")),
    varies=lambda row: row.hardware.name,
    draw=_drawn_model,
    summary=summaries.MODEL,
    table=chart_summaries.model_table,
)


@dataclass(frozen=True)
class ReferencePage:
    """A hardware or model page: its reference facts and every public row of it."""

    subject: Hardware | ModelVariant
    facts: tuple[Fact, ...]
    rows: ListingPage
    ceilings: list[Ceiling]
    chart: HardwareChart | ModelChart

    @property
    def demo_shown(self) -> bool:
        return self.rows.demo_shown


def reference_page(
    session: Session, subject: Subject, slug: str, page: int, *, now: datetime, per_page: int,
) -> ReferencePage | None:
    """The page of the hardware or model `slug` (by `subject`), or None when there is none;
    its chart is read from the entry's kept summary (chart_summaries)."""
    found = _entry(session, subject.entity, slug)
    if found is None:
        return None
    conditions: list[ColumnElement[bool]] = [*public_conditions(),
                                             equals_literal(subject.column, found.id)]
    total, chart_text = _kept(session, subject.summary, found.id)
    rows = listing_page(session, conditions, Sort.DECODE, page, per_page, now,
                        load=catalog_rows.rows_by_id, known_total=total)
    facts = tuple(spec.of(found) for spec in subject.facts)
    return ReferencePage(found, facts, rows, _ceilings(session, rows.listings, subject.varies),
                         subject.draw(chart_text, found))


# --- a chart's whole data table -------------------------------------------------------------


@dataclass(frozen=True)
class ChartTablePage:
    """One page of a chart's whole data table: the hardware chart's configurations or the
    model chart's hardware and device counts, most rows first."""

    subject: Hardware | ModelVariant
    lines: list[Configuration] | list[BarLine]
    pagination: Pagination
    demo_shown: bool


def chart_table_page(session: Session, subject: Subject, slug: str, page: int, *,
                     per_page: int) -> ChartTablePage | None:
    """Page `page` of the data table of the chart of `slug` (by `subject`), read from its
    summary (past the last page, the last); None when there is no such entry."""
    found = _entry(session, subject.entity, slug)
    if found is None:
        return None
    table = subject.table(chart_summaries.decode(_chart_text(session, subject.summary,
                                                             found.id)))
    page = min(page, last_page(len(table), per_page))
    lines = table[(page - 1) * per_page:page * per_page]
    demo_rows = session.scalar(select(PublicRowCount.demo_rows).where(
        PublicRowCount.subject == subject.summary, PublicRowCount.reference_id == found.id))
    return ChartTablePage(found, lines,
                          Pagination(page, per_page, len(lines), page * per_page < len(table),
                                     total=len(table)),
                          bool(demo_rows))
