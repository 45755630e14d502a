"""Issue 10's security findings, each as an attacker or an unlucky operator meets it.

8  the status page's Withdraw works over HTTPS, with or without a Referer, and its
   referrer policy never hands the token to another site;
10 log lines carry no status token and no raw control character;
11 a body over the size cap is refused with the 413 page however it is sent;
12 control characters in a path, a query or a form are refused with a 400 page;
13 a database that cannot be written answers 503 with the typed values carried back,
   and /healthz says what is wrong with it;
15 rate limits count over a sliding window, not one that resets on the clock hour;
16 form pages are private and uncached, a 404 opens no session, HEAD matches GET.

(Items 9 and 14 live beside their subjects: tests/review/test_review_auth.py and
tests/deploy/test_malformed.py.)
"""

from __future__ import annotations

import http.client
import io
import logging
import re
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import html5lib
import pytest
from sqlalchemy import event, func, select
from werkzeug.serving import make_server

from tests.conftest import POSTGRES_URL
from tests.review.conftest import PASSWORD
from tests.test_submit_support import csrf_of, form_values, fresh_form
from webapp import create_app
from webapp.extensions import db
from webapp.models import AuditEvent, FeedbackNote, RateCounter, Submission
from webapp.services import accounts, privacy, tokens
from webapp.services.rules import State

HTTPS = {"X-Forwarded-Proto": "https"}
SITE = "https://localhost"


def count(session, model=Submission) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def queued(app, client, session):
    """A queued fresh submission and its status path (CSRF off for the submit only)."""
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/submit/benchmark", data=fresh_form())
    app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 303
    path = urlsplit(response.headers["Location"]).path
    return session.scalars(select(Submission)).one(), path


# --- 8. withdraw over HTTPS --------------------------------------------------------------


def browser_referrer(policy: str, page: str, target: str) -> str | None:
    """The Referer a browser sends from `page` to `target` (W3C Referrer Policy, §8.3)."""
    source, goal = urlsplit(page), urlsplit(target)
    same_origin = (source.scheme, source.netloc) == (goal.scheme, goal.netloc)
    downgrade = source.scheme == "https" and goal.scheme != "https"
    full, origin = page.split("#")[0], f"{source.scheme}://{source.netloc}/"
    return {
        "no-referrer": None,
        "no-referrer-when-downgrade": None if downgrade else full,
        "same-origin": full if same_origin else None,
        "origin": origin,
        "strict-origin": None if downgrade else origin,
        "origin-when-cross-origin": full if same_origin else origin,
        "strict-origin-when-cross-origin": full if same_origin else (
            None if downgrade else origin),
        "unsafe-url": full,
    }[policy]


def browser_origin(policy: str, page: str, target: str) -> str:
    """The Origin header of a POST from `page` to `target` (Fetch, "serializing a request
    origin")."""
    source, goal = urlsplit(page), urlsplit(target)
    origin = f"{source.scheme}://{source.netloc}"
    if policy == "no-referrer":
        return "null"
    if policy in ("no-referrer-when-downgrade", "strict-origin",
                  "strict-origin-when-cross-origin") and (
            source.scheme == "https" and goal.scheme != "https"):
        return "null"
    if policy == "same-origin" and (source.scheme, source.netloc) != (goal.scheme,
                                                                       goal.netloc):
        return "null"
    return origin


@pytest.fixture
def behind_https_proxy(app):
    app.config["TRUSTED_PROXY_COUNT"] = 1


def _status_over_https(client, path):
    page = client.get(path, headers=HTTPS)
    assert page.status_code == 200
    assert "Strict-Transport-Security" in page.headers, "the proxy's word for HTTPS is taken"
    return page, page.headers["Referrer-Policy"]


@pytest.mark.parametrize("sent", ["what a browser sends", "no Referer", "no Referer or Origin",
                                  "Referer only"])
