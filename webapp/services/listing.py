"""Pages of public rows: which rows may be listed, and one page of them in a sort's order
(the orders themselves are services.sorting's).

Only rows in state approved-public are ever selected. Filters, and what a list shows as
badge, tier and stale marker, read the derived_* index columns evidence.refresh_derived
keeps current on every decision (picked for `now` by effective_tier, not_stale and their
Python twin shown_marks). The full assessment, with its reasons, is recomputed from the
evidence only where it is asked for (Listing.assessment). A page costs a fixed number of
queries, whatever its size; where it sits among the others is services.paging's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from webapp.models import Submission
from webapp.services import evidence
from webapp.services.confidence import day_start
from webapp.services.evidence import Assessment
from webapp.services.labels import hardware_label, model_label, quant_label, runtime_label
from webapp.services.page_memo import PageMemo
from webapp.services.paging import Pagination, clamped, last_page
from webapp.services.rules import AGE_LOWER_DAYS, STALE_DAYS, Badge, Kind, State, Tier
from webapp.services.sorting import Sort, at_or_after, order, sort_terms

# Up to this OFFSET a page is read without counting the matches (see listing_page).
COUNT_FREE_OFFSET = 1_000

# Reads a page's rows by id: Submission entities, or anything with the attributes the
# page reads (the catalog's columns, catalog_rows.CatalogRow).
RowLoader = Callable[[Session, Sequence[int]], Mapping[int, Any]]


_BADGES = {badge.value: badge for badge in Badge}
_TIERS = {tier.value: tier for tier in Tier}


def shown_marks(row: Any, now: datetime) -> tuple[Badge, Tier, bool] | None:
    """Badge, tier and stale marker as the stored index gives them on the day `now`
    falls in: effective_tier and not_stale in Python, on the same whole-day boundaries as
    confidence.assess. None for a row whose index was never refreshed."""
    badge = _BADGES.get(row.derived_badge)
    newest = row.derived_newest_at
    if badge is None or newest is None:
        return None
    if newest < _age_edge(now, AGE_LOWER_DAYS):
        tier = row.derived_tier_aged
    elif row.derived_lift_until is not None and row.derived_lift_until <= now:
        tier = row.derived_tier_lifted_off
    else:
        tier = row.derived_tier
    if tier not in _TIERS:
        return None
    return badge, _TIERS[tier], newest < _age_edge(now, STALE_DAYS)


class _PageAssessments:
    """The full assessments of one page's rows, computed together the first time any of
    them is asked for (one query for their reproductions, as evidence.assess_hubs)."""

    __slots__ = ("_session", "_rows", "_now", "_found")

    def __init__(self, session: Session, rows: Sequence[Any], now: datetime) -> None:
        self._session = session
        self._rows = rows
        self._now = now
        self._found: dict[int, Assessment] | None = None

    def of(self, row: Any) -> Assessment:
        if self._found is None:
            hubs = self._rows
            if not all(isinstance(hub, Submission) for hub in hubs):  # rows read as columns
                hubs = list(self._session.scalars(
                    select(Submission).where(Submission.id.in_([hub.id for hub in hubs]))))
            self._found = evidence.assess_hubs(self._session, hubs, self._now)
        return self._found[row.id]


class Listing:
    """One public row as a table shows it: the row, its badge, tier and stale marker.

    `Listing(row, assessment)` carries the full assessment (the detail page and
    comparisons show its reasons and rings). Lists build theirs from the stored index
    (Listing.indexed, see shown_marks), so a page of rows loads no reproductions; their
    `assessment` is recomputed from the evidence only when asked for, for the whole page
    at once.
    """

    __slots__ = ("row", "badge", "tier", "stale", "_assessment", "_page")

    def __init__(self, row: Submission, assessment: Assessment) -> None:
        self.row = row
        self.badge: Badge = assessment.badge
        self.tier: Tier = assessment.confidence.tier
        self.stale: bool = assessment.confidence.stale
        self._assessment: Assessment | None = assessment
        self._page: _PageAssessments | None = None

    @classmethod
    def indexed(cls, row: Submission, now: datetime, page: _PageAssessments) -> Listing:
        """The row as the index shows it on `now`'s day; a row whose index was never
        refreshed (a bug elsewhere: every decision refreshes it) is assessed instead."""
        marks = shown_marks(row, now)
        if marks is None:
            return cls(row, page.of(row))
        listing = cls.__new__(cls)
        listing.row = row
        listing.badge, listing.tier, listing.stale = marks
        listing._assessment = None
        listing._page = page
        return listing

    @property
    def assessment(self) -> Assessment:
        """The full assessment with its reasons, recomputed from the evidence."""
        if self._assessment is None:
            if self._page is None:  # built with its assessment; never without either
                raise RuntimeError("a Listing without its assessment or its page")
            self._assessment = self._page.of(self.row)
        return self._assessment

    @property
    def independent_operators(self) -> int:
        """How many operators other than the row's own reproduced it (the index's count
        for a listed row; the same number as assessment.confidence.independent_operators)."""
        if self._assessment is not None:
            return self._assessment.confidence.independent_operators
        return self.row.derived_repro_count

    @property
    def kind(self) -> Kind:
        return Kind(self.row.kind)

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


# Built once (SQL expressions are immutable): every list page starts from it.
_PUBLIC = Submission.state == State.APPROVED


def public_conditions() -> list[ColumnElement[bool]]:
    return [_PUBLIC]


@lru_cache(maxsize=64)  # a page asks twice a row, always for the request's one `now`
def _age_edge(now: datetime, days: int) -> datetime:
    """The newest-measurement time before which a row is *more than* `days` old on `now`'s
    UTC day: the start of the day `days` days earlier.

    confidence.age_days counts calendar days, so on 2026-12-05 a row measured on
    2025-12-04 or before is more than 365 days old; the SQL filters use the same
    boundary as the tier and stale marker shown.
    """
    return day_start(now) - timedelta(days=days)


def stale_edge(now: datetime) -> datetime:
    """The newest-measurement time before which a row is stale on `now`'s day."""
    return _age_edge(now, STALE_DAYS)


