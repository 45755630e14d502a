"""Details users stumbled on (issue 13): the reproductions table says when and which way,
badges and tiers explain themselves without hovering, and demo rows are labelled on
every page that shows them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import html5lib
import pytest

from tests.test_submit_support import (
    NS,
    assert_values_kept,
    fresh_form,
    lock_token_of,
    repro_form,
)
from webapp.extensions import db
from webapp.services import accounts, moderation, privacy, waiting
from webapp.services.rules import STALE_DAYS, Badge, Band, Kind, State, Tier


@pytest.fixture
def hub(make_row, session):
    row = make_row(handle="origin")
    session.commit()
    return row


def _text(element) -> str:
    return " ".join(" ".join(element.itertext()).split())


def _row_cells(html: str, row_id: int) -> list[str]:
    document = html5lib.parse(html)
    for row in document.iter(f"{NS}tr"):
        if row.get("id") == f"repro-{row_id}":
            return [_text(cell) for cell in row.findall(f"{NS}td")]
    raise AssertionError(f"no table row repro-{row_id}")


def _visible_text(html: str) -> str:
    """The page's text as a reader sees it: title attributes (hover only) left out."""
    document = html5lib.parse(html)
    body = document.find(f"{NS}body")
    return _text(body)


# --- 1. the reproductions table -----------------------------------------------------------


def test_reproductions_show_their_dates_and_signed_divergence(client, session, hub, make_row):
    measured = datetime(2026, 3, 4, 12, tzinfo=UTC)
    faster = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="fast",
                      runs=((258.0, 512, 108.2),) * 3, measured_at=measured,
                      created_at=measured + timedelta(days=2))
    # related band, accepted with a note: shown apart from the rings, same columns
    slower = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="slow",
                      runs=((300.0, 512, 85.0),) * 3, notes="power limit 300 W")
    session.commit()
    html = client.get(f"/benchmarks/{hub.id}").text

    cells = _row_cells(html, faster.id)
    assert "2026-03-04" in cells[2] and "received 2026-03-06" in cells[2]
    # decode 108.2 against 100: faster; TTFT 258 against 250: slower (more milliseconds)
    assert "Decode 8.2% faster" in cells[6] and "TTFT 3.2% slower" in cells[6]
    assert "Within tolerance" in cells[7] and "8.2%" in cells[7]

    cells = _row_cells(html, slower.id)
    assert slower.measured_at.strftime("%Y-%m-%d") in cells[2]
    assert "Decode 15% slower" in cells[6] and "TTFT 20% slower" in cells[6]
    assert "Related" in cells[7] and "power limit 300 W" in cells[8]


def test_a_faster_first_token_reads_faster(client, session, hub, make_row):
    repro = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="quick",
                     runs=((225.0, 512, 100.0),) * 3)
    session.commit()
    cells = _row_cells(client.get(f"/benchmarks/{hub.id}").text, repro.id)
    assert "TTFT 10% faster" in cells[6] and "Decode same as the original" in cells[6]


def test_badge_tier_and_band_meanings_are_readable_without_hovering(client, session, hub,
                                                                    make_row):
    make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="other")
    session.commit()
    html = client.get(f"/benchmarks/{hub.id}").text
    text = _visible_text(html)
    assert "What the badge and the tier mean" in text
    assert f"Badge: {Badge.REPRODUCED.label} {Badge.REPRODUCED.explanation}" in text
    tiers = [tier for tier in Tier if f"Confidence tier: {tier.label} {tier.explanation}" in text]
    assert len(tiers) == 1
    for band in Band:
        assert f"{band.label} ({band.range_label}) {band.explanation}" in text


def test_a_stale_demo_row_says_what_stale_and_demo_mean(client, session, make_row):
    row = make_row(age_days=STALE_DAYS + 30, is_demo=True)
    session.commit()
    text = _visible_text(client.get(f"/benchmarks/{row.id}").text)
    assert f"Stale The newest accepted measurement is more than {STALE_DAYS} days old" in text
    assert "Demo Generated demo data, not a real measurement." in text


def test_a_row_without_reproductions_has_no_table_key(client, hub):
    html = client.get(f"/benchmarks/{hub.id}").text
    assert 'id="repro-key"' not in html and 'id="marker-meanings"' in html


# --- 6. demo rows are labelled on every page that shows them --------------------------------

DEMO_MARKER = '<span class="marker marker-demo"'
PASSWORD = "correct horse battery"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture
def demo_hub(make_row, session):
    row = make_row(is_demo=True)
    session.commit()
    return row


def _demo_labelled(html: str) -> bool:
    return DEMO_MARKER in html and 'class="demo-banner"' in html


def test_the_reproduce_and_feedback_forms_label_a_demo_row(client, session, hub, demo_hub):
    for path in (f"/benchmarks/{demo_hub.id}/reproduce",
                 f"/submit/feedback?benchmark={demo_hub.id}"):
        assert _demo_labelled(client.get(path).text), path
    for path in (f"/benchmarks/{hub.id}/reproduce", f"/submit/feedback?benchmark={hub.id}"):
        html = client.get(path).text
        assert DEMO_MARKER not in html and "demo-banner" not in html, path


def test_the_feedback_thanks_labels_a_demo_row(client, demo_hub):
    assert DEMO_MARKER in client.get(f"/submit/feedback/sent?benchmark={demo_hub.id}").text


