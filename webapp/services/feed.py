"""The Atom feed: rows that became public and badges that moved (up or down), newest
first, under the catalog's filters.

A row becomes public when a reviewer approves it (Submission.decided_at, so every row
published before the feed existed is in it too); badge changes are the BadgeChange
records evidence.refresh_derived writes. Both are read newest first from an index, at
most LIMIT of each, and merged. Entry ids are tag: URIs built from what never changes
(the row's id and the moment of the event), so a reader never sees an entry twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from webapp.models import BadgeChange, Submission
from webapp.services.catalog import Selection
from webapp.services.labels import hardware_label, model_label, quant_label, runtime_label
from webapp.services.rules import Badge

LIMIT = 50
TAG_YEAR = 2026  # the tag: URIs' date; fixed forever, or every id would change


@dataclass(frozen=True)
class Entry:
    tag: str  # the part after "tag:<host>,<year>:"
    kind: str  # "published" | "badge-up" | "badge-down"
    at: datetime
    row: Submission
    title: str
    summary: str


def _configuration(row: Submission) -> str:
    return (f"{model_label(row)} on {hardware_label(row)}, {quant_label(row)}, "
            f"{runtime_label(row)}")


def _badge_label(value: str | None) -> str:
    try:
        return Badge(value).label
    except ValueError:
        return value or "no badge"


def _numbers(row: Submission) -> str:
    return (f"decode {row.decode_tps:,.1f} tok/s, time to first token "
            f"{row.ttft_ms:,.0f} ms (medians of the timed runs)")


def _published(row: Submission) -> Entry:
    at = row.decided_at
    badge = _badge_label(row.derived_badge)
    return Entry(
        tag=f"benchmarks/{row.id}/published/{int(at.timestamp())}",
        kind="published",
        at=at,
        row=row,
        title=f"New: #{row.id} {model_label(row)} on {hardware_label(row)}",
        summary=f"{_configuration(row)}: {_numbers(row)}. Badge: {badge}.",
    )


def _badge_changed(change: BadgeChange, row: Submission) -> Entry:
    old, new = _badge_label(change.old_badge), _badge_label(change.new_badge)
    up = _rank(change.new_badge) >= _rank(change.old_badge)
    verb = "raised" if up else "lowered"
    return Entry(
        tag=f"benchmarks/{row.id}/badge-changes/{change.id}",
        kind="badge-up" if up else "badge-down",
        at=change.changed_at,
        row=row,
        title=f"Badge {verb}: #{row.id} {model_label(row)} on {hardware_label(row)} "
              f"is now {new}",
        summary=f"{_configuration(row)}: the badge went from {old} to {new} as the "
                f"evidence changed (clean reproductions by other operators). {_numbers(row)}.",
    )


def _rank(value: str | None) -> int:
    try:
        return Badge(value).rank
    except ValueError:
        return -1


WALK = 200


def _badge_changes(
    session: Session, selection: Selection, limit: int
) -> list[tuple[BadgeChange, Submission]]:
    """The newest `limit` badge changes of rows `selection` picks. Walked from the changes'
    own index, newest first, WALK at a time: the rows' filters are checked on each step's
    rows by id, so neither table is read whole nor sorted (a join would start from the
    submissions and sort)."""
    found: list[tuple[BadgeChange, Submission]] = []
    walk = select(BadgeChange).order_by(BadgeChange.changed_at.desc(), BadgeChange.id.desc())
    last: BadgeChange | None = None
    while len(found) < limit:
        step = walk if last is None else walk.where(or_(
            BadgeChange.changed_at < last.changed_at,
            and_(BadgeChange.changed_at == last.changed_at, BadgeChange.id < last.id)))
        changes = session.scalars(step.limit(WALK)).all()
        if not changes:
            break
        rows = {row.id: row for row in session.scalars(
            select(Submission).where(*selection.conditions, Submission.id.in_(
                {change.submission_id for change in changes}))).unique()}
        found += [(change, rows[change.submission_id]) for change in changes
                  if change.submission_id in rows]
        last = changes[-1]
    return found[:limit]


def entries(
    session: Session, selection: Selection, *, now: datetime, limit: int = LIMIT
) -> list[Entry]:
    """The newest `limit` events of the rows `selection` picks (public rows only)."""
    published = session.scalars(
        select(Submission)
        # A plain bound on decided_at, so the planner walks ix_submissions_state_decided
        # from its end (else SQLite reads every row past the stale filter's index, then sorts).
        .where(*selection.conditions, Submission.decided_at <= now)
        .order_by(Submission.decided_at.desc(), Submission.id.desc())
        .limit(limit)
    ).unique()
    changes = _badge_changes(session, selection, limit)
    found = [_published(row) for row in published]
    found += [_badge_changed(change, row) for change, row in changes]
    found.sort(key=lambda entry: (entry.at, entry.tag), reverse=True)
    return found[:limit]


def updated(found: list[Entry], fallback: datetime) -> datetime:
    """The feed's <updated>: its newest entry, else `fallback` (a fixed moment, so an empty
    feed keeps its ETag)."""
    return max((entry.at for entry in found), default=fallback)
