"""Text a person must read has something visible in it: a rejection or revision reason, a
feedback message, a resolution note, an "Other" name, a note. Whitespace, zero-width and
other format characters alone count as nothing written, and text-direction overrides,
embeddings and isolates (which reorder what the reader sees) are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.reviewers import fast_hashing
from tests.test_submit_support import field_error, fresh_form
from webapp.extensions import db
from webapp.fields import has_bidi_reordering, has_visible
from webapp.models import AuditEvent, FeedbackNote, Submission
from webapp.services.rules import State

INVISIBLE = {
    "zero-width space": "\u200b",
    "right-to-left override": "\u202e",
    "isolates": "\u2066\u2069",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "word joiner and spaces": " \u2060 \u3000 ",
    "Hangul filler": "\u3164",
    "blank Braille": "\u2800",
    "combining mark alone": "\u0301",
    "variation selector": "\ufe0f",
}
BIDI = {"override": "\u202e", "embedding": "\u202b", "isolate": "\u2067",
        "pop": "\u202c"}


@pytest.fixture(autouse=True)
def _fast_hashing(app):
    fast_hashing(app)


def fresh(row) -> Submission:
    db.session.expire_all()
    return db.session.get(Submission, row.id)


def audit_count(row) -> int:
    return len(db.session.scalars(
        select(AuditEvent).where(AuditEvent.submission_id == row.id)).all())


@pytest.mark.parametrize("text", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_invisible_text_has_nothing_visible(text):
    assert not has_visible(text)
    assert has_visible(f"ok{text}")


def test_only_reordering_controls_count_as_bidi_reordering():
    assert all(has_bidi_reordering(f"a{ch}b") for ch in BIDI.values())
    # the marks place neutral characters in right-to-left writing; free text keeps them
    assert not has_bidi_reordering("\u05e9\u05dc\u05d5\u05dd\u200f (v2)\u200e")


# --- the reviewer's reasons ------------------------------------------------------------


# A written reason with nothing visible reads as none; one with a reordering control shows
# the submitter another text than the reviewer's.
REFUSED_REASONS = {
    **{f"invisible {name}": (text, "A rejection needs a one-line reason.")
       for name, text in INVISIBLE.items()},
    **{f"bidi {name}": (f"see {bidi}exe.jpg", "text-direction control characters")
       for name, bidi in BIDI.items()},
}


@pytest.mark.parametrize(("text", "message"), REFUSED_REASONS.values(),
                         ids=REFUSED_REASONS.keys())
def test_an_unreadable_written_rejection_reason_is_refused(reviewer_client, make_row, session,
                                                           text, message):
    row = make_row(state=State.QUEUED)
    session.commit()
    response = reviewer_client.post(f"/review/submissions/{row.id}/reject",
                                    {"reason": "written", "reason_text": text})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert fresh(row).state == State.QUEUED and audit_count(row) == 0


def test_a_listed_reason_is_not_followed_by_an_invisible_one(reviewer_client, make_row,
                                                             session):
    row = make_row(state=State.QUEUED)
    session.commit()
    response = reviewer_client.post(f"/review/submissions/{row.id}/reject",
                                    {"reason": "Duplicate", "reason_text": "\u200b"})
    assert response.status_code == 303
    assert fresh(row).rejection_reason == "Duplicate"


@pytest.mark.parametrize(("to_state", "reason", "message"), [
    ("rejected", "\u202e", "needs a reason"),
    ("rejected", "\u200b\u200b", "needs a reason"),
    ("queued", "\u00ad", "needs a reason"),
    ("rejected", "out of scope \u2066x\u2069", "text-direction control characters"),
])
def test_an_invisible_or_reordered_revision_reason_is_refused(reviewer_client, make_row,
                                                              session, to_state, reason,
                                                              message):
    row = make_row()  # approved
    session.commit()
    before = audit_count(row)
    response = reviewer_client.post(f"/review/submissions/{row.id}/revise",
                                    {"to_state": to_state, "reason": reason})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert fresh(row).state == State.APPROVED and audit_count(row) == before


def test_a_reason_in_right_to_left_script_with_marks_is_kept(reviewer_client, make_row,
                                                             session):
    row = make_row(state=State.QUEUED)
    session.commit()
    reason = "\u05db\u05e4\u05d5\u05dc \u200f(#1)"
    response = reviewer_client.post(f"/review/submissions/{row.id}/reject",
                                    {"reason": "written", "reason_text": reason})
    assert response.status_code == 303
    assert fresh(row).rejection_reason == reason


def test_an_invisible_resolution_note_is_refused(reviewer_client, make_row, session):
    row = make_row()
    session.commit()
    note = FeedbackNote(submission_id=row.id, kind="other", message="Stale driver")
    db.session.add(note)
    db.session.commit()
    response = reviewer_client.post(f"/review/feedback/{note.id}/resolve",
                                    {"resolution": "\u200b\u202e"})
    assert response.status_code == 422
    assert "needs a note" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(FeedbackNote, note.id).status == "open"


# --- the public forms -------------------------------------------------------------------


@pytest.fixture
def public_row(make_row, session):
    row = make_row()
    session.commit()
    return row


@pytest.mark.parametrize("text", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_an_invisible_feedback_message_is_refused(client, session, public_row, no_csrf, text):
    response = client.post(f"/submit/feedback?benchmark={public_row.id}",
                           data={"kind": "other", "message": text})
    assert response.status_code == 422
    assert "Write a short message" in field_error(response.text, "message")
    assert session.scalars(select(FeedbackNote)).all() == []


def test_a_feedback_message_with_an_override_is_refused(client, session, public_row, no_csrf):
    response = client.post(f"/submit/feedback?benchmark={public_row.id}",
                           data={"kind": "other", "message": "look at \u202egpj.exe"})
    assert response.status_code == 422
    assert "text-direction" in field_error(response.text, "message")
    assert session.scalars(select(FeedbackNote)).all() == []


@pytest.mark.parametrize(("name", "value", "message"), [
    ("other_model", "\u200b", "name the model"),
    ("notes", "\u200b\u200d", "invisible"),
    ("runtime_version", "\ufeff", "invisible"),
    ("driver_version", "560 \u202e", "text-direction"),
    ("notes", "fine \u2067so far", "text-direction"),
])
def test_invisible_or_reordered_text_in_the_benchmark_form_is_refused(
        client, session, no_csrf, name, value, message):
    form = fresh_form(**{name: value})
    if name == "other_model":
        form["model"] = "other"
    response = client.post("/submit/benchmark", data=form)
    assert response.status_code == 422
    assert message in field_error(response.text, name)
    assert session.scalars(select(Submission)).all() == []
