"""The private status link: signed, unguessable, private, and the only way to withdraw."""

from __future__ import annotations

import re

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from tests.test_submit_support import csrf_of, fresh_form
from webapp.models import AuditEvent, Submission
from webapp.services import tokens
from webapp.services.moderation import transition
from webapp.services.rules import State


@pytest.fixture
def submitted(app, client, session):
    """A queued fresh submission and its status path (CSRF off for the submit only)."""
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/submit/benchmark", data=fresh_form())
    app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 303
    path = response.headers["Location"].split("?")[0].removeprefix("http://localhost")
    return session.scalars(select(Submission)).one(), path


def withdraw(client, path):
    """As a person does it: the status page's button, then "Yes, withdraw it"."""
    status_page = client.get(path).text
    assert f'method="get" action="{path}/withdraw"' in status_page
    token = csrf_of(client.get(f"{path}/withdraw").text)
    return client.post(f"{path}/withdraw", data={"csrf_token": token})


def test_status_page_is_private(client, submitted):
    row, path = submitted
    response = client.get(path + "?new=1")
    assert response.status_code == 200
    # Issue 10, items 8 and 16: "no-referrer" broke Withdraw over HTTPS; "strict-origin"
    # sends the site's origin alone, never the path that holds the token. A page with
    # a CSRF token is private as well as unstored.
    assert response.headers["Referrer-Policy"] == "strict-origin"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in response.text
    assert "Keep this link" in response.text and "http://localhost" + path in response.text
    assert "Queued" in response.text and "Withdraw" in response.text
    later = client.get(path).text
    assert "Keep this link" not in later
    # the link stays on the page, selectable without JavaScript, with a copy button for it
    assert f'id="status-link" class="status-link" value="http://localhost{path}" readonly' in later
    assert 'id="copy-status-link"' in later
    assert re.search(r'<script src="/static/status[.\w]*\.js" defer>', later)


def test_tampered_status_tokens_are_404(app, client, submitted):
    row, path = submitted
    token = path.rsplit("/", 1)[1]
    head, _, signature = token.rpartition(".")
    other_nonce = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=tokens.STATUS_SALT)
    bad = [
        "nope",
        f"{head}.{signature[:-2]}xx",
        token[:-1],
        # right id, right key, guessed nonce
        other_nonce.dumps({"id": row.id, "nonce": "A" * 32}),
        # a lock token is not a status link
        URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=tokens.LOCK_SALT).dumps(
            {"id": row.id, "nonce": row.status_nonce}),
        # no such submission
        other_nonce.dumps({"id": 999999, "nonce": row.status_nonce}),
        # signed, but an id no INTEGER column holds (an overflow and a 500 before)
        other_nonce.dumps({"id": 2**31, "nonce": row.status_nonce}),
        other_nonce.dumps({"id": 2**63, "nonce": row.status_nonce}),
        other_nonce.dumps({"id": 0, "nonce": row.status_nonce}),
        "x" * 5000,
    ]
    for value in bad:
        assert client.get(f"/submissions/{value}").status_code == 404, value
    token_csrf = csrf_of(client.get(path).text)
    assert client.post(f"/submissions/{bad[1]}/withdraw",
                       data={"csrf_token": token_csrf}).status_code == 404


def test_withdraw_while_queued(client, session, submitted):
    row, path = submitted
    response = withdraw(client, path)
    assert response.status_code == 303
    assert response.headers["Referrer-Policy"] == "strict-origin"  # issue 10, item 8
    session.expire_all()
    assert session.get(Submission, row.id).state == State.WITHDRAWN
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.actor, e.to_state) for e in events] == [("submitter", "queued"),
                                                       ("submitter", "withdrawn")]
    page = client.get(path)
    assert "Withdrawn" in page.text and "Withdraw this submission" not in page.text
    # a second withdraw is refused, calmly, and so is asking again
    again = client.post(f"{path}/withdraw", data={"csrf_token": csrf_of(page.text)})
    assert again.status_code == 409
    assert client.get(f"{path}/withdraw").status_code == 409


@pytest.mark.parametrize("decision", [State.APPROVED, State.REJECTED])
def test_withdraw_only_while_queued(client, session, submitted, decision):
    row, path = submitted
    token = csrf_of(client.get(path).text)
    transition(session, row, decision, actor="reviewer:ann", now=row.created_at,
               reason="Duplicate" if decision == State.REJECTED else "")
    session.commit()
    page = client.get(path)
    assert decision.label in page.text
    if decision == State.REJECTED:
        assert "Duplicate" in page.text
    assert "Withdraw this submission" not in page.text
    response = client.post(f"{path}/withdraw", data={"csrf_token": token})
    assert response.status_code == 409
    session.expire_all()
    assert session.get(Submission, row.id).state == decision


