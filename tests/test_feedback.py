"""Anonymous feedback against a public row."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.test_submit_support import assert_values_kept, field_error, form_values
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


def test_without_a_benchmark_a_page_helps_find_the_row(client):
    """Issue 13: not a 400, a GET form that takes the row's address or number."""
    response = client.get("/submit/feedback")
    assert response.status_code == 200
    values = form_values(response.text)
    assert "find" in values and "csrf_token" not in values
    assert 'method="get" action="/submit/feedback"' in response.text
    assert 'href="/"' in response.text and "Browse the catalog" in response.text


@pytest.mark.parametrize("typed", ["{id}", " #{id} ", "/benchmarks/{id}",
                                   "https://trustbench.example/benchmarks/{id}",
                                   "http://localhost:5000/benchmarks/{id}/reproduce",
                                   "trustbench.example/benchmarks/{id}?page=2"])
def test_a_pasted_address_or_number_opens_that_rows_feedback_form(client, row, typed):
    response = client.get("/submit/feedback", query_string={"find": typed.format(id=row.id)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/submit/feedback?benchmark={row.id}")
    assert f"Feedback on benchmark #{row.id}" in client.get(response.headers["Location"]).text


@pytest.mark.parametrize(("typed", "status", "message"), [
    ("", 400, "neither a benchmark’s address nor its number"),
    ("the fast one", 400, "neither a benchmark’s address nor its number"),
    ("https://trustbench.example/hardware/rtx-4090", 400, "neither"),
    ("1" * 13, 400, "neither"),
    ("<b>12</b>", 400, "neither"),
    ("999999", 404, "There is no public benchmark #999999"),
    ("/benchmarks/0", 404, "There is no public benchmark #0"),
])
def test_a_bad_or_unknown_row_reshows_the_form_with_the_text_kept(client, row, typed, status,
                                                                    message):
    response = client.get("/submit/feedback", query_string={"find": typed})
    assert response.status_code == status
    assert message in response.text and 'id="e-find"' in response.text
    assert form_values(response.text)["find"] == typed
    assert "<b>" not in response.text.split('id="e-find"')[1]


def test_a_hidden_row_cannot_be_found(client, session, make_row):
    hidden = make_row(state=State.QUEUED)
    session.commit()
    response = client.get("/submit/feedback", query_string={"find": f"/benchmarks/{hidden.id}"})
    assert response.status_code == 404 and f"no public benchmark #{hidden.id}" in response.text


def test_posting_without_a_benchmark_is_still_refused(client, no_csrf):
    response = client.post("/submit/feedback", data={"kind": "stale", "message": "x"})
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
