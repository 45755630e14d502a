"""The private status page in Chromium: the copy button puts the page's link on the
clipboard, and withdrawing asks first, with JavaScript and without it."""

from __future__ import annotations

import pytest
from flask import url_for

from webapp.models import Submission
from webapp.services import tokens
from webapp.services.rules import State

pytestmark = pytest.mark.browser


@pytest.fixture
def queued(live_server, make_row, session):
    row = make_row(state=State.QUEUED, handle="quiet-fox", notes="Fans at full speed.")
    session.commit()
    with live_server.app.test_request_context():
        path = url_for("submit.status", token=tokens.status_token(row))
    return row, path


def state_of(session, row_id: int) -> str:
    session.rollback()  # end the test's read snapshot: the server wrote since
    return session.get(Submission, row_id).state


def withdraw_asking_first(page, session, row_id: int) -> None:
    """Withdraw asks on a page of its own; "No" goes back and changes nothing."""
    with page.expect_navigation():
        page.click("form.withdraw-form button")
    assert "This cannot be undone" in page.inner_text("main")
    assert state_of(session, row_id) == State.QUEUED
    with page.expect_navigation():
        page.click("#keep-it")
    assert "Queued" in page.inner_text(".status-panel")
    assert state_of(session, row_id) == State.QUEUED

    with page.expect_navigation():
        page.click("form.withdraw-form button")
    with page.expect_navigation():
        page.click("#confirm-withdraw")
    assert "Withdrawn" in page.inner_text(".status-panel")
    assert "was withdrawn" in page.inner_text(".flashes")
    assert page.locator("form.withdraw-form").count() == 0
    assert state_of(session, row_id) == State.WITHDRAWN


def test_copy_button_copies_the_link_and_withdraw_asks_first(live_server, page, console_errors,
                                                            queued, session):
    row, path = queued
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page.goto(live_server.url(path))
    # what was sent comes back: the runs, the note, the handle
    sent = page.inner_text("#what-you-sent")
    assert "Fans at full speed." in sent and "quiet-fox" in sent
    assert page.locator("#sent-runs tbody tr").count() == 3

    button = page.locator("#copy-status-link")
    assert button.is_visible()
    # the link as the site names itself (the tests' SERVER_NAME is "localhost")
    link = page.input_value("#status-link")
    assert link.endswith(path) and link.startswith("http")
    button.click()
    page.wait_for_function(
        "document.getElementById('copy-status').textContent.includes('Link copied')")
    assert page.evaluate("navigator.clipboard.readText()") == link

    withdraw_asking_first(page, session, row.id)
    assert console_errors == []


def test_without_javascript_the_link_is_selectable_and_withdraw_still_asks(browser, live_server,
                                                                          queued, session):
    row, path = queued
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url(path))
        # no button that could not work; the link sits in a read-only field to select
        assert not page.locator("#copy-status-link").is_visible()
        field = page.locator("#status-link")
        assert field.is_visible() and field.get_attribute("readonly") is not None
        assert page.input_value("#status-link").endswith(path)
        withdraw_asking_first(page, session, row.id)
    finally:
        context.close()
