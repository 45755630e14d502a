"""The live warning as a GET (issue 14): only the typed numbers travel, no session or
CSRF token is needed, nothing is stored or counted, and the answer is cacheable."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from webapp.models import RateCounter, Submission


@pytest.fixture
def hub(make_row, session):
    row = make_row(ttft_ms=200.0, decode_tps=100.0, tokens_generated=512)
    session.commit()
    return row


def typed(ttft: float, decode: float, runs: int = 3, **extra) -> dict[str, str]:
    values = {"runtime": "llama-cpp", "measured_on": "2026-01-05"}
    for run in range(runs):
        values[f"runs-{run}-ttft_ms"] = f"{ttft:.1f}"
        values[f"runs-{run}-tokens_generated"] = "512"
        values[f"runs-{run}-decode_tps"] = f"{decode:.2f}"
    values.update(extra)
    return values


def live(client, url: str, values: dict, **headers):
    return client.get(f"{url}?{urlencode(values)}", headers={"HX-Request": "true", **headers})


def counts(session) -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(Submission)),
            session.scalar(select(func.count()).select_from(RateCounter)))


def test_the_reproduce_form_asks_by_get_with_only_what_the_check_reads(client, hub):
    page = client.get(f"/benchmarks/{hub.id}/reproduce").text
    form = re.search(r"<form[^>]*data-live-check[^>]*>", page).group(0)
    assert f'hx-get="/benchmarks/{hub.id}/reproduce/check"' in form
    assert "hx-post" not in form
    params = re.search(r'hx-params="([^"]+)"', form).group(1).split(",")
    assert "runs-0-decode_tps" in params and "measured_on" in params
    for private in ("csrf_token", "lock_token", "handle", "notes", "url", "website",
                    "intake_text", "intake_file"):
        assert private not in params
    assert re.search(r'<script src="/static/live_check\.[0-9a-f]{12}\.js" defer>', page)


def test_the_submit_form_asks_by_get_too(client):
    page = client.get("/submit/benchmark").text
    form = re.search(r"<form[^>]*data-live-check[^>]*>", page).group(0)
    assert 'hx-get="/submit/benchmark/check"' in form and "hx-post" not in form
    params = re.search(r'hx-params="([^"]+)"', form).group(1).split(",")
    assert {"model", "hardware", "quant", "runtime", "runs-9-ttft_ms"} <= set(params)
    assert "handle" not in params and "notes" not in params


def test_a_get_without_session_or_token_gives_the_warning(client, session, hub):
    url = f"/benchmarks/{hub.id}/reproduce/check"
    before = counts(session)
    within = live(client, url, typed(201, 99))
    assert within.status_code == 200
    assert 'data-band="within"' in within.text
    related = live(client, url, typed(200, 120))
    assert 'data-band="related"' in related.text and "Add a note" in related.text
    noted = live(client, url, typed(200, 120, note_given="1"))
    assert "Add a note" not in noted.text
    assert not within.headers.getlist("Set-Cookie")
    assert counts(session) == before, "nothing stored, no rate-limit event counted"


def test_the_answer_is_cacheable_and_revalidates(client, hub):
    url = f"/benchmarks/{hub.id}/reproduce/check"
    first = live(client, url, typed(201, 99))
    control = first.headers["Cache-Control"]
    assert "public" in control and "max-age=60" in control
    assert "HX-Request" in first.headers["Vary"]
    etag = first.headers["ETag"]
    again = live(client, url, typed(201, 99), **{"If-None-Match": etag})
    assert again.status_code == 304
    other = live(client, url, typed(200, 60), **{"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag


def test_the_handle_note_and_urls_are_ignored_if_sent(client, hub):
    url = f"/benchmarks/{hub.id}/reproduce/check"
    plain = live(client, url, typed(200, 120))
    sneaky = live(client, url, typed(200, 120, handle="<b>mallory</b>", notes="my note",
                                     url="https://evil.example/"))
    assert sneaky.status_code == 200
    assert sneaky.get_data() == plain.get_data()
    assert "mallory" not in sneaky.text and "evil.example" not in sneaky.text


def test_the_fresh_check_by_get(client, session):
    before = counts(session)
    values = typed(180, 100, model="llama-3.1-8b-instruct", hardware="rtx-4090",
                   hardware_count="1", quant="gguf-q4_k_m")
    response = live(client, "/submit/benchmark/check", values)
    assert response.status_code == 200
    assert "<html" not in response.text and "tok/s" in response.text
    assert "public" in response.headers["Cache-Control"]
    assert counts(session) == before


def test_an_unknown_hub_is_404_and_junk_is_a_clear_warning_not_a_500(client, hub):
    assert live(client, "/benchmarks/999999/reproduce/check", typed(1, 1)).status_code == 404
    junk = live(client, f"/benchmarks/{hub.id}/reproduce/check",
                {"runs-0-ttft_ms": "fast", "runs-0-decode_tps": "-1", "measured_on": "never"})
    assert junk.status_code == 200


def test_the_post_still_works_for_pages_rendered_before(client, session, hub, no_csrf):
    url = f"/benchmarks/{hub.id}/reproduce/check"
    response = client.post(url, data=typed(201, 99), headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'data-band="within"' in response.text
