"""Security headers on every response, and no CSP violation on any page in Chromium.

Every GET route of the URL map is opened in Chromium (the dashboard's as a logged-in
reviewer), with the htmx interactions each page offers exercised; any CSP violation
(reported by the browser's `securitypolicyviolation` event or its console), uncaught
exception, console error or dialog fails the test. Rows holding hostile text are on
those pages too: no dialog may open. A control proves the watch works: an injected
inline script and inline style are refused and reported.
"""

from __future__ import annotations

import pytest
from flask import g

from webapp.models import FeedbackNote
from webapp.services import accounts, evidence, tokens
from webapp.services.rules import Kind, State

browser = pytest.mark.browser

REVIEWER = ("csp-reviewer", "a reviewer password for csp")
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
HTTP_STATUS_NOTICE = "Failed to load resource: the server responded with a status of"
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') +
                           ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
"""
REQUIRED_CSP = ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'")


# --- the headers -------------------------------------------------------------------------------


def _clean_g():
    # The suite's app fixture keeps one app context (and so one `g`) for the whole test.
    for name in list(vars(g)):
        delattr(g, name)


def _get(client, path, **kwargs):
    _clean_g()
    response = client.get(path, **kwargs)
    response.close()
    return response


def test_every_response_carries_the_security_headers(world_rows, app, client):
    paths = get_paths(app, world_rows)
    for path in paths + ["/does-not-exist", "/static/site.css"]:
        response = _get(client, path)
        headers = response.headers
        csp = headers.get("Content-Security-Policy", "")
        where = f"{path} ({response.status_code})"
        for directive in REQUIRED_CSP:
            assert directive in csp, f"{where}: CSP lacks {directive!r}: {csp}"
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
        assert headers.get("X-Content-Type-Options") == "nosniff", where
        # strict-origin (the status page) is stricter than the others: it never sends a
        # path, so the status link's token reaches no log even on the same origin.
        assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin",
                                                  "strict-origin-when-cross-origin"), where
        assert headers.get("X-Frame-Options") == "DENY", where
        assert "Strict-Transport-Security" not in headers, f"{where}: HSTS over plain HTTP"


def test_https_adds_hsts_and_secure_cookies(app, client):
    response = _get(client, "/submit/benchmark", base_url="https://localhost")
    assert "max-age=" in response.headers.get("Strict-Transport-Security", "")
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies, "the form page sets a session cookie (its CSRF token)"
    assert all("Secure" in cookie for cookie in cookies), cookies


def test_https_behind_the_trusted_proxy_adds_hsts_and_secure_cookies(app, client):
    """nginx terminates TLS and says so in X-Forwarded-Proto (docs/deployment.md)."""
    app.config["TRUSTED_PROXY_COUNT"] = 1
    response = _get(client, "/submit/benchmark", headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"})
    assert "max-age=" in response.headers.get("Strict-Transport-Security", ""), (
        "behind a TLS-terminating proxy the app never sees HTTPS")
    assert all("Secure" in c for c in response.headers.getlist("Set-Cookie"))
    # An untrusted client cannot claim HTTPS for itself.
    app.config["TRUSTED_PROXY_COUNT"] = 0
    response = _get(client, "/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


# --- every page in Chromium -------------------------------------------------------------------


@pytest.fixture
def world_rows(app, make_row, session):
    app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8, ARGON2_PARALLELISM=1)
    accounts.add_reviewer(session, *REVIEWER)
    hub = make_row(handle=HOSTILE[:40], url='https://example.com/"onmouseover="alert(1)',
                   notes=HOSTILE, os_label=HOSTILE[:80], runtime_version=HOSTILE[:60])
    repro = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="repro",
                     notes=HOSTILE, runs=((251.0, 512, 100.0), (252.0, 512, 99.0),
                                          (250.0, 512, 101.0)))
    queued = make_row(state=State.QUEUED, kind=Kind.REPRODUCTION, hub=hub, notes=HOSTILE,
                      handle=HOSTILE[:40])
    rejected = make_row(state=State.REJECTED, rejection_reason=HOSTILE[:160], notes=HOSTILE)
    evidence.refresh_derived(session, hub)
    note = FeedbackNote(submission_id=hub.id, kind="other", message=HOSTILE)
    session.add(note)
    session.commit()
    return {"hub": hub, "repro": repro, "queued": queued, "rejected": rejected, "note": note,
            "token": tokens.status_token(rejected), "queued_token": tokens.status_token(queued)}


# Not pages: the static files, and downloads the browser saves instead of showing.
DOWNLOADS = {"static", "open_data.benchmarks_csv", "open_data.benchmarks_jsonl",
             "open_data.snapshot_file"}


def get_paths(app, rows) -> list[str]:
    values = {"benchmark_id": rows["hub"].id, "submission_id": rows["queued"].id,
              "note_id": rows["note"].id, "token": rows["token"], "slug": "rtx-4090",
              "filename": "site.css"}
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in DOWNLOADS:
            continue
        if rule.endpoint == "public.resource":
            paths += [f"/resources/{name}" for name in (
                "reproduction-guide", "verification-policy", "confidence-methodology")]
            continue
        missing = rule.arguments - set(values)
        assert not missing, f"{rule.rule}: no value for {missing}"
        args = {name: values[name] for name in rule.arguments}
        if rule.endpoint == "public.model":
            args["slug"] = "llama-3.1-8b-instruct"
        paths.append(rule.build(args, append_unknown=False)[1])
    extra = [f"/submit/feedback?benchmark={rows['hub'].id}",
             f"/submissions/{rows['queued_token']}", f"/review/submissions/{rows['hub'].id}",
             f"/review/submissions/{rows['rejected'].id}", "/review/?kind=reproduction"]
    return sorted(set(paths + extra))


class Watch:
    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        page.add_init_script(WATCH_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("dialog", self._dialog)

    def _console(self, message):
        if "Content Security Policy" in message.text or (
                message.type == "error" and not message.text.startswith(HTTP_STATUS_NOTICE)):
            self.problems.append(f"console: {message.text}")

    def _dialog(self, dialog):
        self.problems.append(f"dialog opened: {dialog.type} {dialog.message!r}")
        dialog.dismiss()

    def check(self, where: str) -> None:
        violations = self.page.evaluate("window.__violations || []")
        self.problems += [f"CSP violation: {v}" for v in violations]
        found, self.problems = self.problems, []
        assert found == [], f"{where}:\n" + "\n".join(found)


def log_in(page, live_server) -> None:
    page.goto(live_server.url("/review/login"))
    page.fill("#login-name", REVIEWER[0])
    page.fill("#login-password", REVIEWER[1])
    with page.expect_navigation():
        page.click("form[action='/review/login'] button[type=submit]")
    assert "/review/login" not in page.url


@browser
def test_the_watch_sees_a_violation(live_server, page, world_rows):
    """Control: an inline script and an inline style injected into a page are refused
    and reported, so the silence of the other tests means something."""
    watch = Watch(page)
    page.goto(live_server.url("/"))
    page.evaluate("""() => {
        const script = document.createElement('script');
        script.textContent = 'window.__inlineRan = true';
        document.body.appendChild(script);
        document.body.setAttribute('style', 'background: red');
    }""")
    page.wait_for_function("window.__violations.length >= 2")
    assert page.evaluate("window.__inlineRan === undefined")
    with pytest.raises(AssertionError, match="script-src"):
        watch.check("control")
    page.console_errors.clear()


@browser
def test_no_page_violates_the_csp_or_opens_a_dialog(live_server, page, world_rows):
    app = live_server.app
    watch = Watch(page)
    paths = get_paths(app, world_rows)
    public = [p for p in paths if not p.startswith("/review")]
    review = [p for p in paths if p.startswith("/review") and p != "/review/login"]
    assert len(public) >= 12 and len(review) >= 5, paths

    # /review/login first, while logged out; then every page.
    page.goto(live_server.url("/review/login"))
    watch.check("/review/login")
    for path in public:
        page.goto(live_server.url(path))
        page.wait_for_load_state("load")
        watch.check(path)
    log_in(page, live_server)
    for path in review:
        page.goto(live_server.url(path))
        page.wait_for_load_state("load")
        watch.check(path)

    # The htmx interactions: catalog filters, the live checks, a queue decision.
    page.goto(live_server.url("/"))
    page.select_option("#f-model", "llama-3.1-8b-instruct")
    page.wait_for_url("**model=llama-3.1-8b-instruct**")
    watch.check("catalog filter swap")

    page.goto(live_server.url("/submit/benchmark"))
    for index, decode in enumerate((100, 101, 99)):
        page.fill(f"#f-runs-{index}-ttft_ms", "250")
        page.fill(f"#f-runs-{index}-tokens_generated", "512")
        page.fill(f"#f-runs-{index}-decode_tps", str(decode))
    page.wait_for_selector("#live-check table.live-numbers")
    watch.check("fresh form live check")

    hub = world_rows["hub"]
    page.goto(live_server.url(f"/benchmarks/{hub.id}/reproduce"))
    for index, decode in enumerate((150, 151, 149)):
        page.fill(f"#f-runs-{index}-ttft_ms", "250")
        page.fill(f"#f-runs-{index}-tokens_generated", "512")
        page.fill(f"#f-runs-{index}-decode_tps", str(decode))
    page.wait_for_selector('#live-check [data-band="not-reproduction"]')
    watch.check("reproduce live check")

    queued = world_rows["queued"]
    page.goto(live_server.url("/review/"))
    page.click(f"#queue-row-{queued.id} form[action$='/reproduced'] button")
    page.wait_for_selector(f"#queue-row-{queued.id}.decided .confirmation")
    watch.check("queue decision swap")

    assert page.console_errors == []