def test_withdraw_works_over_https(client, session, queued, behind_https_proxy, sent):
    row, path = queued
    page, policy = _status_over_https(client, path)
    url, target = SITE + path, f"{SITE}{path}/withdraw"
    headers = dict(HTTPS)
    referrer, origin = browser_referrer(policy, url, target), browser_origin(policy, url, target)
    if sent == "what a browser sends":
        headers["Origin"] = origin
        if referrer:
            headers["Referer"] = referrer
    elif sent == "no Referer":
        headers["Origin"] = origin
    elif sent == "Referer only":
        headers["Referer"] = referrer or f"{SITE}/"
    response = client.post(f"{path}/withdraw", data={"csrf_token": csrf_of(page.text)},
                           headers=headers)
    assert response.status_code == 303, response.text
    session.expire_all()
    assert session.get(Submission, row.id).state == State.WITHDRAWN


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
    {"Origin": "http://localhost"},  # the same host over plain HTTP
    {"Origin": "https://localhost.evil.example", "Referer": f"{SITE}/"},
])
def test_withdraw_over_https_refuses_another_origin(client, session, queued,
                                                    behind_https_proxy, headers):
    row, path = queued
    page, _policy = _status_over_https(client, path)
    response = client.post(f"{path}/withdraw", data={"csrf_token": csrf_of(page.text)},
                           headers={**HTTPS, **headers})
    assert response.status_code == 400
    assert "<title>" in response.text
    session.expire_all()
    assert session.get(Submission, row.id).state == State.QUEUED


def test_the_status_pages_policy_keeps_the_token_on_the_page(client, queued,
                                                              behind_https_proxy):
    _row, path = queued
    _page, policy = _status_over_https(client, path)
    token = path.rsplit("/", 1)[1]
    for target in ("https://elsewhere.example/", "http://elsewhere.example/",
                   f"{SITE}/benchmarks/1", f"{SITE}{path}/withdraw"):
        sent = browser_referrer(policy, SITE + path, target) or ""
        assert token not in sent, (policy, target)


# --- 10. logs: no token, no raw control character -----------------------------------------


