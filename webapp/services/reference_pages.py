"""Hardware and model pages: a reference entry's facts, its public rows and their ceilings.

Both pages are one implementation. A Subject says what differs between them: which
reference table, which column of a row points at it, which facts it shows, which side
of a configuration varies in the ceilings table, and which chart it draws: the hardware
page's decode-against-bytes scatter, the model page's decode by hardware.

A chart covers every public row of the entry, not one page of them, so its query reads
only the columns it needs (no row objects, no assessment): the badge is the stored index
(services.evidence keeps it equal to what the pages show) and the reference numbers come
from the small reference tables, each read once. Thousands of rows still cost a query
and a loop, so each worker keeps the charts it drew for the data version they were drawn
under (services.data_version moves on every public change; a chart does not change with
time alone), one store per database engine.
"""

from __future__ import annotations

import statistics
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, Engine, Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from webapp.models import Hardware, ModelVariant, Quant, Submission
from webapp.services import charts, data_version, plausibility
from webapp.services.labels import Fact, shown
from webapp.services.listing import Listing, ListingPage, Sort, listing_page, public_conditions
from webapp.services.rules import Badge, Kind


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


def _ceiling(label: str, row: Submission) -> Ceiling:
    hardware, model, quant, devices = row.hardware, row.model, row.quant, row.hardware_count
    tps = parallel = None
    if None not in (hardware.bandwidth_gb_s, model.active_params_b, quant.bits_per_weight):
        def ceiling(tensor_parallel: bool) -> float:
            return plausibility.ceiling_tps(hardware.bandwidth_gb_s, devices, tensor_parallel,
                                            model.active_params_b, quant.bits_per_weight)

        tps = ceiling(False)
        if plausibility.tensor_parallel_counts(devices, True):
            parallel = ceiling(True)
    return Ceiling(label, quant.label, devices, tps, parallel)


def _ceilings(listings: Iterable[Listing], varies: Callable[[Submission], str]) -> list[Ceiling]:
    """One ceiling per configuration and device count on the page, so never more than a
    page's worth: a 2× row is checked against another ceiling than a 1× row."""
    seen: dict[tuple[int, int, int, int], Ceiling] = {}
    for listing in listings:
        row = listing.row
        key = (row.hardware_id, row.model_id, row.quant_id, row.hardware_count)
        if key not in seen:
            seen[key] = _ceiling(varies(row), row)
    return sorted(seen.values(), key=lambda c: (c.label, c.quant, c.devices))


# --- the charts ---------------------------------------------------------------------------


def _badge_of(stored: str | None, kind: str) -> Badge:
    """The stored badge; a row whose index was never refreshed reads as its kind's first rung."""
    try:
        return Badge(stored)
    except ValueError:
        return Badge.EDITORIAL if kind == Kind.EDITORIAL else Badge.COMMUNITY


def _by_id(session: Session, entity: Any, ids: Iterable[int]) -> dict[int, Any]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {item.id: item for item in session.scalars(select(entity).where(entity.id.in_(wanted)))}


def _devices(count: int, tensor_parallel: bool) -> str:
    if plausibility.tensor_parallel_counts(count, tensor_parallel):
        return f"{count}×, tensor parallel"
    return f"{count}×" if count == 1 else f"{count}×, layer split"


@dataclass(frozen=True)
class Configuration:
    """One configuration of the hardware chart's data table."""

    label: str
    rows: int
    gigabytes: float
    ceiling_tps: float | None
    median_tps: float
    fastest_tps: float
    above: int


@dataclass(frozen=True)
class HardwareChart:
    scatter: charts.Scatter | None
    configurations: list[Configuration]
    undrawn: int  # public rows whose model or quant has no reference numbers
    bandwidth_gb_s: float | None


def _plain_rows(session: Session, statement: Select[Any]) -> list[Sequence[Any]]:
    """The statement's rows as the database driver returns them. A chart reads a few
    numbers from every public row of an entry (23,000 at 100,000 rows); building
    SQLAlchemy Row objects for them cost ten times the query itself. No column read this
    way needs a conversion beyond bool(), which the callers apply."""
    result = session.connection().execute(statement)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


