"""The API list's rows, read as columns: one page of them, and the list's total.

A page is cut as the catalog cuts it (the selection's conditions, sorting.order, the
cursor's seek) from the sort's index alone, then its rows are read by id with their
count of clean reproductions, in a statement built once, at import. Reference entries
come from the tables kept per data version (services.reference_memo), as plain copies
with the models' is_other and label worked out, so labels.* and plausibility read a
listed row as they read a Submission. Badge, tier and
stale marker come from the stored index the catalog filters on (listing.shown_marks),
which equals what the pages show on every day; a row whose index was never refreshed (a
bug elsewhere: every decision refreshes it) is assessed from its evidence instead. No
Submission entity is loaded for a listed row.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from webapp.models import (
    Hardware,
    ModelVariant,
    PublicRowCount,
    Quant,
    Runtime,
    Submission,
    UTCDateTime,
)
from webapp.services import data_version, evidence, reference_memo, summaries
from webapp.services.api.cursor import order_columns
from webapp.services.catalog import Selection
from webapp.services.listing import shown_marks, stale_edge
from webapp.services.page_memo import MemoStore
from webapp.services.rules import Badge, Kind, State, Tier
from webapp.services.sorting import Sort, order

_REPRO = aliased(Submission, name="repro")
# What a summary, the plausibility check and shown_marks read of a row.
_ROW_COLUMNS = (
    Submission.id, Submission.kind, Submission.hardware_count,
    Submission.other_model, Submission.other_hardware, Submission.other_quant,
    Submission.other_runtime, Submission.runtime_version,
    Submission.speculative, Submission.batch_gt1, Submission.tensor_parallel,
    Submission.decode_tps, Submission.ttft_ms, Submission.prefill_tps,
    Submission.vram_peak_mib, Submission.tokens_generated,
    Submission.measured_at, Submission.decided_at, Submission.created_at, Submission.is_demo,
    Submission.derived_ceiling_share, Submission.derived_badge, Submission.derived_tier,
    Submission.derived_tier_lifted_off, Submission.derived_lift_until,
    Submission.derived_tier_aged, Submission.derived_newest_at, Submission.derived_repro_count,
    Submission.model_id, Submission.hardware_id, Submission.quant_id, Submission.runtime_id,
)
_ROW_NAMES = tuple(column.key for column in _ROW_COLUMNS)
# A listed row: its columns, then its four reference entries, built in one call (a
# namespace filled from a dict of 31 names cost more than the page's query).
_Row = namedtuple("ListedRow", (*_ROW_NAMES, "model", "hardware", "quant", "runtime"))
_REFERENCE_AT = tuple(_ROW_NAMES.index(name)
                      for name in ("model_id", "hardware_id", "quant_id", "runtime_id"))
_ROWS = (
    select(*_ROW_COLUMNS,
           # clean reproductions, read from ix_submissions_hub_state
           select(func.count()).select_from(_REPRO)
           .where(_REPRO.hub_id == Submission.id, _REPRO.kind == Kind.REPRODUCTION,
                  _REPRO.state == State.REPRODUCED)
           .correlate(Submission).scalar_subquery())
    .where(Submission.id.in_(bindparam("ids", expanding=True)))
)
# The reference entries' columns that labels.* and plausibility read, per table.
_REFERENCES: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (ModelVariant, ("id", "slug", "name", "variant", "active_params_b")),
    (Hardware, ("id", "slug", "name", "kind", "memory_gib", "bandwidth_gb_s")),
    (Quant, ("id", "slug", "family", "name", "bits_per_weight")),
    (Runtime, ("id", "slug", "name", "engine_family")),
)
_PUBLIC_ROWS = (select(func.coalesce(func.sum(PublicRowCount.rows), 0))
                .where(PublicRowCount.subject == summaries.HARDWARE).scalar_subquery())
# The unfiltered list's fresh rows: the public rows kept by decisions, less the stale ones
# and any whose index was never refreshed, two ranges of ix_submissions_state_newest (an
# OR of them would walk all of it on PostgreSQL). Built once, as _ROWS is.
_FRESH_ROWS = select(
    _PUBLIC_ROWS
    - select(func.count()).select_from(Submission)
    .where(Submission.state == State.APPROVED,
           Submission.derived_newest_at < bindparam("stale_edge", type_=UTCDateTime()))
    .scalar_subquery()
    - select(func.count()).select_from(Submission)
    .where(Submission.state == State.APPROVED, Submission.derived_newest_at.is_(None))
    .scalar_subquery()
)
_FILTERS = ("model", "hardware", "quant", "runtime", "badge", "tier", "q")


@dataclass(slots=True)
class Listed:
    """One row of the list as the catalog shows it. `row` has a Submission's column
    attributes and its reference entries (`model`, `hardware`, `quant`, `runtime`:
    plain copies, so labels.* and plausibility read it as they read a Submission)."""

    row: Any
    badge: Badge
    tier: Tier
    stale: bool
    independent_operators: int
    reproductions: int


@dataclass(frozen=True)
class ListedPage:
    items: list[Listed]
    has_next: bool
    last_key: Any = None  # the last row's values of the sort's ORDER BY (the next cursor)


def page(session: Session, conditions: Sequence[ColumnElement[bool]], sort: Sort, limit: int,
         now: datetime, *, sorted_apart: bool = False) -> ListedPage:
    """The first `limit` rows under `conditions` in `sort`'s order, and whether more follow.

    The ids are read from the sort's index alone (as listing._fetch's first step does;
    `sorted_apart`: from a filter's index, then sorted, services.narrowing), then the
    rows by id."""
    terms = order_columns(order(sort))
    connection = session.connection()
    keys = connection.execute(
        select(*(column for column, _ in terms)).where(*conditions)
        .order_by(*order(sort, unindexed=sorted_apart)).limit(limit + 1)).all()
    has_next = len(keys) > limit
    keys = keys[:limit]
    if not keys:
        return ListedPage(items=[], has_next=False)
    ids = [key[-1] for key in keys]
    found = {values[0]: values for values in connection.execute(_ROWS, {"ids": ids}).all()}
    models, hardware, quants, runtimes = reference_memo.kept(
        session, "api-reference", data_version.current(session), _reference_rows)
    items: list[Listed] = []
    unindexed: dict[int, int] = {}  # id -> reproductions, of rows the index cannot show
    model_at, hardware_at, quant_at, runtime_at = _REFERENCE_AT
    for row_id in ids:
        values = found[row_id]
        reproductions = values[-1]
        row = _Row(*values[:-1], models[values[model_at]], hardware[values[hardware_at]],
                   quants[values[quant_at]], runtimes[values[runtime_at]])
        marks = shown_marks(row, now)
        if marks is None:
            unindexed[row_id] = reproductions
            marks = (Badge.COMMUNITY, Tier.LOW, True)  # replaced below
        items.append(Listed(row, *marks, row.derived_repro_count, reproductions))
    if unindexed:
        assessed = _assessed(session, unindexed, now)
        items = [assessed.get(item.row.id, item) for item in items]
    return ListedPage(items=items, has_next=has_next, last_key=keys[-1])


def _reference_rows(session: Session) -> tuple[dict[int, Any], ...]:
    """The four reference tables by id, kept for the data version: plain copies of the
    columns labels.* and plausibility read, with what the models' own rules make of them
    (is_other, and a quant's label) worked out once on a transient row. A page of 100
    read these attributes about 1,600 times, each through the ORM's instrumentation."""
    return tuple(
        {values[0]: _plain(entity(**dict(zip(names, values, strict=True))), names)
         for values in session.execute(select(*(getattr(entity, name) for name in names)))}
        for entity, names in _REFERENCES
    )


def _plain(entry: Any, names: tuple[str, ...]) -> SimpleNamespace:
    derived = {"is_other": entry.is_other}
    if isinstance(entry, Quant):
        derived["label"] = entry.label
    return SimpleNamespace(**{name: getattr(entry, name) for name in names}, **derived)


def _assessed(session: Session, reproductions: dict[int, int],
              now: datetime) -> dict[int, Listed]:
    """Rows the index cannot show (id -> clean reproductions), assessed from their
    evidence as the detail page assesses a row."""
    rows = list(session.scalars(
        select(Submission).where(Submission.id.in_(list(reproductions)))).unique())
    assessments = evidence.assess_hubs(session, rows, now)
    out = {}
    for row in rows:
        assessment = assessments[row.id]
        confidence = assessment.confidence
        out[row.id] = Listed(row=row, badge=assessment.badge, tier=confidence.tier,
                             stale=confidence.stale,
                             independent_operators=confidence.independent_operators,
                             reproductions=reproductions[row.id])
    return out


def total(session: Session, selection: Selection, now: datetime, *,
          memos: MemoStore | None = None,
          conditions: Sequence[ColumnElement[bool]] | None = None) -> int:
    """How many rows `selection` picks.

    The whole catalog's count is kept by decisions (the public rows per hardware entry,
    summaries.public_row_counts, which every public row is counted in once); unfiltered,
    the list takes off it the stale rows (and any whose index was never refreshed), a
    range of ix_submissions_state_newest, instead of counting every public row. A filter
    is counted from its own index, which walks every matching row (a hardware entry's
    thousands at 100,000 rows: 12 ms on PostgreSQL). With `memos` (the worker's), either
    is counted once per data version and minute, as the catalog counts its pages (the
    unfiltered count moves with time alone only as rows pass the stale edge, which the
    catalog's total also follows within the minute). `conditions`, when given,
    select the same rows as the selection's, written for a count (services.narrowing)."""
    query = selection.query
    memo = None
    if memos is not None:
        memo = memos.memo(("api-total", data_version.current(session),
                           int(now.timestamp()) // 60,
                           tuple(query.args(page=None, sort=None).items())))
        if memo.total is not None:
            return memo.total
    counted = _counted(session, selection, now, conditions)
    if memo is not None:
        memo.total = counted
    return counted


def _counted(session: Session, selection: Selection, now: datetime,
             conditions: Sequence[ColumnElement[bool]] | None) -> int:
    query = selection.query
    unfiltered = all(getattr(query, name) is None for name in _FILTERS)
    # public_conditions(), and not_stale unless stale rows are asked for: nothing else
    if unfiltered and len(selection.conditions) == (1 if query.include_stale else 2):
        connection = session.connection()
        if query.include_stale:
            return connection.execute(select(_PUBLIC_ROWS)).scalar() or 0
        fresh = connection.execute(_FRESH_ROWS, {"stale_edge": stale_edge(now)}).scalar() or 0
        if fresh >= 0:
            return fresh
        # Fewer rows kept than stale ones: the summaries were bypassed (rows written by
        # hand), so the rows are counted.
    return session.scalar(
        select(func.count()).select_from(Submission)
        .where(*(selection.conditions if conditions is None else conditions))) or 0
