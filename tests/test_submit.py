"""The fresh benchmark form: pick-lists, validation beside each field, the live check,
the honeypot, CSRF, rate limits and the redirect to the private status link."""

from __future__ import annotations

import re
import sqlite3

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.test_submit_support import (
    assert_values_kept,
    csrf_of,
    field_error,
    form_values,
    fresh_form,
    run_fields,
    same_runs,
)
from webapp.models import AuditEvent, RunSample, Submission
from webapp.services import tokens
from webapp.services.rules import MAX_RUNS, Kind, State


def count(session, model=Submission) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- the page -------------------------------------------------------------------------


def test_form_renders_grouped_pick_lists_with_other_entries(client):
    response = client.get("/submit/benchmark")
    assert response.status_code == 200
    html = response.text
    assert '<optgroup label="NVIDIA">' in html and '<optgroup label="Apple">' in html
    assert '<optgroup label="llama.cpp engine family">' in html
    assert html.count('<optgroup label="Not in the list">') == 4
    for name in ("other_model", "other_hardware", "other_quant", "other_runtime", "cpu_family"):
        assert f'name="{name}"' in html
    # ten run slots, no name or email anywhere
    assert 'name="runs-9-decode_tps"' in html and 'name="runs-10-decode_tps"' not in html
    lowered = html.lower()
    assert 'type="email"' not in lowered and 'name="email"' not in lowered
    assert 'name="name"' not in lowered
    # the honeypot is hidden by a class, not an inline style
    assert 'class="hp-field"' in html and 'name="website"' in html and "style=" not in html
    assert re.search(r'href="/static/forms\.[0-9a-f]{12}\.css"', html)  # content-hashed


def test_form_prefills_from_query_args(client):
    args = {"model": "qwen2.5-7b-instruct", "hardware": "rtx-3090", "hardware_count": "2",
            "runtime": "ollama", "runs-0-ttft_ms": "321", "notes": "carried over"}
    values = form_values(client.get("/submit/benchmark", query_string=args).text)
    for name, value in args.items():
        assert values[name] == value


def test_every_form_has_method_action_and_csrf(client, make_row, session):
    hub = make_row()
    session.commit()
    for path in ("/submit/benchmark", f"/benchmarks/{hub.id}/reproduce",
                 f"/submit/feedback?benchmark={hub.id}"):
        html = client.get(path).text
        assert html.count("<form") == html.count('method="post" action="/')
        assert 'name="csrf_token"' in html


# --- success ----------------------------------------------------------------------------


def test_valid_submission_is_queued_and_redirects_to_its_status_link(client, session, no_csrf):
    response = client.post("/submit/benchmark", data=fresh_form(handle="  @Alice  "))
    assert response.status_code == 303
    assert "/submissions/" in response.headers["Location"]
    assert response.headers["Location"].endswith("new=1")
    row = session.scalars(select(Submission)).one()
    assert (row.kind, row.state) == (Kind.FRESH, State.QUEUED)
    assert row.ttft_ms == 250 and row.decode_tps == 100 and row.tokens_generated == 512
    assert row.operator_key == "alice" and row.handle == "@Alice"
    assert count(session, RunSample) == 3
    assert row.ip_hash and len(row.ip_hash) == 64 and row.ip_day is not None
    assert len(row.status_nonce) >= 32
    event = session.scalars(select(AuditEvent)).one()
    assert (event.actor, event.from_state, event.to_state) == ("submitter", None, "queued")

    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "Keep this link" in page.text
    assert tokens.read_status(response.headers["Location"].split("/")[-1].split("?")[0])


def test_anonymous_operators_get_distinct_keys(client, session, no_csrf):
    for _ in range(2):
        assert client.post("/submit/benchmark", data=fresh_form()).status_code == 303
    keys = session.scalars(select(Submission.operator_key)).all()
    assert len(set(keys)) == 2 and all(key.startswith("anon:") for key in keys)