class _BarRow(NamedTuple):
    tensor_parallel: bool
    quant_id: int
    decode_tps: float


def hardware_chart(session: Session, hardware: Hardware) -> HardwareChart:
    """Every public row of `hardware` as a dot: bytes per token against decode speed."""
    found = _plain_rows(session, (
        select(Submission.model_id, Submission.quant_id, Submission.hardware_count,
               Submission.tensor_parallel, Submission.derived_badge, Submission.kind,
               Submission.decode_tps)
        .where(*public_conditions(), Submission.hardware_id == hardware.id)
    ))
    models = _by_id(session, ModelVariant, {r[0] for r in found})
    quants = _by_id(session, Quant, {r[1] for r in found})
    bandwidth = hardware.bandwidth_gb_s

    # One list of decode speeds per configuration and badge, in one pass over the rows.
    speeds: dict[tuple[int, int, int, bool, str | None, str], list[float]] = defaultdict(list)
    for model_id, quant_id, count, parallel, stored, kind, decode in found:
        speeds[(model_id, quant_id, count, bool(parallel), stored, kind)].append(decode)

    # per configuration: (label, gigabytes, ceiling), or None when it cannot be placed
    configs: dict[tuple[int, int, int, bool], tuple[str, float, float | None] | None] = {}
    by_config: dict[tuple[int, int, int, bool], list[float]] = defaultdict(list)
    series, undrawn = [], 0
    for (model_id, quant_id, count, parallel, stored, kind), decodes in speeds.items():
        key = (model_id, quant_id, count, parallel)
        if key not in configs:
            model, quant = models[model_id], quants[quant_id]
            if model.active_params_b is None or quant.bits_per_weight is None:
                configs[key] = None
            else:
                gigabytes = plausibility.model_bytes(
                    model.active_params_b, quant.bits_per_weight) / plausibility.BYTES_PER_GB
                ceiling = None if bandwidth is None else plausibility.ceiling_tps(
                    bandwidth, count, parallel, model.active_params_b, quant.bits_per_weight)
                label = f"{model.name} · {quant.label} · {_devices(count, parallel)}"
                configs[key] = (label, gigabytes, ceiling)
        config = configs[key]
        if config is None:
            undrawn += len(decodes)
            continue
        label, gigabytes, ceiling = config
        by_config[key].extend(decodes)
        series.append(charts.Series(gigabytes, _badge_of(stored, kind), ceiling, decodes, label))

    table = []
    for key, values in by_config.items():
        label, gigabytes, ceiling = configs[key]  # type: ignore[misc]
        above = 0 if ceiling is None else sum(1 for value in values if value > ceiling)
        table.append(Configuration(label, len(values), gigabytes, ceiling,
                                   statistics.median(values), max(values), above))
    table.sort(key=lambda c: (c.gigabytes, c.label))
    drawn = charts.scatter(series, bandwidth, (key[2] for key in by_config))
    return HardwareChart(drawn, table, undrawn, bandwidth)


@dataclass(frozen=True)
class ModelChart:
    bars: charts.Bars | None


