"""The catalog: its query string, its filter options, and the public rows under them.

A bad value in the query string is dropped with a notice, never an error, so the form
always shows the filters actually applied. The rows come from listing.listing_page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from webapp.models import Hardware, ModelVariant, Quant, Runtime, Submission
from webapp.services.listing import (
    ListingPage,
    Sort,
    effective_tier,
    listing_page,
    not_stale,
    public_conditions,
)
from webapp.services.rules import Badge, Tier

SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"


# --- the query string ---------------------------------------------------------------------


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


# --- filter options ----------------------------------------------------------------------


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


@dataclass(frozen=True)
class CatalogPage:
    query: CatalogQuery
    rows: ListingPage
    options: FilterOptions
    notices: tuple[str, ...]

    @property
    def demo_shown(self) -> bool:
        return self.rows.demo_shown


def select_rows(
    session: Session, query: CatalogQuery, notices: Iterable[str], *, now: datetime
) -> Selection:
    """The public rows under `query`. An unknown slug is ignored (with a notice), like any
    other bad value, so the form always shows the filters actually applied."""
    options = filter_options(session)
    messages = list(notices)
    conditions = public_conditions()
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
        conditions.append(effective_tier(now) == query.tier.value)
    if not query.include_stale:
        conditions.append(not_stale(now))
    return Selection(query=query.model_copy(update=effective), conditions=conditions,
                     options=options, notices=tuple(messages))


def catalog_page(
    session: Session,
    query: CatalogQuery,
    notices: Iterable[str],
    *,
    now: datetime,
    per_page: int,
) -> CatalogPage:
    """One page of the catalog under `query` (see select_rows)."""
    selection = select_rows(session, query, notices, now=now)
    rows = listing_page(session, selection.conditions, selection.query.sort,
                        selection.query.page, per_page, now)
    return CatalogPage(query=selection.query.model_copy(update={"page": rows.pagination.page}),
                       rows=rows, options=selection.options, notices=selection.notices)