def test_other_entries_and_cpu_family_are_kept(client, session, no_csrf):
    form = fresh_form(model="other", other_model="Mystery-9B", hardware="cpu-ddr5-5600-2ch",
                      cpu_family="AMD Ryzen 9 7950X", quant="other", other_quant="EXL2 4.0bpw",
                      runtime="other", other_runtime="homebrew", driver_version="")
    assert client.post("/submit/benchmark", data=form).status_code == 303
    row = session.scalars(select(Submission)).one()
    assert (row.other_model, row.cpu_family, row.other_quant, row.other_runtime) == (
        "Mystery-9B", "AMD Ryzen 9 7950X", "EXL2 4.0bpw", "homebrew")
    assert row.other_hardware is None


def test_other_text_is_ignored_when_a_listed_entry_is_chosen(client, session, no_csrf):
    form = fresh_form(other_model="ignored", cpu_family="ignored too")
    assert client.post("/submit/benchmark", data=form).status_code == 303
    row = session.scalars(select(Submission)).one()
    assert row.other_model is None and row.cpu_family is None


def test_ten_runs_are_accepted_and_blank_rows_ignored(client, session, no_csrf):
    runs = same_runs(250, 100, MAX_RUNS)
    form = fresh_form(runs=())
    form.update(run_fields(runs))
    assert client.post("/submit/benchmark", data=form).status_code == 303
    assert count(session, RunSample) == MAX_RUNS

    sparse = fresh_form(runs=())
    for slot, run in zip((0, 4, 9), same_runs(250, 100), strict=True):
        sparse.update({f"runs-{slot}-ttft_ms": str(run[0]),
                       f"runs-{slot}-tokens_generated": str(run[1]),
                       f"runs-{slot}-decode_tps": str(run[2])})
    assert client.post("/submit/benchmark", data=sparse).status_code == 303


# --- bad input: message beside the field, values kept, 422, never 500 ---------------

BAD_INPUT = [
    ("runs-0-ttft_ms", "nan", "finite"),
    ("runs-0-ttft_ms", "NaN", "finite"),
    ("runs-1-decode_tps", "inf", "finite"),
    ("runs-1-decode_tps", "-Infinity", "finite"),
    ("runs-2-decode_tps", "1e400", "finite"),
    ("runs-0-ttft_ms", "-5", "greater than zero"),
    ("runs-0-decode_tps", "0", "greater than zero"),
    ("runs-0-ttft_ms", "1e-320", "at least 0.001"),  # positive, and float dust
    ("vram_peak_mib", "4.9e-324", "at least 0.001"),
    ("prefill_tps", "1e-310", "at least 0.001"),
    ("runs-0-ttft_ms", "600000", "less than 600,000"),
    ("runs-0-decode_tps", "100000", "less than 100,000"),
    ("runs-0-decode_tps", "99999999999999999999999", "less than"),
    ("runs-0-ttft_ms", "fast", "Enter a number"),
    ("runs-0-ttft_ms", "1,5", "decimal point"),
    ("runs-0-tokens_generated", "512.5", "whole number"),
    ("runs-0-tokens_generated", "many", "whole number"),
    ("runs-0-tokens_generated", "0", "at least 1"),
    ("runs-1-tokens_generated", "", "required"),
    ("vram_peak_mib", "", "required"),
    ("vram_peak_mib", "4194304", "less than"),
    ("vram_peak_mib", "-1", "greater than zero"),
    ("vram_peak_mib", "lots", "Enter a number"),
    ("prefill_tps", "inf", "finite"),
    ("hardware_count", "0", "at least 1"),
    ("hardware_count", "1.5", "whole number"),
    ("hardware_count", "65", "at most 64"),
    ("concurrent_users", "-2", "at least 1"),
    ("prompt_tokens", "12x", "whole number"),
    ("max_tokens", "0", "at least 1"),
    ("seed", "-1", "fixed seed"),
    ("seed", "99999999999999999999", "at most"),
    ("model", "", "Choose the model"),
    ("model", "no-such-model", "from the list"),
    ("hardware", "gpu-from-the-future", "from the list"),
    ("quant", "", "Choose the quant"),
    ("runtime", "<script>", "from the list"),
    ("other_model", "", "name the model"),  # with model=other, below
    ("handle", "x" * 41, "at most 40"),
    ("handle", "someone@example.org", "email"),
    ("handle", "anon:0123abcd", "cannot start with"),
    ("handle", "  ＡＮＯＮ:x", "cannot start with"),  # full-width look-alike, folded by NFKC
    ("url", "javascript:alert(1)", "http:// or https://"),
    ("url", "ftp://example.org/x", "http:// or https://"),
    ("url", "https://" + "a" * 300 + ".org", "at most 300"),
    ("url", "https://user:pw@example.org/", "passwords"),
    ("url", "http://ex.com:99999/", "from 1 to 65535"),
    ("url", "http://ex.com:0/", "from 1 to 65535"),
    ("url", "http://ex.com:eighty/", "from 1 to 65535"),
    ("url", "https://example.com/\u202egpj.exe", "text-direction"),
    ("url", "https://exa\u200bmple.com/", "invisible"),
    ("url", "https://example.com/\u2066x", "text-direction"),
    ("url", "https://example.com/a b", "spaces"),
    ("url", "https://example.com/a\u3000b", "spaces"),
    ("url", "https://" + "\u0430" * 70 + ".org/", "cannot be written"),  # a label over 63
    ("model_sha256_prefix", "not-hex!", "hexadecimal"),
    ("model_sha256_prefix", "abc", "between 8 and 64"),
    ("model_sha256_prefix", "a" * 75, "between 8 and 64"),  # the field's rule, not 74
    ("runtime_version", "x" * 61, "at most 60"),
    ("os_label", "Ubuntu\x00 24.04", "control characters"),
    ("notes", "x" * 4001, "at most 4000"),
    ("notes", "nul \x00 byte", "control characters"),
    # U+FFFE and U+FFFF: XML forbids them, so the feed and the badge could not carry them
    ("other_model", "NonChar\ufffeX\uffffY", "control characters"),
    ("notes", "plane 16's last \U0010ffff", "control characters"),
]


