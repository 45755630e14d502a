"""The audit log as the dashboard reads it: every state transition, newest first, paged
(past the last page: the last page, as the queue does)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from webapp.models import AuditEvent
from webapp.services.paging import Pagination, clamped, last_page


@dataclass(frozen=True)
class AuditPage:
    events: tuple[AuditEvent, ...]
    pagination: Pagination


def audit_log(session: Session, *, page: int = 1, per_page: int = 50) -> AuditPage:
    total = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    page = min(clamped(page), last_page(total, per_page))
    events = session.scalars(
        select(AuditEvent)
        .options(selectinload(AuditEvent.submission))
        .order_by(AuditEvent.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return AuditPage(tuple(events), Pagination(page=page, per_page=per_page, shown=len(events),
                                               has_next=page * per_page < total, total=total))
