"""Operator identity at the forms (SPEC §11): invisible characters never make a second
operator, bidi controls are refused, and handles that are (or look like) reserved keys
or reviewer names are refused beside the field."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.test_submit_support import (
    assert_values_kept,
    field_error,
    fresh_form,
    lock_token_of,
    repro_form,
)
from webapp.extensions import db
from webapp.models import Submission
from webapp.services import accounts
from webapp.services.rules import Kind, State


@pytest.fixture
def hub(make_row, session):
    row = make_row(handle="origin")
    session.commit()
    return row


@pytest.fixture
def reviewer(app):
    app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8, ARGON2_PARALLELISM=1)
    account = accounts.add_reviewer(db.session, "marta", "correct horse battery")
    db.session.commit()
    return account


def queued(session) -> list[Submission]:
    session.expire_all()
    return session.scalars(select(Submission).where(Submission.state == State.QUEUED)).all()


@pytest.mark.parametrize("invisible", ["\u200b", "\u200d", "\u00ad", "\ufeff", "\u2060",
                                       "\u2800", "\ue000", "\U000e0001"])
def test_an_invisible_character_does_not_make_another_operator(client, session, hub, no_csrf,
                                                                invisible):
    handle = "ori" + invisible + "gin"
    response = client.post(f"/benchmarks/{hub.id}/reproduce",
                           data=repro_form(lock_token_of(client, hub.id), handle=handle))
    assert response.status_code == 303
    [row] = queued(session)
    assert row.kind == Kind.REPRODUCTION
    assert row.operator_key == hub.operator_key == "origin"  # the original's own operator


@pytest.mark.parametrize("noncharacter", ["\U0010ffff", "\ufffe", "\ufdd0"])
def test_a_handle_with_a_noncharacter_is_refused_not_taken_for_another(
        client, session, hub, no_csrf, noncharacter):
    """Noncharacters (XML forbids U+FFFE and U+FFFF) are refused in every typed field,
    the handle too: it can neither pass for another operator nor be stored."""
    response = client.post(f"/benchmarks/{hub.id}/reproduce",
                           data=repro_form(lock_token_of(client, hub.id),
                                           handle="ori" + noncharacter + "gin"))
    assert response.status_code == 422
    assert "control characters" in field_error(response.text, "handle")
    assert queued(session) == []


def test_small_capitals_are_the_same_operator(client, session, hub, no_csrf):
    """'ᴏʀɪɢɪɴ' in Latin small capitals reads as ORIGIN set small: the original's own."""
    response = client.post(f"/benchmarks/{hub.id}/reproduce",
                           data=repro_form(lock_token_of(client, hub.id), handle="ᴏʀɪɢɪɴ"))
    assert response.status_code == 303
    [row] = queued(session)
    assert row.operator_key == hub.operator_key == "origin"


@pytest.mark.parametrize("blank", ["\u2800\u2800", "\ue000"])
def test_a_handle_of_characters_that_draw_nothing_is_refused(client, session, no_csrf, blank):
    response = client.post("/submit/benchmark", data=fresh_form(handle=blank))
    assert response.status_code == 422
    assert "visible" in field_error(response.text, "handle")
    assert queued(session) == []


@pytest.mark.parametrize("bidi", ["\u202e", "\u202d", "\u2066", "\u2067", "\u200f", "\u061c"])
def test_bidi_controls_are_refused_beside_the_handle(client, session, no_csrf, bidi):
    sent = fresh_form(handle=f"ali{bidi}ce")
    response = client.post("/submit/benchmark", data=sent)
    assert response.status_code == 422
    assert "direction" in field_error(response.text, "handle")
    assert queued(session) == []


@pytest.mark.parametrize("handle", ["Editorial", " @EDITORIAL ", "edit\u200borial",
                                    "\u0435ditorial", "marta", "Marta", "MAR\u200bTA",
                                    "editoriaI", "edi\u0307torial", "anon\u2236x"])
def test_reserved_handles_are_refused_on_both_forms(client, session, hub, reviewer, no_csrf,
                                                    handle):
    sent = fresh_form(handle=handle)
    response = client.post("/submit/benchmark", data=sent)
    assert response.status_code == 422
    assert "reserved" in field_error(response.text, "handle")
    assert_values_kept(response.text, sent)
    response = client.post(f"/benchmarks/{hub.id}/reproduce",
                           data=repro_form(lock_token_of(client, hub.id), handle=handle))
    assert response.status_code == 422
    assert "reserved" in field_error(response.text, "handle")
    assert queued(session) == []


def test_ordinary_handles_pass(client, session, reviewer, no_csrf):
    for handle in ("martha", "editorials", "anonymous", "Сергей"):
        assert client.post("/submit/benchmark",
                           data=fresh_form(handle=handle)).status_code == 303, handle