def not_stale(now: datetime) -> ColumnElement[bool]:
    # A plain range test, so the planner can keep walking the sort index. A row whose
    # index was never refreshed (derived_newest_at NULL) shows only with stale rows;
    # evidence.refresh_derived runs on every decision, so that is a bug elsewhere.
    return Submission.derived_newest_at >= stale_edge(now)


def effective_tier(now: datetime) -> ColumnElement[str]:
    """The index's tier on the day `now` falls in: the one stored for the stretch between
    the moments evidence.derived_values names (12-month edge, end of an editorial lift),
    on the same whole-day boundary as confidence.assess."""
    return case(
        (
            Submission.derived_newest_at < _age_edge(now, AGE_LOWER_DAYS),
            Submission.derived_tier_aged,
        ),
        # derived_lift_until is already the first moment after the lift's last whole day.
        (Submission.derived_lift_until <= now, Submission.derived_tier_lifted_off),
        else_=Submission.derived_tier,
    )


# --- one page of them ----------------------------------------------------------------------


def listing_page(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    sort: Sort,
    page: int,
    per_page: int,
    now: datetime,
    *,
    memo: PageMemo | None = None,
    counted: bool = False,
    count_cap: int | None = None,
    load: RowLoader | None = None,
    count_conditions: Sequence[ColumnElement[bool]] | None = None,
    sorted_apart: bool = False,
    known_total: int | None = None,
) -> ListingPage:
    """One page of public rows, each with its badge, tier and stale marker.

    Without a memo, early pages fetch one row more than a page holds to learn whether a
    next page exists, and never count; deep pages (and pages past the end) count first.
    A `counted` page (the catalog) always knows its total; with a memo it is counted once
    per memo, and a page starts from the nearest row position the memo knows, seeking the
    index there. A page nearer the end than any known position is read from the other
    end (and its start learnt, so the next request for it seeks).

    `load(session, ids)` reads the rows by id (default: Submission entities, with their
    reference rows); the catalog reads only the columns its table shows.
    `count_conditions`, when given, select the same rows as `conditions`, written for a
    count (services.narrowing: which index leads on SQLite); `sorted_apart`, that the
    rows are read from a filter's index and sorted, not walked in the sort's index.
    `known_total`, the number of rows `conditions` select as a summary keeps it (the
    hardware and model pages: services.summaries' public row counts, kept with every
    decision), stands for the count: every page then knows its last.
    """
    load = load or submissions_by_id
    page = clamped(page)
    offset = (page - 1) * per_page
    if (not counted and memo is None and known_total is None
            and offset <= COUNT_FREE_OFFSET):
        rows = _fetch(session, conditions, sort, offset, per_page + 1, load=load,
                      sorted_apart=sorted_apart)
        if rows or page == 1:
            has_next = len(rows) > per_page
            return _assessed(session, rows[:per_page], page, per_page, has_next, now)
    total = memo.total if memo is not None else known_total
    if total is None:
        counted_rows = select(Submission.id).where(
            *(conditions if count_conditions is None else count_conditions))
        if count_cap is not None:
            counted_rows = counted_rows.limit(count_cap + 1)
        total = session.scalar(select(func.count()).select_from(counted_rows.subquery())) or 0
        if memo is not None:
            memo.total = total
    if count_cap is not None and total > count_cap:
        # Too many to count cheaply (a search matching most of the catalog cannot use an
        # index for the count): "more than count_cap", and the next page found by
        # fetching one row more.
        rows = _fetch(session, conditions, sort, offset, per_page + 1, memo=memo, load=load,
                      sorted_apart=sorted_apart)
        if rows:
            return _assessed(session, rows[:per_page], page, per_page,
                             len(rows) > per_page, now, more_than=count_cap)
        page = 1  # past the end of a long search: its first page
        rows = _fetch(session, conditions, sort, 0, per_page + 1, memo=memo, load=load,
                      sorted_apart=sorted_apart)
        return _assessed(session, rows[:per_page], page, per_page, len(rows) > per_page,
                         now, more_than=count_cap)
    page = min(page, last_page(total, per_page))
    start, end = (page - 1) * per_page, min(page * per_page, total)
    # Rows to step over from a known start: from the nearest position the memo can seek
    # to, or back from the end, whichever is fewer.
    known = memo.nearest(start)[0] if memo is not None else 0
    if start - known <= total - end:
        rows = _fetch(session, conditions, sort, start, end - start + 1, memo=memo,
                      load=load, sorted_apart=sorted_apart)[
            :end - start]
    else:
        rows = _fetch(session, conditions, sort, total - end, end - start,
                      reverse=True, load=load, sorted_apart=sorted_apart)[::-1]
        if memo is not None and rows:
            memo.learn(start, _key_of(sort, rows[0]))
    return _assessed(session, rows, page, per_page, end < total, now, total=total)


