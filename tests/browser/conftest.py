"""Browser fixtures: the app served on a real socket and Chromium driving it.

`live_server` serves the test's app (a fresh database per test, from tests/conftest.py)
on 127.0.0.1 with werkzeug in a background thread; it is the base URL as a string, with
`.app` for the application. `page` is a Chromium page (playwright, sync API) that
collects console errors and Content-Security-Policy violations in
`page.console_errors` (also the `console_errors` fixture), and leaves a screenshot in
test-artifacts/ when its test fails.

Without /usr/bin/chromium the browser tests skip, unless TRUSTBENCH_REQUIRE_BROWSER=1
says they must run (then they fail).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 10_000


def _browser_problem() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return f"playwright is not installed ({error})"
    return None


@pytest.fixture(scope="session")
def browser_available() -> None:
    problem = _browser_problem()
    if problem is None:
        return
    if os.environ.get("TRUSTBENCH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests are required (TRUSTBENCH_REQUIRE_BROWSER=1): {problem}")
    pytest.skip(f"browser tests skipped: {problem}")


class LiveServer(str):
    """The base URL (http://127.0.0.1:<port>), carrying the app it serves."""

    app = None

    def url(self, path: str) -> str:
        return self + path


@pytest.fixture
def live_app(app):
    """The test's app, as served by `live_server`."""
    return app


@pytest.fixture
def live_server(live_app) -> Iterator[LiveServer]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    base = LiveServer(f"http://127.0.0.1:{server.server_port}")
    base.app = live_app
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser(browser_available):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# A page's own HTTP status (a 422 form, the favicon's 404) is for a test to assert, not
# a console problem.
_HTTP_STATUS_NOTICE = "Failed to load resource: the server responded with a status of"


def _is_console_problem(message) -> bool:
    if "Content Security Policy" in message.text:
        return True
    return message.type == "error" and not message.text.startswith(_HTTP_STATUS_NOTICE)


@pytest.fixture
def page(browser, request):
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    browser_page = context.new_page()
    errors: list[str] = []
    browser_page.console_errors = errors
    browser_page.on("console", lambda m: errors.append(m.text) if _is_console_problem(m)
                    else None)
    browser_page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    try:
        yield browser_page
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
            browser_page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        context.close()


@pytest.fixture
def console_errors(page) -> list[str]:
    """Console errors and CSP violations the page reported so far."""
    return page.console_errors
