"""Anonymous feedback against a public row."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.test_submit_support import assert_values_kept, field_error
from webapp.models import FeedbackNote
from webapp.services.rules import FEEDBACK_KINDS, Kind, State


@pytest.fixture
def row(make_row, session):
    hub = make_row()
    session.commit()
    return hub


def notes(session) -> list[FeedbackNote]:
    return session.scalars(select(FeedbackNote)).all()


def test_form_lists_every_kind_and_no_identity_fields(client, row):
    response = client.get(f"/submit/feedback?benchmark={row.id}")
    assert response.status_code == 200
    for value, label in FEEDBACK_KINDS.items():
        assert f'value="{value}"' in response.text and label in response.text
    assert 'name="email"' not in response.text and 'name="name"' not in response.text
    assert f'href="/benchmarks/{row.id}"' in response.text


def test_feedback_is_stored_with_an_ip_hash_and_redirects(client, session, row, no_csrf):
    response = client.post(f"/submit/feedback?benchmark={row.id}",
                           data={"kind": "stale", "message": "  Runtime is two years old.  "})
    assert response.status_code == 303
    assert client.get(response.headers["Location"]).status_code == 200
    (note,) = notes(session)
    assert (note.submission_id, note.kind, note.message, note.status) == (
        row.id, "stale", "Runtime is two years old.", "open")
    assert len(note.ip_hash) == 64


def test_feedback_on_a_reproduced_reproduction_links_to_its_hub(client, session, row,
                                                                make_row):
    repro = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=row)
    session.commit()
    response = client.get(f"/submit/feedback?benchmark={repro.id}")
    assert response.status_code == 200 and f'href="/benchmarks/{row.id}"' in response.text


@pytest.mark.parametrize("state", [State.QUEUED, State.REJECTED, State.WITHDRAWN])
def test_feedback_on_non_public_rows_is_404(client, make_row, session, no_csrf, state):
    hidden = make_row(state=state)
    session.commit()
    assert client.get(f"/submit/feedback?benchmark={hidden.id}").status_code == 404
    assert client.post(f"/submit/feedback?benchmark={hidden.id}",
                       data={"kind": "stale", "message": "x"}).status_code == 404
    assert notes(session) == []


@pytest.mark.parametrize("arg", ["abc", "-1", "1e3", "99999999999999999999", "999999"])
def test_bad_benchmark_arguments_are_404(client, arg):
    assert client.get(f"/submit/feedback?benchmark={arg}").status_code == 404


def test_missing_benchmark_argument_explains(client):
    response = client.get("/submit/feedback")
    assert response.status_code == 400 and "Send feedback" in response.text


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"kind": "", "message": "hello"}, "kind", "Choose"),
    ({"kind": "praise", "message": "hello"}, "kind", "Choose"),
    ({"kind": "stale", "message": "   "}, "message", "Write"),
    ({"kind": "stale", "message": "x" * 2001}, "message", "at most 2000"),
    ({"kind": "other", "message": "bad \x00 byte"}, "message", "control"),
])
def test_feedback_validation(client, session, row, no_csrf, form, field, message):
    response = client.post(f"/submit/feedback?benchmark={row.id}", data=form)
    assert response.status_code == 422
    assert message in field_error(response.text, field)
    if "\x00" not in form["message"] and form["kind"] in FEEDBACK_KINDS:
        assert_values_kept(response.text, form)
    assert notes(session) == []


def test_feedback_honeypot_csrf_and_rate_limit(app, client, session, row):
    data = {"kind": "stale", "message": "hello"}
    assert client.post(f"/submit/feedback?benchmark={row.id}", data=data).status_code == 400
    app.config["WTF_CSRF_ENABLED"] = False
    bot = client.post(f"/submit/feedback?benchmark={row.id}", data=dict(data, website="x"))
    assert bot.status_code == 200 and notes(session) == []
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "feedback": (2, 3600)}
    for _ in range(2):
        assert client.post(f"/submit/feedback?benchmark={row.id}", data=data).status_code == 303
    over = client.post(f"/submit/feedback?benchmark={row.id}",
                       data={"kind": "other", "message": "third"})
    assert over.status_code == 429 and "2 per hour" in over.text
    assert_values_kept(over.text, {"kind": "other", "message": "third"})
    assert session.scalar(select(func.count()).select_from(FeedbackNote)) == 2
