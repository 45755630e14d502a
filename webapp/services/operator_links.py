"""Operator linking: a reviewer counts several submissions as one operator's.

Re-keying changes whose evidence counts for a badge, so every re-keyed row gets an audit
event (its state unchanged) and every hub whose evidence changed is refreshed before the
request commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp import fields
from webapp.models import AuditEvent, Submission
from webapp.services import evidence, summaries, trust
from webapp.services.moderation import AUDIT_REASON_MAX, ROW_LOCK, TransitionError, one_line
from webapp.services.rules import State


def link_operators(
    session: Session,
    submissions: Sequence[Submission],
    *,
    actor: str,
    now: datetime,
    reason: str = "",
) -> str:
    """Count these submissions, and everything already linked to them, as one operator.

    The shared key is the oldest named (handle) key among them, else the oldest key. Every
    re-keyed submission gets an audit event (its state unchanged) and every hub whose
    evidence changed is refreshed. Returns the shared key.
    """
    rows = sorted({row.id: row for row in submissions}.values(), key=lambda r: r.id)
    if len(rows) < 2:
        raise TransitionError("Pick at least two submissions to link as one operator.")
    note = one_line(reason)
    if fields.has_control_characters(note):
        raise TransitionError(fields.CONTROL_MESSAGE)
    if fields.has_bidi_reordering(note):  # the audit log shows it as written
        raise TransitionError(fields.BIDI_REORDERING_MESSAGE)
    keys = {row.operator_key for row in rows}
    if len(keys) == 1:
        raise TransitionError("These submissions already count as one operator.")
    named = [row.operator_key for row in rows
             if not row.operator_key.startswith(trust.ANONYMOUS_PREFIX)]
    target = named[0] if named else rows[0].operator_key
    affected = session.scalars(
        select(Submission).where(Submission.operator_key.in_(keys - {target}))
    ).all()
    ids = ", ".join(f"#{row.id}" for row in rows)
    text = f"Linked as one operator with {ids}." + (f" {note}" if note else "")
    if len(text) > AUDIT_REASON_MAX:
        raise TransitionError(f"The reason must be at most {AUDIT_REASON_MAX} characters.")
    hubs: set[int] = set()
    for row in affected:
        row.operator_key = target
        session.add(AuditEvent(submission_id=row.id, actor=actor, from_state=row.state,
                               to_state=row.state, reason=text, created_at=now))
        if row.state == State.APPROVED or row.derived_badge is not None:
            hubs.add(row.id)
        if row.hub_id is not None:
            hubs.add(row.hub_id)
    session.flush()
    # Locked before they are read, in id order, as a decision locks the hub it refreshes
    # (moderation._refresh_affected): a reproduction of one of them marked meanwhile is
    # then either committed before this reads its evidence or waits for this to commit.
    # Unlocked, this computed from a snapshot that missed it and wrote those stale values
    # over the decision's once its lock was released (PostgreSQL).
    locked = (select(Submission).where(Submission.id.in_(hubs)).order_by(Submission.id)
              .with_for_update(**ROW_LOCK).execution_options(populate_existing=True))
    for hub in session.scalars(locked):
        evidence.refresh_derived(session, hub)
    summaries.refresh_operators(session, keys)  # the keys merged away list nothing now
    session.flush()
    return target
