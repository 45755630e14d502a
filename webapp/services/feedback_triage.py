"""Feedback triage: the reviewer's list of readers' feedback notes, and resolving one.

Resolving adds and flushes; the request commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from webapp import fields
from webapp.models import FeedbackNote, Reviewer
from webapp.services.paging import Pagination, clamped, last_page

RESOLUTION_MAX = 500  # FeedbackNote.resolution_note's width


class TriageError(ValueError):
    """A feedback resolution the rules refuse; the message is for the user."""


class AlreadyResolved(TriageError):
    """The note was resolved meanwhile (by another reviewer, or in another tab): 409."""


def resolve_feedback(
    session: Session, note: FeedbackNote, *, reviewer: Reviewer, now: datetime, resolution: str
) -> FeedbackNote:
    text = (resolution or "").strip()
    if note.status != "open":
        by = f" by {note.resolved_by.name}" if note.resolved_by is not None else ""
        raise AlreadyResolved(f"This feedback note was resolved already{by}; your "
                              "resolution was not saved.")
    if fields.has_control_characters(text):
        raise TriageError(fields.CONTROL_MESSAGE)
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
class NotesPage:
    notes: tuple[FeedbackNote, ...]
    pagination: Pagination


@dataclass(frozen=True)
class Triage:
    open: NotesPage  # oldest first: the longest waiting on top
    resolved: NotesPage  # the most recently resolved first


OPEN = FeedbackNote.status == "open"
RESOLVED = FeedbackNote.status != "open"


def feedback_triage(session: Session, *, open_page: int = 1, resolved_page: int = 1,
                    per_page: int = 50) -> Triage:
    """A page of the open notes and a page of the resolved ones, each clamped to its last
    page (as the queue is)."""

    def notes(condition, page: int, order) -> NotesPage:
        total = session.scalar(
            select(func.count()).select_from(FeedbackNote).where(condition)) or 0
        page = min(clamped(page), last_page(total, per_page))
        shown = tuple(session.scalars(
            select(FeedbackNote)
            .where(condition)
            .options(selectinload(FeedbackNote.submission),
                     selectinload(FeedbackNote.resolved_by))
            .order_by(*order)
            .offset((page - 1) * per_page)
            .limit(per_page)
        ))
        return NotesPage(shown, Pagination(page=page, per_page=per_page, shown=len(shown),
                                           has_next=page * per_page < total, total=total))

    return Triage(
        open=notes(OPEN, open_page, (FeedbackNote.created_at, FeedbackNote.id)),
        resolved=notes(RESOLVED, resolved_page,
                       (FeedbackNote.resolved_at.desc(), FeedbackNote.id.desc())),
    )


def open_feedback_count(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(FeedbackNote).where(OPEN)
    ) or 0


