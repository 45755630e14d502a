"""The private status link: signed, unguessable, private, and the only way to withdraw."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from tests.test_submit_support import csrf_of, fresh_form
from webapp.models import AuditEvent, Submission
from webapp.services import tokens
from webapp.services.moderation import transition
from webapp.services.rules import State


@pytest.fixture
def submitted(app, client, session):
    """A queued fresh submission and its status path (CSRF off for the submit only)."""
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/submit/benchmark", data=fresh_form())
    app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 303
    path = response.headers["Location"].split("?")[0].removeprefix("http://localhost")
    return session.scalars(select(Submission)).one(), path


def withdraw(client, path):
    token = csrf_of(client.get(path).text)
    return client.post(f"{path}/withdraw", data={"csrf_token": token})


def test_status_page_is_private(client, submitted):
    row, path = submitted
    response = client.get(path + "?new=1")
    assert response.status_code == 200
    # Issue 10, items 8 and 16: "no-referrer" broke Withdraw over HTTPS; "strict-origin"
    # sends the site's origin alone, never the path that holds the token. A page with
    # a CSRF token is private as well as unstored.
    assert response.headers["Referrer-Policy"] == "strict-origin"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in response.text
    assert "Keep this link" in response.text and "http://localhost" + path in response.text
    assert "Queued" in response.text and "Withdraw" in response.text
    assert "Keep this link" not in client.get(path).text


def test_tampered_status_tokens_are_404(app, client, submitted):
    row, path = submitted
    token = path.rsplit("/", 1)[1]
    head, _, signature = token.rpartition(".")
    other_nonce = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=tokens.STATUS_SALT)
    bad = [
        "nope",
        f"{head}.{signature[:-2]}xx",
        token[:-1],
        # right id, right key, guessed nonce
        other_nonce.dumps({"id": row.id, "nonce": "A" * 32}),
        # a lock token is not a status link
        URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=tokens.LOCK_SALT).dumps(
            {"id": row.id, "nonce": row.status_nonce}),
        # no such submission
        other_nonce.dumps({"id": 999999, "nonce": row.status_nonce}),
        "x" * 5000,
    ]
    for value in bad:
        assert client.get(f"/submissions/{value}").status_code == 404, value
    token_csrf = csrf_of(client.get(path).text)
    assert client.post(f"/submissions/{bad[1]}/withdraw",
                       data={"csrf_token": token_csrf}).status_code == 404


def test_withdraw_while_queued(client, session, submitted):
    row, path = submitted
    response = withdraw(client, path)
    assert response.status_code == 303
    assert response.headers["Referrer-Policy"] == "strict-origin"  # issue 10, item 8
    session.expire_all()
    assert session.get(Submission, row.id).state == State.WITHDRAWN
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.actor, e.to_state) for e in events] == [("submitter", "queued"),
                                                       ("submitter", "withdrawn")]
    page = client.get(path)
    assert "Withdrawn" in page.text and "Withdraw this submission" not in page.text
    # a second withdraw is refused, calmly
    again = client.post(f"{path}/withdraw", data={"csrf_token": csrf_of(page.text)})
    assert again.status_code == 409


@pytest.mark.parametrize("decision", [State.APPROVED, State.REJECTED])
def test_withdraw_only_while_queued(client, session, submitted, decision):
    row, path = submitted
    token = csrf_of(client.get(path).text)
    transition(session, row, decision, actor="reviewer:ann", now=row.created_at,
               reason="Duplicate" if decision == State.REJECTED else "")
    session.commit()
    page = client.get(path)
    assert decision.label in page.text
    if decision == State.REJECTED:
        assert "Duplicate" in page.text
    assert "Withdraw this submission" not in page.text
    response = client.post(f"{path}/withdraw", data={"csrf_token": token})
    assert response.status_code == 409
    session.expire_all()
    assert session.get(Submission, row.id).state == decision


def test_withdraw_needs_csrf(client, session, submitted):
    row, path = submitted
    assert client.post(f"{path}/withdraw").status_code == 400
    session.expire_all()
    assert session.get(Submission, row.id).state == State.QUEUED