def test_withdraw_needs_csrf(client, session, submitted):
    row, path = submitted
    assert client.post(f"{path}/withdraw").status_code == 400
    session.expire_all()
    assert session.get(Submission, row.id).state == State.QUEUED


def test_every_answer_at_a_status_address_keeps_the_token_private(client, submitted):
    """The expired form's 400, a refused token's 404 and a 405 hold the token in their
    address too, and link the rest of the site: none may send it in a Referer, be kept
    by a cache or be indexed (the 400 page had the site's defaults)."""
    _row, path = submitted
    answers = [client.post(f"{path}/withdraw"),  # no CSRF token: 400
               client.get(path[:-3] + "xyz"),  # not a token the site made: 404
               client.delete(path)]  # 405
    assert [answer.status_code for answer in answers] == [400, 404, 405]
    for answer in answers:
        assert answer.headers["Referrer-Policy"] == "strict-origin"
        assert answer.headers["Cache-Control"] == "private, no-store"
        assert answer.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert client.get("/").headers["Referrer-Policy"] == "same-origin"  # elsewhere as ever


# --- issue 13: asks before withdrawing, and shows back what was sent ---------------------


def test_withdrawing_asks_first_on_a_page_of_its_own(client, session, submitted):
    """The status page only asks; nothing changes until "Yes, withdraw it" is sent."""
    row, path = submitted
    status_page = client.get(path).text
    assert f'method="post" action="{path}/withdraw"' not in status_page
    question = client.get(f"{path}/withdraw")
    assert question.status_code == 200
    assert "This cannot be undone" in question.text and "Yes, withdraw it" in question.text
    assert f'method="post" action="{path}/withdraw"' in question.text
    assert f'href="{path}" id="keep-it"' in question.text
    # as private as the status page itself
    assert question.headers["Cache-Control"] == "private, no-store"
    assert question.headers["Referrer-Policy"] == "strict-origin"
    assert "noindex" in question.headers["X-Robots-Tag"]
    session.expire_all()
    assert session.get(Submission, row.id).state == State.QUEUED
    assert withdraw(client, path).status_code == 303
    session.expire_all()
    assert session.get(Submission, row.id).state == State.WITHDRAWN


def test_a_tampered_token_cannot_reach_the_question(client, submitted):
    _row, path = submitted
    assert client.get(f"{path[:-3]}xyz/withdraw").status_code == 404


def test_the_status_page_shows_back_what_was_sent(app, client, session):
    app.config["WTF_CSRF_ENABLED"] = False
    runs = ((250.0, 512, 100.0), (262.5, 500, 97.25), (241.0, 512, 104.5))
    response = client.post("/submit/benchmark", data=fresh_form(
        runs=runs, notes="Fans at <b>full</b> speed; spread explained.", handle="quiet-fox",
        url="https://example.org/quiet-fox", prefill_tps="1234.5", measured_on="2026-11-30"))
    app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).text
    sent = html[html.index('id="what-you-sent"'):]
    for ttft, generated, decode in runs:
        assert f"<td class=\"num\">{ttft:g}</td><td class=\"num\">{generated}</td>" \
               f"<td class=\"num\">{decode:g}</td>" in sent
    assert "Your 3 timed runs" in sent
    assert "Median time to first token</dt><dd>250 " in sent
    assert "Median decode speed</dt><dd>100 " in sent
    assert "Prefill speed</dt><dd>1234.5 " in sent
    assert "Fans at &lt;b&gt;full&lt;/b&gt; speed; spread explained." in sent
    assert "quiet-fox" in sent
    assert ('<a href="https://example.org/quiet-fox" rel="nofollow noopener ugc">'
            in sent)
    assert "2026-11-30" in sent and "GeForce RTX 4090" in sent


def test_the_status_page_tells_a_form_sent_without_javascript_of_its_flags(
        app, client, session):
    """The live check flags numbers above the ceiling while typing; a form sent without
    JavaScript is told after sending, on the status page the POST leads to (SPEC §7)."""
    app.config["WTF_CSRF_ENABLED"] = False
    # RTX 4090, Llama 3.1 8B at Q4_K_M: a ceiling of about 205 tok/s, and 24 GiB
    fast = ((20.0, 256, 240.0), (20.0, 256, 241.0), (20.0, 256, 239.0))
    response = client.post("/submit/benchmark", data=fresh_form(
        runs=fast, vram_peak_mib="30000", notes="Runs at 240 tok/s; checked twice."))
    plain = client.post("/submit/benchmark", data=fresh_form())
    app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 303 and plain.status_code == 303
    html = client.get(response.headers["Location"]).text
    flags = html[html.index('id="plausibility-flags"'):]
    flags = flags[:flags.index("</div>")]
    assert "Exceeds the bandwidth ceiling" in flags and "240 tok/s" in flags
    assert "Memory peak exceeds the hardware" in flags
    assert "withdraw this one and send it again" in flags
    assert 'id="plausibility-flags"' not in client.get(plain.headers["Location"]).text
