"""Which index SQLite reads a filtered list through: the catalog's and the API's.

SQLite plans from sqlite_stat1's averages (the stock build keeps no per-value
histograms): it takes every model, hardware entry, quant and runtime to hold the average
share of the rows. The catalog is skewed (in the 100,000-row demo one quant holds 40% of
the public rows, a runtime none, one model 23%), so on a filtered page SQLite walked the
largest filter's index to find a combination that holds no row (62 ms), or read every
row of a popular model to sort them by VRAM (44 ms) where walking the sort's index
stops after about a hundred. PostgreSQL keeps statistics per value and plans these
itself: it gets the conditions as they are.

On SQLite the public row counts kept per model, hardware entry, quant and runtime
(services.summaries, kept by every decision) choose instead, read once per data version
in each worker (services.reference_memo):

- with a hardware entry and a model among the filters, the chart's index seeks on both
  (SQLite's own choice, kept);
- to count the rows, or to read them in decode order (each filter's index holds
  decode_tps), the filter with the fewest rows leads; the others are checked on its rows;
- in another order, the sort's own index leads when walking it is expected to cost
  LOOKUP_MARGIN times less than sorting the smallest filter's rows (filters taken as
  independent: a page of 25 under a filter holding a quarter of the rows passes about
  100 entries; a sorted row costs about SORT_TO_WALK steps of a walk); else the
  smallest filter leads and its rows are sorted (the ORDER BY written
  `+column`, or SQLite, taking the filter for an average one, may walk the sort's index
  over nearly the whole catalog to find a rare quant's rows: 18 ms for fp16's 440 rows
  sorted by VRAM, all at the far end of that order).

A condition is kept from leading by comparing `column + 0` (the same rows; SQLite uses
an index only for a bare column), so the rows a page lists never depend on the choice;
the stale edge, which most rows pass, is marked so with SQLite's likelihood(), or SQLite
counted a filter's rows by walking the edge's range over nearly the whole catalog.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.orm import Session

from webapp.models import PublicRowCount
from webapp.services import data_version, reference_memo
from webapp.services.sorting import Sort
from webapp.services.statements import equals_literal
from webapp.services.summaries import HARDWARE, MODEL

# Walking the sort's index must be expected to cost this many times less than sorting the
# smallest filter's rows: the estimate takes filters as independent, and correlated ones
# (a model run mostly on one runtime) can make the walk far longer.
LOOKUP_MARGIN = 4
# Sorting a row costs about this many steps along an index (both index-only): at 100,000
# rows, walking the VRAM index's 100,000 public entries took 20-29 ms, sorting one
# runtime's 12,269 rows 24-47 ms (sqlite3's shell, .timer on).
SORT_TO_WALK = 10
# What SQLite is told of a condition most rows meet (the stale edge: in the demo catalog,
# 95% of the public rows are fresh), so it never walks that condition's range to count.
BROAD_LIKELIHOOD = "0.9"


@dataclass(frozen=True)
class Filter:
    """One reference filter of a selection: `term` is `column = reference_id` as it
    stands in the selection's conditions; `subject` is summaries' name for its counts."""

    subject: str
    column: Any
    reference_id: int
    term: ColumnElement[bool]


@dataclass(frozen=True)
class Narrowed:
    """A selection's conditions written twice: to read rows in an order, and to count."""

    read: list[ColumnElement[bool]]
    count: list[ColumnElement[bool]]
    # The read takes the rows from a filter's index and sorts them: its ORDER BY must not
    # let SQLite walk the sort's index instead (sorting.order's `unindexed`).
    sorted_apart: bool = False


def narrowed(session: Session, conditions: Sequence[ColumnElement[bool]],
             filters: Sequence[Filter], sort: Sort, reach: int,
             broad: Sequence[ColumnElement[bool]] = ()) -> Narrowed:
    """`conditions` as a read of the first `reach` rows in `sort`'s order, and as a count,
    should give them to this session's database (the kept counts are consulted only when
    there is a choice to make). `broad` are conditions among them that most rows meet (the
    stale edge): SQLite is told so, or it may count by walking their range."""
    single = len(filters) == 1 and sort is Sort.DECODE
    # A hardware entry and a model together: ix_submissions_hardware_chart seeks on both
    # (and the quant), which SQLite finds by itself.
    charted = {HARDWARE, MODEL} <= {item.subject for item in filters}
    if not filters or single or charted or not _on_sqlite(session):
        return Narrowed(list(conditions), list(conditions))
    counts, total = _counts(session, filters)
    smallest = _smallest(counts)
    count = _led_by(conditions, filters, smallest, broad)
    if sort is Sort.DECODE:
        return Narrowed(count, count)
    if sort_index_leads(counts, total, reach):
        return Narrowed(_led_by(conditions, filters, None, broad), count)
    return Narrowed(count, count, sorted_apart=True)


def sort_index_leads(counts: Sequence[int], total: int, reach: int) -> bool:
    """Whether walking the sort's index to the `reach`-th matching row is expected to cost
    LOOKUP_MARGIN times less than sorting the smallest filter's rows (of `counts`, out of
    `total` public rows)."""
    if total <= 0 or min(counts) <= 0:
        return False
    share = math.prod(count / total for count in counts)
    return reach * LOOKUP_MARGIN < share * min(counts) * SORT_TO_WALK


def _smallest(counts: Sequence[int]) -> int:
    return min(range(len(counts)), key=counts.__getitem__)


def _led_by(conditions: Sequence[ColumnElement[bool]], filters: Sequence[Filter],
            leader: int | None, broad: Sequence[ColumnElement[bool]]
            ) -> list[ColumnElement[bool]]:
    """The conditions with every filter but `leader` (an index into `filters`, or None for
    none) compared as `column + 0`, and each broad one marked as met by most rows."""
    swapped = {id(item.term): equals_literal(item.column + 0, item.reference_id)
               for index, item in enumerate(filters) if index != leader}
    swapped.update((id(term), _mostly(term)) for term in broad)
    return [swapped.get(id(condition), condition) for condition in conditions]


def _mostly(term: ColumnElement[bool]) -> ColumnElement[bool]:
    """`term`, with SQLite told that nine rows in ten meet it (likelihood() takes a
    constant, so the figure is written into the statement)."""
    # Untyped: a Boolean function would be compared "= 1", which SQLite reads as another
    # term and the hint is lost.
    return func.likelihood(term, literal_column(BROAD_LIKELIHOOD))


def _counts(session: Session, filters: Sequence[Filter]) -> tuple[list[int], int]:
    """Each filter's public rows as kept (0 for an entry with none), and all public rows
    (each counted once, under its hardware entry): the whole table, read once per data
    version in each worker (decisions move the version and the counts together)."""
    kept = reference_memo.kept(session, "narrowing-counts", data_version.current(session),
                               _all_counts)
    return ([kept.get((item.subject, item.reference_id), 0) for item in filters],
            kept.get(_TOTAL, 0))


_TOTAL = ("", 0)  # all public rows, beside the (subject, reference id) counts
_ALL_COUNTS = select(PublicRowCount.subject, PublicRowCount.reference_id, PublicRowCount.rows)


def _all_counts(session: Session) -> dict[tuple[str, int], int]:
    counts = {(subject, reference_id): rows
              for subject, reference_id, rows in session.execute(_ALL_COUNTS)}
    counts[_TOTAL] = sum(rows for (subject, _), rows in counts.items() if subject == HARDWARE)
    return counts


def _on_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"
