"""End-to-end journeys in Chromium, each with JavaScript on and with it off.

A newcomer filters the catalog and shares the filtered URL; an operator submits a
fresh row and follows its private status link; an operator reproduces a row while the
live warning moves between bands (after submitting, without JavaScript), a reviewer
marks it reproduced, and the hub's badge moves on its public page. Every page of every
journey is watched for console errors, CSP violations, uncaught exceptions and dialogs,
and photographed; the photographs land in test-artifacts/ when the journey fails.
Afterwards no raw client address is in the database or in the served log.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, text

from webapp.extensions import db
from webapp.models import Submission
from webapp.services import accounts, evidence
from webapp.services.rules import Kind, State

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
REVIEWER = ("rita", "a reviewer password for journeys")
HUB_BADGE = "p.markers .badge"
ROW_LINKS = "#catalog-results table.rows tbody a[href^='/benchmarks/']"
JS = pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
HTTP_STATUS_NOTICE = "Failed to load resource: the server responded with a status of"


class Journey:
    """The pages one journey opens, watched and photographed step by step."""

    def __init__(self, browser, live_server, first_page, js: bool):
        self.browser = browser
        self.base = live_server
        self.js = js
        self.first_page = first_page
        self.problems: list[str] = []
        self.shots: list[tuple[str, bytes]] = []
        self.contexts = []

    def watch(self, page, who: str) -> None:
        def on_console(message):
            if "Content Security Policy" in message.text or (
                    message.type == "error" and not message.text.startswith(HTTP_STATUS_NOTICE)):
                self.problems.append(f"{who} console: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"{who} page error: {error}"))
        page.on("dialog", lambda dialog: (self.problems.append(
            f"{who} dialog: {dialog.message}"), dialog.dismiss()))

    def visitor(self, who: str):
        """A new person: their own browser context (cookies), JavaScript as the journey says."""
        if self.js and self.first_page is not None:
            page, self.first_page = self.first_page, None
            # The page fixture already collects console errors; add dialogs and a name.
            page.on("dialog", lambda dialog: (self.problems.append(
                f"{who} dialog: {dialog.message}"), dialog.dismiss()))
            self.fixture_page = page
            return page
        context = self.browser.new_context(java_script_enabled=self.js)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        self.watch(page, who)
        return page

    def go(self, page, path: str, label: str):
        response = page.goto(self.base.url(path))
        self.snap(page, label)
        return response

    def snap(self, page, label: str) -> None:
        page.wait_for_load_state()
        self.shots.append((label, page.screenshot(full_page=True, caret="initial")))

    def all_problems(self) -> list[str]:
        fixture_errors = getattr(getattr(self, "fixture_page", None), "console_errors", [])
        return self.problems + [f"page console: {e}" for e in fixture_errors]

    def close(self, failed: bool, name: str) -> None:
        if failed and self.shots:
            folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
            folder.mkdir(parents=True, exist_ok=True)
            for index, (label, image) in enumerate(self.shots, 1):
                (folder / f"{index:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', label)}.png"
                 ).write_bytes(image)
        for context in self.contexts:
            context.close()


@pytest.fixture
def journey_for(browser, live_server, page, request, caplog):
    """journey_for(js) -> Journey; on teardown: screenshots if the test failed, and no
    console problem, CSP violation or dialog on any page it opened."""
    caplog.set_level(logging.INFO, logger="werkzeug")
    made: list[Journey] = []

    def make(js: bool) -> Journey:
        journey = Journey(browser, live_server, page, js)
        made.append(journey)
        return journey

    yield make
    report = getattr(request.node, "report_call", None)
    for journey in made:
        journey.close(bool(report and report.failed), request.node.nodeid)


def assert_clean(journey: Journey) -> None:
    assert journey.all_problems() == [], "\n".join(journey.all_problems())


def assert_no_raw_address(caplog) -> None:
    """The served log and the database never hold the client's address (127.0.0.1)."""
    assert '"GET /' in caplog.text, "the served access log was not captured"
    assert "127.0.0.1" not in caplog.text, [r.getMessage() for r in caplog.records
                                            if "127.0.0.1" in r.getMessage()][:3]
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(text(f'SELECT * FROM "{table.name}"')):
            assert "127.0.0.1" not in repr(tuple(row)), f"{table.name}: {row}"
    db.session.rollback()


def row_ids(page) -> list[int]:
    return [int(href.rsplit("/", 1)[-1]) for href in
            page.eval_on_selector_all(ROW_LINKS, "links => links.map(a => a.getAttribute('href'))")]


def hub(make_row, session, **kwargs) -> Submission:
    row = make_row(**kwargs)
    evidence.refresh_derived(session, row)
    return row


# --- a newcomer filters the catalog and shares the URL ---------------------------------