def test_an_empty_form_lists_its_errors_as_the_page_shows_the_fields(client, no_csrf):
    """The summary reads top to bottom as the form does (it listed the runs first and
    the device count after the web address), and the title says the page holds errors."""
    response = client.post("/submit/benchmark", data={"hardware_count": "two",
                                                      "url": "ftp://example.org/"})
    assert response.status_code == 422
    assert re.search(r"<title>Error: Submit a benchmark", response.text)
    summary = response.text[response.text.index('id="error-summary"'):]
    summary = summary[:summary.index("</ul>")]
    linked = re.findall(r'href="#f-([a-z_0-9-]+)"', summary)
    assert linked.index("model") < linked.index("hardware_count") < linked.index(
        "runs") < linked.index("url")


@pytest.mark.parametrize(("name", "value", "message"), BAD_INPUT,
                         ids=[f"{n}={v[:12]!r}" for n, v, _ in BAD_INPUT])
def test_bad_input_is_refused_beside_the_field_with_values_kept(
    client, session, no_csrf, name, value, message
):
    form = fresh_form(handle="kept-handle", notes="kept notes", url="https://example.org/me")
    if name == "other_model":
        form["model"] = "other"
    form[name] = value
    response = client.post("/submit/benchmark", data=form)
    assert response.status_code == 422
    shown = field_error(response.text, name)
    assert shown is not None, f"no message beside {name}"
    assert message.lower() in shown.lower()
    # the re-rendered form holds what was typed; a pick-list can only show its own
    # entries, and a NUL is what the message is about
    if "\x00" not in value:
        picked = name in ("model", "hardware", "quant", "runtime") and value
        assert_values_kept(response.text, form, skip=(name,) if picked else ())
    assert 'id="error-summary"' in response.text
    assert count(session) == 0


@pytest.mark.parametrize("url", ["https://example.org:8443/me", "http://[::1]:65535/",
                                 "https://example.org/caf%C3%A9", "https://example.org/café"])
def test_a_web_address_with_a_valid_port_or_letters_is_accepted(client, session, no_csrf, url):
    assert client.post("/submit/benchmark", data=fresh_form(url=url)).status_code == 303
    assert session.scalars(select(Submission)).one().url == url


@pytest.mark.parametrize("runs", [2, 11])
def test_run_count_outside_three_to_ten_is_refused(client, session, no_csrf, runs):
    form = fresh_form(runs=same_runs(250, 100, runs))
    response = client.post("/submit/benchmark", data=form)
    assert response.status_code == 422
    assert "timed runs" in field_error(response.text, "runs")
    # the ten slots on the page keep what was typed in them
    assert_values_kept(response.text, {k: v for k, v in form.items()
                                        if not k.startswith("runs-10-")})
    assert count(session) == 0


