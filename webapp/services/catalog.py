"""The queries behind the public pages: catalog, detail, hardware, model and operators.

Only rows in state approved-public are ever selected as rows, and only reproductions in
an evidence state are shown as evidence; nothing here can reach a queued, rejected or
withdrawn submission. Filters and sorts read the derived_* index columns; what a page
*shows* as badge and tier is recomputed from the evidence by evidence.assess_hubs.

Every page runs a fixed number of queries, whatever the number of rows on it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from sqlalchemy import ColumnElement, Select, bindparam, case, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from webapp.models import Hardware, ModelVariant, Quant, RunSample, Runtime, Submission
from webapp.services import divergence, evidence, plausibility
from webapp.services.evidence import Assessment
from webapp.services.labels import (
    Fact,
    build_context,
    hardware_label,
    model_label,
    operator_label,
    quant_label,
    runtime_label,
    safe_url,
    shown,
)
from webapp.services.rules import (
    AGE_LOWER_DAYS,
    STALE_DAYS,
    Badge,
    Kind,
    Ring,
    State,
    Tier,
)

# A page number past this is certainly beyond the last page; it keeps OFFSET arithmetic
# (and the database's integer types) far from overflow before the clamp.
PAGE_MAX = 1_000_000
# Up to this OFFSET a page is read without counting the matches (see _listing_page).
COUNT_FREE_OFFSET = 1_000
LINKS_PER_OPERATOR = 5
MAX_ID = 2**31 - 1  # ids are INTEGER: 32-bit on PostgreSQL
SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"


def _whole_days_cutoff(now: datetime, days: int) -> datetime:
    """The newest-measurement time at or before which a row is *more than* `days` old.

    confidence.age_days counts whole days, so "more than 365 days" starts at 366 whole
    days; the SQL filters use the same boundary as the tier and stale marker shown.
    """
    return now - timedelta(days=days + 1)


# --- the catalog query ------------------------------------------------------------------


class Sort(StrEnum):
    DECODE = "decode"
    TTFT = "ttft"
    NEWEST = "newest"

    @property
    def label(self) -> str:
        return _SORT_LABELS[self]


_SORT_LABELS = {
    Sort.DECODE: "Fastest decode",
    Sort.TTFT: "Quickest first token",
    Sort.NEWEST: "Newest",
}


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value.strip() if isinstance(value, str) else value


Slug = Annotated[
    Annotated[str, StringConstraints(pattern=SLUG_PATTERN)] | None,
    BeforeValidator(_blank_to_none),
]


class CatalogQuery(BaseModel):
    """The catalog's query string. Invalid values are dropped (see parse_catalog_query)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    model: Slug = None
    hardware: Slug = None
    quant: Slug = None
    runtime: Slug = None
    badge: Annotated[Badge | None, BeforeValidator(_blank_to_none)] = None
    tier: Annotated[Tier | None, BeforeValidator(_blank_to_none)] = None
    sort: Annotated[Sort, BeforeValidator(lambda v: _blank_to_none(v) or Sort.DECODE)] = (
        Sort.DECODE
    )
    include_stale: bool = Field(default=False, alias="stale")
    page: int = Field(default=1, ge=1)

    def args(self, **changes: Any) -> dict[str, str]:
        """Query-string arguments reproducing this query, defaults left out (for links)."""
        values = {
            "model": self.model,
            "hardware": self.hardware,
            "quant": self.quant,
            "runtime": self.runtime,
            "badge": self.badge.value if self.badge else None,
            "tier": self.tier.value if self.tier else None,
            "sort": self.sort.value if self.sort is not Sort.DECODE else None,
            "stale": "1" if self.include_stale else None,
            "page": str(self.page) if self.page > 1 else None,
        }
        values.update({key: None if value is None else str(value)
                       for key, value in changes.items()})
        return {key: value for key, value in values.items() if value is not None}


class _PageArg(BaseModel):
    page: int = Field(default=1, ge=1)


