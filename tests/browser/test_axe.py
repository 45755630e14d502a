"""axe-core finds no accessibility violation on any page, public or reviewer.

axe-core comes from npm (tests/browser/package.json, pinned by its lock file; `make test`
runs `npm ci` there). Each page is opened in Chromium, axe is injected with
`page.add_script_tag(path=...)` and `axe.run()` checks the whole document with its default
rules (WCAG 2 A/AA and best practices: contrast, labels, landmarks, heading order, ids,
link names). The browser context bypasses the CSP for this one test tool only: the site's
CSP rightly refuses an injected script, and tests/browser/test_csp.py checks the pages
with the CSP in force.

Without axe-core (npm never ran) the tests skip and say how to install it, unless
TRUSTBENCH_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import os

import pytest

from tests.browser.conftest import TIMEOUT_MS
from tests.browser.site_pages import (
    AXE,
    build_world,
    fill_runs,
    is_page,
    log_in,
    public_paths,
    review_paths,
)

browser = pytest.mark.browser


@pytest.fixture
def axe_file(browser_available):
    if AXE.exists():
        return AXE
    reason = (f"axe-core not installed at {AXE}: run `npm ci` in tests/browser "
              "(make test does it when npm is present)")
    if os.environ.get("TRUSTBENCH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests are required (TRUSTBENCH_REQUIRE_BROWSER=1): {reason}")
    pytest.skip(reason)


@pytest.fixture
def world(app, make_row, session):
    return build_world(app, make_row, session)


@pytest.fixture
def axe_page(browser, axe_file):
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    # Longer than the suite's default: axe reads every element, and the machine is shared.
    context.set_default_timeout(3 * TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def violations(page, where: str) -> list[str]:
    """axe's violations on the page as it is now, one readable line per element."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' :: ' +
                   (n.failureSummary || '').replace(/\\s+/g, ' '))}));
    }""")
    return [f"{where}: [{v['impact']}] {v['id']} ({v['help']}) {node}"
            for v in result for node in v["nodes"]]


def check_all(page, base: str, paths, scheme: str = "light") -> list[str]:
    page.emulate_media(color_scheme=scheme)
    found = []
    for path in paths:
        if not is_page(page, base + path):
            continue
        response = page.goto(base + path)
        assert response is not None and response.status < 500, f"{path}: {response.status}"
        page.wait_for_load_state("load")
        found += violations(page, f"{path} ({scheme})")
    return found


def test_axe_is_installed_where_the_tests_expect_it(axe_file):
    assert axe_file.stat().st_size > 100_000, "axe.min.js looks truncated"


@browser
def test_axe_finds_violations_when_there_are_some(live_server, axe_page, world):
    """Control: a page with an unlabelled field and an image without text fails, so the
    silence below means something."""
    axe_page.goto(live_server.url("/"))
    axe_page.evaluate("""() => {
        const input = document.createElement('input');
        input.type = 'text';
        document.querySelector('main').appendChild(input);
        const img = document.createElement('img');
        img.src = '/static/favicon.svg';
        document.querySelector('main').appendChild(img);
    }""")
    found = "\n".join(violations(axe_page, "control"))
    assert "label" in found and "image-alt" in found, found


@browser
def test_every_public_page_has_no_axe_violation(live_server, axe_page, world):
    paths = public_paths(live_server.app, world)
    assert len(paths) >= 15, paths
    found = check_all(axe_page, live_server, paths)
    assert found == [], "\n".join(found)


@browser
def test_forms_in_their_other_states_have_no_axe_violation(live_server, axe_page, world):
    page, found = axe_page, []
    # The fresh form sent empty: the error summary and every field's message.
    page.goto(live_server.url("/submit/benchmark"))
    with page.expect_navigation():
        page.click("form.submission-form button[type=submit]:has-text('Submit for review')")
    assert page.locator(".error-summary, #error-summary").count() >= 1
    found += violations(page, "submit form with errors")
    # The live warning while typing, on both forms.
    page.goto(live_server.url("/submit/benchmark"))
    fill_runs(page, (100, 101, 99))
    page.wait_for_selector("#live-check table.live-numbers")
    found += violations(page, "submit form with the live check")
    page.goto(live_server.url(f"/benchmarks/{world.hub.id}/reproduce"))
    fill_runs(page, (150, 151, 149))
    page.wait_for_selector('#live-check [data-band="not-reproduction"]')
    found += violations(page, "reproduce form with the live warning")
    # Feedback sent empty.
    page.goto(live_server.url(f"/submit/feedback?benchmark={world.hub.id}"))
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    found += violations(page, "feedback form with errors")
    assert found == [], "\n".join(found)


@browser
def test_every_reviewer_page_has_no_axe_violation(live_server, axe_page, world):
    found = check_all(axe_page, live_server, ["/review/login"])
    log_in(axe_page, live_server)
    paths = review_paths(live_server.app, world)
    assert len(paths) >= 6, paths
    found += check_all(axe_page, live_server, paths)
    assert found == [], "\n".join(found)


@browser
def test_dark_mode_pages_have_no_axe_violation(live_server, axe_page, world):
    """Contrast in the dark palette, on the pages with the most colours on them."""
    paths = ["/", f"/benchmarks/{world.hub.id}", "/hardware/rtx-4090", "/operators",
             f"/submissions/{world.queued_token}", "/resources/reproduction-guide",
             f"/benchmarks/{world.hub.id}/reproduce", "/does-not-exist"]
    found = check_all(axe_page, live_server, paths, scheme="dark")
    axe_page.goto(live_server.url("/submit/benchmark"))
    with axe_page.expect_navigation():
        axe_page.click("form.submission-form button[type=submit]:has-text('Submit for review')")
    found += violations(axe_page, "submit form with errors (dark)")
    log_in(axe_page, live_server)
    found += check_all(axe_page, live_server, [
        "/review/", f"/review/submissions/{world.queued.id}", "/review/feedback",
        "/review/audit", "/review/editorial"], scheme="dark")
    assert found == [], "\n".join(found)