def test_missing_fields_entirely_give_422_not_500(client, no_csrf):
    response = client.post("/submit/benchmark", data={})
    assert response.status_code == 422
    for name in ("model", "hardware", "quant", "runtime", "vram_peak_mib", "runs"):
        assert field_error(response.text, name), name


def test_garbage_keys_and_huge_row_numbers_are_harmless(client, no_csrf, session):
    form = fresh_form(**{"runs-999-ttft_ms": "1", "runs-x-ttft_ms": "2", "speculative": "on",
                         "kind": "editorial", "state": "approved-public", "is_demo": "1"})
    assert client.post("/submit/benchmark", data=form).status_code == 303
    row = session.scalars(select(Submission)).one()
    assert (row.kind, row.state, row.is_demo, row.speculative) == ("fresh", "queued", False, True)


def test_tensor_parallel_on_one_device_is_refused_beside_the_device_count(
        client, session, no_csrf):
    sent = fresh_form(tensor_parallel="on", hardware_count="1")
    response = client.post("/submit/benchmark", data=sent)
    assert response.status_code == 422
    assert "at least 2 devices" in field_error(response.text, "hardware_count")
    assert_values_kept(response.text, sent)
    assert count(session) == 0
    accepted = client.post("/submit/benchmark",
                           data=fresh_form(tensor_parallel="on", hardware_count="2"))
    assert accepted.status_code == 303


def test_cpu_hardware_asks_for_a_cpu_family(client, no_csrf):
    response = client.post("/submit/benchmark",
                           data=fresh_form(hardware="cpu-ddr4-3200-2ch", cpu_family=""))
    assert response.status_code == 422
    assert "CPU family" in field_error(response.text, "cpu_family")


def test_spread_above_ten_percent_needs_a_note(client, session, no_csrf):
    runs = ((250, 512, 100), (250, 512, 100), (250, 512, 115))
    response = client.post("/submit/benchmark", data=fresh_form(runs=runs))
    assert response.status_code == 422
    assert "spread" in field_error(response.text, "notes")
    assert client.post("/submit/benchmark", data=fresh_form(
        runs=runs, notes="Run 3 after the fans spun up.")).status_code == 303
    assert count(session) == 1


# --- the live check --------------------------------------------------------------------