def page_number(args: Mapping[str, str]) -> int:
    """The page asked for; anything that is not a positive whole number means page 1."""
    try:
        return _PageArg.model_validate({"page": (args.get("page") or "1")[:20]}).page
    except ValidationError:
        return 1


QUERY_ARGS = ("model", "hardware", "quant", "runtime", "badge", "tier", "sort", "stale", "page")
_ARG_NAMES = {
    "model": "model", "hardware": "hardware", "quant": "quant", "runtime": "runtime",
    "badge": "badge", "tier": "tier", "sort": "sort order",
}


def parse_catalog_query(args: Mapping[str, str]) -> tuple[CatalogQuery, tuple[str, ...]]:
    """Parse the query string; a bad value is dropped, never an error.

    Returns the query and one notice per dropped filter or sort (a bad page number or
    stale flag falls back to the default silently: the pager shows where you are).
    """
    data: dict[str, str] = {}
    for name in QUERY_ARGS:
        value = args.get(name)
        if value is not None:
            data[name] = value[:200]
    notices: list[str] = []
    while True:
        try:
            return CatalogQuery.model_validate(data), tuple(notices)
        except ValidationError as error:
            for problem in error.errors():
                name = str(problem["loc"][0]) if problem["loc"] else ""
                if name not in data:
                    raise  # a failure not tied to one argument is a bug, not bad input
                del data[name]
                if name in _ARG_NAMES:
                    notices.append(
                        f"The {_ARG_NAMES[name]} in the address is not one this catalog "
                        "knows, so it was ignored."
                    )


# --- pages of rows ----------------------------------------------------------------------


@dataclass(frozen=True)
class Pagination:
    """Where a page sits. There is no total: counting every match on a large catalog
    costs more than the page itself, so the next page is detected by fetching one row
    more than a page holds."""

    page: int
    per_page: int
    shown: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def first_index(self) -> int:
        return 0 if self.shown == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return (self.page - 1) * self.per_page + self.shown

    @property
    def window(self) -> list[int | None]:
        """Page numbers to link: the first, two before this one, and the next; None marks
        a gap."""
        last = self.page + 1 if self.has_next else self.page
        shown = sorted({1, *range(max(1, self.page - 2), last + 1)})
        out: list[int | None] = []
        for number_ in shown:
            if out and number_ - (out[-1] or 0) > 1:
                out.append(None)
            out.append(number_)
        return out


def _clamped(page: int) -> int:
    return min(max(page, 1), PAGE_MAX)