@JS
def test_newcomer_filters_the_catalog_and_shares_the_filtered_url(
        js, journey_for, make_row, session, caplog):
    llama_4090 = hub(make_row, session, handle="one")
    qwen_4090 = hub(make_row, session, model="qwen2.5-7b-instruct", handle="two")
    qwen_3090 = hub(make_row, session, model="qwen2.5-7b-instruct", hardware="rtx-3090",
                    handle="three", runs=((300.0, 512, 80.0), (301.0, 512, 81.0),
                                          (299.0, 512, 79.0)))
    llama_3090 = hub(make_row, session, hardware="rtx-3090", handle="four")
    session.commit()
    journey = journey_for(js)
    newcomer = journey.visitor("newcomer")

    journey.go(newcomer, "/", "catalog")
    assert sorted(row_ids(newcomer)) == sorted(
        [llama_4090.id, qwen_4090.id, qwen_3090.id, llama_3090.id])

    def choose(select: str, value: str, label: str) -> None:
        newcomer.select_option(select, value)
        if js:  # htmx swaps the results and pushes the URL; no page load
            newcomer.wait_for_url(re.compile(re.escape(f"{select[3:]}={value}")))
        else:
            with newcomer.expect_navigation():
                newcomer.click("form.filters button[type=submit]")
        journey.snap(newcomer, label)

    if js:
        newcomer.evaluate("window.__sameDocument = true")
    choose("#f-model", "qwen2.5-7b-instruct", "filtered by model")
    newcomer.wait_for_function(
        f"document.querySelectorAll({ROW_LINKS!r}).length === 2")
    assert sorted(row_ids(newcomer)) == sorted([qwen_4090.id, qwen_3090.id])
    choose("#f-hardware", "rtx-3090", "filtered by model and hardware")
    newcomer.wait_for_function(
        f"document.querySelectorAll({ROW_LINKS!r}).length === 1")
    assert row_ids(newcomer) == [qwen_3090.id]
    if js:
        assert newcomer.evaluate("window.__sameDocument") is True

    shared = newcomer.url
    query = parse_qs(urlsplit(shared).query)
    assert query["model"] == ["qwen2.5-7b-instruct"] and query["hardware"] == ["rtx-3090"]

    # Whoever opens the shared URL sees the same filters and the same rows.
    friend = journey.visitor("friend")
    friend.goto(shared)
    journey.snap(friend, "shared URL opened by a friend")
    assert friend.input_value("#f-model") == "qwen2.5-7b-instruct"
    assert friend.input_value("#f-hardware") == "rtx-3090"
    assert friend.input_value("#f-quant") == ""
    assert row_ids(friend) == [qwen_3090.id]

    # And browsing on from there reaches the row.
    with friend.expect_navigation():
        friend.click(f"{ROW_LINKS}[href='/benchmarks/{qwen_3090.id}']")
    journey.snap(friend, "row detail")
    assert "/benchmarks/" in friend.url and friend.inner_text(HUB_BADGE) == "Community-submitted"
    assert_clean(journey)
    assert_no_raw_address(caplog)


# --- an operator submits a fresh row and follows its status link ---------------------------


FRESH_SELECTS = {"#f-model": "llama-3.1-8b-instruct", "#f-hardware": "rtx-4090",
                 "#f-quant": "gguf-q4_k_m", "#f-runtime": "llama-cpp"}
FRESH_TEXT = {
    "#f-runtime_version": "b4500", "#f-driver_version": "NVIDIA 560.35.03 / CUDA 12.6",
    "#f-os_label": "Ubuntu 24.04", "#f-prompt_tokens": "500", "#f-max_tokens": "512",
    "#f-seed": "42", "#f-quant_provider": "bartowski", "#f-vram_peak_mib": "6200",
}


def type_runs(page, runs) -> None:
    for index, (ttft, tokens, decode) in enumerate(runs):
        page.fill(f"#f-runs-{index}-ttft_ms", str(ttft))
        page.fill(f"#f-runs-{index}-tokens_generated", str(tokens))
        page.fill(f"#f-runs-{index}-decode_tps", str(decode))


def status_path(page) -> str:
    link = page.input_value("#status-link")
    parts = urlsplit(link)
    assert parts.path.startswith("/submissions/"), link
    return parts.path


@JS
def test_operator_submits_a_fresh_row_and_follows_its_status_link(
        js, journey_for, session, caplog):
    journey = journey_for(js)
    operator = journey.visitor("operator")
    journey.go(operator, "/submit/benchmark", "fresh form")
    for selector, value in FRESH_SELECTS.items():
        operator.select_option(selector, value)
    for selector, value in FRESH_TEXT.items():
        operator.fill(selector, value)
    type_runs(operator, ((250, 512, 100), (252, 512, 101), (248, 512, 99)))
    operator.fill("#f-notes", "journey fresh row")
    if js:  # the live check shows the medians before sending
        operator.wait_for_selector("#live-check table.live-numbers")
        assert "100" in operator.inner_text("#live-check")
    journey.snap(operator, "fresh form filled")
    with operator.expect_navigation():
        operator.click("form.submission-form button[type=submit]")
    journey.snap(operator, "received")
    path = status_path(operator)
    assert "Queued" in operator.inner_text(".status-panel")

    # The private link works on its own, for whoever holds it (another device, later).
    later = journey.visitor("operator later")
    journey.go(later, path, "status link")
    assert "Queued" in later.inner_text(".status-panel")
    assert later.locator("form.withdraw-form").count() == 1
    session.rollback()  # end the test's read snapshot: the server wrote since
    stored = session.scalars(select(Submission).where(Submission.notes == "journey fresh row"))
    rows = stored.all()
    assert len(rows) == 1 and rows[0].state == State.QUEUED and len(rows[0].runs) == 3
    assert_clean(journey)
    assert_no_raw_address(caplog)


