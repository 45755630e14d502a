"""The audit log and feedback triage page like the queue: a page at a time with the site's
pager, a page past the last one showing the last one; and a decision or a resolution sent
without JavaScript returning to the page (and the queue's filters) it was sent from."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import html5lib
import pytest

from webapp.blueprints.review.decisions import QUEUE_PER_PAGE
from webapp.extensions import db
from webapp.models import AuditEvent, FeedbackNote
from webapp.services.rules import Kind, State

PER_PAGE = QUEUE_PER_PAGE
START = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def pager_of(body: str):
    document = html5lib.parse(body, namespaceHTMLElements=False)
    return list(document.iter("nav"))


def status_of(nav) -> str:
    return "".join(nav.find(".//p[@class='pager-status']").itertext())


def links_of(nav) -> dict[str, str]:
    """Each pager link's text -> its address."""
    return {"".join(a.itertext()): a.get("href") for a in nav.iter("a")}


def current_of(nav) -> str:
    return nav.find(".//span[@class='pager-current']").text


@pytest.fixture
def events(make_row, session):
    """2½ pages of audit events, their reasons numbered oldest first."""
    row = make_row(state=State.QUEUED)
    session.flush()
    count = 2 * PER_PAGE + PER_PAGE // 2
    session.add_all(AuditEvent(submission_id=row.id, actor="reviewer:alice",
                               from_state="queued", to_state="rejected", reason=f"event {n}")
                    for n in range(1, count + 1))
    session.commit()
    return count


def audit_nav(body: str):
    return next(nav for nav in pager_of(body) if nav.get("aria-label") == "Pages of the audit log")