class Lines(logging.Handler):
    """The formatted lines a logger writes, as an operator's log file would hold them."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
        self.text = ""

    def emit(self, record):
        self.text += self.format(record) + "\n"


@pytest.fixture
def log_lines():
    """Attach a collecting handler to the named loggers; yield the collector."""
    attached = []

    def attach(*names: str) -> Lines:
        lines = Lines()
        for name in names:
            logger = logging.getLogger(name)
            attached.append((logger, logger.disabled, logger.level))
            logger.disabled = False
            logger.setLevel(logging.DEBUG)
            logger.addHandler(lines)
        return lines

    yield attach
    for logger, disabled, level in attached:
        for handler in [h for h in logger.handlers if isinstance(h, Lines)]:
            logger.removeHandler(handler)
        logger.disabled, logger.level = disabled, level


FORGED = "\n[2026-01-01 00:00:00 +0000] [1] [CRITICAL] forged line"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def assert_clean(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} reached the log"
    assert not CONTROL.search(text), f"raw control character in the log: {text!r}"
    for line in text.splitlines():
        assert not line.startswith(FORGED.strip()[:11]), f"a forged line: {line!r}"


def test_an_unhandled_error_logs_neither_the_token_nor_a_forged_line(
        app, client, queued, monkeypatch, log_lines):
    _row, path = queued
    token = path.rsplit("/", 1)[1]

    def explode(_value):
        raise RuntimeError(f"boom for {path}{FORGED}\x1b[2J")

    monkeypatch.setattr(tokens, "read_status", explode)
    lines = log_lines(app.logger.name)
    response = client.get(path)
    assert response.status_code == 500 and "<title>" in response.text
    assert "unhandled error" in lines.text and "/submissions/" in lines.text
    assert_clean(lines.text, token)
    assert "RuntimeError" in lines.text  # the traceback is still there to read


@pytest.mark.parametrize("logger_name", ["webapp", "werkzeug", "gunicorn.error",
                                         "gunicorn.access", "webapp.services.example"])
def test_every_logger_escapes_values_and_cuts_tokens(app, log_lines, logger_name):
    token = "eyJpZCI6MX0.aBcDeF.sIgNaTuRe-123_x"
    logger = logging.getLogger(logger_name)  # a module's logger exists before the app
    privacy.install_log_filter(app)
    lines = log_lines(logger_name)
    logger.warning("value %s and path %s", f"a\x00b\r\nc{FORGED}",
                   f"/submissions/{token}/withdraw")
    logger.warning(f"inline /submissions/{token}\x1b[31m red \u202e evil")
    try:
        raise ValueError(f"typed {FORGED} /submissions/{token}")
    except ValueError:
        logger.exception("failed on /submissions/%s", token)
    assert "/submissions/[token]" in lines.text
    assert "\\x00" in lines.text or "\\0" in lines.text  # escaped, still visible
    assert_clean(lines.text, token)


def test_werkzeug_access_lines_keep_no_address_token_or_control_character(app, log_lines):
    privacy.install_log_filter(app)
    lines = log_lines("werkzeug")
    logging.getLogger("werkzeug").info(
        '%s - - [%s] "%s" %s -', "2001:db8::5", "date",
        "GET /submissions/abc.def.ghi\x1b]0;owned\x07 HTTP/1.1", 200)
    assert lines.text.startswith("[INFO] - - - [date]")
    assert_clean(lines.text, "2001:db8", "abc.def.ghi")


def test_the_log_filter_is_one_implementation_installed_once(app):
    privacy.install_log_filter(app)
    for name in ("werkzeug", app.logger.name, "gunicorn.error", "gunicorn.access"):
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, privacy.LogRedactor) for f in filters) == 1, name


# --- 11. a body over the cap, however it is sent -----------------------------------------


def _oversized_form(app) -> bytes:
    """A valid submission whose last field arrives after more bytes than the cap allows
    (the fresh form's: the import's, as the form carries the paste box too)."""
    limit = app.config["INTAKE_MAX_CONTENT_LENGTH"]
    head = urlencode(fresh_form(notes=""))
    padding = "&padding=" + "x" * (limit - len(head))
    return (head + padding + "&notes=the+tail+field").encode()


@pytest.fixture
def dev_server(app):
    """The development server (werkzeug) serving the test app on a free port."""
    app.config["WTF_CSRF_ENABLED"] = False
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def _post_chunked(port: int, path: str, body: bytes) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        chunks = (body[i:i + 16384] for i in range(0, len(body), 16384))
        connection.request("POST", path, body=chunks, encode_chunked=True, headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_a_chunked_body_over_the_cap_is_refused_by_the_dev_server(app, session, dev_server):
    status, page = _post_chunked(dev_server.server_port, "/submit/benchmark",
                                 _oversized_form(app))
    assert status == 413 and "too large" in page and "<title>" in page
    session.expire_all()
    assert count(session) == 0


def test_a_chunked_body_under_the_cap_still_works_on_the_dev_server(app, session,
                                                                     dev_server):
    body = urlencode(fresh_form(notes="sent in chunks")).encode()
    status, page = _post_chunked(dev_server.server_port, "/submit/benchmark", body)
    assert status == 303, page
    session.expire_all()
    assert session.scalars(select(Submission.notes)).one() == "sent in chunks"


def test_a_chunked_body_over_the_cap_is_refused_in_process(app, client, session):
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post(
        "/submit/benchmark", input_stream=io.BytesIO(_oversized_form(app)),
        content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413 and b"too large" in response.data
    assert count(session) == 0


def test_a_body_over_the_cap_with_csrf_on_is_a_413_not_a_form_expired(app, client, session):
    response = client.post("/submit/benchmark", data={
        "notes": "x" * (app.config["INTAKE_MAX_CONTENT_LENGTH"] + 1)})
    assert response.status_code == 413
    response = client.post("/review/login", data={"password": "x" * (300 * 1024)})
    assert response.status_code == 413


# --- 12. control characters ------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/hardware/a%00b", "/models/a%00b", "/hardware/rtx%1b4090", "/resources/a%0Ab",
    "/submissions/abc%00def", "/no-such%00page", "/?model=a%00b", "/?q%00=1",
    "/hardware/a%C2%85b", "/review/login?next=/review/%00",
])
def test_control_characters_in_a_path_or_query_are_a_400_page(client, url):
    response = client.get(url)
    assert response.status_code == 400, url
    assert "<title>" in response.text and "control character" in response.text


@pytest.mark.parametrize(("name", "password"), [("ali\x00ce", PASSWORD),
                                               ("alice", PASSWORD + "\x07")])
def test_a_control_character_in_the_login_is_refused_on_the_login_page(
        app, client, session, name, password):
    app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8, ARGON2_PARALLELISM=1)
    accounts.add_reviewer(db.session, "alice", PASSWORD)
    db.session.commit()
    token = csrf_of(client.get("/review/login").text)
    response = client.post("/review/login", data={"csrf_token": token, "name": name,
                                                  "password": password})
    assert response.status_code == 422 and "control character" in response.text
    page = html5lib.parse(response.text, namespaceHTMLElements=False)
    assert page.find(".//input[@name='name']").get("value") == "alice"  # typed, kept
    assert page.find(".//input[@name='password']") is not None  # the form, to try again
    assert "\x00" not in response.text
    assert session.scalars(select(RateCounter)).first() is None  # not counted, not stored


@pytest.fixture
def reviewer_with_a_queued_row(app, client, session, make_row):
    app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8, ARGON2_PARALLELISM=1)
    accounts.add_reviewer(db.session, "alice", PASSWORD)
    row = make_row(state=State.QUEUED)
    session.add(AuditEvent(submission_id=row.id, actor="submitter", from_state=None,
                           to_state="queued", reason="", created_at=row.created_at))
    session.commit()
    token = csrf_of(client.get("/review/login").text)
    login = client.post("/review/login", data={"csrf_token": token, "name": "alice",
                                               "password": PASSWORD})
    assert login.status_code == 303
    return row, csrf_of(client.get("/review/").text)


@pytest.mark.parametrize("text", ["looks fine\x00", "bell\x07", "escape \x1b[2J", "del\x7f"])
@pytest.mark.parametrize(("action", "field", "extra"), [
    ("approve", "note", {}),
    ("reject", "reason_text", {"reason": "written"}),
])
def test_control_characters_in_reviewer_text_are_refused_beside_the_form_on_every_database(
        client, session, reviewer_with_a_queued_row, text, action, field, extra):
    """A pasted control character is a 422 on the submission's page saying so, with the
    note as typed in the form to mend (it was a bare 400 page that dropped it), and
    nothing decided or stored."""
    row, token = reviewer_with_a_queued_row
    response = client.post(f"/review/submissions/{row.id}/{action}",
                           data={"csrf_token": token, field: text, **extra})
    assert response.status_code == 422 and "control characters" in response.text
    page = html5lib.parse(response.text, namespaceHTMLElements=False)
    kept = [area.text or "" for area in page.iter("textarea") if area.get("name") == field]
    kept += [box.get("value") or "" for box in page.iter("input") if box.get("name") == field]
    def printable(value: str) -> str:  # a browser shows a NUL as U+FFFD, where it was
        return "".join(ch for ch in value if ch.isprintable() and ch != "\ufffd")

    assert printable(text) in {printable(value) for value in kept}, kept
    session.expire_all()
    assert session.get(Submission, row.id).state == State.QUEUED
    assert not any(text in (event.reason or "") for event in session.scalars(
        select(AuditEvent)))


def test_a_control_character_in_a_feedback_resolution_is_refused_with_the_text_kept(
        client, session, reviewer_with_a_queued_row):
    row, token = reviewer_with_a_queued_row
    note = FeedbackNote(submission_id=row.id, kind="other", message="numbers look off",
                        status="open", created_at=row.created_at)
    session.add(note)
    session.commit()
    response = client.post(f"/review/feedback/{note.id}/resolve",
                           data={"csrf_token": token, "resolution": "fixed\x00 it"})
    assert response.status_code == 422 and "control characters" in response.text
    assert "fixed" in response.text and " it" in response.text
    session.expire_all()
    assert session.get(FeedbackNote, note.id).status == "open"


def test_a_control_character_in_a_chosen_review_field_is_still_a_400(
        client, session, reviewer_with_a_queued_row):
    row, token = reviewer_with_a_queued_row
    response = client.post(f"/review/submissions/{row.id}/approve",
                           data={"csrf_token": token, "return_to": "queue\x00"})
    assert response.status_code == 400 and "control character" in response.text
    session.expire_all()
    assert session.get(Submission, row.id).state == State.QUEUED


def test_tabs_and_line_breaks_in_form_text_are_fine(client, session,
                                                    reviewer_with_a_queued_row):
    row, token = reviewer_with_a_queued_row
    response = client.post(f"/review/submissions/{row.id}/approve",
                           data={"csrf_token": token, "note": "checked\tthe runs\r\nall good"})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Submission, row.id).state == State.APPROVED


def test_a_nul_in_a_public_form_is_refused_beside_the_field_not_stored(app, client, session,
                                                                        make_row):
    # The public forms name the field (422, values kept); what matters here is that
    # no database sees the byte: nothing is stored, nothing fails with a 500.
    app.config["WTF_CSRF_ENABLED"] = False
    hub = make_row()
    session.commit()
    fresh = client.post("/submit/benchmark", data=fresh_form(notes="a\x00b"))
    feedback = client.post(f"/submit/feedback?benchmark={hub.id}",
                           data={"kind": "other", "message": "a\x00b"})
    check = client.post("/submit/benchmark/check", data=fresh_form(model="llama\x00"),
                        headers={"HX-Request": "true"})
    assert fresh.status_code == 422 and feedback.status_code == 422
    assert check.status_code in (200, 400, 422)
    assert count(session) == 1 and count(session, FeedbackNote) == 0


# --- 13. a database that cannot be written -----------------------------------------------


def _make_read_only(dbapi_connection, _record):
    if dbapi_connection.__class__.__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only = ON")  # what a read-only file answers
        cursor.close()
    else:
        dbapi_connection.execute("SET default_transaction_read_only = on")
        dbapi_connection.commit()


@pytest.fixture
def read_only_database(app, session):
    session.commit()
    engine = db.engine
    session.remove()
    engine.dispose()
    event.listen(engine, "connect", _make_read_only)
    yield
    event.remove(engine, "connect", _make_read_only)
    db.session.remove()
    engine.dispose()


def test_a_read_only_database_keeps_what_the_operator_typed(app, client, read_only_database):
    app.config["WTF_CSRF_ENABLED"] = False
    typed = fresh_form(notes="measured twice\nkeep this", handle="kept-operator")
    response = client.post("/submit/benchmark", data=typed)
    assert response.status_code == 503, response.text[:500]
    assert "<title>" in response.text
    assert "private" in response.headers["Cache-Control"]
    assert "no-store" in response.headers["Cache-Control"]
    shown = form_values(response.text)
    for name, value in typed.items():
        assert shown.get(name) == value, name
    assert "measured twice" in response.text  # visible, to copy by hand too
    assert 'action="/submit/benchmark"' in response.text
    assert 'name="csrf_token"' in response.text


def test_the_resend_form_of_a_503_page_posts_again_once_the_database_is_back(
        app, client, session):
    typed = fresh_form(notes="second try")
    engine = db.engine
    session.commit()
    session.remove()
    engine.dispose()
    event.listen(engine, "connect", _make_read_only)
    try:
        token = csrf_of(client.get("/submit/benchmark").text)
        page = client.post("/submit/benchmark", data={**typed, "csrf_token": token})
        assert page.status_code == 503
    finally:
        event.remove(engine, "connect", _make_read_only)
        db.session.remove()
        engine.dispose()
    again = client.post("/submit/benchmark", data=form_values(page.text))
    assert again.status_code == 303
    assert db.session.scalars(select(Submission.notes)).one() == "second try"


def test_a_read_only_database_fails_health(client, read_only_database):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "read-only"


def test_a_password_is_never_carried_back(app, client, read_only_database):
    app.config.update(WTF_CSRF_ENABLED=False, ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8,
                      ARGON2_PARALLELISM=1)
    response = client.post("/review/login", data={"name": "alice", "password": PASSWORD})
    assert response.status_code == 503
    assert PASSWORD not in response.text
    assert form_values(response.text).get("name") == "alice"


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's page limit stands for a full disk")
def test_a_full_sqlite_database_answers_503_and_fails_health(app, client, session):
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["RATE_LIMITS_ENABLED"] = False
    session.commit()
    engine = db.engine

    def full(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    session.remove()
    engine.dispose()
    with engine.connect() as connection:  # no free pages left to reuse
        connection.connection.driver_connection.execute("VACUUM")
    engine.dispose()
    event.listen(engine, "connect", full)
    try:
        statuses = [client.post("/submit/benchmark", data=fresh_form(notes=f"{n} " + "n" * 3900))
                    .status_code for n in range(30)]
        health = client.get("/healthz")
    finally:
        event.remove(engine, "connect", full)
        db.session.remove()
        engine.dispose()
    assert 503 in statuses and 500 not in statuses
    assert health.status_code == 503 and health.get_json()["database"] == "full"


def test_an_unreachable_database_is_a_503_page_and_fails_health(tmp_path):
    url = ("postgresql+psycopg://nobody@127.0.0.1:1/none" if POSTGRES_URL
           else f"sqlite:///{tmp_path / 'no' / 'such' / 'folder.sqlite3'}")
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url,
                      "SERVER_NAME": "localhost", "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    with app.app_context():
        health = client.get("/healthz")
        page = client.get("/")
        posted = client.post("/submit/benchmark", data=fresh_form(notes="keep me"))
        review = client.get("/review/login")
        db.engine.dispose()
    assert health.status_code == 503 and health.get_json()["database"] == "unreachable"
    assert page.status_code == 503 and "<title>" in page.text
    assert posted.status_code == 503 and form_values(posted.text)["notes"] == "keep me"
    assert review.status_code in (200, 503)


def test_a_healthy_database_is_ok(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


# --- 15. sliding rate windows ------------------------------------------------------------------


def test_the_limit_holds_across_the_clock_hour(app, session):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "submissions": (10, 3600)}
    before = datetime(2026, 3, 1, 12, 59, 50, tzinfo=UTC)
    assert not any(privacy.hit(session, "submissions", "k", before) for _ in range(10))
    after = before + timedelta(seconds=13)  # a new clock hour began 10 seconds ago
    assert privacy.hit(session, "submissions", "k", after) is True


def test_the_window_slides_and_frees_the_allowance_gradually(app, session):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "submissions": (10, 3600)}
    start = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert not any(privacy.hit(session, "submissions", "k", start) for _ in range(5))
    later = start + timedelta(minutes=40)
    assert not any(privacy.hit(session, "submissions", "k", later) for _ in range(5))
    # An hour after the first five (and its slot) they are free; the other five count.
    at = start + timedelta(minutes=70)
    results = [privacy.hit(session, "submissions", "k", at) for _ in range(6)]
    assert results == [False] * 5 + [True]
    assert privacy.hit(session, "submissions", "k", start + timedelta(hours=3)) is False


@pytest.mark.parametrize("offset", [0, 59, 300, 599, 840, 899])
def test_no_stretch_of_the_window_holds_more_than_the_limit(app, session, offset):
    """10 logins per 15 minutes, wherever in the clock's quarter hour they fall: a burst
    at the end of one window and another at the start of the next were both let through
    by the old two-window estimate (a black-box audit counted 19 in 15 minutes)."""
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "login": (10, 900)}
    first = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC) + timedelta(seconds=offset)
    taken = []
    for second in range(0, 2700, 30):  # one attempt every 30 s for 45 minutes
        moment = first + timedelta(seconds=second)
        if not privacy.hit(session, "login", "k", moment):
            taken.append(moment)
    assert len(taken[:10]) == 10 and taken[9] < first + timedelta(seconds=900)
    # any eleven let through span more than the window; and the limit frees again
    assert all(later - earlier >= timedelta(seconds=900)
               for earlier, later in zip(taken, taken[10:]))
    assert len(taken) >= 20


def test_peek_and_refund_leave_the_count_as_it_was(app, session):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "login": (2, 900)}
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert privacy.hit(session, "login", "k", now) is False
    privacy.refund(session, "login", "k", now)
    assert privacy.attempts(session, "login", "k", now) == 0
    assert not any(privacy.hit(session, "login", "k", now) for _ in range(2))
    assert privacy.attempts(session, "login", "k", now) == 2


# --- 16. private form pages, sessionless 404s, HEAD as GET ---------------------------------


@pytest.mark.parametrize("url", ["/submit/benchmark", "/review/login"])
def test_form_pages_with_a_csrf_token_are_private_and_never_stored(client, url):
    response = client.get(url)
    assert 'name="csrf_token"' in response.text
    assert response.headers["Cache-Control"] == "private, no-store"


def test_the_status_page_is_private_and_never_stored(client, queued):
    _row, path = queued
    assert client.get(path).headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("url", ["/no-such-page", "/benchmarks/999999", "/hardware/nope",
                                 "/submissions/not-a-token"])
def test_a_404_opens_no_session(app, url):
    response = app.test_client().get(url)
    assert response.status_code == 404
    assert "Set-Cookie" not in response.headers
    assert "csrf-token" not in response.text


def _comparable(response) -> dict:
    headers = {k: v for k, v in response.headers.items() if k != "Set-Cookie"}
    headers["Set-Cookie"] = [cookie.split("=", 1)[0] for cookie in
                             response.headers.getlist("Set-Cookie")]
    return headers


@pytest.mark.parametrize("url", ["/", "/submit/benchmark", "/review/login", "/operators",
                                 "/hardware/rtx-4090", "/no-such-page", "/healthz",
                                 "/resources/reproduction-guide", "/submit/feedback"])
def test_head_answers_like_get(app, url):
    get = app.test_client().get(url)
    head = app.test_client().head(url)
    assert head.status_code == get.status_code
    assert head.data == b""
    assert int(head.headers["Content-Length"]) == len(get.data)
    assert _comparable(head) == _comparable(get)


def test_head_of_the_status_page_answers_like_get(app, queued):
    _row, path = queued
    get, head = app.test_client().get(path), app.test_client().head(path)
    assert (head.status_code, _comparable(head)) == (get.status_code, _comparable(get))
