"""The audit log is append-only: the ORM refuses changes, and so does the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DatabaseError

from webapp.extensions import db
from webapp.models import AuditEvent, AuditEventImmutable
from webapp.services import moderation
from webapp.services.rules import State

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def event(make_row, session):
    row = make_row(state=State.QUEUED)
    recorded = moderation.reject(session, row, actor="reviewer:alice", now=NOW,
                                 reason="Out of scope")
    session.commit()
    return recorded


def _unchanged(event_id: int) -> AuditEvent:
    db.session.rollback()
    db.session.expire_all()
    stored = db.session.get(AuditEvent, event_id)
    assert stored is not None
    assert (stored.reason, stored.to_state, stored.actor) == (
        "Out of scope", "rejected", "reviewer:alice")
    return stored


def test_the_orm_refuses_to_update_an_event(session, event):
    event_id = event.id
    event.reason = "Looked fine after all"
    with pytest.raises(AuditEventImmutable):
        session.flush()
    _unchanged(event_id)


def test_the_orm_refuses_to_delete_an_event(session, event):
    event_id = event.id
    session.delete(event)
    with pytest.raises(AuditEventImmutable):
        session.flush()
    _unchanged(event_id)


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET reason = 'rewritten' WHERE id = :id",
    "UPDATE audit_events SET to_state = 'approved-public' WHERE id = :id",
    "DELETE FROM audit_events WHERE id = :id",
])
def test_the_database_refuses_raw_updates_and_deletes(session, event, statement):
    event_id = event.id
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text(statement), {"id": event_id})
    _unchanged(event_id)


def test_bulk_core_statements_are_refused_too(session, event):
    event_id = event.id
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(update(AuditEvent.__table__).values(reason="x"))
    session.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(delete(AuditEvent.__table__))
    _unchanged(event_id)


def test_new_events_can_still_be_added(session, event):
    row = event.submission
    moderation.revise(session, row, State.APPROVED, actor="reviewer:alice", now=NOW,
                      reason="Scope clarified")
    session.commit()
    assert [e.to_state for e in row.audit_events] == ["rejected", "approved-public"]


def test_the_history_lists_every_event_with_actor_states_reason_and_utc_time(
        reviewer_client, make_row, session):
    row = make_row(state=State.QUEUED)
    session.commit()
    reviewer_client.post(f"/review/submissions/{row.id}/reject", {"reason": "Duplicate"})
    reviewer_client.post(f"/review/submissions/{row.id}/revise",
                         {"to_state": "approved-public", "reason": "Not a duplicate: other quant"})
    page = reviewer_client.get(f"/review/submissions/{row.id}").get_data(as_text=True)
    history = page[page.index('id="history"'):]
    assert history.count("Reviewer alice") == 2
    assert "<td>Queued</td>" in history and "<td>Rejected</td>" in history
    assert "<td>Approved (public)</td>" in history
    assert "Not a duplicate: other quant" in history
    assert " UTC</time>" in history and "+00:00" in history
    log = reviewer_client.get("/review/audit").get_data(as_text=True)
    assert log.index("Not a duplicate") < log.index("<td>Duplicate</td>")  # newest first
