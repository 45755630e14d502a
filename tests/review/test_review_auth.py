"""Login, logout, cookie replay, throttling, and the dashboard refusing anonymous users."""

from __future__ import annotations

import hashlib
import logging
import re

import pytest
from flask.sessions import SecureCookieSessionInterface

from tests.review.conftest import PASSWORD, csrf_token, login
from webapp.blueprints.review import auth
from webapp.extensions import db
from webapp.services import accounts


def _session_data(app, client) -> dict:
    cookie = client.get_cookie("session")
    if cookie is None:
        return {}
    return SecureCookieSessionInterface().get_signing_serializer(app).loads(cookie.value)


def test_login_renews_the_session_and_rotates_the_token(app, client, reviewer):
    old_token = reviewer.session_token
    csrf_token(client)
    before = _session_data(app, client)
    assert "csrf_token" in before
    response = login(client, "Alice", PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/review/")
    after = _session_data(app, client)
    assert "csrf_token" not in after  # nothing from before the login carried over
    db.session.refresh(reviewer)
    assert reviewer.session_token != old_token
    assert after["_user_id"] == f"{reviewer.id}:{reviewer.session_token}"
    assert reviewer.last_login_at is not None
    assert "Signed in as alice" in client.get("/review/").get_data(as_text=True)


def test_session_cookie_flags(client, reviewer):
    csrf_token(client)
    token = csrf_token(client)
    response = client.post("/review/login",
                           data={"csrf_token": token, "name": "alice", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_wrong_password_is_refused_and_logged_without_secrets(app, client, reviewer, caplog):
    caplog.set_level(logging.WARNING)
    response = login(client, "alice", "wrong password here")
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert "do not match" in body
    assert 'value="alice"' in body  # the typed name is kept
    records = [r for r in caplog.records if "login failed" in r.getMessage()]
    assert len(records) == 1
    message = records[0].getMessage()
    assert "alice" in message and "ip_hash=" in message
    assert "wrong password here" not in caplog.text
    assert "127.0.0.1" not in caplog.text
    assert client.get("/review/").status_code == 302


def test_an_unknown_name_gets_the_same_answer(client, reviewer):
    response = login(client, "mallory", PASSWORD)
    assert response.status_code == 401
    assert "do not match" in response.get_data(as_text=True)


def test_logout_then_replaying_the_old_cookie_is_refused(app, client, reviewer):
    login(client, "alice", PASSWORD)
    saved = client.get_cookie("session").value
    assert client.get("/review/").status_code == 200
    token = csrf_token(client, "/review/")
    response = client.post("/review/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert client.get("/review/").status_code == 302

    client.set_cookie("session", saved, domain="localhost")  # the attacker's saved copy
    replay = client.get("/review/")
    assert replay.status_code == 302
    assert "/review/login" in replay.headers["Location"]
    token = csrf_token(client)
    assert client.post("/review/submissions/1/approve",
                       data={"csrf_token": token}).status_code in (302, 303, 401)


def test_logging_in_again_ends_the_previous_session(app, reviewer):
    first, second = app.test_client(), app.test_client()
    login(first, "alice", PASSWORD)
    login(second, "alice", PASSWORD)
    assert second.get("/review/").status_code == 200
    assert first.get("/review/").status_code == 302


def test_a_form_sent_after_a_login_elsewhere_shows_what_was_written(app, reviewer, make_row):
    """The first browser's session ended with the second's login; a decision it then
    sends is not taken, and the answer says why and shows the note (it was a redirect to
    the login page that dropped it)."""
    from webapp.models import Submission
    from webapp.services.rules import State

    row = make_row(state=State.QUEUED)
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    login(first, "alice", PASSWORD)
    token = csrf_token(first, f"/review/submissions/{row.id}")
    login(second, "alice", PASSWORD)
    response = first.post(
        f"/review/submissions/{row.id}/reject",
        data={"csrf_token": token, "reason": "written", "reason_text": "Same file as #7"},
        headers={"Referer": f"http://localhost/review/submissions/{row.id}"})
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert "session has ended" in body and "nothing was done" in body
    assert "<blockquote>Same file as #7</blockquote>" in body
    assert f'name="next" value="/review/submissions/{row.id}"' in body
    db.session.expire_all()
    assert db.session.get(Submission, row.id).state == State.QUEUED


def test_an_htmx_decision_after_a_login_elsewhere_keeps_the_row_and_says_why(
        app, reviewer, make_row):
    """From the queue with htmx: no redirect that would leave the page and drop the note;
    the message (put in the row by review.js) shows the note and links to the login page,
    which comes back to the queue."""
    from webapp.models import Submission
    from webapp.services.rules import State

    row = make_row(state=State.QUEUED)
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    login(first, "alice", PASSWORD)
    token = csrf_token(first, "/review/")
    login(second, "alice", PASSWORD)
    response = first.post(
        f"/review/submissions/{row.id}/reject",
        data={"csrf_token": token, "reason": "written", "reason_text": "Same <file> as #7"},
        headers={"HX-Request": "true", "Referer": "http://localhost/review/?kind=hub"})
    assert response.status_code == 401
    assert "HX-Redirect" not in response.headers
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div class="error-message"')
    assert "nothing was done" in body and "“Same &lt;file&gt; as #7”" in body
    assert 'href="/review/login?next=/review/?kind%3Dhub"' in body
    db.session.expire_all()
    assert db.session.get(Submission, row.id).state == State.QUEUED


def test_disabling_a_reviewer_ends_their_session(client, reviewer):
    login(client, "alice", PASSWORD)
    assert client.get("/review/").status_code == 200
    accounts.disable_reviewer(db.session, "alice")
    db.session.commit()
    assert client.get("/review/").status_code == 302
    assert login(client, "alice", PASSWORD).status_code == 401


@pytest.mark.parametrize(("name", "password"), [("", ""), ("alice", ""), ("", PASSWORD)])
def test_an_empty_login_is_told_what_is_missing_and_not_counted(client, reviewer, name,
                                                                 password):
    """The form is novalidate (the browser's bubble said nothing beside the field): the
    page says what to enter, keeps the name, and the attempt does not count."""
    from webapp.models import RateCounter

    response = login(client, name, password)
    assert response.status_code == 422
    assert "Enter your reviewer name and your password." in response.get_data(as_text=True)
    assert f'value="{name}"' in response.get_data(as_text=True)
    assert db.session.query(RateCounter).count() == 0


def test_login_is_throttled_per_ip_hash(app, reviewer):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "login": (3, 900)}
    client = app.test_client()
    for number in range(3):
        assert login(client, f"nobody{number}", "wrong password!").status_code == 401
    response = login(client, "alice", PASSWORD)  # right password, but the IP is over
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many login attempts" in page and "You can try again in about" in page
    # as every 429, it says when: within the window, however often it is retried
    waits = [int(response.headers["Retry-After"])]
    for _ in range(3):
        waits.append(int(login(client, "alice", PASSWORD).headers["Retry-After"]))
    # within the window and the slot the attempts fell in (15 minutes and one)
    assert all(0 < wait <= 900 + 60 for wait in waits) and waits[-1] <= waits[0]
    assert client.get("/review/").status_code == 302


def _from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.fixture
def pauses(monkeypatch):
    """The waits the login imposes, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr(auth, "_pause", waited.append)
    return waited


def test_failures_across_addresses_slow_the_account_down_but_never_refuse_it(
        app, reviewer, pauses):
    # Issue 10, item 9: ten wrong passwords from anywhere used to refuse the right one
    # for 15 minutes. Now every address keeps its own allowance, and the account's
    # failures only make each further attempt on it wait longer.
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "login": (3, 900)}
    for number in range(6):
        assert login(_from(app, f"198.51.100.{number + 1}"), "alice",
                     "wrong password!").status_code == 401
    assert pauses[:3] == [0, 0, 0]
    assert 0 < pauses[3] < pauses[4] < pauses[5]
    assert login(_from(app, "203.0.113.77"), "alice", PASSWORD).status_code == 303
    assert pauses[6] >= pauses[5]  # the right password waits like any other attempt
    accounts.add_reviewer(db.session, "bob", PASSWORD)
    db.session.commit()
    assert login(_from(app, "203.0.113.78"), "bob", PASSWORD).status_code == 303
    assert pauses[-1] == 0  # another account is not slowed


def test_the_account_slowdown_is_capped(app, reviewer, pauses):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "login": (2, 900)}
    for number in range(12):
        login(_from(app, f"198.51.100.{number + 1}"), "alice", "wrong password!")
    assert max(pauses) == app.config["LOGIN_SLOWDOWN_MAX"]
    assert login(_from(app, "203.0.113.9"), "alice", PASSWORD).status_code == 303


def test_successful_logins_do_not_count(app, reviewer, pauses):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "login": (3, 900)}
    for _ in range(6):  # each from the same address, in a browser of its own
        assert login(_from(app, "203.0.113.5"), "alice", PASSWORD).status_code == 303
    assert not any(pauses)
    client = _from(app, "203.0.113.5")
    for number in range(3):  # the address's failures still have their whole allowance
        assert login(client, f"nobody{number}", "wrong password!").status_code == 401
    assert login(client, "alice", PASSWORD).status_code == 429


def test_the_ten_wrong_passwords_of_the_finding_do_not_lock_alice_out(app, reviewer,
                                                                      pauses):
    for number in range(10):  # the default limit: 10 per 15 minutes
        assert login(_from(app, f"198.51.100.{number + 1}"), "alice",
                     "wrong password!").status_code == 401
    assert login(_from(app, "203.0.113.10"), "alice", PASSWORD).status_code == 303


def test_login_delay_grows_from_the_allowance_and_stops_at_the_cap():
    delays = [accounts.login_delay(failures, allowance=3, base=0.5, longest=4.0)
              for failures in (0, 2, 2.9, 3, 4, 5, 6, 7, 10**6)]
    assert delays == [0, 0, 0, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


@pytest.mark.parametrize("target, expected", [
    ("/review/feedback", "/review/feedback"),
    ("https://evil.example/review/", "/review/"),
    ("//evil.example/review", "/review/"),
    ("/benchmarks/1", "/review/"),
    ("/review\\@evil.example", "/review/"),
])
def test_login_redirects_only_inside_the_dashboard(client, reviewer, target, expected):
    response = login(client, "alice", PASSWORD, next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == expected


def test_a_page_asked_for_before_login_is_returned_to_after(client, reviewer):
    response = client.get("/review/feedback")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "/review/login" in location and "next=" in location
    page = client.get(location).get_data(as_text=True)
    assert 'name="next" value="/review/feedback"' in page
    assert login(client, "alice", PASSWORD, next="/review/feedback").headers["Location"] == (
        "/review/feedback")


def _example_url(rule) -> str:
    url = rule.rule
    for argument in rule.arguments:
        url = re.sub(r"<(?:[^:<>]+:)?" + argument + ">", "1", url)
    return url


def test_every_review_url_refuses_anonymous_users(app, client):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/review")]
    assert len(rules) >= 10
    token = csrf_token(client)
    checked = 0
    for rule in rules:
        url = _example_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint == "review.login":
                continue
            data = {"csrf_token": token} if method == "POST" else None
            response = client.open(url, method=method, data=data)
            assert response.status_code in (302, 303, 401), (method, url, response.status_code)
            if response.status_code != 401:
                assert "/review/login" in response.headers["Location"], (method, url)
            htmx = client.open(url, method=method, data=data, headers={"HX-Request": "true"})
            assert htmx.status_code == 401, (method, url)
            if method == "GET":
                assert htmx.headers["HX-Redirect"].endswith("/review/login")
            else:  # the row keeps its form; the message links to the login page
                assert "HX-Redirect" not in htmx.headers, (method, url)
                assert 'href="/review/login' in htmx.get_data(as_text=True), (method, url)
            checked += 1
    assert checked >= 12
    assert client.get("/review/login").status_code == 200


def test_dashboard_pages_are_not_cached(reviewer_client):
    response = reviewer_client.get("/review/")
    # issue 10, item 16: a page carrying a CSRF token is private too (was "no-store")
    assert response.headers["Cache-Control"] == "private, no-store"


def test_login_page_when_logged_in_goes_to_the_queue(reviewer_client):
    response = reviewer_client.get("/review/login")
    assert response.status_code == 302 and response.headers["Location"].endswith("/review/")


def test_the_session_does_not_hash_the_client_address(app, client, reviewer):
    # Flask-Login's default binds the session to a hash of the address; ours uses the
    # user agent only, so no form of the address travels in the cookie.
    client.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    login(client, "alice", PASSWORD)
    data = _session_data(app, client)
    agent = client.environ_base.get("HTTP_USER_AGENT", "").encode()
    assert data["_id"] == hashlib.sha256(agent).hexdigest()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.99"
    assert client.get("/review/").status_code == 200
    assert _session_data(app, client)["_fresh"] is True
