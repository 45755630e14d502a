"""Two people acting on one thing at the same moment: exactly one of them goes through and
the other is told why, on SQLite and on PostgreSQL (found by a black-box audit on
PostgreSQL, where a withdrawal, a feedback resolution and a link took no row lock and
both sides of a race succeeded).

Each pair is sent from two threads released together, several times over; a pair that
happens not to overlap must end the same way (the second sees the first), so the
assertions hold either way, and fail when both go through.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from tests.reviewers import PASSWORD, ReviewerClient, login
from tests.test_submit_support import csrf_of
from webapp.extensions import db
from webapp.models import AuditEvent, FeedbackNote, Submission, utcnow
from webapp.services import accounts, tokens
from webapp.services.rules import State

ROUNDS = 5


@pytest.fixture
def bob(app, reviewer):
    accounts.add_reviewer(db.session, "bob", PASSWORD)
    db.session.commit()
    client = app.test_client()
    assert login(client, "bob", PASSWORD).status_code == 303
    return ReviewerClient(client, None)


def together(*calls):
    """Run the calls from threads released at the same instant; their results in order."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [job.result(timeout=60) for job in [pool.submit(run, c) for c in calls]]


def trail_is_one_chain(row_id: int) -> bool:
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.submission_id == row_id)
                                .order_by(AuditEvent.id)).all()
    states = [(event.from_state, event.to_state) for event in events]
    return all(after[0] == before[1] for before, after in zip(states, states[1:]))


def test_a_withdrawal_and_an_approval_at_once_let_one_through(app, make_row, reviewer_client):
    for _ in range(ROUNDS):
        row = make_row(state=State.QUEUED)
        db.session.commit()
        submitter = app.test_client()
        path = f"/submissions/{tokens.status_token(row)}"
        withdraw_token = csrf_of(submitter.get(f"{path}/withdraw").text)
        reviewer_client.token()
        row_id = row.id  # read here: the threads have no app context to load it in
        approve, withdraw = together(
            lambda: reviewer_client.post(f"/review/submissions/{row_id}/approve"),
            lambda: submitter.post(f"{path}/withdraw", data={"csrf_token": withdraw_token}),
        )
        statuses = sorted((approve.status_code, withdraw.status_code))
        assert statuses in ([303, 409], [303, 422]), statuses
        db.session.rollback()  # a fresh snapshot: the threads committed after ours began
        state = db.session.get(Submission, row_id).state
        # the one told it went through is the one that did
        assert state == (State.APPROVED if approve.status_code == 303 else State.WITHDRAWN)
        assert trail_is_one_chain(row_id)


def test_two_reviewers_resolving_one_feedback_note_at_once(make_row, reviewer_client, bob):
    for number in range(ROUNDS):
        row = make_row()
        note = FeedbackNote(submission_id=row.id, kind="other", message=f"look {number}",
                            created_at=utcnow())
        db.session.add(note)
        db.session.commit()
        for client in (reviewer_client, bob):
            client.token()
        path = f"/review/feedback/{note.id}/resolve"
        first, second = together(
            lambda: reviewer_client.post(path, {"resolution": "alice did it"}),
            lambda: bob.post(path, {"resolution": "bob did it"}),
        )
        assert sorted((first.status_code, second.status_code)) == [303, 409]
        loser = second if first.status_code == 303 else first
        assert "resolved already" in loser.get_data(as_text=True)
        db.session.rollback()  # a fresh snapshot: the threads committed after ours began
        stored = db.session.get(FeedbackNote, note.id).resolution_note
        assert stored == ("alice did it" if first.status_code == 303 else "bob did it")


def test_linking_one_pair_from_both_ends_at_once(make_row, reviewer_client, bob):
    for _ in range(ROUNDS):
        one, two = make_row(handle=None), make_row(handle=None)
        db.session.commit()
        assert one.operator_key != two.operator_key
        for client in (reviewer_client, bob):
            client.token()
        ids = (one.id, two.id)
        first, second = together(
            lambda: reviewer_client.post(f"/review/submissions/{ids[0]}/link",
                                         {"other": str(ids[1])}),
            lambda: bob.post(f"/review/submissions/{ids[1]}/link", {"other": str(ids[0])}),
        )
        assert sorted((first.status_code, second.status_code)) == [303, 422]
        loser = second if first.status_code == 303 else first
        assert "already count as one operator" in loser.get_data(as_text=True)
        db.session.rollback()  # a fresh snapshot: the threads committed after ours began
        links = db.session.scalar(
            select(db.func.count()).select_from(AuditEvent)
            .where(AuditEvent.submission_id.in_(ids),
                   AuditEvent.reason.like("Linked as one operator%")))
        assert links == 1



def test_a_link_and_a_reproduction_marked_at_once_leave_the_stored_badge_true(
        make_row, reviewer_client, bob):
    """la and lb reproduced a hub (two operators); alice links la with lb while bob marks
    lc's reproduction reproduced. Either order ends with two operators, la = lb and lc,
    and the index the catalog filters on must say so: the link refreshed the hub from a
    snapshot that missed lc's decision and wrote over it (PostgreSQL)."""
    from webapp.services import evidence
    from webapp.services.rules import Badge, Kind

    for _ in range(ROUNDS):
        hub = make_row(handle="hub-owner")
        la, lb = (make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle=h)
                  for h in ("la", "lb"))
        lc = make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub, handle="lc")
        evidence.refresh_derived(db.session, hub)
        db.session.commit()
        for client in (reviewer_client, bob):
            client.token()
        ids = (hub.id, la.id, lb.id, lc.id)
        link, mark = together(
            lambda: reviewer_client.post(f"/review/submissions/{ids[1]}/link",
                                         {"other": str(ids[2]), "reason": "same"}),
            lambda: bob.post(f"/review/submissions/{ids[3]}/reproduced"),
        )
        assert (link.status_code, mark.status_code) == (303, 303)
        db.session.rollback()  # a fresh snapshot: the threads committed after ours began
        stored = db.session.get(Submission, ids[0])
        assert (stored.derived_badge, stored.derived_repro_count) == (
            Badge.INDEPENDENT.value, 2)
