"""The Atom feed: rows that became public and badges that moved (up or down), newest
first, under the catalog's filters. An entry's summary gives the row's numbers as its
pages write them (labels.number) and names its plausibility flags (plausibility.of_row).

A row becomes public when a reviewer approves it (Submission.decided_at, so every row
published before the feed existed is in it too); badge changes are the BadgeChange
records evidence.refresh_derived writes. Both are read newest first from an index, at
most LIMIT of each, and merged. Entry ids are tag: URIs built from what never changes
(the row's id and the moment of the event), so a reader never sees an entry twice.

An entry says what happened at its moment, and its <updated> is that moment: a "New"
entry names the badge the row was published with (the first later change's old badge,
else the row's badge now), and a later move of the badge is its own entry. So an entry's
text never changes under an unchanged <updated> (RFC 4287), which feed readers would
never refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from webapp.models import BadgeChange, Submission
from webapp.services import catalog_rows, plausibility
from webapp.services.catalog import Selection
from webapp.services.labels import (
    hardware_label,
    model_label,
    number,
    quant_label,
    runtime_label,
)
from webapp.services.rules import Badge

LIMIT = 50
TAG_YEAR = 2026  # the tag: URIs' date; fixed forever, or every id would change


@dataclass(frozen=True)
class Entry:
    tag: str  # the part after "tag:<host>,<year>:"
    kind: str  # "published" | "badge-up" | "badge-down"
    at: datetime
    row: FeedRow
    title: str
    summary: str


# What an entry reads of a row: columns, not ORM rows (with their four joined reference
# rows each); the reference entries come from those kept for the data version
# (catalog_rows.references, with the numbers the ceiling reads).
# The table's own columns, read past the ORM's execution layer: a statement built per
# request from them is matched to its cached compiled form by identity (services.exports).
_ROWS = Submission.__table__.c
_COLUMNS = (
    _ROWS.id, _ROWS.decided_at, _ROWS.derived_badge, _ROWS.decode_tps,
    _ROWS.ttft_ms, _ROWS.vram_peak_mib, _ROWS.model_id, _ROWS.hardware_id, _ROWS.quant_id,
    _ROWS.runtime_id, _ROWS.hardware_count, _ROWS.other_model,
    _ROWS.other_hardware, _ROWS.other_quant, _ROWS.other_runtime,
    _ROWS.cpu_family, _ROWS.runtime_version,
    _ROWS.speculative, _ROWS.batch_gt1, _ROWS.tensor_parallel,
)


class FeedRow:
    """The columns an entry reads, and the reference entries labels.* and
    plausibility.of_row read beside them."""

    __slots__ = ("id", "decided_at", "derived_badge", "decode_tps", "ttft_ms", "vram_peak_mib",
                 "model", "hardware", "quant", "runtime", "hardware_count", "other_model",
                 "other_hardware", "other_quant", "other_runtime", "cpu_family",
                 "runtime_version", "speculative", "batch_gt1", "tensor_parallel",
                 "model_text", "hardware_text", "configuration", "flags")

    def __init__(self, values: Any, reference: catalog_rows.References):
        (self.id, self.decided_at, self.derived_badge, self.decode_tps, self.ttft_ms,
         self.vram_peak_mib, model_id, hardware_id, quant_id, runtime_id, self.hardware_count,
         self.other_model, self.other_hardware, self.other_quant, self.other_runtime,
         self.cpu_family, self.runtime_version, speculative, batch_gt1,
         tensor_parallel) = values
        self.speculative, self.batch_gt1 = bool(speculative), bool(batch_gt1)
        self.tensor_parallel = bool(tensor_parallel)
        self.model, self.hardware = reference.models[model_id], reference.hardware[hardware_id]
        self.quant, self.runtime = reference.quants[quant_id], reference.runtimes[runtime_id]
        # each label once: a title and a summary both name the model and the hardware
        self.model_text, self.hardware_text = model_label(self), hardware_label(self)
        self.configuration = (f"{self.model_text} on {self.hardware_text}, "
                              f"{quant_label(self)}, {runtime_label(self)}")
        self.flags = plausibility.of_row(self).flags


def _badge_label(value: str | None) -> str:
    try:
        return Badge(value).label
    except ValueError:
        return value or "no badge"


def _numbers(row: FeedRow) -> str:
    return (f"decode {number(row.decode_tps)} tok/s, time to first token "
            f"{number(row.ttft_ms)} ms (medians of the timed runs)")


def _flagged(row: FeedRow) -> str:
    """The row's plausibility flags as sentences after the summary's own, as its page
    lists them (name, then what was found); "" for a row without any."""
    return "".join(f" Flagged: {flag.label}. {flag.message}" for flag in row.flags)


def _published(row: FeedRow, badge_then: str | None) -> Entry:
    """`badge_then`: the row's badge when it was published (_badges_when_published)."""
    at = row.decided_at
    badge = _badge_label(badge_then)
    return Entry(
        tag=f"benchmarks/{row.id}/published/{int(at.timestamp())}",
        kind="published",
        at=at,
        row=row,
        title=f"New: #{row.id} {row.model_text} on {row.hardware_text}",
        summary=f"{row.configuration}: {_numbers(row)}. Badge: {badge}.{_flagged(row)}",
    )