def test_live_check_fragment_shows_medians_spread_and_flags(client, no_csrf):
    # 4090 + Llama 8B Q4_K_M: ceiling about 205 tok/s; 400 is implausible. 30 000 MiB is
    # more than the card's 24 GiB.
    form = fresh_form(runs=((250, 512, 380), (260, 512, 400), (255, 512, 420)),
                      vram_peak_mib="30000")
    response = client.post("/submit/benchmark/check", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "HX-Request" in response.headers.get("Vary", "")
    assert "Exceeds the bandwidth ceiling" in response.text
    assert "Memory peak exceeds" in response.text
    assert "400" in response.text  # the decode median

    declared = dict(form, speculative="on")
    response = client.post("/submit/benchmark/check", data=declared,
                           headers={"HX-Request": "true"})
    assert "Exceeds the bandwidth ceiling" not in response.text


def test_live_check_answers_while_a_writer_holds_the_sqlite_write_lock(app, client, no_csrf):
    """The live check only reads: it must not queue behind a long write for the lock."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        pytest.skip("SQLite's single writer lock; PostgreSQL readers never wait for writers")
    writer = sqlite3.connect(url.database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        response = client.post("/submit/benchmark/check", data=fresh_form(),
                               headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert "Medians of 3 complete runs" in response.text
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_live_check_tolerates_half_typed_input(client, no_csrf):
    form = {"model": "llama-3.1-8b-instruct", "runs-0-ttft_ms": "25", "runs-0-decode_tps": "1e",
            "runs-1-ttft_ms": "nan", "hardware_count": "x", "vram_peak_mib": "-"}
    response = client.post("/submit/benchmark/check", data=form, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Type your timed runs" in response.text
    partial = dict(form, **{"runs-0-tokens_generated": "512", "runs-0-decode_tps": "100"})
    response = client.post("/submit/benchmark/check", data=partial,
                           headers={"HX-Request": "true"})
    assert "Medians of 1 complete run" in response.text and "at least 3" in response.text


def test_live_check_spread_warning(client, no_csrf):
    runs = ((250, 512, 100), (250, 512, 100), (250, 512, 115))
    response = client.post("/submit/benchmark/check", data=fresh_form(runs=runs),
                           headers={"HX-Request": "true"})
    assert "add a note" in response.text


def test_live_check_suggests_reproducing_a_public_row(client, no_csrf, make_row, session):
    hub = make_row(runtime="llama-cpp")
    hidden = make_row(state=State.QUEUED)
    session.commit()
    html = client.post("/submit/benchmark/check", data=fresh_form(runtime="ollama"),
                       headers={"HX-Request": "true"}).text
    assert f"/benchmarks/{hub.id}/reproduce" in html
    assert f"/benchmarks/{hidden.id}/" not in html
    other_engine = client.post("/submit/benchmark/check", data=fresh_form(runtime="vllm"),
                               headers={"HX-Request": "true"}).text
    assert f"/benchmarks/{hub.id}/reproduce" not in other_engine


def test_live_check_without_htmx_renders_the_whole_form(client, no_csrf):
    response = client.post("/submit/benchmark/check", data=fresh_form())
    assert response.status_code == 200 and "<form" in response.text


def test_a_host_in_look_alike_letters_is_kept_and_shown_in_its_ascii_form(client, session,
                                                                          no_csrf):
    """"https://еxample.com/" (a Cyrillic е) would read as example.com: it is stored and
    linked as browsers show such a host, "xn--xample-2of.com"; a path keeps its letters."""
    response = client.post("/submit/benchmark", data=fresh_form(
        url="https://\u0435xample.com/caf\u00e9"))
    assert response.status_code == 303
    row = session.scalars(select(Submission)).one()
    assert row.url == "https://xn--xample-2of.com/caf\u00e9"
    status = client.get(response.headers["Location"]).text
    assert 'href="https://xn--xample-2of.com/caf\u00e9"' in status
    assert "\u0435xample" not in status


# --- abuse controls -----------------------------------------------------------------------


def test_honeypot_gets_a_calm_reply_and_nothing_is_stored(client, session, no_csrf):
    response = client.post("/submit/benchmark", data=fresh_form(website="http://spam.example"))
    assert response.status_code == 200
    assert "Thank you" in response.text and "/submissions/" not in response.text
    assert count(session) == 0


def test_post_without_csrf_token_is_refused(client, session):
    assert client.application.config["WTF_CSRF_ENABLED"] is True
    response = client.post("/submit/benchmark", data=fresh_form())
    assert response.status_code == 400
    assert count(session) == 0
    # the htmx live check is a POST too and needs the token (app.js sends it as a header)
    assert client.post("/submit/benchmark/check", data=fresh_form(),
                       headers={"HX-Request": "true"}).status_code == 400
    token = csrf_of(client.get("/submit/benchmark").text)
    assert client.post("/submit/benchmark/check", data=fresh_form(),
                       headers={"HX-Request": "true", "X-CSRFToken": token}).status_code == 200
    assert client.post("/submit/benchmark", data=fresh_form(csrf_token=token)).status_code == 303
    assert count(session) == 1


def test_rate_limit_gives_429_with_values_kept(client, app, session, no_csrf):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "submissions": (2, 3600)}
    for _ in range(2):
        assert client.post("/submit/benchmark", data=fresh_form()).status_code == 303
    form = fresh_form(notes="my third", handle="keeper")
    response = client.post("/submit/benchmark", data=form)
    assert response.status_code == 429
    assert "Too many submissions" in response.text and "2 per hour" in response.text
    assert_values_kept(response.text, form)
    assert count(session) == 2


def test_rate_limits_can_be_disabled(client, app, session, no_csrf):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "submissions": (1, 3600)}
    app.config["RATE_LIMITS_ENABLED"] = False
    for _ in range(3):
        assert client.post("/submit/benchmark", data=fresh_form()).status_code == 303