def _last_page(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


@dataclass(frozen=True)
class Listing:
    """One public row as a table shows it: the row plus its recomputed assessment."""

    row: Submission
    assessment: Assessment

    @property
    def kind(self) -> Kind:
        return Kind(self.row.kind)

    @property
    def badge(self) -> Badge:
        return self.assessment.badge

    @property
    def tier(self) -> Tier:
        return self.assessment.confidence.tier

    @property
    def stale(self) -> bool:
        return self.assessment.confidence.stale

    @property
    def model_label(self) -> str:
        return model_label(self.row)

    @property
    def hardware_label(self) -> str:
        return hardware_label(self.row)

    @property
    def quant_label(self) -> str:
        return quant_label(self.row)

    @property
    def runtime_label(self) -> str:
        return runtime_label(self.row)


@dataclass(frozen=True)
class ListingPage:
    listings: list[Listing]
    pagination: Pagination

    @property
    def demo_shown(self) -> bool:
        return any(listing.row.is_demo for listing in self.listings)


def _public_conditions() -> list[ColumnElement[bool]]:
    return [Submission.state == State.APPROVED]


def _not_stale(now: datetime) -> ColumnElement[bool]:
    # A plain range test, so the planner can keep walking the sort index. A row whose
    # index was never refreshed (derived_newest_at NULL) shows only with stale rows;
    # evidence.refresh_derived runs on every decision, so that is a bug elsewhere.
    return Submission.derived_newest_at > _whole_days_cutoff(now, STALE_DAYS)


def _effective_tier(now: datetime) -> ColumnElement[str]:
    return case(
        (
            Submission.derived_newest_at <= _whole_days_cutoff(now, AGE_LOWER_DAYS),
            Submission.derived_tier_aged,
        ),
        else_=Submission.derived_tier,
    )


def _order(sort: Sort, *, reverse: bool = False) -> tuple[ColumnElement[Any], ...]:
    # id breaks ties so that pages never repeat or skip a row
    column, descending = {
        Sort.DECODE: (Submission.decode_tps, True),
        Sort.TTFT: (Submission.ttft_ms, False),
        Sort.NEWEST: (Submission.created_at, True),
    }[sort]
    if descending != reverse:
        return (column.desc(), Submission.id.desc())
    return (column.asc(), Submission.id.asc())


def _listing_page(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    sort: Sort,
    page: int,
    per_page: int,
    now: datetime,
) -> ListingPage:
    """One page of public rows and their assessments.

    Early pages fetch one row more than a page holds to learn whether a next page
    exists, and never count. Deep pages (and pages past the end) count first: a count
    walks an index once, where a large OFFSET walks it and looks up every row it skips;
    knowing the total also lets a page near the end be read from the other end.
    """
    page = _clamped(page)
    offset = (page - 1) * per_page
    if offset <= COUNT_FREE_OFFSET:
        rows = _fetch(session, conditions, _order(sort), offset, per_page + 1)
        if rows or page == 1:
            has_next = len(rows) > per_page
            return _assessed(session, rows[:per_page], page, per_page, has_next, now)
    total = session.scalar(select(func.count()).select_from(Submission).where(*conditions)) or 0
    page = min(page, _last_page(total, per_page))
    start, end = (page - 1) * per_page, min(page * per_page, total)
    if start <= total - end:
        rows = _fetch(session, conditions, _order(sort), start, end - start)
    else:
        rows = _fetch(session, conditions, _order(sort, reverse=True), total - end,
                      end - start)[::-1]
    return _assessed(session, rows, page, per_page, end < total, now)


def _assessed(
    session: Session,
    rows: list[Submission],
    page: int,
    per_page: int,
    has_next: bool,
    now: datetime,
) -> ListingPage:
    assessments = evidence.assess_hubs(session, rows, now)
    return ListingPage(
        listings=[Listing(row, assessments[row.id]) for row in rows],
        pagination=Pagination(page=page, per_page=per_page, shown=len(rows),
                              has_next=has_next),
    )


def _fetch(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    order: Sequence[ColumnElement[Any]],
    offset: int,
    limit: int,
) -> list[Submission]:
    """Rows in order, in two steps: the ids alone, so that OFFSET skips index entries
    rather than joined rows, then the rows with their reference data."""
    if limit <= 0:
        return []
    ids = list(session.scalars(
        select(Submission.id).where(*conditions).order_by(*order).limit(limit).offset(offset)
    ))
    if not ids:
        return []
    rows = {row.id: row for row in session.scalars(
        select(Submission).where(Submission.id.in_(ids))).unique()}
    return [rows[row_id] for row_id in ids]


# --- the catalog ------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    id: int
    slug: str
    label: str


@dataclass(frozen=True)
class FilterOptions:
    models: list[Choice]
    hardware: list[Choice]
    quants: list[Choice]
    runtimes: list[Choice]
    badges: tuple[Badge, ...] = tuple(Badge)
    tiers: tuple[Tier, ...] = tuple(Tier)
    sorts: tuple[Sort, ...] = tuple(Sort)


# Columns, not entities: every catalog page lists every reference row, and loading them
# as ORM objects cost more than the page's own rows.
_MODEL_CHOICES = select(ModelVariant.id, ModelVariant.slug, ModelVariant.name).order_by(
    ModelVariant.family, ModelVariant.name)
_HARDWARE_CHOICES = select(Hardware.id, Hardware.slug, Hardware.name).order_by(
    Hardware.vendor, Hardware.name)
_QUANT_CHOICES = select(Quant.id, Quant.slug, Quant.family, Quant.name).order_by(
    Quant.family, Quant.name)
_RUNTIME_CHOICES = select(Runtime.id, Runtime.slug, Runtime.name).order_by(Runtime.name)


def filter_options(session: Session) -> FilterOptions:
    return FilterOptions(
        models=[Choice(*row) for row in session.execute(_MODEL_CHOICES)],
        hardware=[Choice(*row) for row in session.execute(_HARDWARE_CHOICES)],
        quants=[
            # a transient Quant, so the label rule stays in one place (Quant.label)
            Choice(id_, slug, Quant(family=family, name=name).label)
            for id_, slug, family, name in session.execute(_QUANT_CHOICES)
        ],
        runtimes=[Choice(*row) for row in session.execute(_RUNTIME_CHOICES)],
    )


@dataclass(frozen=True)
class CatalogPage:
    query: CatalogQuery
    rows: ListingPage
    options: FilterOptions
    notices: tuple[str, ...]

    @property
    def demo_shown(self) -> bool:
        return self.rows.demo_shown


def catalog_page(
    session: Session,
    query: CatalogQuery,
    notices: Iterable[str],
    *,
    now: datetime,
    per_page: int,
) -> CatalogPage:
    """The catalog under `query`. An unknown slug is ignored (with a notice), like any
    other bad value, so the form always shows the filters actually applied."""
    options = filter_options(session)
    messages = list(notices)
    conditions = _public_conditions()
    effective: dict[str, Any] = {}
    for name, column, choices in (
        ("model", Submission.model_id, options.models),
        ("hardware", Submission.hardware_id, options.hardware),
        ("quant", Submission.quant_id, options.quants),
        ("runtime", Submission.runtime_id, options.runtimes),
    ):
        slug = getattr(query, name)
        if slug is None:
            continue
        match = next((choice for choice in choices if choice.slug == slug), None)
        if match is None:
            messages.append(f"There is no {name} “{slug}” in this catalog, so that filter "
                            "was ignored.")
            effective[name] = None
            continue
        conditions.append(column == match.id)
    if query.badge is not None:
        conditions.append(Submission.derived_badge == query.badge.value)
    if query.tier is not None:
        conditions.append(_effective_tier(now) == query.tier.value)
    if not query.include_stale:
        conditions.append(_not_stale(now))
    query = query.model_copy(update=effective)
    rows = _listing_page(session, conditions, query.sort, query.page, per_page, now)
    query = query.model_copy(update={"page": rows.pagination.page})
    return CatalogPage(query=query, rows=rows, options=options, notices=tuple(messages))


# --- the detail page --------------------------------------------------------------------


@dataclass(frozen=True)
class ReproductionView:
    row: Submission
    ring: Ring
    comparison: divergence.Comparison

    @property
    def operator(self) -> str:
        return operator_label(self.row)

    @property
    def operator_url(self) -> str | None:
        return safe_url(self.row.url)

    @property
    def environment(self) -> str:
        parts = (self.row.os_label, self.row.driver_version, self.row.runtime_version)
        return " · ".join(part for part in parts if part) or "not given"


@dataclass(frozen=True)
class RingDot:
    repro_id: int
    ring: Ring
    x: str
    y: str
    title: str


@dataclass(frozen=True)
class RingPicture:
    """Coordinates for the hub-and-rings SVG; the template only draws them."""

    size: int
    centre: int
    inner_radius: int
    outer_radius: int
    hub_radius: int
    dot_radius: int
    dots: tuple[RingDot, ...]

    @property
    def inner_count(self) -> int:
        return sum(1 for dot in self.dots if dot.ring is Ring.INNER)

    @property
    def outer_count(self) -> int:
        return sum(1 for dot in self.dots if dot.ring is Ring.OUTER)


def ring_picture(reproductions: Sequence[ReproductionView]) -> RingPicture:
    size, inner, outer = 280, 62, 118
    centre = size // 2
    dots: list[RingDot] = []
    for ring_, radius, offset in ((Ring.INNER, inner, -90.0), (Ring.OUTER, outer, -75.0)):
        members = [view for view in reproductions if view.ring is ring_]
        for index, view in enumerate(members):
            angle = math.radians(offset + 360.0 * index / len(members))
            dots.append(RingDot(
                repro_id=view.row.id,
                ring=ring_,
                x=f"{centre + radius * math.cos(angle):.1f}",
                y=f"{centre + radius * math.sin(angle):.1f}",
                title=f"{ring_.label}: reproduction #{view.row.id} by {view.operator}",
            ))
    return RingPicture(size=size, centre=centre, inner_radius=inner, outer_radius=outer,
                       hub_radius=22, dot_radius=9, dots=tuple(dots))


@dataclass(frozen=True)
class Detail:
    listing: Listing
    build_context: tuple[Fact, ...]
    runs: list[RunSample]
    spreads: tuple[divergence.SpreadCheck, ...]
    plausibility: plausibility.Plausibility
    reproductions: tuple[ReproductionView, ...]
    picture: RingPicture
    related: list[Listing]
    hub: Listing | None  # the row this fragment came from, when public

    @property
    def row(self) -> Submission:
        return self.listing.row

    @property
    def operator(self) -> str:
        return operator_label(self.row)

    @property
    def operator_url(self) -> str | None:
        return safe_url(self.row.url)

    @property
    def ring_groups(self) -> tuple[tuple[Ring, tuple[ReproductionView, ...]], ...]:
        """The clean reproductions grouped by ring, inner first; empty rings included."""
        return tuple(
            (ring_, tuple(view for view in self.reproductions if view.ring is ring_))
            for ring_ in Ring
        )

    @property
    def spread_flagged(self) -> bool:
        return any(spread.flagged for spread in self.spreads)

    @property
    def demo_shown(self) -> bool:
        rows = [self.row, *(view.row for view in self.reproductions),
                *(listing.row for listing in self.related)]
        if self.hub is not None:
            rows.append(self.hub.row)
        return any(row.is_demo for row in rows)


def public_row(session: Session, benchmark_id: int) -> Submission | None:
    if not 0 < benchmark_id <= MAX_ID:
        return None  # the URL converter takes any digits; the database does not
    return session.scalars(
        select(Submission)
        .where(Submission.id == benchmark_id, Submission.state == State.APPROVED)
        .options(selectinload(Submission.runs))
    ).unique().one_or_none()


def detail(session: Session, benchmark_id: int, *, now: datetime) -> Detail | None:
    """Everything the detail page shows, or None when the row is not public."""
    row = public_row(session, benchmark_id)
    if row is None:
        return None
    hub = None
    if row.hub_id is not None:
        hub = session.scalars(
            select(Submission).where(Submission.id == row.hub_id,
                                     Submission.state == State.APPROVED)
        ).unique().one_or_none()
    evidence_rows = evidence.load_reproductions(session, [row.id]).get(row.id, [])
    fragments = [r for r in evidence_rows if r.state == State.APPROVED]
    # One query assesses the row, its public hub and its fragments together.
    hubs = [row, *fragments, *([hub] if hub is not None else [])]
    assessments = evidence.assess_hubs(session, hubs, now)
    assessment = assessments[row.id]

    reproductions = tuple(
        ReproductionView(
            row=repro,
            ring=assessment.rings[repro.id],
            comparison=divergence.compare(row.ttft_ms, row.decode_tps,
                                          repro.ttft_ms, repro.decode_tps),
        )
        for repro in evidence_rows
        if repro.state == State.REPRODUCED
    )
    return Detail(
        listing=Listing(row, assessment),
        build_context=build_context(row),
        runs=list(row.runs),
        spreads=divergence.spread_checks(row.ttft_spread, row.decode_spread),
        plausibility=plausibility.of_row(row),
        reproductions=reproductions,
        picture=ring_picture(reproductions),
        related=[Listing(r, assessments[r.id]) for r in fragments],
        hub=Listing(hub, assessments[hub.id]) if hub is not None else None,
    )


# --- hardware and model pages -------------------------------------------------------------


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


def _ceilings(listings: Iterable[Listing], by_model: bool) -> list[Ceiling]:
    """One ceiling per configuration on the page, so never more than a page's worth."""
    seen: dict[tuple[int, int, int], Ceiling] = {}
    for listing in listings:
        row = listing.row
        key = (row.hardware_id, row.model_id, row.quant_id)
        if key not in seen:
            label = row.model.name if by_model else row.hardware.name
            seen[key] = _ceiling(label, row.hardware, row.model, row.quant)
    return sorted(seen.values(), key=lambda c: (c.label, c.quant))


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


def _amount(value: float | None, unit: str) -> str | None:
    # reference facts keep their published precision (8.03 billion, 51.2 GB/s)
    return None if value is None else f"{value:,g} {unit}"


def hardware_page(
    session: Session, slug: str, page: int, *, now: datetime, per_page: int
) -> ReferencePage | None:
    hardware = session.scalars(select(Hardware).where(Hardware.slug == slug)).one_or_none()
    if hardware is None:
        return None
    rows = _listing_page(
        session, [*_public_conditions(), Submission.hardware_id == hardware.id],
        Sort.DECODE, page, per_page, now,
    )
    facts = (
        Fact("Vendor", shown(hardware.vendor)),
        Fact("Kind", shown(hardware.kind)),
        Fact("Memory", _amount(hardware.memory_gib, "GiB")),
        Fact("Memory bandwidth", _amount(hardware.bandwidth_gb_s, "GB/s")),
        Fact("Note", shown(hardware.note)),
    )
    return ReferencePage(hardware, facts, rows, _ceilings(rows.listings, by_model=True))


def model_page(
    session: Session, slug: str, page: int, *, now: datetime, per_page: int
) -> ReferencePage | None:
    model = session.scalars(
        select(ModelVariant).where(ModelVariant.slug == slug)).one_or_none()
    if model is None:
        return None
    rows = _listing_page(
        session, [*_public_conditions(), Submission.model_id == model.id],
        Sort.DECODE, page, per_page, now,
    )
    facts = (
        Fact("Family", shown(model.family)),
        Fact("Variant", shown(model.variant)),
        Fact("Parameters", _amount(model.params_b, "billion")),
        Fact("Active parameters per token", _amount(model.active_params_b, "billion")),
    )
    return ReferencePage(model, facts, rows, _ceilings(rows.listings, by_model=False))


# --- operators ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReproducedLink:
    hub_id: int
    label: str


@dataclass(frozen=True)
class OperatorView:
    handle: str
    reproductions: int
    hubs: int
    links: list[ReproducedLink] = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.hubs - len(self.links)


@dataclass(frozen=True)
class OperatorsPage:
    operators: list[OperatorView]
    pagination: Pagination
    demo_shown: bool


# The operators page's statements are built once: aliased entities are costly to build
# per request, and a statement built once is compiled once.
_REPRO, _HUB = aliased(Submission, name="repro"), aliased(Submission, name="hub")
_HANDLED = (
    _REPRO.kind == Kind.REPRODUCTION,
    _REPRO.state == State.REPRODUCED,
    _HUB.state == State.APPROVED,
    _REPRO.handle.is_not(None),
    func.trim(_REPRO.handle) != "",
)
# No CTE: the clean reproductions are read from ix_submissions_operator_repros alone,
# already in operator order, and each hub's state from ix_submissions_id_state.
_HUB_COUNT = func.count(_REPRO.hub_id.distinct())
_OPERATORS = (
    select(_REPRO.operator_key, func.min(_REPRO.handle), func.count(_REPRO.id), _HUB_COUNT,
           func.max(case((_REPRO.is_demo, 1), else_=0)))
    .join(_HUB, _REPRO.hub_id == _HUB.id)
    .where(*_HANDLED)
    .group_by(_REPRO.operator_key)
    .order_by(_HUB_COUNT.desc(), func.min(_REPRO.handle), _REPRO.operator_key)
)
_OPERATOR_COUNT = (
    select(func.count(_REPRO.operator_key.distinct()))
    .join(_HUB, _REPRO.hub_id == _HUB.id)
    .where(*_HANDLED)
)


def _operator_links_statement() -> Select[Any]:
    pairs = (
        select(_REPRO.operator_key.label("key"), _HUB.id.label("hub_id"))
        .join(_HUB, _REPRO.hub_id == _HUB.id)
        .where(*_HANDLED, _REPRO.operator_key.in_(bindparam("keys", expanding=True)))
        .distinct()
        .subquery()
    )
    rank = func.row_number().over(
        partition_by=pairs.c.key, order_by=pairs.c.hub_id.desc()).label("rank")
    ranked = select(pairs.c.key, pairs.c.hub_id, rank).subquery()
    return (
        select(ranked.c.key, ranked.c.hub_id, ModelVariant.name, Hardware.name,
               Submission.hardware_count)
        .join(Submission, Submission.id == ranked.c.hub_id)
        .join(ModelVariant, Submission.model_id == ModelVariant.id)
        .join(Hardware, Submission.hardware_id == Hardware.id)
        .where(ranked.c.rank <= LINKS_PER_OPERATOR)
        .order_by(ranked.c.key, ranked.c.hub_id.desc())
    )


_OPERATOR_LINKS = _operator_links_statement()


def operators_page(session: Session, page: int, *, per_page: int) -> OperatorsPage:
    """Operators who gave a handle, with the public rows they cleanly reproduced.

    Only reproductions in state reproduced whose hub is public count; anonymous
    operators are never listed, so their keys never reach a page.

    The ranking (by rows reproduced) needs every clean reproduction, so this page costs
    time in proportion to their number; the two indexes keep that to index reads.
    """
    page = _clamped(page)
    grouped = session.execute(
        _OPERATORS.limit(per_page + 1).offset((page - 1) * per_page)).all()
    if not grouped and page > 1:
        page = _last_page(session.scalar(_OPERATOR_COUNT) or 0, per_page)
        grouped = session.execute(
            _OPERATORS.limit(per_page + 1).offset((page - 1) * per_page)).all()
    has_next = len(grouped) > per_page
    grouped = grouped[:per_page]
    links = _operator_links(session, [row[0] for row in grouped])
    operators = [
        OperatorView(handle=handle.strip(), reproductions=count, hubs=hub_count,
                     links=links.get(key, []))
        for key, handle, count, hub_count, _demo in grouped
    ]
    return OperatorsPage(
        operators=operators,
        pagination=Pagination(page=page, per_page=per_page, shown=len(operators),
                              has_next=has_next),
        demo_shown=any(row[4] for row in grouped),
    )


def _operator_links(session: Session, keys: Sequence[str]) -> dict[str, list[ReproducedLink]]:
    """The newest LINKS_PER_OPERATOR public rows each operator reproduced, in one query."""
    if not keys:
        return {}
    links: dict[str, list[ReproducedLink]] = defaultdict(list)
    for key, hub_id, model, hardware, count in session.execute(
        _OPERATOR_LINKS, {"keys": list(keys)}
    ):
        links[key].append(ReproducedLink(hub_id, f"{model} on {count}× {hardware}"))
    return links
