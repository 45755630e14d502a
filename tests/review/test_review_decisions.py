"""Decisions through the dashboard: plain POSTs, htmx swaps, refusals, and badges that
move on the public page at the next render."""

from __future__ import annotations

import re

import html5lib
import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AuditEvent, Submission
from webapp.services.rules import REJECTION_REASONS, Kind, State

CLOSE_RUNS = ((251.0, 512, 99.0), (250.0, 512, 100.0), (249.0, 512, 101.0))
MARKERS = re.compile(r'<p class="markers">(.*?)</p>', re.S)


def audit_count(row) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.submission_id == row.id))


def fresh(row) -> Submission:
    db.session.expire_all()
    return db.session.get(Submission, row.id)


def public_badge(client, hub) -> str:
    response = client.get(f"/benchmarks/{hub.id}")
    assert response.status_code == 200
    markers = MARKERS.search(response.get_data(as_text=True)).group(1)
    return re.search(r'class="badge badge-([a-z-]+)"', markers).group(1)


@pytest.fixture
def hub(make_row, session):
    row = make_row(handle="origin")
    session.commit()
    return row


@pytest.fixture
def repro_of(make_row, hub, session):
    def build(**columns):
        columns.setdefault("runs", CLOSE_RUNS)
        row = make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub, **columns)
        session.commit()
        return row
    return build


