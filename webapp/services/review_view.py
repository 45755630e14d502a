"""A submission as a reviewer sees it: the row, its plausibility and spread checks, the
side-by-side comparison when it is a reproduction, its history and feedback, the states a
decision may be revised to, and public rows it may duplicate. Read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from webapp.models import AuditEvent, FeedbackNote, Submission
from webapp.services import (
    divergence,
    matching,
    moderation,
    plausibility,
    review_compare,
)
from webapp.services.paging import Pagination, clamped, last_page
from webapp.services.rules import State


@dataclass(frozen=True)
class Review:
    row: Submission
    plausibility: plausibility.Plausibility
    spreads: tuple[divergence.SpreadCheck, ...]
    comparison: review_compare.SideBySide | None
    history: tuple[AuditEvent, ...]
    feedback: tuple[FeedbackNote, ...]  # one page of them: open first, oldest first
    revision_targets: tuple[State, ...]
    feedback_pagination: Pagination | None = None

    @property
    def is_queued(self) -> bool:
        return self.row.state == State.QUEUED

    @property
    def spread_flagged(self) -> bool:
        return any(check.flagged for check in self.spreads)

    @property
    def can_mark_reproduced(self) -> bool:
        return self.comparison is not None and not self.comparison.problems


FEEDBACK_PER_PAGE = 20


def review(session: Session, submission_id: int, *, feedback_page: int = 1) -> Review | None:
    """The submission as a reviewer sees it, with page `feedback_page` of its feedback
    notes (anyone may send notes, 20 an hour from each network: the page stays bounded;
    past the last page, the last)."""
    row = session.scalars(
        select(Submission)
        .where(Submission.id == submission_id)
        .options(selectinload(Submission.runs), selectinload(Submission.audit_events))
    ).unique().one_or_none()
    if row is None:
        return None
    notes, pagination = _feedback_page(session, row.id, feedback_page)
    return Review(
        row=row,
        plausibility=plausibility.of_row(row),
        spreads=divergence.spread_checks(row.ttft_spread, row.decode_spread),
        comparison=review_compare.side_by_side(session, row),
        history=tuple(row.audit_events),
        feedback=notes,
        revision_targets=moderation.revision_targets(row),
        feedback_pagination=pagination,
    )


def _feedback_page(session: Session, submission_id: int, page: int
                   ) -> tuple[tuple[FeedbackNote, ...], Pagination]:
    about = FeedbackNote.submission_id == submission_id
    total = session.scalar(select(func.count()).select_from(FeedbackNote).where(about)) or 0
    page = min(clamped(page), last_page(total, FEEDBACK_PER_PAGE))
    notes = tuple(session.scalars(
        select(FeedbackNote).where(about)
        .options(selectinload(FeedbackNote.resolved_by))
        .order_by(FeedbackNote.status != "open", FeedbackNote.created_at, FeedbackNote.id)
        .offset((page - 1) * FEEDBACK_PER_PAGE).limit(FEEDBACK_PER_PAGE)))
    return notes, Pagination(page=page, per_page=FEEDBACK_PER_PAGE, shown=len(notes),
                             has_next=page * FEEDBACK_PER_PAGE < total, total=total)


def similar_public_rows(session: Session, row: Submission, *, limit: int = 5) -> list[Submission]:
    """Public rows with the same matching set: possible duplicates of a fresh submission."""
    return matching.public_rows(session, matching.key_of(row), limit=limit, exclude_id=row.id)
