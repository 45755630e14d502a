"""Rows side by side (/compare): two to four public rows, their medians, ceilings, badges
and tiers, and which build-context values differ between them.

`parse_ids` reads what the address asked for (`ids=1,2,3` or `ids=1&ids=2`): the user's
order kept, repeats dropped. Anything it cannot compare is a Problem with its status and a
sentence saying what to do; nothing here raises on bad input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from webapp.services import detail_rows, plausibility
from webapp.services.detail import MAX_ID
from webapp.services.labels import build_context
from webapp.services.listing import Listing, _PageAssessments

MIN_ROWS, MAX_ROWS = 2, 4
_SEPARATORS = re.compile(r"[\s,]+")
_ID = re.compile(r"[0-9]{1,10}")
SHOWN_JUNK = 5  # bad values quoted back, at most
JUNK_LENGTH = 24  # characters of each quoted back


@dataclass(frozen=True)
class Problem:
    status: int
    title: str
    message: str
    remaining: tuple[int, ...] = ()  # public rows asked for that could still be compared


def _quoted(values: Iterable[str]) -> str:
    shown = [f"“{v[:JUNK_LENGTH]}{'…' if len(v) > JUNK_LENGTH else ''}”" for v in values]
    return ", ".join(shown)


def parse_ids(values: Iterable[str]) -> list[int] | Problem:
    """The row ids asked for, in the user's order without repeats, or what is wrong."""
    tokens = [t for value in values for t in _SEPARATORS.split(value) if t]
    if not tokens:
        return Problem(400, "Nothing to compare",
                       f"Pick {MIN_ROWS} to {MAX_ROWS} rows to compare: tick them in the "
                       "catalog and press “Compare”, or give their numbers, as in "
                       "/compare?ids=12,15.")
    junk = [t for t in tokens if not _ID.fullmatch(t) or not 0 < int(t) <= MAX_ID]
    if junk:
        more = len(junk) - SHOWN_JUNK
        return Problem(400, "Not row numbers",
                       f"{_quoted(junk[:SHOWN_JUNK])}{f' and {more} more' if more > 0 else ''} "
                       f"{'is' if len(junk) == 1 else 'are'} not "
                       f"{'a row number' if len(junk) == 1 else 'row numbers'}. A row’s number "
                       "is the one in its address, /benchmarks/<number>; give 2 to 4 of them, "
                       "separated by commas.")
    ids = list(dict.fromkeys(int(t) for t in tokens))
    if len(ids) < MIN_ROWS:
        return Problem(400, "Pick another row",
                       f"A comparison needs at least {MIN_ROWS} different rows; "
                       f"{'only row #' + str(ids[0]) + ' was' if ids else 'none were'} given. "
                       "Tick one more in the catalog.")
    if len(ids) > MAX_ROWS:
        return Problem(400, "Too many rows",
                       f"At most {MAX_ROWS} rows fit side by side; {len(ids)} were given. "
                       f"Untick {len(ids) - MAX_ROWS} in the catalog and compare again.")
    return ids


@dataclass(frozen=True)
class Column:
    """One compared row."""

    listing: Listing
    check: plausibility.Plausibility

    @property
    def row(self) -> Any:
        """The row's columns and reference rows (services.detail_rows)."""
        return self.listing.row


@dataclass(frozen=True)
class FactLine:
    """One build-context value across the compared rows (None: not given)."""

    label: str
    values: tuple[str | None, ...]

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


@dataclass(frozen=True)
class Comparison:
    ids: list[int]
    columns: list[Column]
    facts: list[FactLine]

    @property
    def differing(self) -> int:
        return sum(line.differs for line in self.facts)

    @property
    def demo_shown(self) -> bool:
        return any(column.row.is_demo for column in self.columns)

    def without(self, row_id: int) -> list[int]:
        """The ids of this comparison without `row_id`; empty when too few would remain."""
        rest = [i for i in self.ids if i != row_id]
        return rest if len(rest) >= MIN_ROWS else []


def compare(session: Session, ids: list[int], *, now: datetime) -> Comparison | Problem:
    """The rows `ids` side by side, in that order, or a 404 Problem naming the ones that
    are not public (never saying why: a hidden row and a missing one read the same)."""
    found = detail_rows.public_rows(session, ids)
    missing = [i for i in ids if i not in found]
    if missing:
        names = ", ".join(f"#{i}" for i in missing)
        remaining = tuple(i for i in ids if i in found)
        return Problem(404, "Row not found",
                       f"There is no public row {names}. It may never have existed, or it is "
                       "not public. Pick the rows again from the catalog.",
                       remaining if len(remaining) >= MIN_ROWS else ())
    rows = [found[i] for i in ids]
    # Badge, tier and stale from the stored index, as every list shows them; the rows'
    # evidence is read only for a row whose index was never refreshed.
    assessments = _PageAssessments(session, rows, now)
    columns = [Column(Listing.indexed(row, now, assessments), plausibility.of_row(row))
               for row in rows]
    contexts = [build_context(row) for row in rows]
    facts = [FactLine(items[0].label, tuple(fact.value for fact in items))
             for items in zip(*contexts, strict=True)]
    return Comparison(ids, columns, facts)