def test_approve_with_a_plain_post_redirects_and_records_the_event(reviewer_client, make_row,
                                                                   session):
    row = make_row(state=State.QUEUED)
    session.commit()
    response = reviewer_client.post(f"/review/submissions/{row.id}/approve",
                                    {"return_to": "queue"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/review/")
    assert fresh(row).state == State.APPROVED
    [event] = fresh(row).audit_events
    assert (event.actor, event.from_state, event.to_state) == (
        "reviewer:alice", "queued", "approved-public")
    page = reviewer_client.get("/review/").get_data(as_text=True)
    assert f"#{row.id} approved: it is now public." in page


def test_an_htmx_decision_swaps_the_row_for_a_confirmation(reviewer_client, hub, repro_of):
    repro = repro_of()
    other = repro_of()
    response = reviewer_client.htmx_post(f"/review/submissions/{repro.id}/reproduced",
                                         {"return_to": "queue"})
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    body = response.get_data(as_text=True)
    assert body.strip().startswith(f'<tr id="queue-row-{repro.id}" class="queue-row decided">')
    assert f"marked reproduced: it now counts as evidence for #{hub.id}" in body
    assert 'id="queue-counts"' in body and 'hx-swap-oob="true"' in body
    assert "1 queued" in body  # `other` still waits
    assert "<html" not in body
    assert fresh(repro).state == State.REPRODUCED and fresh(other).state == State.QUEUED


def test_the_queue_page_includes_the_row_partial_with_htmx_attributes(reviewer_client, repro_of):
    repro = repro_of()
    page = reviewer_client.get("/review/").get_data(as_text=True)
    assert f'id="queue-row-{repro.id}"' in page
    assert f'hx-post="/review/submissions/{repro.id}/reproduced"' in page
    assert 'hx-target="closest tr"' in page and 'hx-swap="outerHTML"' in page
    assert f'action="/review/submissions/{repro.id}/reproduced"' in page  # works without JS


def test_reject_without_a_reason_is_refused_and_nothing_changes(reviewer_client, make_row,
                                                                session):
    row = make_row(state=State.QUEUED)
    session.commit()
    response = reviewer_client.post(f"/review/submissions/{row.id}/reject",
                                    {"return_to": "submission", "reason": ""})
    assert response.status_code == 422
    assert "A rejection needs a one-line reason." in response.get_data(as_text=True)
    # beside the reason's fieldset too, which points at it (it was at the top alone)
    page = response.get_data(as_text=True)
    fieldset = page[page.index('class="reject-form"'):]
    fieldset = fieldset[:fieldset.index("</fieldset>")]
    assert f'aria-describedby="reject-error-{row.id}"' in fieldset
    assert f'id="reject-error-{row.id}">A rejection needs a one-line reason.' in fieldset
    assert fresh(row).state == State.QUEUED and audit_count(row) == 0

    htmx = reviewer_client.htmx_post(f"/review/submissions/{row.id}/reject",
                                     {"return_to": "queue", "reason_text": "x" * 161})
    assert htmx.status_code == 422
    body = htmx.get_data(as_text=True)
    assert body.strip().startswith(f'<tr id="queue-row-{row.id}" class="queue-row">')
    assert "at most 160 characters" in body
    assert 'value="' + "x" * 161 + '"' in body  # what was typed is kept
    assert fresh(row).state == State.QUEUED and audit_count(row) == 0


@pytest.mark.parametrize("form, stored", [
    ({"reason": REJECTION_REASONS[3]}, "Duplicate"),
    ({"reason": REJECTION_REASONS[3], "reason_text": "of #1"}, "Duplicate: of #1"),
    ({"reason": "written", "reason_text": "Benchmarks a cloud API"}, "Benchmarks a cloud API"),
    ({"reason_text": "Runs were from two machines"}, "Runs were from two machines"),
])
def test_reject_with_a_listed_or_written_reason(reviewer_client, make_row, session, form, stored):
    row = make_row(state=State.QUEUED)
    session.commit()
    response = reviewer_client.post(f"/review/submissions/{row.id}/reject", form)
    assert response.status_code == 303
    assert fresh(row).state == State.REJECTED
    assert fresh(row).rejection_reason == stored
    assert fresh(row).audit_events[-1].reason == stored


def test_an_unknown_listed_reason_is_refused(reviewer_client, make_row, session):
    row = make_row(state=State.QUEUED)
    session.commit()
    response = reviewer_client.post(f"/review/submissions/{row.id}/reject",
                                    {"reason": "Because I said so"})
    assert response.status_code == 422
    assert fresh(row).state == State.QUEUED


def test_a_plausibility_flag_offers_a_one_click_rejection(reviewer_client, make_row, session):
    row = make_row(state=State.QUEUED, runs=((250.0, 512, 900.0),) * 3)
    session.commit()
    page = reviewer_client.get(f"/review/submissions/{row.id}").get_data(as_text=True)
    reason = re.search(r'name="reason_text" value="([^"]*900[^"]*)"', page).group(1)
    assert "ceiling" in reason and len(reason) <= 160
    queue = reviewer_client.get("/review/?flag=exceeds-ceiling").get_data(as_text=True)
    assert f"queue-row-{row.id}" in queue and "Reject: “" in queue
    response = reviewer_client.post(f"/review/submissions/{row.id}/reject",
                                    {"reason": "written", "reason_text": reason.replace(
                                        "&#39;", "'")})
    assert response.status_code == 303
    assert "900 tok/s decode" in fresh(row).rejection_reason


def test_mark_reproduced_refused_for_a_fresh_row(reviewer_client, make_row, session):
    row = make_row(state=State.QUEUED)
    session.commit()
    response = reviewer_client.post(f"/review/submissions/{row.id}/reproduced")
    assert response.status_code == 422
    assert "Only a reproduction can be marked reproduced." in response.get_data(as_text=True)
    assert fresh(row).state == State.QUEUED and audit_count(row) == 0


def test_badges_move_on_the_next_public_render(reviewer_client, client, hub, repro_of):
    first = repro_of(handle="bea")
    second = repro_of()  # anonymous: its own operator
    assert public_badge(client, hub) == "community-submitted"

    reviewer_client.post(f"/review/submissions/{first.id}/reproduced")
    assert public_badge(client, hub) == "reproduced"
    reviewer_client.htmx_post(f"/review/submissions/{second.id}/reproduced",
                              {"return_to": "queue"})
    assert public_badge(client, hub) == "independently-reproduced"
    assert fresh(hub).derived_badge == "independently-reproduced"

    response = reviewer_client.post(f"/review/submissions/{second.id}/revise",
                                    {"to_state": "rejected", "reason": "Duplicate"})
    assert response.status_code == 303
    assert public_badge(client, hub) == "reproduced"
    assert fresh(hub).derived_badge == "reproduced"
    events = [(e.from_state, e.to_state, e.reason) for e in fresh(second).audit_events]
    assert events == [("queued", "reproduced", ""), ("reproduced", "rejected", "Duplicate")]


def test_revise_needs_a_reason(reviewer_client, hub):
    response = reviewer_client.post(f"/review/submissions/{hub.id}/revise",
                                     {"to_state": "rejected", "reason": "  "})
    assert response.status_code == 422
    assert "needs a reason" in response.get_data(as_text=True)
    assert fresh(hub).state == State.APPROVED
    response = reviewer_client.post(f"/review/submissions/{hub.id}/revise",
                                     {"to_state": "nonsense", "reason": "x"})
    assert response.status_code == 422


def test_a_fragment_shows_publicly_as_related(reviewer_client, client, hub, repro_of):
    repro = repro_of(runs=((290.0, 512, 85.0),) * 3, notes="Newer driver")
    reviewer_client.post(f"/review/submissions/{repro.id}/approve")
    assert fresh(repro).state == State.APPROVED and fresh(repro).hub_id == hub.id
    assert client.get(f"/benchmarks/{repro.id}").status_code == 200
    assert public_badge(client, hub) == "community-submitted"


def test_linking_operators_from_the_submission_page(reviewer_client, client, hub, repro_of):
    first, second = repro_of(), repro_of()
    for row in (first, second):
        reviewer_client.post(f"/review/submissions/{row.id}/reproduced")
    assert public_badge(client, hub) == "independently-reproduced"
    response = reviewer_client.post(f"/review/submissions/{second.id}/link",
                                    {"other": f"#{first.id}", "reason": "Same IP"})
    assert response.status_code == 303
    assert fresh(first).operator_key == fresh(second).operator_key
    assert public_badge(client, hub) == "reproduced"
    response = reviewer_client.post(f"/review/submissions/{second.id}/link", {"other": "999"})
    assert response.status_code == 422


def test_the_submission_page_shows_the_side_by_side_and_warnings(reviewer_client, hub, repro_of):
    repro = repro_of(handle="Origin", operator_key="origin", runtime="ollama",
                     runtime_version="0.5.7")
    page = reviewer_client.get(f"/review/submissions/{repro.id}").get_data(as_text=True)
    for text in ("Side by side with the original", "Runtime engine family",
                 "Different runtimes of one engine family", "Within tolerance", "Outer ring",
                 "Shares a handle with the original row", "counts as the original's own operator"):
        assert text in page, text


def test_public_pages_never_show_reviewer_names(reviewer_client, client, hub, repro_of):
    repro = repro_of()
    reviewer_client.post(f"/review/submissions/{repro.id}/reproduced")
    reviewer_client.post(f"/review/submissions/{repro.id}/revise",
                         {"to_state": "approved-public", "reason": "Counts as its own row"})
    for path in ("/", f"/benchmarks/{hub.id}", f"/benchmarks/{repro.id}", "/operators"):
        body = client.get(path).get_data(as_text=True)
        assert "alice" not in body, path


def test_every_dashboard_page_parses_and_every_form_has_an_action(reviewer_client, hub,
                                                                  repro_of, make_row, session):
    repro = repro_of()
    rejected = make_row(state=State.REJECTED, rejection_reason="Duplicate")
    session.commit()
    parser = html5lib.HTMLParser(strict=False, namespaceHTMLElements=False)
    for path in ("/review/", "/review/feedback", "/review/editorial", "/review/audit",
                 f"/review/submissions/{repro.id}", f"/review/submissions/{hub.id}",
                 f"/review/submissions/{rejected.id}"):
        response = reviewer_client.get(path)
        assert response.status_code == 200, path
        document = parser.parse(response.get_data(as_text=True))
        forms = document.findall(".//form")
        assert forms, path
        for form in forms:
            assert form.get("action"), path
            if form.get("method", "get").lower() == "post":
                names = [i.get("name") for i in form.findall(".//input")]
                assert "csrf_token" in names, (path, form.get("action"))
        assert not document.findall(".//*[@style]"), path
        assert not [s for s in document.findall(".//script") if not s.get("src")], path


def test_history_fragment(reviewer_client, hub):
    response = reviewer_client.get(f"/review/submissions/{hub.id}/history",
                                   headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip().startswith('<section class="panel history"')
    plain = reviewer_client.get(f"/review/submissions/{hub.id}/history")
    assert plain.status_code == 302 and plain.headers["Location"].endswith("#history")


def test_unknown_submission_is_404(reviewer_client):
    assert reviewer_client.get("/review/submissions/999").status_code == 404
    assert reviewer_client.get("/review/submissions/" + "9" * 20).status_code == 404
    assert reviewer_client.post("/review/submissions/1/link", {"other": "9" * 30}).status_code in (
        404, 422)
    assert reviewer_client.post("/review/submissions/999/approve").status_code == 404


def test_every_dashboard_table_scrolls_by_keyboard_on_a_narrow_screen(reviewer_client, hub,
                                                                       repro_of):
    """Wide reviewer tables (queue, side by side, runs, history, audit) sit in a named,
    focusable region, so a keyboard can scroll them sideways on a phone."""
    repro = repro_of()
    parser = html5lib.HTMLParser(strict=False, namespaceHTMLElements=False)
    seen = 0
    for path in ("/review/", "/review/audit", f"/review/submissions/{repro.id}"):
        document = parser.parse(reviewer_client.get(path).get_data(as_text=True))
        parents = {child: parent for parent in document.iter() for child in parent}
        for table in document.iter("table"):
            if table.get("class") == "runs-input":
                continue  # the editorial form's inputs, not a table to read
            region = parents[table]
            assert region.get("class") == "table-scroll", (path, table.get("class"))
            assert region.get("tabindex") == "0" and region.get("role") == "region", path
            assert region.get("aria-label", "").startswith("Table: "), path
            seen += 1
    assert seen >= 6


@pytest.mark.parametrize("fragment", [False, True])
def test_a_queue_button_pressed_after_another_decision_changes_nothing(
        reviewer_client, hub, repro_of, fragment):
    """Two reviewers on the queue: one marks a reproduction reproduced; the other, on a
    queue page loaded before, presses Reject (the one queue action that carries a reason).
    That must not overturn the decision as a silent revision: 409, the state, the audit log
    and the hub's badge stay, and the answer says who decided and how to revise."""
    repro = repro_of(handle="second-operator")
    assert reviewer_client.post(f"/review/submissions/{repro.id}/reproduced",
                                {"return_to": "queue"}).status_code == 303
    events = audit_count(repro)
    post = reviewer_client.htmx_post if fragment else reviewer_client.post
    for action, form in (("reject", {"reason": REJECTION_REASONS[0], "return_to": "queue"}),
                         ("approve", {"return_to": "queue"}),
                         ("reproduced", {"return_to": "queue"})):
        response = post(f"/review/submissions/{repro.id}/{action}", form)
        assert response.status_code == 409, action
        body = response.get_data(as_text=True)
        assert f"#{repro.id} was already decided by " in body
        assert "Nothing was changed" in body and "revise it" in body
    assert fresh(repro).state == State.REPRODUCED and audit_count(repro) == events
    assert public_badge(reviewer_client, hub) == "reproduced"
    # the revision form still changes it, with a reason
    response = reviewer_client.post(f"/review/submissions/{repro.id}/revise",
                                    {"to_state": State.REJECTED.value, "reason": "Duplicate"})
    assert response.status_code == 303 and fresh(repro).state == State.REJECTED


def test_a_decided_queue_row_says_so_and_offers_no_buttons(reviewer_client, hub, repro_of):
    """From the queue (htmx), a decision on a row decided meanwhile comes back as the row
    saying who decided it, with no decision left on it, what was typed kept, and the
    queue counts refreshed out of band."""
    repro = repro_of(handle="second-operator")
    assert reviewer_client.post(f"/review/submissions/{repro.id}/reproduced").status_code == 303
    response = reviewer_client.htmx_post(
        f"/review/submissions/{repro.id}/reject",
        {"reason": "written", "reason_text": "Same run file as #7", "return_to": "queue"})
    assert response.status_code == 409
    row = response.get_data(as_text=True)
    assert row.lstrip().startswith(f'<tr id="queue-row-{repro.id}" class="queue-row decided">')
    assert "was already decided by alice" in row
    assert "What you wrote, not used: “Same run file as #7”" in row
    assert "<form" not in row and "queued " not in row
    assert 'id="queue-counts" class="queue-counts" hx-swap-oob="true"' in row


def test_a_refused_first_decision_is_carried_to_the_revise_form(reviewer_client, hub,
                                                                repro_of):
    """On the submission's page, a Reject pressed after someone else decided leaves the
    revise form ready: the state it asked for checked, its listed reason and detail as
    the revision's reason."""
    repro = repro_of(handle="second-operator")
    assert reviewer_client.post(f"/review/submissions/{repro.id}/reproduced").status_code == 303
    response = reviewer_client.post(f"/review/submissions/{repro.id}/reject",
                                    {"reason": "Duplicate", "reason_text": "of #1897"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'name="to_state" value="rejected" required checked' in page
    assert '<textarea id="revise-reason" name="reason" maxlength="500" required rows="2">' \
           "Duplicate: of #1897</textarea>" in page


def test_a_stale_revise_form_does_not_overturn_a_newer_revision(reviewer_client, hub,
                                                                 repro_of):
    repro = repro_of(handle="second-operator")
    assert reviewer_client.post(f"/review/submissions/{repro.id}/reproduced").status_code == 303
    page = reviewer_client.get(f"/review/submissions/{repro.id}").get_data(as_text=True)
    assert '<input type="hidden" name="from_state" value="reproduced">' in page
    # another reviewer revises it to rejected; this page still says reproduced
    assert reviewer_client.post(f"/review/submissions/{repro.id}/revise", {
        "to_state": "rejected", "reason": "Duplicate", "from_state": "reproduced",
    }).status_code == 303
    events = audit_count(repro)
    response = reviewer_client.post(f"/review/submissions/{repro.id}/revise", {
        "to_state": "approved-public", "reason": "Its own row after all",
        "from_state": "reproduced"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert f"#{repro.id} was revised meanwhile by alice" in page
    assert "Your revision was not applied" in page
    assert "Its own row after all</textarea>" in page
    assert fresh(repro).state == State.REJECTED and audit_count(repro) == events
    # sent again from the page as it is now, it goes through
    response = reviewer_client.post(f"/review/submissions/{repro.id}/revise", {
        "to_state": "approved-public", "reason": "Its own row after all",
        "from_state": "rejected"})
    assert response.status_code == 303 and fresh(repro).state == State.APPROVED


def test_a_refused_approval_keeps_its_note(reviewer_client, make_row, session):
    row = make_row(state=State.QUEUED)
    session.commit()
    note = "Checked the run file \u202e by hand"  # a bidi control: refused, kept
    response = reviewer_client.post(f"/review/submissions/{row.id}/approve", {"note": note})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="approve-note" name="note" maxlength="500" value="Checked the run file' in page
    long_note = "x" * 501
    response = reviewer_client.post(f"/review/submissions/{row.id}/approve", {"note": long_note})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The note or reason must be at most 500 characters." in page
    assert f'value="{long_note}"' in page


@pytest.mark.parametrize("fragment", [False, True])
def test_a_queue_decision_on_a_withdrawn_submission_says_the_submitter_withdrew_it(
        reviewer_client, make_row, session, fragment):
    """Withdrawn meanwhile through the status link: a 409 like any other decision taken
    meanwhile (it was a 422 saying the state could not change), naming the withdrawal."""
    from webapp.services import moderation

    row = make_row(state=State.QUEUED)
    session.flush()
    moderation.transition(session, row, State.WITHDRAWN, actor=moderation.SUBMITTER,
                          now=row.created_at)
    session.commit()
    events = audit_count(row)
    post = reviewer_client.htmx_post if fragment else reviewer_client.post
    for action in ("approve", "reject"):
        response = post(f"/review/submissions/{row.id}/{action}",
                        {"reason": REJECTION_REASONS[0], "return_to": "queue"})
        assert response.status_code == 409, action
        body = response.get_data(as_text=True)
        assert f"#{row.id} was withdrawn by its submitter at " in body
        assert "nothing was changed" in body
    assert fresh(row).state == State.WITHDRAWN and audit_count(row) == events
