"""A reviewer logs in, marks a reproduction reproduced, and the hub's badge moves."""

from __future__ import annotations

import pytest

from webapp.services import accounts
from webapp.services.rules import Kind, State

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
CLOSE_RUNS = ((251.0, 512, 99.0), (250.0, 512, 100.0), (249.0, 512, 101.0))
HUB_BADGE = "p.markers .badge"


@pytest.fixture
def world(live_server, make_row, session):
    live_server.app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8,
                                  ARGON2_PARALLELISM=1)
    accounts.add_reviewer(session, "alice", PASSWORD)
    hub = make_row(handle="origin")
    first = make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub, handle="bea",
                     runs=CLOSE_RUNS, age_days=3)
    second = make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub, runs=CLOSE_RUNS,
                      age_days=2)
    session.commit()
    return hub, first, second


def log_in(page, live_server) -> None:
    page.goto(live_server.url("/review/"))
    assert "/review/login" in page.url
    page.fill("#login-name", "alice")
    page.fill("#login-password", PASSWORD)
    page.click("form[action='/review/login'] button[type=submit]")
    page.wait_for_selector("h1:has-text('Moderation queue')")


def open_reject_form(page, live_server, row_id: int) -> str:
    """Logged in on the queue, the row's reject form opened; the row's selector. The page
    is marked, so a test can tell that no navigation happened since."""
    log_in(page, live_server)
    page.evaluate("window.__sameDocument = true")
    row = f"#queue-row-{row_id}"
    page.click(f"{row} details summary")
    return row


def test_marking_a_reproduction_lifts_the_hubs_badge(live_server, page, console_errors, world):
    hub, first, second = world
    page.goto(live_server.url(f"/benchmarks/{hub.id}"))
    assert page.inner_text(HUB_BADGE) == "Community-submitted"

    log_in(page, live_server)
    page.click(f"#queue-row-{first.id} a[href='/review/submissions/{first.id}']")
    page.wait_for_selector("h2:has-text('Side by side with the original')")
    assert "Within tolerance" in page.inner_text(".side-by-side")
    page.click(".decisions-panel form[action$='/reproduced'] button[type=submit]")
    page.wait_for_selector(f".flash:has-text('#{first.id} marked reproduced')")
    assert "Reproduced" in page.inner_text(".state-line")
    assert "Reviewer alice" in page.inner_text("#history")

    page.goto(live_server.url(f"/benchmarks/{hub.id}"))
    assert page.inner_text(HUB_BADGE) == "Reproduced"
    assert console_errors == []


def test_a_queue_decision_swaps_the_row_without_a_page_load(live_server, page, console_errors,
                                                            world):
    hub, first, second = world
    log_in(page, live_server)
    page.evaluate("window.__sameDocument = true")
    for row in (first, second):
        page.click(f"#queue-row-{row.id} form[action$='/reproduced'] button")
        page.wait_for_selector(f"#queue-row-{row.id}.decided .confirmation")
    assert page.evaluate("window.__sameDocument") is True  # no navigation happened
    assert "0 queued" in page.inner_text("#queue-counts")

    page.goto(live_server.url(f"/benchmarks/{hub.id}"))
    assert page.inner_text(HUB_BADGE) == "Independently reproduced"
    assert console_errors == []


def test_a_refused_reject_keeps_the_row_and_says_why(live_server, page, console_errors, world):
    hub, first, _second = world
    row = open_reject_form(page, live_server, first.id)
    page.click(f"{row} .reject-form button[type=submit]")
    page.wait_for_selector(f"{row} .form-error:has-text('needs a one-line reason')")
    assert page.evaluate("window.__sameDocument") is True
    page.check(f"{row} input[value='Duplicate']")
    page.click(f"{row} .reject-form button[type=submit]")
    page.wait_for_selector(f"{row}.decided .confirmation:has-text('rejected: Duplicate')")
    assert console_errors == []


def test_a_row_decided_meanwhile_says_so_in_place(live_server, page, console_errors, world,
                                                  session):
    """Another reviewer decides a row while this queue page is open: pressing a button on
    it shows who decided, and the row loses its buttons (409, swapped in place)."""
    from webapp.models import utcnow
    from webapp.services import moderation

    hub, first, _second = world
    log_in(page, live_server)
    page.evaluate("window.__sameDocument = true")
    moderation.reject(session, session.get(type(first), first.id), actor="reviewer:bob",
                      now=utcnow(), reason="Duplicate")
    session.commit()
    row = f"#queue-row-{first.id}"
    page.click(f"{row} form[action$='/reproduced'] button")
    page.wait_for_selector(f"{row}.decided .form-error:has-text('was already decided by bob')")
    assert page.locator(f"{row} button").count() == 0
    assert page.evaluate("window.__sameDocument") is True
    assert console_errors == []


def test_a_decision_after_the_session_ended_keeps_what_was_typed(live_server, page,
                                                                  console_errors, world,
                                                                  session):
    """A login from another browser ends this page's session: a reject sent from the queue
    then does nothing, says so in the row, and the reason stays typed in the form, with
    a link to log in that comes back to the queue."""
    from webapp.models import Reviewer

    hub, first, _second = world
    row = open_reject_form(page, live_server, first.id)
    page.check(f"{row} input[value='written']")
    page.fill(f"{row} input[name=reason_text]", "Same log as #12")
    session.rollback()  # a fresh snapshot: the server wrote since (SQLite, WAL)
    alice = session.query(Reviewer).filter_by(name="alice").one()
    accounts.rotate_session(alice)  # what a login elsewhere does
    session.commit()
    page.click(f"{row} .reject-form button[type=submit]")
    message = page.wait_for_selector(f"{row} .error-message:has-text('session has ended')")
    assert "“Same log as #12”" in message.inner_text()
    assert page.input_value(f"{row} input[name=reason_text]") == "Same log as #12"
    assert page.evaluate("window.__sameDocument") is True
    page.click(f"{row} .error-message a:has-text('Log in again')")
    page.fill("#login-name", "alice")
    page.fill("#login-password", PASSWORD)
    page.click("form[action='/review/login'] button[type=submit]")
    page.wait_for_selector("h1:has-text('Moderation queue')")
    assert page.locator(f"{row} .reject-form").count() == 1  # back on the queue, undecided
    assert console_errors == []
