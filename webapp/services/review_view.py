"""A submission as a reviewer sees it: the row, its plausibility and spread checks, the
side-by-side comparison when it is a reproduction, its history and feedback, the states a
decision may be revised to, and public rows it may duplicate. Read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from webapp.models import AuditEvent, FeedbackNote, Submission
from webapp.services import (
    divergence,
    feedback_triage,
    matching,
    moderation,
    plausibility,
    review_compare,
)
from webapp.services.rules import State


@dataclass(frozen=True)
class Review:
    row: Submission
    plausibility: plausibility.Plausibility
    spreads: tuple[divergence.SpreadCheck, ...]
    comparison: review_compare.SideBySide | None
    history: tuple[AuditEvent, ...]
    feedback: tuple[FeedbackNote, ...]
    revision_targets: tuple[State, ...]

    @property
    def is_queued(self) -> bool:
        return self.row.state == State.QUEUED

    @property
    def spread_flagged(self) -> bool:
        return any(check.flagged for check in self.spreads)

    @property
    def can_mark_reproduced(self) -> bool:
        return self.comparison is not None and not self.comparison.problems


def review(session: Session, submission_id: int) -> Review | None:
    row = session.scalars(
        select(Submission)
        .where(Submission.id == submission_id)
        .options(selectinload(Submission.runs), selectinload(Submission.audit_events),
                 selectinload(Submission.feedback))
    ).unique().one_or_none()
    if row is None:
        return None
    return Review(
        row=row,
        plausibility=plausibility.of_row(row),
        spreads=divergence.spread_checks(row.ttft_spread, row.decode_spread),
        comparison=review_compare.side_by_side(session, row),
        history=tuple(row.audit_events),
        feedback=tuple(feedback_triage.sort_feedback(row.feedback)),
        revision_targets=moderation.revision_targets(row),
    )


def similar_public_rows(session: Session, row: Submission, *, limit: int = 5) -> list[Submission]:
    """Public rows with the same matching set: possible duplicates of a fresh submission."""
    return matching.public_rows(session, matching.key_of(row), limit=limit, exclude_id=row.id)
