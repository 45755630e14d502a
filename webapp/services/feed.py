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

from sqlalchemy import select
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


def entries(session: Session, selection: Selection, *, limit: int = LIMIT) -> list[Entry]:
    """The newest `limit` events of the rows `selection` picks (public rows only)."""
    published = session.scalars(
        select(Submission)
        .where(*selection.conditions, Submission.decided_at.is_not(None))
        .order_by(Submission.decided_at.desc(), Submission.id.desc())
        .limit(limit)
    ).unique()
    changes = session.execute(
        select(BadgeChange, Submission)
        .join(Submission, Submission.id == BadgeChange.submission_id)
        .where(*selection.conditions)
        .order_by(BadgeChange.changed_at.desc(), BadgeChange.id.desc())
        .limit(limit)
    ).unique()
    found = [_published(row) for row in published]
    found += [_badge_changed(change, row) for change, row in changes]
    found.sort(key=lambda entry: (entry.at, entry.tag), reverse=True)
    return found[:limit]


def updated(found: list[Entry], fallback: datetime) -> datetime:
    """The feed's <updated>: its newest entry, else `fallback` (a fixed moment, so an empty
    feed keeps its ETag)."""
    return max((entry.at for entry in found), default=fallback)
