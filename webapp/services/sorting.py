"""The orders a list of public rows can take, and the seek past a row in one.

Each sort's ORDER BY terms end with the row's id, so a page never repeats or skips a row
whatever the ties; `keyset_bound` is the condition "after this row in this order", which
the databases seek in the sort's index. The catalog's pages (services.listing), the API's
cursor (services.api.cursor), the exports and services.narrowing all read them here, so a
list is sorted one way wherever it leaves the site.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, literal, or_, tuple_

from webapp.models import Submission
from webapp.services.statements import Unindexed


class Sort(StrEnum):
    DECODE = "decode"
    TTFT = "ttft"
    VRAM = "vram"
    SHARE = "share"
    NEWEST = "newest"
    TRUST = "trust"

    @property
    def label(self) -> str:
        return _SORT_LABELS[self]

    @property
    def descending(self) -> bool:
        """Whether the sort puts the largest value first (a table header's aria-sort)."""
        return sort_terms(self)[0][1]


_SORT_LABELS = {
    Sort.DECODE: "Fastest decode",
    Sort.TTFT: "Quickest first token",
    Sort.VRAM: "Smallest memory peak",
    Sort.SHARE: "Nearest the bandwidth ceiling",
    Sort.NEWEST: "Newest",
    Sort.TRUST: "Most trusted",
}


def sort_terms(sort: Sort) -> tuple[tuple[Any, bool], ...]:
    """(column, descending) of each ORDER BY term of `sort`, id last."""
    if sort is Sort.TRUST:
        # Badge, then tier (derived_trust_rank); within a rank the newest measurement
        # first, which also puts rows whose tier has aged after the rest of the rank.
        return ((Submission.derived_trust_rank, True), (Submission.derived_newest_at, True),
                (Submission.id, True))
    column, descending = {
        Sort.DECODE: (Submission.decode_tps, True),
        Sort.TTFT: (Submission.ttft_ms, False),
        Sort.VRAM: (Submission.vram_peak_mib, False),
        Sort.SHARE: (Submission.derived_ceiling_share, True),
        Sort.NEWEST: (Submission.created_at, True),
    }[sort]
    return ((column, descending), (Submission.id, descending))


def order(sort: Sort, *, reverse: bool = False,
          unindexed: bool = False) -> tuple[ColumnElement[Any], ...]:
    """The ORDER BY of `sort` (catalog pages, the API's cursor, exports); id breaks ties
    so that pages never repeat or skip a row. `unindexed`: written so that SQLite sorts
    the rows it found rather than walking the sort's index (services.narrowing)."""
    return tuple((Unindexed(column) if unindexed else column).desc()
                 if descending != reverse else
                 (Unindexed(column) if unindexed else column).asc()
                 for column, descending in sort_terms(sort))


def at_or_after(sort: Sort, key: tuple[Any, ...]) -> ColumnElement[bool]:
    """Rows at or after the row whose ORDER BY values are `key`, in `sort`'s order."""
    return keyset_bound(sort_terms(sort), key, inclusive=True)


def keyset_bound(terms: Sequence[tuple[Any, bool]], key: Sequence[Any], *,
                 inclusive: bool) -> ColumnElement[bool]:
    """Rows after (or, `inclusive`, at or after) the row whose ORDER BY values are `key`,
    in the order of `terms` ((column, descending) each, as sort_terms gives them).

    When every term runs one way (every sort does), one row-value comparison, which
    SQLite (3.15+) and PostgreSQL seek in the sort's index on all its columns: a bound on
    the first column alone left the trust sort (a dozen ranks) stepping over half the
    catalog on a deep page. Otherwise the comparison spelt out, with a plain bound on the
    first column to seek by."""
    terms = tuple(terms)
    directions = {descending for _, descending in terms}
    if len(directions) == 1:
        columns = tuple_(*(column for column, _ in terms))
        values = tuple_(*(literal(value, column.type)
                          for (column, _), value in zip(terms, key, strict=True)))
        if directions.pop():
            return columns <= values if inclusive else columns < values
        return columns >= values if inclusive else columns > values
    branches = []
    if inclusive:
        branches.append(and_(*(column == value
                               for (column, _), value in zip(terms, key, strict=True))))
    for index, ((column, descending), value) in enumerate(zip(terms, key, strict=True)):
        equal = [earlier == earlier_value
                 for (earlier, _), earlier_value in zip(terms[:index], key[:index], strict=True)]
        branches.append(and_(*equal, column < value if descending else column > value))
    first, first_descending = terms[0]
    bound = first <= key[0] if first_descending else first >= key[0]
    return and_(bound, or_(*branches))