def _key_of(sort: Sort, row: Any) -> tuple[Any, ...]:
    return tuple(getattr(row, column.key) for column, _ in sort_terms(sort))


def _assessed(
    session: Session,
    rows: list[Any],
    page: int,
    per_page: int,
    has_next: bool,
    now: datetime,
    total: int | None = None,
    more_than: int | None = None,
) -> ListingPage:
    assessments = _PageAssessments(session, rows, now)
    return ListingPage(
        listings=[Listing.indexed(row, now, assessments) for row in rows],
        pagination=Pagination(page=page, per_page=per_page, shown=len(rows),
                              has_next=has_next, total=total, more_than=more_than),
    )


def _fetch(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    sort: Sort,
    offset: int,
    limit: int,
    *,
    reverse: bool = False,
    memo: PageMemo | None = None,
    load: RowLoader,
    sorted_apart: bool = False,
) -> list[Any]:
    """Rows in order, in two steps: the ids (and sort values) alone, so that OFFSET skips
    index entries rather than joined rows, then the rows with their reference data. The
    ids are read on the session's connection, past the ORM's execution layer (3% of the
    catalog's instructions), after a flush of anything pending, as autoflush would.

    With a memo, the read starts at the nearest row position it knows (a seek) and
    skips only the rest; the positions read are remembered for the next request."""
    if limit <= 0:
        return []
    terms = sort_terms(sort)
    where = list(conditions)
    anchor = 0
    if memo is not None:
        anchor, key = memo.nearest(offset)
        # Position 0 is where the read starts anyway (page 1 needs no seek's condition).
        if key is not None and anchor > 0:
            where.append(at_or_after(sort, key))
        else:
            anchor = 0
    session.flush()  # the read below bypasses the ORM's autoflush
    keyed = session.connection().execute(
        select(*(column for column, _ in terms)).where(*where)
        .order_by(*order(sort, reverse=reverse, unindexed=sorted_apart))
        .limit(limit).offset(offset - anchor)
    ).all()
    if not keyed:
        return []
    if memo is not None:
        memo.learn(offset, tuple(keyed[0]))
        if len(keyed) == limit:
            memo.learn(offset + limit - 1, tuple(keyed[-1]))
    ids = [entry[-1] for entry in keyed]
    rows = load(session, ids)
    return [rows[row_id] for row_id in ids]


def submissions_by_id(session: Session, ids: Sequence[int]) -> Mapping[int, Submission]:
    """The default RowLoader: the Submission entities, with their reference rows."""
    return {row.id: row for row in session.scalars(
        select(Submission).where(Submission.id.in_(ids))).unique()}
