"""Details users stumbled on (issue 13): the reproductions table says when and which way,
badges and tiers explain themselves without hovering, and demo rows are labelled on
every page that shows them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import html5lib
import pytest

from tests.test_submit_support import NS
from webapp.extensions import db
from webapp.services import accounts, moderation
from webapp.services.rules import Badge, Band, Kind, State, Tier


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
