"""The audit log as the dashboard reads it: every state transition, newest first, paged."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from webapp.models import AuditEvent
from webapp.services.paging import Pagination


@dataclass(frozen=True)
class AuditPage:
    events: tuple[AuditEvent, ...]
    pagination: Pagination


def audit_log(session: Session, *, page: int = 1, per_page: int = 50) -> AuditPage:
    page = max(page, 1)
    events = session.scalars(
        select(AuditEvent)
        .options(selectinload(AuditEvent.submission))
        .order_by(AuditEvent.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    shown = events[:per_page]
    return AuditPage(tuple(shown), Pagination(page=page, per_page=per_page, shown=len(shown),
                                              has_next=len(events) > per_page))
