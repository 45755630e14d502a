"""The reproduce flow: locked matching set, the same band decision live and on POST,
notes, refusals with their two ways out, and tokens that cannot be altered."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from tests.test_submit_support import (
    assert_values_kept,
    csrf_of,
    field_error,
    form_values,
    lock_token_of,
    repro_form,
    same_runs,
)
from webapp.blueprints import reproduce
from webapp.models import Submission, utcnow
from webapp.services import moderation, tokens
from webapp.services.rules import Band, Kind, State
from webapp.web import page_cache

# The factory's hub: TTFT median 250 ms, decode median 100 tok/s.
HUB_TTFT, HUB_DECODE = 250.0, 100.0


@pytest.fixture
def hub(make_row, session):
    row = make_row()
    session.commit()
    return row


def reproductions(session) -> list[Submission]:
    return session.scalars(select(Submission).where(Submission.kind == Kind.REPRODUCTION)).all()


def live_band(client, hub_id: int, form: dict) -> str | None:
    html = client.post(f"/benchmarks/{hub_id}/reproduce/check", data=form,
                       headers={"HX-Request": "true"}).text
    match = re.search(r'data-band="([a-z-]+)"', html)
    return match.group(1) if match else None


# --- the page -------------------------------------------------------------------------


def test_page_shows_locked_set_build_context_protocol_and_token(client, hub):
    response = client.get(f"/benchmarks/{hub.id}/reproduce")
    assert response.status_code == 200
    html = response.text
    assert "Llama-3.1-8B-Instruct" in html and "1× GeForce RTX 4090" in html
    assert "GGUF Q4_K_M" in html and "llama.cpp" in html
    for context in ("b4500", "NVIDIA 560.35.03 / CUDA 12.6", "Ubuntu 24.04", "bartowski"):
        assert context in html
    assert html.count('<li><strong>') >= 10  # the ten protocol steps
    assert tokens.read_lock(form_values(html)["lock_token"], hub)
    # the locked dimensions are not editable fields
    values = form_values(html)
    for name in ("model", "hardware", "hardware_count", "quant"):
        assert name not in values
    # runtime choice is limited to the hub's engine family
    runtimes = re.findall(r'<option value="([^"]+)"', html)
    assert set(runtimes) == {"llama-cpp", "ollama", "llamafile", "koboldcpp", "lm-studio-gguf"}
    # and a way out for an operator whose setup differs
    link = re.search(r'href="([^"]+)" id="fresh-instead"', html).group(1).replace("&amp;", "&")
    args = parse_qs(urlsplit(link).query)
    assert args["model"] == ["llama-3.1-8b-instruct"] and args["hardware"] == ["rtx-4090"]
    assert args["quant"] == ["gguf-q4_k_m"] and args["hardware_count"] == ["1"]


@pytest.mark.parametrize("state", [State.QUEUED, State.REJECTED, State.WITHDRAWN])
def test_non_public_hubs_cannot_be_reproduced(client, make_row, session, no_csrf, state):
    row = make_row(state=state)
    session.commit()
    assert client.get(f"/benchmarks/{row.id}/reproduce").status_code == 404
    assert client.post(f"/benchmarks/{row.id}/reproduce", data={}).status_code == 404
    assert client.post(f"/benchmarks/{row.id}/reproduce/check", data={},
                       headers={"HX-Request": "true"}).status_code == 404
    assert client.get("/benchmarks/999999/reproduce").status_code == 404


def test_a_reproduction_is_not_a_hub(client, hub, make_row, session):
    repro = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub)
    session.commit()
    assert client.get(f"/benchmarks/{repro.id}/reproduce").status_code == 404


# --- bands: the edges, on TTFT and on decode, live and on POST ---------------------------

EDGES = [
    # (metric, value, band)
    ("decode", HUB_DECODE * 1.10, Band.WITHIN),
    ("decode", HUB_DECODE * 0.90, Band.WITHIN),
    ("decode", 110.01, Band.RELATED),
    ("decode", HUB_DECODE * 1.25, Band.RELATED),
    ("decode", HUB_DECODE * 0.75, Band.RELATED),
    ("decode", 125.01, Band.NOT_REPRODUCTION),
    ("ttft", HUB_TTFT * 1.10, Band.WITHIN),
    ("ttft", HUB_TTFT * 0.90, Band.WITHIN),
    ("ttft", 275.01, Band.RELATED),
    ("ttft", HUB_TTFT * 1.25, Band.RELATED),
    ("ttft", HUB_TTFT * 0.75, Band.RELATED),
    ("ttft", 312.51, Band.NOT_REPRODUCTION),
]


def edge_runs(metric: str, value: float) -> tuple:
    if metric == "decode":
        return same_runs(HUB_TTFT, value)
    return same_runs(value, HUB_DECODE)


@pytest.mark.parametrize(("decode", "said"), [(110.01, "diverge 10.01% from the original"),
                                              (125.01, "diverge 25.01% from the original")])
def test_a_run_just_past_a_band_edge_says_by_how_much(client, hub, no_csrf, decode, said):
    """One decimal read "diverge 10%" for a run refused as over 10%."""
    form = repro_form(lock_token_of(client, hub.id), runs=edge_runs("decode", decode))
    response = client.post(f"/benchmarks/{hub.id}/reproduce", data=form)
    assert response.status_code == 422
    assert said in response.text


@pytest.mark.parametrize(("metric", "value", "band"), EDGES,
                         ids=[f"{m}-{v:g}-{b.value}" for m, v, b in EDGES])
def test_band_edges_live_and_on_post_agree(client, session, hub, no_csrf, metric, value, band):
    form = repro_form(lock_token_of(client, hub.id), runs=edge_runs(metric, value))
    assert live_band(client, hub.id, form) == band.value

    response = client.post(f"/benchmarks/{hub.id}/reproduce", data=form)
    if band is Band.WITHIN:
        assert response.status_code == 303
        (repro,) = reproductions(session)
        assert (repro.band, repro.state, repro.hub_id) == (band.value, State.QUEUED, hub.id)
        return
    assert response.status_code == 422
    assert_values_kept(response.text, form)
    if band is Band.RELATED:
        assert "note is required" in field_error(response.text, "notes")
        noted = dict(form, notes="Driver branch 555 instead of 560; power limit 350 W.")
        assert client.post(f"/benchmarks/{hub.id}/reproduce", data=noted).status_code == 303
        (repro,) = reproductions(session)
        assert repro.band == Band.RELATED.value and repro.notes.startswith("Driver")
    else:
        assert "not a reproduction" in response.text.lower()
        noted = dict(form, notes="A note does not make it a reproduction.")
        assert client.post(f"/benchmarks/{hub.id}/reproduce", data=noted).status_code == 422
        assert reproductions(session) == []


def test_refusal_offers_prefilled_fresh_form_and_feedback(client, session, hub, no_csrf):
    runs = same_runs(250, 160)
    form = repro_form(lock_token_of(client, hub.id), runs=runs, runtime="ollama",
                      handle="tester", notes="cooler room")
    html = client.post(f"/benchmarks/{hub.id}/reproduce", data=form).text
    assert f'href="/submit/feedback?benchmark={hub.id}"' in html
    link = re.search(r'href="(/submit/benchmark\?[^"]+)"', html[html.index("refusal-links"):])
    url = link.group(1).replace("&amp;", "&")
    # following it opens the fresh form with the configuration and the numbers
    values = form_values(client.get(url).text)
    assert values["model"] == "llama-3.1-8b-instruct" and values["runtime"] == "ollama"
    assert values["runs-2-decode_tps"] == "160" and values["handle"] == "tester"
    assert values["vram_peak_mib"] == "6100" and values["notes"] == "cooler room"
    # the live fragment offers the same links
    fragment = client.post(f"/benchmarks/{hub.id}/reproduce/check", data=form,
                           headers={"HX-Request": "true"}).text
    assert "refusal-links" in fragment and f"/submit/feedback?benchmark={hub.id}" in fragment


def test_over_the_outer_band_is_a_decision_not_a_form_error(client, session, hub, no_csrf):
    """Issue 13: "This is not a reproduction of benchmark #N" with the two ways forward
    first, no error count and no error summary, and the typed numbers kept."""
    form = repro_form(lock_token_of(client, hub.id), runs=same_runs(250, 131.5),
                      notes="a faster driver")
    response = client.post(f"/benchmarks/{hub.id}/reproduce", data=form)
    assert response.status_code == 422  # refused: nothing was stored
    html = response.text
    assert f"This is not a reproduction of benchmark #{hub.id}" in html
    assert "to fix" not in html and 'id="error-summary"' not in html
    assert 'class="field-error"' not in html  # nothing marked wrong: it is a decision
    # the two ways forward come first, before the form
    decision = html.index('id="decision"')
    fresh, feedback = html.index('id="decision-fresh"'), html.index('id="decision-feedback"')
    assert decision < fresh < feedback < html.index('class="submission-form"')
    assert f'href="/submit/feedback?benchmark={hub.id}" id="decision-feedback"' in html \
        or re.search(rf'id="decision-feedback" href="/submit/feedback\?benchmark={hub.id}"',
                     html)
    values = form_values(_fresh_from_decision(client, html).text)
    assert values["runs-0-decode_tps"] == "131.5" and values["notes"] == "a faster driver"
    assert "Decode 31.5% faster" in html and "TTFT same as the original" in html
    assert_values_kept(html, form)
    assert reproductions(session) == []


def _fresh_from_decision(client, html: str):
    """Press "Submit your numbers as a fresh benchmark": its form, posted as a browser
    posts it."""
    start = html.index('<form class="inline-form"')
    form = html[start:html.index("</form>", start)]
    action = re.search(r'action="([^"]+)"', form).group(1)
    fields = {unescape(name): unescape(value) for name, value in
              re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)}
    assert 'id="decision-fresh"' in form
    return client.post(action, data=fields)


def test_a_long_note_travels_whole_to_the_fresh_form(client, session, hub):
    """A note too long for a link's query string (600 Cyrillic characters) reaches the
    fresh form whole: it was left out, silently."""
    note = "Драйвер 560, питание 350 Вт. " * 21
    page = client.get(f"/benchmarks/{hub.id}/reproduce").text
    form = repro_form(lock_token_of(client, hub.id), runs=same_runs(250, 131.5), notes=note)
    form["csrf_token"] = csrf_of(page)
    html = client.post(f"/benchmarks/{hub.id}/reproduce", data=form).text
    fresh = _fresh_from_decision(client, html)
    assert fresh.status_code == 200
    values = form_values(fresh.text)
    assert values["notes"] == note.strip() and values["runs-0-decode_tps"] == "131.5"
    assert values["model"] == hub.model.slug and values["hardware"] == hub.hardware.slug
    assert reproductions(session) == []


def test_a_refusal_with_other_mistakes_marks_them_without_a_count(client, session, hub,
                                                                  no_csrf):
    form = repro_form(lock_token_of(client, hub.id), runs=same_runs(400, 100),
                      prompt_tokens="lots")
    html = client.post(f"/benchmarks/{hub.id}/reproduce", data=form).text
    assert "This is not a reproduction" in html and "TTFT 60% slower" in html
    assert "to fix" not in html and 'id="error-summary"' not in html
    assert field_error(html, "prompt_tokens")  # still beside its field
    assert "also need attention" in html


def test_a_wide_spread_needs_a_note_even_within_tolerance(client, session, hub, no_csrf):
    runs = ((250, 512, 100), (250, 512, 100), (250, 512, 89))
    form = repro_form(lock_token_of(client, hub.id), runs=runs)
    response = client.post(f"/benchmarks/{hub.id}/reproduce", data=form)
    assert response.status_code == 422
    assert "spread" in field_error(response.text, "notes")


def test_live_fragment_is_a_partial_with_vary(client, hub, no_csrf):
    form = repro_form(lock_token_of(client, hub.id))
    response = client.post(f"/benchmarks/{hub.id}/reproduce/check", data=form,
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.text
    assert "HX-Request" in response.headers["Vary"]
    assert "Within tolerance" in response.text
    boosted = client.post(f"/benchmarks/{hub.id}/reproduce/check", data=form,
                          headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.text


def test_repeated_live_checks_reuse_the_hub_for_a_few_seconds(
    client, session, hub, no_csrf, monkeypatch
):
    """The worker keeps the hub between checks; a decision on it shows within seconds."""
    hub_id = hub.id
    form = repro_form(lock_token_of(client, hub_id))
    first = client.post(f"/benchmarks/{hub_id}/reproduce/check", data=form,
                        headers={"HX-Request": "true"})
    session.remove()  # as at the end of a served request: the kept copy must not care
    again = client.post(f"/benchmarks/{hub_id}/reproduce/check", data=form,
                        headers={"HX-Request": "true"})
    assert first.status_code == again.status_code == 200
    assert again.text == first.text and "Within tolerance" in again.text
    # the kept hub still answers for its reference rows (the pre-filled fresh form link)
    beyond = repro_form(form["lock_token"], runs=same_runs(250, 160))
    for _ in range(2):
        html = client.post(f"/benchmarks/{hub_id}/reproduce/check", data=beyond,
                           headers={"HX-Request": "true"}).text
        assert "model=llama-3.1-8b-instruct" in html and "hardware=rtx-4090" in html

    moderation.revise(session, session.get(Submission, hub_id), State.REJECTED,
                      actor="reviewer:test", now=utcnow(), reason="numbers were wrong")
    session.commit()
    # The POST decides on a fresh load: refused at once.
    assert client.post(f"/benchmarks/{hub_id}/reproduce", data=form).status_code == 404
    # The advice may lag for a few seconds, never longer.
    later = page_cache.time.monotonic() + reproduce.HUB_SNAPSHOT_SECONDS + 0.1
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: later)
    gone = client.post(f"/benchmarks/{hub_id}/reproduce/check", data=form,
                       headers={"HX-Request": "true"})
    assert gone.status_code == 404, "a rejected row can no longer be reproduced"


def test_the_runtime_may_change_within_the_engine_family_only(client, session, hub, no_csrf):
    token = lock_token_of(client, hub.id)
    response = client.post(f"/benchmarks/{hub.id}/reproduce",
                           data=repro_form(token, runtime="vllm"))
    assert response.status_code == 422
    assert "engine family" in field_error(response.text, "runtime")
    assert client.post(f"/benchmarks/{hub.id}/reproduce",
                       data=repro_form(token, runtime="ollama")).status_code == 303
    (repro,) = reproductions(session)
    assert repro.runtime.slug == "ollama" and repro.model_id == hub.model_id


def test_tensor_parallel_on_the_hubs_single_device_is_refused(client, session, hub, no_csrf):
    """The hub's device count is locked at 1, so the tensor-parallel box is what is
    refused, beside itself."""
    sent = repro_form(lock_token_of(client, hub.id), tensor_parallel="on")
    response = client.post(f"/benchmarks/{hub.id}/reproduce", data=sent)
    assert response.status_code == 422
    assert "at least 2" in field_error(response.text, "tensor_parallel")
    assert_values_kept(response.text, sent)
    assert reproductions(session) == []


def test_tensor_parallel_on_a_multi_device_hub_is_accepted(client, session, make_row,
                                                           no_csrf):
    two = make_row(hardware_count=2, tensor_parallel=True)
    session.commit()
    response = client.post(f"/benchmarks/{two.id}/reproduce",
                           data=repro_form(lock_token_of(client, two.id), tensor_parallel="on"))
    assert response.status_code == 303
    assert reproductions(session)[0].tensor_parallel


def test_reproduction_validation_errors_keep_values(client, hub, no_csrf):
    form = repro_form(lock_token_of(client, hub.id), **{"runs-1-decode_tps": "NaN",
                                                          "url": "file:///etc/passwd"})
    response = client.post(f"/benchmarks/{hub.id}/reproduce", data=form)
    assert response.status_code == 422
    assert field_error(response.text, "runs-1-decode_tps")
    assert field_error(response.text, "url")
    assert_values_kept(response.text, form)


# --- the locked token --------------------------------------------------------------------


def forged(app, payload: dict, salt: str = tokens.LOCK_SALT, key: str | None = None) -> str:
    return URLSafeTimedSerializer(key or app.config["SECRET_KEY"], salt=salt).dumps(payload)


def test_tampered_lock_tokens_are_refused_with_values_kept(app, client, session, hub, no_csrf):
    good = lock_token_of(client, hub.id)
    payload = tokens.lock_payload(hub).model_dump()
    head, _, signature = good.rpartition(".")
    bad_tokens = {
        "missing": "",
        "garbage": "not-a-token",
        "flipped signature": f"{head}.{signature[::-1]}",
        "other hardware, unsigned": forged(app, dict(payload, hardware=payload["hardware"] + 1),
                                           key="guessed-key"),
        "other quant, wrong salt": forged(app, dict(payload, quant=payload["quant"] + 1),
                                          salt=tokens.STATUS_SALT),
        "extra field": forged(app, dict(payload, state="reproduced")),
        "wrong types": forged(app, dict(payload, count="1")),
    }
    for label, token in bad_tokens.items():
        form = repro_form(token, handle="still-here")
        response = client.post(f"/benchmarks/{hub.id}/reproduce", data=form)
        assert response.status_code == 400, label
        assert "could not be checked as a reproduction" in response.text, label
        assert_values_kept(response.text, form)
        # a fresh, valid token comes back so the operator can send again
        assert tokens.read_lock(form_values(response.text)["lock_token"], hub)
    assert reproductions(session) == []


def test_locked_fields_sent_beside_a_valid_token_are_refused_not_ignored(
        client, session, hub, no_csrf):
    # The form sends no locked field: one posted with another value than the hub's was
    # written by hand, and is refused with the values kept (SPEC §9), not silently dropped.
    token = lock_token_of(client, hub.id)
    for altered in ({"model": "gemma-2-9b-it"}, {"hardware": "rtx-3090"},
                    {"hardware_count": "2"}, {"quant": "fp16"}, {"other_model": "x"}):
        form = repro_form(token, handle="still-here", **altered)
        response = client.post(f"/benchmarks/{hub.id}/reproduce", data=form)
        assert response.status_code == 400, altered
        assert "locked configuration cannot be changed" in response.text, altered
        assert_values_kept(response.text, {"handle": "still-here"})
    assert reproductions(session) == []
    # the hub's own values are no alteration
    same = repro_form(token, model=hub.model.slug, hardware_count=str(hub.hardware_count))
    assert client.post(f"/benchmarks/{hub.id}/reproduce", data=same).status_code == 303


def test_a_token_for_another_hub_is_refused(client, session, hub, make_row, no_csrf):
    other = make_row(hardware="rtx-3090")
    session.commit()
    form = repro_form(lock_token_of(client, other.id))
    response = client.post(f"/benchmarks/{hub.id}/reproduce", data=form)
    assert response.status_code == 400
    assert "did not match this benchmark as it is now" in response.text


def test_a_hub_whose_matching_set_changed_refuses_old_tokens(client, session, hub, no_csrf):
    token = lock_token_of(client, hub.id)
    hub.hardware_count = 2
    session.commit()
    assert client.post(f"/benchmarks/{hub.id}/reproduce",
                       data=repro_form(token)).status_code == 400


def test_reproduction_honeypot_and_csrf(app, client, session, hub):
    token = lock_token_of(client, hub.id)
    assert client.post(f"/benchmarks/{hub.id}/reproduce",
                       data=repro_form(token)).status_code == 400  # no CSRF token
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post(f"/benchmarks/{hub.id}/reproduce",
                           data=repro_form(token, website="x"))
    assert response.status_code == 200 and "Thank you" in response.text
    assert session.scalar(select(func.count()).select_from(Submission)) == 1  # the hub only


def test_reproduction_rate_limit(app, client, session, hub, no_csrf):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "submissions": (1, 3600)}
    token = lock_token_of(client, hub.id)
    assert client.post(f"/benchmarks/{hub.id}/reproduce",
                       data=repro_form(token)).status_code == 303
    form = repro_form(token, notes="second try")
    response = client.post(f"/benchmarks/{hub.id}/reproduce", data=form)
    assert response.status_code == 429
    assert_values_kept(response.text, form)
    assert len(reproductions(session)) == 1
