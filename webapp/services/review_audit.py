"""The audit log as the dashboard reads it: every state transition, newest first, paged."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from webapp.models import AuditEvent


@dataclass(frozen=True)
class AuditPage:
    events: tuple[AuditEvent, ...]
    page: int
    has_next: bool


def audit_log(session: Session, *, page: int = 1, per_page: int = 50) -> AuditPage:
    page = max(page, 1)
    events = session.scalars(
        select(AuditEvent)
        .options(selectinload(AuditEvent.submission))
        .order_by(AuditEvent.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    return AuditPage(tuple(events[:per_page]), page, len(events) > per_page)
