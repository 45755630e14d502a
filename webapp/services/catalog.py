"""The catalog: its query string, its filter options, and the public rows under them.

A bad value in the query string is dropped with a notice, never an error, so the form
always shows the filters actually applied. The rows come from listing.listing_page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from webapp.models import Hardware, ModelVariant, Quant, Runtime, Submission
from webapp.services import catalog_rows, data_version, narrowing, reference_memo
from webapp.services.listing import (
    ListingPage,
    effective_tier,
    listing_page,
    not_stale,
    public_conditions,
)
from webapp.services.page_memo import MemoStore, PageMemo
from webapp.services.rules import Badge, Tier
from webapp.services.sorting import Sort
from webapp.services.statements import equals_literal

SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
# The text search: this many characters, this many words (each must match a model,
# hardware or runtime name), so a pasted essay cannot build a huge query.
SEARCH_MAX_LENGTH = 80
SEARCH_MAX_WORDS = 5
# A search is counted up to this many rows ("more than 10,000"): matching names cannot
# use an index for the count, which at 100,000 rows cost half a second.
SEARCH_COUNT_CAP = 10_000


# --- the query string ---------------------------------------------------------------------


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value.strip() if isinstance(value, str) else value


Slug = Annotated[
    Annotated[str, StringConstraints(pattern=SLUG_PATTERN)] | None,
    BeforeValidator(_blank_to_none),
]


def _search_text(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split())[:SEARCH_MAX_LENGTH] or None
    return value


class CatalogQuery(BaseModel):
    """The catalog's query string. Invalid values are dropped (see parse_catalog_query)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    q: Annotated[str | None, BeforeValidator(_search_text)] = None
    model: Slug = None
    hardware: Slug = None
    quant: Slug = None
    runtime: Slug = None
    badge: Annotated[Badge | None, BeforeValidator(_blank_to_none)] = None
    tier: Annotated[Tier | None, BeforeValidator(_blank_to_none)] = None
    sort: Annotated[Sort, BeforeValidator(lambda v: _blank_to_none(v) or Sort.DECODE)] = (
        Sort.DECODE
    )
    include_stale: Annotated[bool, BeforeValidator(lambda v: _blank_to_none(v) or False)] = (
        Field(default=False, alias="stale"))
    page: int = Field(default=1, ge=1)

    def args(self, **changes: Any) -> dict[str, str]:
        """Query-string arguments reproducing this query, defaults left out (for links)."""
        values = {
            "q": self.q,
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
        defaults = {"sort": Sort.DECODE.value, "page": "1"}
        return {key: value for key, value in values.items()
                if value is not None and defaults.get(key) != value}


QUERY_ARGS = (
    "q", "model", "hardware", "quant", "runtime", "badge", "tier", "sort", "stale", "page",
)
_ARG_NAMES = {
    "q": "search",
    "model": "model", "hardware": "hardware", "quant": "quant", "runtime": "runtime",
    "badge": "badge", "tier": "tier", "sort": "sort order",
    "stale": "“Include stale rows” choice",
}


def is_canonical(query: CatalogQuery, given: Iterable[tuple[str, str]]) -> bool:
    """Whether the query string `given` (every name and value, in order) is the one
    query.args() spells: only filters in use, defaults left out, in one order. A shared
    URL, and the key a page is stored under, then has one spelling."""
    return list(given) == list(query.args().items())


def searched_part(text: str) -> tuple[str, str]:
    """The part of a typed search the catalog uses (its first SEARCH_MAX_WORDS words,
    within SEARCH_MAX_LENGTH characters, spaces collapsed) and the part it leaves out
    ("" when it uses all of it)."""
    words = text.split()
    kept: list[str] = []
    for word in words[:SEARCH_MAX_WORDS]:
        if len(" ".join([*kept, word])) > SEARCH_MAX_LENGTH:
            break
        kept.append(word)
    left_out = " ".join(words[len(kept):])
    if len(left_out) > 40:
        left_out = left_out[:39] + "…"
    return " ".join(kept), left_out


def parse_catalog_query(args: Mapping[str, str]) -> tuple[CatalogQuery, tuple[str, ...]]:
    """Parse the query string; a bad value is dropped, never an error.

    Returns the query and one notice per dropped filter, sort or stale-rows choice (a bad
    page number falls back to the first page silently: the pager shows where you are).
    """
    data: dict[str, str] = {}
    for name in QUERY_ARGS:
        value = args.get(name)
        if value is not None:
            data[name] = value[:200]
    notices: list[str] = []
    if "q" in data:
        data["q"], left_out = searched_part(data["q"])
        if left_out:
            notices.append(
                f"A search takes at most {SEARCH_MAX_WORDS} words and {SEARCH_MAX_LENGTH} "
                f"characters: it used the first ones, and “{left_out}” was left out.")
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


# --- filter options ----------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    id: int
    slug: str
    label: str
    group: str = ""  # the vendor (hardware) or family (models, quants) it is listed under


@dataclass(frozen=True)
class Group:
    label: str
    choices: list[Choice]


def natural_key(text: str) -> tuple[tuple[int, float | str], ...]:
    """Sort key reading numbers as numbers: "RTX 3060" before "RTX 4090", "7B" before
    "13B", "Llama 3.1" before "Llama 3.10"."""
    parts = re.split(r"(\d+(?:\.\d+)?)", text.casefold())
    return tuple((0, float(part)) if index % 2 else (1, part)
                 for index, part in enumerate(parts) if part)


def _grouped(choices: list[Choice]) -> list[Group]:
    return [Group(label, list(members))
            for label, members in groupby(choices, key=lambda choice: choice.group)]


@dataclass(frozen=True)
class FilterOptions:
    models: list[Choice]
    hardware: list[Choice]
    quants: list[Choice]
    runtimes: list[Choice]
    badges: tuple[Badge, ...] = tuple(Badge)
    tiers: tuple[Tier, ...] = tuple(Tier)
    sorts: tuple[Sort, ...] = tuple(Sort)
    groups: dict[str, list[Group]] = field(default_factory=dict)
    slugs: dict[str, dict[str, Choice]] = field(default_factory=dict)  # filter -> slug -> choice
    # filter -> its <option>s as written once for these options (web.filter_options)
    markup: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def sort_named(self) -> dict[str, Sort]:
        return {sort.value: sort for sort in self.sorts}


# Columns, not entities: every catalog page lists every reference row, and loading them
# as ORM objects cost more than the page's own rows.
_MODEL_CHOICES = select(ModelVariant.id, ModelVariant.slug, ModelVariant.name,
                        ModelVariant.family)
_HARDWARE_CHOICES = select(Hardware.id, Hardware.slug, Hardware.name, Hardware.vendor)
_QUANT_CHOICES = select(Quant.id, Quant.slug, Quant.family, Quant.name)
_RUNTIME_CHOICES = select(Runtime.id, Runtime.slug, Runtime.name)


def _in_order(choices: Iterable[Choice]) -> list[Choice]:
    return sorted(choices, key=lambda c: (natural_key(c.group), natural_key(c.label)))


def filter_options(session: Session) -> FilterOptions:
    """Every filter's choices, grouped (hardware by vendor, models and quants by family)
    and in natural order within and across groups. Read and arranged once per data
    version in each worker (services.reference_memo): only the reference tables, which
    move the data version when they change."""
    return reference_memo.kept(session, "catalog-options", data_version.current(session),
                               _arranged_options)


def _arranged_options(session: Session) -> FilterOptions:
    models = _in_order(Choice(*row) for row in session.execute(_MODEL_CHOICES))
    hardware = _in_order(Choice(*row) for row in session.execute(_HARDWARE_CHOICES))
    quants = _in_order(
        # a transient Quant, so the label rule stays in one place (Quant.label)
        Choice(id_, slug, Quant(family=family, name=name).label, family)
        for id_, slug, family, name in session.execute(_QUANT_CHOICES)
    )
    runtimes = _in_order(Choice(*row) for row in session.execute(_RUNTIME_CHOICES))
    return FilterOptions(
        models=models, hardware=hardware, quants=quants, runtimes=runtimes,
        groups={"model": _grouped(models), "hardware": _grouped(hardware),
                "quant": _grouped(quants)},
        slugs={name: {choice.slug: choice for choice in choices}
               for name, choices in (("model", models), ("hardware", hardware),
                                     ("quant", quants), ("runtime", runtimes))},
    )


def _like_pattern(word: str) -> str:
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_condition(session: Session, text: str) -> ColumnElement[bool]:
    """Rows whose model, hardware or runtime name holds every word of `text`
    (case-insensitive; % and _ are matched as themselves). The names are looked up in
    the small reference tables first, so the rows are filtered on indexed ids."""
    words = text.split()[:SEARCH_MAX_WORDS]
    conditions = []
    for word in words:
        pattern = _like_pattern(word)
        either = []
        for table, column in ((ModelVariant, Submission.model_id),
                              (Hardware, Submission.hardware_id),
                              (Runtime, Submission.runtime_id)):
            ids = list(session.scalars(select(table.id).where(
                func.lower(table.name).like(pattern, escape="\\"))))
            if ids:
                either.append(column.in_(ids))
        conditions.append(or_(*either) if either else Submission.id.is_(None))
    return and_(*conditions)


# --- the catalog page ------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """The rows a catalog query selects, before any page is cut: the query as applied
    (unknown slugs dropped), the SQL conditions, and the notices for what was dropped.
    The catalog page, the API list, the exports and the feed all start from here."""

    query: CatalogQuery
    conditions: list[ColumnElement[bool]]
    options: FilterOptions
    notices: tuple[str, ...]
    # The model, hardware, quant and runtime filters among the conditions, for
    # services.narrowing to choose which leads a read on SQLite.
    filters: tuple[narrowing.Filter, ...] = ()
    broad: tuple[ColumnElement[bool], ...] = ()  # among them, met by most rows (stale edge)

    def narrowed(self, session: Session, reach: int) -> narrowing.Narrowed:
        """The conditions as a read of its first `reach` rows in its order, and as a
        count, should give them to the session's database."""
        return narrowing.narrowed(session, self.conditions, self.filters, self.query.sort,
                                  reach, self.broad)


@dataclass(frozen=True)
class CatalogPage:
    query: CatalogQuery
    rows: ListingPage
    options: FilterOptions
    notices: tuple[str, ...]

    @property
    def demo_shown(self) -> bool:
        return self.rows.demo_shown

    @property
    def search_max(self) -> int:
        return SEARCH_MAX_LENGTH


def select_rows(
    session: Session, query: CatalogQuery, notices: Iterable[str], *, now: datetime
) -> Selection:
    """The public rows under `query`. An unknown slug is ignored (with a notice), like any
    other bad value, so the form always shows the filters actually applied."""
    options = filter_options(session)
    messages = list(notices)
    conditions = public_conditions()
    filters: list[narrowing.Filter] = []
    effective: dict[str, Any] = {}
    for name, column in (
        ("model", Submission.model_id),
        ("hardware", Submission.hardware_id),
        ("quant", Submission.quant_id),
        ("runtime", Submission.runtime_id),
    ):
        slug = getattr(query, name)
        if slug is None:
            continue
        match = options.slugs[name].get(slug)
        if match is None:
            messages.append(f"There is no {name} “{slug}” in this catalog, so that filter "
                            "was ignored.")
            effective[name] = None
            continue
        term = equals_literal(column, match.id)
        conditions.append(term)
        filters.append(narrowing.Filter(name, column, match.id, term))
    if query.badge is not None:
        conditions.append(equals_literal(Submission.derived_badge, query.badge.value))
    if query.tier is not None:
        conditions.append(equals_literal(effective_tier(now), query.tier.value))
    broad = []
    if not query.include_stale:
        broad.append(not_stale(now))
        conditions.append(broad[-1])
    if query.q is not None:
        conditions.append(search_condition(session, query.q))
    return Selection(query=query.model_copy(update=effective), conditions=conditions,
                     options=options, notices=tuple(messages), filters=tuple(filters),
                     broad=tuple(broad))


def catalog_page(
    session: Session,
    query: CatalogQuery,
    notices: Iterable[str],
    *,
    now: datetime,
    per_page: int,
    memos: MemoStore | None = None,
) -> CatalogPage:
    """One page of the catalog under `query` (see select_rows), with its total.

    `memos` (one per worker) keeps each selection's count and page starts for the data
    version and the minute `now` falls in, so a deep page seeks like the first one. Within
    that minute a row crossing the stale or tier edge may shift a page by one row."""
    selection = select_rows(session, query, notices, now=now)
    memo = None
    if memos is not None:
        memo = memos.memo((
            data_version.current(session), int(now.timestamp()) // 60, per_page,
            tuple(selection.query.args(page=None).items()),
        ))
    narrowed = selection.narrowed(session, _reach(selection.query.page, per_page, memo))
    rows = listing_page(session, narrowed.read, selection.query.sort,
                        selection.query.page, per_page, now, memo=memo, counted=True,
                        count_conditions=narrowed.count, sorted_apart=narrowed.sorted_apart,
                        count_cap=SEARCH_COUNT_CAP if selection.query.q else None,
                        load=catalog_rows.rows_by_id)
    return CatalogPage(query=selection.query.model_copy(update={"page": rows.pagination.page}),
                       rows=rows, options=selection.options, notices=selection.notices)


def _reach(page: int, per_page: int, memo: PageMemo | None) -> int:
    """The rows reading `page` may pass: from the nearest start the memo knows (a seek),
    or from the first row, or back from the end when that is nearer, to the page's end."""
    start = (page - 1) * per_page
    nearest = memo.nearest(start)[0] if memo is not None else 0
    steps = start - nearest
    if memo is not None and memo.total is not None:
        steps = min(steps, max(0, memo.total - start - per_page))
    return steps + per_page + 1
