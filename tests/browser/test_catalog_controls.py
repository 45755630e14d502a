"""The catalog's controls in Chromium: a filter select stepped through with the keyboard
sends one request (on Enter or when focus leaves), not one per arrow key; a mouse choice
applies at once; the address carries only the filters in use; sort headers and the
compare checkboxes work as plain links and a plain form."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from webapp.services import evidence

pytestmark = pytest.mark.browser


@pytest.fixture
def catalog_rows(app, session, make_row):
    rows = []
    for i, hardware in enumerate(("rtx-4090", "rtx-3090", "rtx-3060-12gb", "rtx-4080")):
        row = make_row(hardware=hardware, runs=((200.0 + i, 512, 100.0 + i),) * 3)
        evidence.refresh_derived(session, row)
        rows.append(row)
    session.commit()
    return rows


def _catalog_requests(page) -> list[str]:
    seen: list[str] = []

    def on_request(request):
        parts = urlsplit(request.url)
        if parts.path == "/" and request.resource_type in ("xhr", "fetch", "document"):
            seen.append(request.url)

    page.on("request", on_request)
    return seen


def test_arrow_keys_send_one_request_on_enter(live_server, page, catalog_rows):
    page.goto(live_server.url("/"))
    page.wait_for_function("window.htmx !== undefined")
    seen = _catalog_requests(page)
    history_before = page.evaluate("history.length")
    hardware = page.locator("#f-hardware")
    hardware.focus()
    for _ in range(12):
        page.keyboard.press("ArrowDown")
    chosen = hardware.input_value()
    assert chosen, "the arrow keys moved the selection"
    page.wait_for_timeout(300)  # give a wrongly wired change handler time to fire
    assert seen == []
    with page.expect_response(lambda r: urlsplit(r.url).path == "/"):
        page.keyboard.press("Enter")
    page.wait_for_timeout(200)
    assert len(seen) == 1
    assert parse_qsl(urlsplit(seen[0]).query) == [("hardware", chosen)]
    assert page.evaluate("history.length") == history_before + 1
    assert parse_qsl(urlsplit(page.url).query) == [("hardware", chosen)]
    assert page.console_errors == []


def test_leaving_a_keyboard_changed_select_applies_it_once(live_server, page, catalog_rows):
    page.goto(live_server.url("/"))
    page.wait_for_function("window.htmx !== undefined")
    seen = _catalog_requests(page)
    page.locator("#f-tier").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(300)
    assert seen == []
    with page.expect_response(lambda r: urlsplit(r.url).path == "/"):
        page.keyboard.press("Tab")
    page.wait_for_timeout(200)
    assert len(seen) == 1
    assert parse_qsl(urlsplit(seen[0]).query) == [("tier", "moderate")]


def test_a_mouse_choice_applies_at_once_with_only_the_filters_in_use(live_server, page,
                                                                       catalog_rows):
    page.goto(live_server.url("/"))
    page.wait_for_function("window.htmx !== undefined")
    seen = _catalog_requests(page)
    with page.expect_response(lambda r: urlsplit(r.url).path == "/"):
        page.locator("#f-hardware").select_option("rtx-3090")
    page.wait_for_timeout(200)
    assert len(seen) == 1
    assert urlsplit(page.url).query == "hardware=rtx-3090"
    assert page.locator("#catalog-results table.rows tbody tr").count() == 1
    assert "1–1 of 1 row" in page.locator(".pager-status").inner_text()


def test_without_javascript_the_apply_button_lands_on_the_canonical_address(
        browser, live_server, catalog_rows):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url("/"))
        page.locator("#f-hardware").select_option("rtx-4090")
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_load_state()
        assert urlsplit(page.url).query == "hardware=rtx-4090"
        assert page.locator("#catalog-results table.rows tbody tr").count() == 1
    finally:
        context.close()


def test_sort_header_and_compare_form(live_server, page, catalog_rows):
    page.goto(live_server.url("/"))
    page.get_by_role("link", name="TTFT").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).query == "sort=ttft"
    assert page.locator("th[aria-sort]").count() == 1
    assert page.locator("#f-sort").input_value() == "ttft"
    first, second = catalog_rows[0], catalog_rows[1]
    page.get_by_label(f"Compare row {first.id}:").check()
    page.get_by_label(f"Compare row {second.id}:").check()
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_load_state()
    parts = urlsplit(page.url)
    assert parts.path == "/compare"
    # several ids values, or the compare page's own comma list after its redirect
    ids = [int(i) for k, v in parse_qsl(parts.query) if k == "ids" for i in v.split(",")]
    assert sorted(ids) == sorted([first.id, second.id])
    # back to the catalog as it was: sorted by TTFT (the link said "/" alone)
    page.click("a[data-back-to-catalog]")
    page.wait_for_load_state()
    assert urlsplit(page.url).query == "sort=ttft"


def test_the_next_page_from_the_keyboard_takes_the_focus_to_the_new_rows(
        app, live_server, page, session, make_row, console_errors):
    """Enter on the pager's Next swaps the rows in place: the focus goes to the new
    results (it fell to the body, at the foot of the page), and the pager's status is
    read out from a live region that stays on the page."""
    for i in range(30):
        evidence.refresh_derived(session, make_row(runs=((200.0, 512, 50.0 + i),) * 3))
    session.commit()
    page.goto(live_server.url("/"))
    page.evaluate("window.__sameDocument = true")
    page.focus("#catalog-results .pager a[rel=next]")
    page.keyboard.press("Enter")
    # a selector, not wait_for_function: its polling evaluates a string, which the CSP
    # (no 'unsafe-eval') refuses
    page.wait_for_selector("#catalog-announce:has-text('26–')", state="attached")
    assert page.evaluate("document.activeElement.id") == "catalog-results"
    assert page.evaluate("window.__sameDocument") is True
    top = page.evaluate("document.getElementById('catalog-results').getBoundingClientRect().top")
    assert 0 <= top < 200, top  # the new rows in view, not the page's foot
    assert console_errors == []
