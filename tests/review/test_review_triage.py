"""Feedback triage and editorial rows."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import FeedbackNote, Submission
from webapp.services import evidence
from webapp.services.rules import Kind, State


def _note(row, message, status="open", **columns):
    note = FeedbackNote(submission_id=row.id, kind="numbers-look-wrong", message=message,
                        status=status, **columns)
    db.session.add(note)
    db.session.commit()
    return note


def test_feedback_is_listed_open_first_and_beside_its_row(reviewer_client, make_row, session,
                                                          reviewer):
    row = make_row()
    session.commit()
    done = _note(row, "Already handled", status="resolved", resolution_note="Fixed",
                 resolved_by_id=reviewer.id)
    waiting = _note(row, "Decode looks too fast")
    page = reviewer_client.get("/review/feedback").get_data(as_text=True)
    assert page.index("Decode looks too fast") < page.index("Already handled")
    assert "Resolved by alice" in page and "1 open" in page
    detail = reviewer_client.get(f"/review/submissions/{row.id}").get_data(as_text=True)
    section = detail[detail.index('id="feedback"'):detail.index('id="history"')]
    assert "Decode looks too fast" in section and "The numbers look wrong" in section
    assert f'action="/review/feedback/{waiting.id}/resolve"' in section
    assert f'action="/review/feedback/{done.id}/resolve"' not in section


def test_resolving_needs_a_note_and_records_who_and_when(reviewer_client, make_row, session):
    row = make_row()
    session.commit()
    note = _note(row, "Stale driver")
    response = reviewer_client.post(f"/review/feedback/{note.id}/resolve", {"resolution": " "})
    assert response.status_code == 422
    assert "needs a note" in response.get_data(as_text=True)
    assert db.session.get(FeedbackNote, note.id).status == "open"

    response = reviewer_client.post(f"/review/feedback/{note.id}/resolve",
                                    {"resolution": "Asked the operator", "return_to": "submission"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/review/submissions/{row.id}#feedback")
    db.session.expire_all()
    stored = db.session.get(FeedbackNote, note.id)
    assert stored.status == "resolved" and stored.resolution_note == "Asked the operator"
    assert stored.resolved_by.name == "alice" and stored.resolved_at is not None
    # A second resolution (another reviewer's, or a stale tab's) is told, beside the note
    # now in the resolved list, who resolved it, and gets back what it wrote.
    again = reviewer_client.post(f"/review/feedback/{note.id}/resolve?resolved_page=3",
                                 {"resolution": "Mailed them too"})
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert "was resolved already by alice; your resolution was not saved" in page
    assert "What you wrote: “Mailed them too”" in page
    for return_to in ("submission", "feedback"):
        again = reviewer_client.post(f"/review/feedback/{note.id}/resolve",
                                     {"resolution": "Mailed them too", "return_to": return_to})
        assert again.status_code == 409
        assert "Mailed them too" in again.get_data(as_text=True)
    assert db.session.get(FeedbackNote, note.id).resolution_note == "Asked the operator"
    assert reviewer_client.post("/review/feedback/999/resolve",
                                {"resolution": "x"}).status_code == 404


EDITORIAL = {
    "model": "llama-3.1-8b-instruct", "hardware": "rtx-4090", "hardware_count": "1",
    "quant": "gguf-q4_k_m", "runtime": "llama-cpp", "runtime_version": "b4600",
    "driver_version": "NVIDIA 565.57 / CUDA 12.7", "os_label": "Ubuntu 24.04",
    "prompt_tokens": "512", "max_tokens": "256", "quant_provider": "bartowski",
    "runs-0-ttft_ms": "240", "runs-0-tokens_generated": "256", "runs-0-decode_tps": "120",
    "runs-1-ttft_ms": "250", "runs-1-tokens_generated": "256", "runs-1-decode_tps": "121",
    "runs-2-ttft_ms": "245", "runs-2-tokens_generated": "256", "runs-2-decode_tps": "119",
    "vram_peak_mib": "6100", "measured_on": "2025-01-15",
}


def _editorial_rows():
    db.session.expire_all()
    return db.session.scalars(select(Submission).where(Submission.kind == Kind.EDITORIAL)).all()


def test_publish_an_editorial_row(reviewer_client, client):
    page = reviewer_client.get("/review/editorial").get_data(as_text=True)
    assert 'value="rtx-4090"' in page and "GeForce RTX 4090" in page
    response = reviewer_client.post("/review/editorial", EDITORIAL)
    assert response.status_code == 303, response.get_data(as_text=True)
    [row] = _editorial_rows()
    assert row.state == State.APPROVED and row.decode_tps == 120 and row.run_count == 3
    assert row.measured_at.date().isoformat() == "2025-01-15"
    assert row.audit_events[0].actor == "reviewer:alice"
    assert row.audit_events[0].to_state == "approved-public"
    public = client.get(f"/benchmarks/{row.id}").get_data(as_text=True)
    assert "badge-editorial" in public


def test_editorial_validation_keeps_what_was_typed(reviewer_client):
    form = {**EDITORIAL, "runs-2-decode_tps": "fast", "vram_peak_mib": "",
            "measured_on": "2999-01-01"}
    response = reviewer_client.post("/review/editorial", form)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'value="fast"' in body and 'value="b4600"' in body
    assert 'id="runs-2-decode_tps-error"' in body
    assert 'id="vram_peak_mib-error"' in body
    assert "cannot be in the future" in body
    # a summary that counts them and links each field, in the form's order
    assert "<title>Error: Publish an editorial row" in body
    assert "3 things to fix" in body
    summary = body[body.index('id="error-summary"'):body.index("</ul>")]
    assert summary.index("#measured_on") < summary.index("#runs-2-decode_tps") < summary.index(
        "#vram_peak_mib")
    assert _editorial_rows() == []


def test_editorial_needs_three_runs_and_a_note_for_a_wide_spread(reviewer_client):
    two = {k: v for k, v in EDITORIAL.items() if not k.startswith("runs-2")}
    response = reviewer_client.post("/review/editorial", two)
    assert response.status_code == 422 and "at least 3" in response.get_data(as_text=True)
    wide = {**EDITORIAL, "runs-2-decode_tps": "90"}
    response = reviewer_client.post("/review/editorial", wide)
    assert response.status_code == 422 and "needs a note" in response.get_data(as_text=True)
    response = reviewer_client.post("/review/editorial", {**wide, "notes": "Thermal throttling"})
    assert response.status_code == 303
    assert len(_editorial_rows()) == 1


def test_flagged_editorial_numbers_need_confirmation(reviewer_client):
    fast = {**EDITORIAL, "runs-0-decode_tps": "900", "runs-1-decode_tps": "905",
            "runs-2-decode_tps": "899"}
    response = reviewer_client.post("/review/editorial", fast)
    assert response.status_code == 422
    assert "bandwidth ceiling" in response.get_data(as_text=True)
    assert _editorial_rows() == []
    response = reviewer_client.post("/review/editorial", {**fast, "confirm_flags": "on"})
    assert response.status_code == 303
    assert len(_editorial_rows()) == 1


def test_an_editorial_row_is_credited_to_the_editors(reviewer_client, client, make_row,
                                                     session):
    """SPEC §4: an editorial row was measured by the editors, and every page that names
    who measured it says so, as its badge does; never "anonymous"."""
    assert reviewer_client.post("/review/editorial", EDITORIAL).status_code == 303
    [row] = _editorial_rows()
    reproduction = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=row,
                            handle="someone", runtime_version="b4600")
    evidence.refresh_derived(session, row)
    session.commit()

    public = client.get(f"/benchmarks/{row.id}").get_data(as_text=True)
    assert "Measured by the editors on" in public and "2025-01-15" in public
    assert "Editorial measurement" in public
    network = client.get("/resources/reproduction-network").get_data(as_text=True)
    assert f"benchmark #{row.id}</a>" in network and "measured by the editors." in network
    review = reviewer_client.get(f"/review/submissions/{row.id}").get_data(as_text=True)
    assert "<dt>Handle</dt><dd>the editors</dd>" in review
    assert "Measured by anonymous" not in public
    assert "measured by anonymous" not in network
    assert "<dd>anonymous</dd>" not in review
    # the reproduction by another operator is still named by its handle
    assert f'id="repro-{reproduction.id}"' in public and "someone" in public