# --- reproduce, review, and the badge moves ---------------------------------------------------


def expected_band(decodes) -> str:
    worst = max(abs(d - 100) / 100 for d in decodes)  # the hub's decode median is 100
    return "within" if worst <= 0.10 else "related" if worst <= 0.25 else "not-reproduction"


def show_band(journey: Journey, page, decodes, label: str) -> None:
    """Type the runs; the band shows live with JavaScript, after submitting without."""
    type_runs(page, [(250, 512, d) for d in decodes])
    if not journey.js:
        with page.expect_navigation():
            page.click("form.submission-form button[type=submit]")
    page.wait_for_selector(f'#live-check [data-band="{expected_band(decodes)}"]')
    journey.snap(page, label)


@JS
def test_operator_reproduces_reviewer_marks_it_and_the_badge_moves(
        js, journey_for, live_server, make_row, session, caplog):
    live_server.app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8,
                                  ARGON2_PARALLELISM=1)
    accounts.add_reviewer(session, *REVIEWER)
    original = hub(make_row, session, handle="origin")
    session.commit()
    journey = journey_for(js)

    operator = journey.visitor("operator")
    journey.go(operator, f"/benchmarks/{original.id}", "hub before")
    assert operator.inner_text(HUB_BADGE) == "Community-submitted"
    with operator.expect_navigation():
        operator.click("a:has-text('Reproduce this benchmark')")
    journey.snap(operator, "reproduce form")
    operator.fill("#f-vram_peak_mib", "6150")
    operator.fill("#f-runtime_version", "b4500")
    operator.fill("#f-driver_version", "NVIDIA 560.35.03 / CUDA 12.6")
    operator.fill("#f-os_label", "Ubuntu 24.04")

    # The warning moves between bands as the numbers change: live while typing with
    # JavaScript; without it, each POST answers with the band beside the numbers.
    if js:
        show_band(journey, operator, (101, 99, 100), "within")
    show_band(journey, operator, (118, 119, 120), "related")
    if js:
        operator.wait_for_selector("#live-check .note-status strong")
    else:
        assert operator.locator("#e-notes").count() == 1  # refused: the note is required
        assert operator.input_value("#f-runs-2-decode_tps") == "120"
    show_band(journey, operator, (150, 151, 149), "not a reproduction")
    refusal = operator.locator("#live-check .refusal-links a").first.get_attribute("href")
    assert "/submit/benchmark" in refusal and "decode_tps=15" in refusal
    assert operator.locator(
        f"#live-check a[href='/submit/feedback?benchmark={original.id}']").count() == 1
    if js:
        show_band(journey, operator, (101, 99, 100), "back within")
    else:
        type_runs(operator, [(250, 512, d) for d in (101, 99, 100)])
    with operator.expect_navigation():
        operator.click("form.submission-form button[type=submit]")
    journey.snap(operator, "reproduction received")
    path = status_path(operator)
    session.rollback()  # end the test's read snapshot: the server wrote since
    repro = session.scalars(select(Submission).where(
        Submission.hub_id == original.id, Submission.kind == Kind.REPRODUCTION)).one()
    assert repro.state == State.QUEUED and repro.band == "within"

    # A reviewer logs in and marks it reproduced.
    reviewer = journey.visitor("reviewer")
    journey.go(reviewer, "/review/", "login redirect")
    assert "/review/login" in reviewer.url
    reviewer.fill("#login-name", REVIEWER[0])
    reviewer.fill("#login-password", REVIEWER[1])
    with reviewer.expect_navigation():
        reviewer.click("form[action='/review/login'] button[type=submit]")
    journey.snap(reviewer, "queue")
    with reviewer.expect_navigation():
        reviewer.click(f"#queue-row-{repro.id} a[href='/review/submissions/{repro.id}']")
    journey.snap(reviewer, "side by side")
    with reviewer.expect_navigation():
        reviewer.click(".decisions-panel form[action$='/reproduced'] button[type=submit]")
    journey.snap(reviewer, "decided")
    assert "Reproduced" in reviewer.inner_text(".state-line")

    # The hub's badge moves on its public page, and the operator's link says so.
    journey.go(operator, f"/benchmarks/{original.id}", "hub after")
    assert operator.inner_text(HUB_BADGE) == "Reproduced"
    journey.go(operator, path, "status after")
    assert "Reproduced" in operator.inner_text(".status-panel")
    assert_clean(journey)
    assert_no_raw_address(caplog)