def _badge_changed(change: Any, row: FeedRow) -> Entry:
    """`change`: a BadgeChange's columns."""
    old, new = _badge_label(change.old_badge), _badge_label(change.new_badge)
    up = _rank(change.new_badge) >= _rank(change.old_badge)
    verb = "raised" if up else "lowered"
    return Entry(
        tag=f"benchmarks/{row.id}/badge-changes/{change.id}",
        kind="badge-up" if up else "badge-down",
        at=change.changed_at,
        row=row,
        title=f"Badge {verb}: #{row.id} {row.model_text} on {row.hardware_text} "
              f"is now {new}",
        summary=f"{row.configuration}: the badge went from {old} to {new} as the "
                f"evidence changed (clean reproductions by other operators). {_numbers(row)}."
                f"{_flagged(row)}",
    )


def _rank(value: str | None) -> int:
    try:
        return Badge(value).rank
    except ValueError:
        return -1


WALK = 200
# Built once; a step binds where the last one stopped.
_WALK_FIRST = select(
    BadgeChange.id, BadgeChange.submission_id, BadgeChange.changed_at,
    BadgeChange.old_badge, BadgeChange.new_badge,
).order_by(BadgeChange.changed_at.desc(), BadgeChange.id.desc()).limit(WALK)
_WALK_ON = _WALK_FIRST.where(or_(
    BadgeChange.changed_at < bindparam("at"),
    and_(BadgeChange.changed_at == bindparam("at"), BadgeChange.id < bindparam("id"))))


def _badge_changes(
    session: Session, selection: Selection, limit: int, reference: catalog_rows.References
) -> list[tuple[Any, FeedRow]]:
    """The newest `limit` badge changes of rows `selection` picks. Walked from the changes'
    own index, newest first, WALK at a time: the rows' filters are checked on each step's
    rows by id, so neither table is read whole nor sorted (a join would start from the
    submissions and sort)."""
    found: list[tuple[Any, FeedRow]] = []
    last: Any = None
    while len(found) < limit:
        step = _WALK_FIRST if last is None else _WALK_ON
        changes = session.connection().execute(step, {} if last is None else {
            "at": last.changed_at, "id": last.id}).all()
        if not changes:
            break
        rows = {values[0]: FeedRow(values, reference) for values in session.connection().execute(
            select(*_COLUMNS).where(*selection.conditions, _ROWS.id.in_(
                {change.submission_id for change in changes}))).all()}
        found += [(change, rows[change.submission_id]) for change in changes
                  if change.submission_id in rows]
        last = changes[-1]
    return found[:limit]


def _badges_when_published(session: Session, rows: list[FeedRow]) -> dict[int, str]:
    """The badge each row had when it became public, for rows whose badge moved since:
    the old badge of its first change after decided_at. (A row without such a change
    still has the badge it was published with.)"""
    if not rows:
        return {}
    published = {row.id: row.decided_at for row in rows}
    changes = session.connection().execute(
        select(BadgeChange.submission_id, BadgeChange.changed_at, BadgeChange.old_badge)
        .where(BadgeChange.submission_id.in_(published))
        .order_by(BadgeChange.changed_at, BadgeChange.id)
    ).all()
    then: dict[int, str] = {}
    for row_id, changed_at, old_badge in changes:
        if row_id not in then and changed_at > published[row_id]:
            then[row_id] = old_badge
    return then


def entries(
    session: Session, selection: Selection, *, now: datetime, limit: int = LIMIT
) -> list[Entry]:
    """The newest `limit` events of the rows `selection` picks (public rows only)."""
    reference = catalog_rows.references(session)
    session.flush()  # what the ORM's execution would autoflush; the reads below bypass it
    published = session.connection().execute(
        select(*_COLUMNS)
        # A plain bound on decided_at, so the planner walks ix_submissions_state_decided
        # from its end (else SQLite reads every row past the stale filter's index, then sorts).
        .where(*selection.conditions, _ROWS.decided_at <= now)
        .order_by(_ROWS.decided_at.desc(), _ROWS.id.desc())
        .limit(limit)
    ).all()
    rows = [FeedRow(values, reference) for values in published]
    then = _badges_when_published(session, rows)
    found = [_published(row, then.get(row.id, row.derived_badge)) for row in rows]
    changes = _badge_changes(session, selection, limit, reference)
    found += [_badge_changed(change, row) for change, row in changes]
    found.sort(key=lambda entry: (entry.at, entry.tag), reverse=True)
    return found[:limit]


def updated(found: list[Entry], fallback: datetime) -> datetime:
    """The feed's <updated>: its newest entry, else `fallback` (a fixed moment, so an empty
    feed keeps its ETag)."""
    return max((entry.at for entry in found), default=fallback)
