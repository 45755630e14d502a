"""Feedback triage: the reviewer's list of readers' feedback notes, and resolving one.

Resolving adds and flushes; the request commits once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from webapp import fields
from webapp.models import FeedbackNote, Reviewer

RESOLUTION_MAX = 500  # FeedbackNote.resolution_note's width


class TriageError(ValueError):
    """A feedback resolution the rules refuse; the message is for the user."""


def resolve_feedback(
    session: Session, note: FeedbackNote, *, reviewer: Reviewer, now: datetime, resolution: str
) -> FeedbackNote:
    text = (resolution or "").strip()
    if note.status != "open":
        raise TriageError("This feedback note is resolved already.")
    if not fields.has_visible(text):
        raise TriageError("Resolving a feedback note needs a note saying what was done.")
    if fields.has_bidi_reordering(text):
        raise TriageError(fields.BIDI_REORDERING_MESSAGE)
    if len(text) > RESOLUTION_MAX:
        raise TriageError(f"The resolution note must be at most {RESOLUTION_MAX} characters.")
    note.status = "resolved"
    note.resolution_note = text
    note.resolved_by_id = reviewer.id
    note.resolved_at = now
    session.flush()
    return note


@dataclass(frozen=True)
class Triage:
    open: tuple[FeedbackNote, ...]  # oldest first: the longest waiting on top
    resolved: tuple[FeedbackNote, ...]  # the most recently resolved first


def feedback_triage(session: Session, *, resolved_limit: int = 50) -> Triage:
    def notes(*conditions, order, limit=None):
        statement = (
            select(FeedbackNote)
            .where(*conditions)
            .options(selectinload(FeedbackNote.submission),
                     selectinload(FeedbackNote.resolved_by))
            .order_by(*order)
            .limit(limit)
        )
        return tuple(session.scalars(statement))

    return Triage(
        open=notes(FeedbackNote.status == "open",
                   order=(FeedbackNote.created_at, FeedbackNote.id)),
        resolved=notes(FeedbackNote.status != "open",
                       order=(FeedbackNote.resolved_at.desc(), FeedbackNote.id.desc()),
                       limit=resolved_limit),
    )


def open_feedback_count(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(FeedbackNote).where(FeedbackNote.status == "open")
    ) or 0


def sort_feedback(notes: Iterable[FeedbackNote]) -> list[FeedbackNote]:
    return sorted(notes, key=lambda note: (note.status != "open", note.created_at))