@pytest.mark.parametrize("asked", ["3", "4", "99999", "999999999", "1" + "0" * 22])
def test_an_audit_page_past_the_last_shows_the_last(reviewer_client, events, asked):
    response = reviewer_client.get(f"/review/audit?page={asked}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "No events yet." not in body
    assert re.findall(r"event (\d+)<", body)[0] == str(events - 2 * PER_PAGE)  # newest first
    assert "<td>event 1</td>" in body
    nav = audit_nav(body)
    assert status_of(nav) == f"{2 * PER_PAGE + 1}–{events} of {events} events"
    assert current_of(nav) == "3"
    links = links_of(nav)
    assert links["Previous"] == "/review/audit?page=2"
    assert links["First"] == "/review/audit"
    assert "Next" not in links and "Last" not in links
    assert set(links) == {"First", "Previous", "1", "2"}


def test_the_first_audit_page_counts_every_event(reviewer_client, events):
    for asked in ("", "?page=0", "?page=-2", "?page=abc"):
        body = reviewer_client.get(f"/review/audit{asked}").get_data(as_text=True)
        nav = audit_nav(body)
        assert status_of(nav) == f"1–{PER_PAGE} of {events} events", asked
        assert links_of(nav)["Next"] == "/review/audit?page=2"
        assert links_of(nav)["Last"] == "/review/audit?page=3"
        assert f"<td>event {events}</td>" in body


def test_an_empty_audit_log_says_so(reviewer_client):
    body = reviewer_client.get("/review/audit?page=7").get_data(as_text=True)
    assert "No events yet." in body
    assert not [nav for nav in pager_of(body) if nav.get("class") == "pager"]


# --- feedback triage ------------------------------------------------------------------------


@pytest.fixture
def notes(make_row, session, reviewer):
    """Two open notes more than a page, sent a minute apart, and a resolved page and a
    half, resolved a minute apart."""
    row = make_row()
    session.flush()
    open_count, resolved_count = PER_PAGE + 2, PER_PAGE + PER_PAGE // 2
    for n in range(open_count):
        session.add(FeedbackNote(submission_id=row.id, kind="numbers-look-wrong",
                                 message=f"open note {n}", status="open",
                                 created_at=START + timedelta(minutes=n)))
    for n in range(resolved_count):
        session.add(FeedbackNote(submission_id=row.id, kind="numbers-look-wrong",
                                 message=f"resolved note {n}", status="resolved",
                                 created_at=START, resolution_note="Fixed",
                                 resolved_by_id=reviewer.id,
                                 resolved_at=START + timedelta(minutes=n)))
    db.session.commit()
    return open_count, resolved_count


def triage_navs(body: str):
    navs = {nav.get("aria-label"): nav for nav in pager_of(body)}
    return navs["Pages of open feedback"], navs["Pages of resolved feedback"]


def messages(body: str, kind: str) -> list[int]:
    return [int(n) for n in re.findall(rf"<blockquote>{kind} note (\d+)</blockquote>", body)]


def test_feedback_triage_pages_each_list(reviewer_client, notes):
    open_count, resolved_count = notes
    body = reviewer_client.get("/review/feedback").get_data(as_text=True)
    assert messages(body, "open") == list(range(PER_PAGE))  # the longest waiting on top
    assert messages(body, "resolved") == list(range(resolved_count - 1,
                                                    resolved_count - 1 - PER_PAGE, -1))
    assert f"Open ({open_count})" in body and f"Resolved ({resolved_count})" in body
    open_nav, resolved_nav = triage_navs(body)
    assert status_of(open_nav) == f"1–{PER_PAGE} of {open_count} open notes"
    assert status_of(resolved_nav) == f"1–{PER_PAGE} of {resolved_count} resolved notes"
    assert links_of(open_nav)["Next"] == "/review/feedback?page=2"
    assert links_of(resolved_nav)["Next"] == "/review/feedback?resolved_page=2"

    body = reviewer_client.get("/review/feedback?page=2&resolved_page=2").get_data(as_text=True)
    assert messages(body, "open") == [PER_PAGE, PER_PAGE + 1]
    assert messages(body, "resolved") == list(range(resolved_count - 1 - PER_PAGE, -1, -1))
    open_nav, resolved_nav = triage_navs(body)
    assert status_of(open_nav) == f"{PER_PAGE + 1}–{open_count} of {open_count} open notes"
    # each pager keeps the other list's page
    assert links_of(open_nav)["Previous"] == "/review/feedback?resolved_page=2"
    assert links_of(resolved_nav)["Previous"] == "/review/feedback?page=2"
    # a resolve form posts back to the pages it was on
    assert ('action="/review/feedback/' in body
            and '/resolve?page=2&amp;resolved_page=2"' in body)


def test_feedback_pages_past_the_last_show_the_last(reviewer_client, notes):
    open_count, resolved_count = notes
    body = reviewer_client.get("/review/feedback?page=99999&resolved_page=0").get_data(
        as_text=True)
    assert messages(body, "open") == [PER_PAGE, PER_PAGE + 1]
    open_nav, resolved_nav = triage_navs(body)
    assert current_of(open_nav) == "2" and current_of(resolved_nav) == "1"
    assert status_of(resolved_nav) == f"1–{PER_PAGE} of {resolved_count} resolved notes"


def resolved_from(reviewer_client, note, query: str, return_to: str) -> str:
    """Resolve `note` from the page `query` names: first blank (its error shown there),
    then with a note; the address the reviewer is sent back to."""
    error = reviewer_client.post(f"/review/feedback/{note.id}/resolve?{query}",
                                 {"resolution": " ", "return_to": return_to})
    assert error.status_code == 422
    assert f'id="resolution-error-{note.id}"' in error.get_data(as_text=True)
    done = reviewer_client.post(f"/review/feedback/{note.id}/resolve?{query}",
                                {"resolution": "Fixed", "return_to": return_to})
    assert done.status_code == 303
    return done.headers["Location"]


def test_resolving_returns_to_the_page_the_note_was_on(reviewer_client, notes):
    note = db.session.query(FeedbackNote).filter_by(message=f"open note {PER_PAGE}").one()
    assert resolved_from(reviewer_client, note, "page=2", "feedback") == (
        "/review/feedback?page=2")


# --- a submission's own feedback ------------------------------------------------------------


def test_a_submissions_feedback_is_paged_open_first(reviewer_client, notes):
    """Anyone may send notes about a row: its page showed every one (an audit posted 160,
    a 152 KB page). Twenty a page, open ones first and oldest first, as triage lists."""
    from webapp.services.review_view import FEEDBACK_PER_PAGE

    open_count, resolved_count = notes
    row_id = db.session.query(FeedbackNote).first().submission_id
    path = f"/review/submissions/{row_id}"
    body = reviewer_client.get(path).get_data(as_text=True)
    assert messages(body, "open") == list(range(FEEDBACK_PER_PAGE))
    nav = {n.get("aria-label"): n for n in pager_of(body)}["Pages of feedback on this row"]
    total = open_count + resolved_count
    assert status_of(nav) == f"1–{FEEDBACK_PER_PAGE} of {total} notes"
    assert links_of(nav)["Next"] == f"{path}?feedback_page=2"
    last = -(-total // FEEDBACK_PER_PAGE)
    body = reviewer_client.get(f"{path}?feedback_page={last + 5}").get_data(as_text=True)
    assert messages(body, "open") == [] and len(messages(body, "resolved")) == (
        total - (last - 1) * FEEDBACK_PER_PAGE)

    # a note resolved from page 2 comes back to page 2, its error shown there
    note = db.session.query(FeedbackNote).filter_by(
        message=f"open note {FEEDBACK_PER_PAGE + 1}").one()
    body = reviewer_client.get(f"{path}?feedback_page=2").get_data(as_text=True)
    assert f'/review/feedback/{note.id}/resolve?feedback_page=2"' in body
    assert resolved_from(reviewer_client, note, "feedback_page=2", "submission") == (
        f"{path}?feedback_page=2#feedback")


# --- the queue: a decision sent without JavaScript returns to the queue as it was ----------


@pytest.fixture
def queued_reproductions(make_row, session):
    """A page and two of queued reproductions, oldest first, and a queued fresh row the
    kind filter leaves out (it would be the oldest on the unfiltered queue)."""
    hub = make_row(handle="origin", age_days=400)
    make_row(state=State.QUEUED, age_days=300)
    count = PER_PAGE + 2
    rows = [make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub,
                     runs=((251.0, 512, 99.0), (250.0, 512, 100.0), (249.0, 512, 101.0)),
                     age_days=200 - n)
            for n in range(count)]
    session.commit()
    return rows


def queue_form(body: str, row_id: int, action: str) -> dict[str, str]:
    """The hidden inputs of the queue row's form posting to `action` (approve, reject):
    what the browser sends without JavaScript, beside what the reviewer types."""
    document = html5lib.parse(body, namespaceHTMLElements=False)
    row = next(tr for tr in document.iter("tr") if tr.get("id") == f"queue-row-{row_id}")
    form = next(form for form in row.iter("form")
                if form.get("action") == f"/review/submissions/{row_id}/{action}"
                and form.get("class") != "flag-reject")
    assert form.get("hx-post") == form.get("action")  # the htmx swap stays
    return {field.get("name"): field.get("value") for field in form.iter("input")
            if field.get("type") == "hidden"}


def sent(reviewer_client, row_id: int, action: str, form: dict[str, str]):
    """The form posted as a browser without JavaScript posts it (no HX-Request)."""
    return reviewer_client.client.post(f"/review/submissions/{row_id}/{action}", data=form)


def test_a_plain_decision_returns_to_the_filtered_queue_page(reviewer_client,
                                                             queued_reproductions):
    """A reviewer on page 2 of the reproductions approves one and rejects the other without
    JavaScript: each time they are back on page 2 of the reproductions (it was the
    unfiltered first page), and with page 2 emptied, on the last page there is."""
    first, last = queued_reproductions[-2:]
    here = "/review/?kind=reproduction&page=2"
    body = reviewer_client.get(here).get_data(as_text=True)
    approve = queue_form(body, first.id, "approve")
    assert approve["csrf_token"] and approve["return_to"] == "queue"
    assert (approve["kind"], approve["page"]) == ("reproduction", "2")
    assert "flag" not in approve  # only what the queue view was given
    response = sent(reviewer_client, first.id, "approve", approve)
    assert response.status_code == 303 and response.headers["Location"] == here

    reject = queue_form(body, last.id, "reject")
    response = sent(reviewer_client, last.id, "reject",
                    {**reject, "reason": "written", "reason_text": "Not a reproduction"})
    assert response.status_code == 303 and response.headers["Location"] == here
    db.session.expire_all()
    assert (first.state, last.state) == (State.APPROVED, State.REJECTED)

    # page 2 is now past the end: the queue shows its last page, as for any such page
    response = reviewer_client.get(here)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f"#{last.id} rejected: Not a reproduction" in body
    assert f"queue-row-{queued_reproductions[0].id}" in body
    assert queue_form(body, queued_reproductions[0].id, "approve")["kind"] == "reproduction"
    assert "page" not in queue_form(body, queued_reproductions[0].id, "approve")


@pytest.mark.parametrize("carried, expected", [
    ({"kind": "reproduction", "flag": "any", "page": "3"}, "?kind=reproduction&flag=any&page=3"),
    ({"kind": "fresh", "flag": "exceeds-ceiling"}, "?kind=fresh&flag=exceeds-ceiling"),
    # unknown or invalid values are dropped, never sent back as they came
    ({"kind": "//evil.example", "flag": "exceeds-ceiling", "page": "2"},
     "?flag=exceeds-ceiling&page=2"),
    ({"kind": "reproduction", "flag": "https://evil.example/", "page": "-1"},
     "?kind=reproduction"),
    ({"page": "2\r\nSet-Cookie: x=1", "flag": "<script>"}, ""),
    ({"page": "0", "next": "https://evil.example/"}, ""),
    ({"page": "1" + "0" * 22}, "?page=1000000"),  # past any page: the queue shows its last
])
def test_a_plain_decision_carries_only_the_queues_own_valid_parameters(
        reviewer_client, queued_reproductions, carried, expected):
    row = queued_reproductions[0]
    response = reviewer_client.post(f"/review/submissions/{row.id}/approve",
                                    {"return_to": "queue", **carried})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/review/{expected}"
    assert reviewer_client.get(response.headers["Location"]).status_code == 200


def test_a_refused_plain_decision_keeps_the_way_back_to_the_filtered_queue(
        reviewer_client, queued_reproductions):
    """Reject with no reason from page 2 of the reproductions, without JavaScript: the
    submission's page says why and keeps what was typed, as before; its link to the queue
    and its reject form, sent again with a reason, go back to page 2 of the reproductions."""
    row = queued_reproductions[-1]
    here = "/review/?kind=reproduction&page=2"
    body = reviewer_client.get(here).get_data(as_text=True)
    reject = queue_form(body, row.id, "reject")
    response = sent(reviewer_client, row.id, "reject",
                    {**reject, "reason": "", "reason_text": "   "})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "A rejection needs a one-line reason." in page
    assert '<p class="crumbs"><a href="/review/?kind=reproduction&amp;page=2">Queue</a>' in page
    document = html5lib.parse(page, namespaceHTMLElements=False)
    form = next(f for f in document.iter("form") if f.get("class") == "reject-form")
    again = {field.get("name"): field.get("value") for field in form.iter("input")
             if field.get("type") == "hidden"}
    assert (again["return_to"], again["kind"], again["page"]) == ("queue", "reproduction", "2")
    db.session.expire_all()
    assert row.state == State.QUEUED

    response = sent(reviewer_client, row.id, "reject",
                    {**again, "reason": "written", "reason_text": "Duplicate of #1"})
    assert response.status_code == 303 and response.headers["Location"] == here


def test_a_refused_htmx_decision_keeps_the_rows_queue_parameters(reviewer_client,
                                                                  queued_reproductions):
    """The htmx path still swaps the row; the row it sends back keeps the queue's
    parameters in its forms, so a later decision sent without JavaScript returns there."""
    row = queued_reproductions[-1]
    body = reviewer_client.get("/review/?kind=reproduction&page=2").get_data(as_text=True)
    reject = queue_form(body, row.id, "reject")
    response = reviewer_client.client.post(
        f"/review/submissions/{row.id}/reject", data={**reject, "reason": ""},
        headers={"HX-Request": "true"})
    assert response.status_code == 422
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<tr id="queue-row-{row.id}" class="queue-row">')
    table = f"<table><tbody>{fragment}</tbody></table>"
    assert queue_form(table, row.id, "approve")["page"] == "2"
    assert queue_form(table, row.id, "reject")["kind"] == "reproduction"