@pytest.fixture
def reviewer_client(app, client):
    app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8, ARGON2_PARALLELISM=1)
    accounts.add_reviewer(db.session, "vera", PASSWORD)
    db.session.commit()
    token = CSRF_META.search(client.get("/review/login").text).group(1)
    response = client.post("/review/login",
                           data={"csrf_token": token, "name": "vera", "password": PASSWORD})
    assert response.status_code == 303
    return client


def _line_of(html: str, marker: str, end: str) -> str:
    start = html.index(marker)
    return html[start:html.index(end, start)]


def test_the_review_queue_and_audit_log_label_demo_rows(reviewer_client, session, make_row):
    demo = make_row(state=State.QUEUED, is_demo=True)
    real = make_row(state=State.QUEUED)
    for row in (demo, real):
        moderation.transition(session, row, State.REJECTED, actor="reviewer:vera",
                              now=datetime.now(UTC), reason="Duplicate")
    still_queued_demo = make_row(state=State.QUEUED, is_demo=True)
    queued_real = make_row(state=State.QUEUED)
    session.commit()

    queue = reviewer_client.get("/review/").text
    assert DEMO_MARKER in _line_of(queue, f'id="queue-row-{still_queued_demo.id}"', "</tr>")
    assert DEMO_MARKER not in _line_of(queue, f'id="queue-row-{queued_real.id}"', "</tr>")

    audit = reviewer_client.get("/review/audit").text
    demo_cells = _line_of(audit, f'>#{demo.id}</a>', "</td>")
    real_cells = _line_of(audit, f'>#{real.id}</a>', "</td>")
    assert DEMO_MARKER in demo_cells and DEMO_MARKER not in real_cells


# --- 5. the rate-limit page says when -----------------------------------------------------


@pytest.mark.parametrize(("seconds", "words"), [
    (1, "in about a minute"), (60, "in about a minute"), (61, "in about 2 minutes"),
    (9 * 60, "in about 9 minutes"), (38 * 60 + 5, "in about 40 minutes"),
    (55 * 60, "in about 55 minutes"), (56 * 60, "in about an hour"),
    (85 * 60, "in about an hour and 30 minutes"), (2 * 3600, "in about 2 hours"),
])
def test_waits_in_words_round_up(seconds, words):
    assert waiting.in_words(seconds) == words


@pytest.mark.parametrize(("earlier", "expected"), [
    # three attempts now (two allowed, one refused and so not counted) at 10:15 with 2
    # per hour: they count for the hour after their 4-minute slot (10:12-10:16) began
    # and that slot: until 11:16
    ((), 61 * 60),
    # one attempt at 9:45 as well (slot 9:44): the next fits when that one has gone, 10:48
    ((timedelta(minutes=-30),), 33 * 60),
])
def test_the_next_attempt_is_the_first_moment_the_limit_lets_through(app, session, earlier,
                                                                      expected):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "submissions": (2, 3600)}
    now = datetime(2026, 1, 1, 10, 15, tzinfo=UTC)
    for offset in earlier:
        privacy.hit(session, "submissions", "key", now + offset)
    refused = [privacy.hit(session, "submissions", "key", now) for _ in range(3)]
    assert refused[-1] is True
    wait = waiting.next_attempt(session, "submissions", "key", now)
    if expected is not None:
        assert wait.seconds == expected
    assert wait.at == now + timedelta(seconds=wait.seconds)
    # a second sooner the next attempt would still be refused; at the moment it fits
    before = now + timedelta(seconds=wait.seconds - 1)
    assert privacy.attempts(session, "submissions", "key", before) > 1
    assert privacy.attempts(session, "submissions", "key", wait.at) <= 1
    assert privacy.hit(session, "submissions", "key", wait.at) is False


def _over_the_limit(client, app, path, form, allowed=1):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "submissions": (allowed, 3600),
                                 "feedback": (allowed, 3600)}
    for _ in range(allowed):
        assert client.post(path, data=form).status_code == 303
    return client.post(path, data=form)


def _assert_says_when(response):
    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert 0 < seconds <= 2 * 3600
    html = response.text
    notice = html[html.index('id="rate-limited"'):]
    notice = notice[:notice.index("</div>")]
    assert f"You can send it again {waiting.in_words(seconds)}" in notice
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00">', notice)
    assert "<title>" in html and 'class="site-footer"' in html  # a whole page


def test_a_refused_fresh_submission_says_when_and_keeps_the_form(client, app, session,
                                                                 no_csrf):
    form = fresh_form(notes="third time lucky", handle="keeper")
    response = _over_the_limit(client, app, "/submit/benchmark", form)
    _assert_says_when(response)
    assert_values_kept(response.text, form)


def test_a_refused_reproduction_and_feedback_say_when(client, app, session, hub, no_csrf):
    form = repro_form(lock_token_of(client, hub.id), notes="second try")
    response = _over_the_limit(client, app, f"/benchmarks/{hub.id}/reproduce", form)
    _assert_says_when(response)
    assert_values_kept(response.text, form)
    note = {"kind": "stale", "message": "The runtime is two years old."}
    response = _over_the_limit(client, app, f"/submit/feedback?benchmark={hub.id}", note)
    _assert_says_when(response)
    assert_values_kept(response.text, note)


def test_other_pages_send_no_retry_after(client, hub):
    assert "Retry-After" not in client.get(f"/benchmarks/{hub.id}").headers