def model_chart(session: Session, model: ModelVariant) -> ModelChart:
    """One bar per hardware and device count: the median decode of its public rows, and the
    ceiling of the quant most of them use, split as most of them split."""
    found = _plain_rows(session, (
        select(Submission.hardware_id, Submission.hardware_count, Submission.tensor_parallel,
               Submission.quant_id, Submission.decode_tps)
        .where(*public_conditions(), Submission.model_id == model.id)
    ))
    hardware = _by_id(session, Hardware, (r[0] for r in found))
    quants = _by_id(session, Quant, (r[3] for r in found))
    groups: dict[tuple[int, int], list[_BarRow]] = defaultdict(list)
    for hardware_id, count, parallel, quant_id, decode in found:
        groups[(hardware_id, count)].append(_BarRow(bool(parallel), quant_id, decode))

    items = []
    for (hardware_id, count), rows in groups.items():
        entry = hardware[hardware_id]
        # the quant most rows use; a tie goes to the lower id, whatever order rows came in
        quant_id = min(Counter(r.quant_id for r in rows).items(),
                       key=lambda pair: (-pair[1], pair[0]))[0]
        quant = quants[quant_id]
        parallel = plausibility.tensor_parallel_counts(
            count, sum(r.tensor_parallel for r in rows) * 2 > len(rows))
        ceiling = None
        if None not in (entry.bandwidth_gb_s, model.active_params_b, quant.bits_per_weight):
            ceiling = plausibility.ceiling_tps(entry.bandwidth_gb_s, count, parallel,
                                               model.active_params_b, quant.bits_per_weight)
        split = "" if count == 1 else (", tensor parallel" if parallel else ", layer split")
        items.append(charts.BarInput(
            label=f"{count}× {entry.name}",
            median_tps=statistics.median(r.decode_tps for r in rows),
            rows=len(rows), ceiling_tps=ceiling, ceiling_label=f"{quant.label}{split}",
        ))
    return ModelChart(charts.bars(items))


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
    varies: Callable[[Submission], str]  # the other side's name, in the ceilings table
    chart: Callable[[Session, Any], HardwareChart | ModelChart]


HARDWARE = Subject(
    entity=Hardware,
    column=Submission.hardware_id,
    facts=(FactSpec("Vendor", "vendor"), FactSpec("Kind", "kind"),
           FactSpec("Memory", "memory_gib", "GiB"),
           FactSpec("Memory bandwidth", "bandwidth_gb_s", "GB/s"), FactSpec("Note", "note")),
    varies=lambda row: row.model.name,
    chart=hardware_chart,
)
MODEL = Subject(
    entity=ModelVariant,
    column=Submission.model_id,
    facts=(FactSpec("Family", "family"), FactSpec("Variant", "variant"),
           FactSpec("Parameters", "params_b", "billion"),
           FactSpec("Active parameters per token", "active_params_b", "billion")),
    varies=lambda row: row.hardware.name,
    chart=model_chart,
)


class _ChartStore:
    """Charts one worker drew, each kept with the data version it was drawn under."""

    SIZE = 128

    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()  # the development server is threaded

    def get(self, key: Hashable, version: int, draw: Callable[[], Any]) -> Any:
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None and kept[0] == version:
                self._entries.move_to_end(key)
                return kept[1]
        # Drawn outside the lock. Data committed after `version` was read only makes the
        # chart newer than its tag, and the next version replaces it.
        drawn = draw()
        with self._lock:
            self._entries[key] = (version, drawn)
            self._entries.move_to_end(key)
            while len(self._entries) > self.SIZE:
                self._entries.popitem(last=False)
        return drawn


_STORES: WeakKeyDictionary[Engine, _ChartStore] = WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def _chart(session: Session, subject: Subject, found: Any, keep: bool
           ) -> HardwareChart | ModelChart:
    """`subject`'s chart of `found`, drawn once per data version in this worker when
    `keep` (the page store's switch: with it off, every page is work done anew)."""
    if not keep:
        return subject.chart(session, found)
    engine = session.get_bind()
    with _STORES_LOCK:
        store = _STORES.setdefault(engine, _ChartStore())  # type: ignore[arg-type]
    version = data_version.current(session)
    return store.get((subject.entity.__tablename__, found.id), version,
                     lambda: subject.chart(session, found))


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
    keep_chart: bool = True,
) -> ReferencePage | None:
    """The page of the hardware or model `slug` (by `subject`), or None when there is none."""
    entity = subject.entity
    found = session.scalars(select(entity).where(entity.slug == slug)).one_or_none()
    if found is None:
        return None
    conditions: list[ColumnElement[bool]] = [*public_conditions(), subject.column == found.id]
    rows = listing_page(session, conditions, Sort.DECODE, page, per_page, now)
    facts = tuple(spec.of(found) for spec in subject.facts)
    return ReferencePage(found, facts, rows, _ceilings(rows.listings, subject.varies),
                         _chart(session, subject, found, keep_chart))
