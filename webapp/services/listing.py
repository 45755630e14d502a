"""Pages of public rows: which rows may be listed, in which order, and one page of them.

Only rows in state approved-public are ever selected. Filters read the derived_* index
columns; what a page *shows* as badge and tier is recomputed from the evidence by
evidence.assess_hubs. A page costs a fixed number of queries, whatever its size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from webapp.models import Submission
from webapp.services import evidence
from webapp.services.evidence import Assessment
from webapp.services.labels import hardware_label, model_label, quant_label, runtime_label
from webapp.services.rules import AGE_LOWER_DAYS, STALE_DAYS, Badge, Kind, State, Tier

# A page number past this is certainly beyond the last page; it keeps OFFSET arithmetic
# (and the database's integer types) far from overflow before the clamp.
PAGE_MAX = 1_000_000
# Up to this OFFSET a page is read without counting the matches (see listing_page).
COUNT_FREE_OFFSET = 1_000


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


class _PageArg(BaseModel):
    page: int = Field(default=1, ge=1)


def page_number(args: Mapping[str, str]) -> int:
    """The page asked for; anything that is not a positive whole number means page 1."""
    try:
        return _PageArg.model_validate({"page": (args.get("page") or "1")[:20]}).page
    except ValidationError:
        return 1


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


def clamped(page: int) -> int:
    return min(max(page, 1), PAGE_MAX)


def last_page(total: int, per_page: int) -> int:
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


# --- which rows --------------------------------------------------------------------------


def public_conditions() -> list[ColumnElement[bool]]:
    return [Submission.state == State.APPROVED]


def _whole_days_cutoff(now: datetime, days: int) -> datetime:
    """The newest-measurement time at or before which a row is *more than* `days` old.

    confidence.age_days counts whole days, so "more than 365 days" starts at 366 whole
    days; the SQL filters use the same boundary as the tier and stale marker shown.
    """
    return now - timedelta(days=days + 1)


def not_stale(now: datetime) -> ColumnElement[bool]:
    # A plain range test, so the planner can keep walking the sort index. A row whose
    # index was never refreshed (derived_newest_at NULL) shows only with stale rows;
    # evidence.refresh_derived runs on every decision, so that is a bug elsewhere.
    return Submission.derived_newest_at > _whole_days_cutoff(now, STALE_DAYS)


def effective_tier(now: datetime) -> ColumnElement[str]:
    """The index's tier on the day `now` falls in: the one stored for the stretch between
    the moments evidence.derived_values names (12-month edge, end of an editorial lift),
    on the same whole-day boundary as confidence.assess."""
    return case(
        (
            Submission.derived_newest_at <= _whole_days_cutoff(now, AGE_LOWER_DAYS),
            Submission.derived_tier_aged,
        ),
        # derived_lift_until is already the first moment after the lift's last whole day.
        (Submission.derived_lift_until <= now, Submission.derived_tier_lifted_off),
        else_=Submission.derived_tier,
    )


# --- one page of them ----------------------------------------------------------------------


def order(sort: Sort, *, reverse: bool = False) -> tuple[ColumnElement[Any], ...]:
    """The ORDER BY of `sort` (catalog pages, the API's cursor, exports); id breaks ties
    so that pages never repeat or skip a row."""
    column, descending = {
        Sort.DECODE: (Submission.decode_tps, True),
        Sort.TTFT: (Submission.ttft_ms, False),
        Sort.NEWEST: (Submission.created_at, True),
    }[sort]
    if descending != reverse:
        return (column.desc(), Submission.id.desc())
    return (column.asc(), Submission.id.asc())


def listing_page(
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
    page = clamped(page)
    offset = (page - 1) * per_page
    if offset <= COUNT_FREE_OFFSET:
        rows = _fetch(session, conditions, order(sort), offset, per_page + 1)
        if rows or page == 1:
            has_next = len(rows) > per_page
            return _assessed(session, rows[:per_page], page, per_page, has_next, now)
    total = session.scalar(select(func.count()).select_from(Submission).where(*conditions)) or 0
    page = min(page, last_page(total, per_page))
    start, end = (page - 1) * per_page, min(page * per_page, total)
    if start <= total - end:
        rows = _fetch(session, conditions, order(sort), start, end - start)
    else:
        rows = _fetch(session, conditions, order(sort, reverse=True), total - end,
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
