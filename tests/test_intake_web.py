"""Import through the web: a tool's file (or pasted text) fills the fresh and the reproduce
forms, shows where each value came from, is refused with a message beside the upload
field when bad, and stores nothing either way."""

from __future__ import annotations

import io
import json
from html import unescape

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from tests.intake.conftest import as_shown, fixture_bytes
from tests.test_submit_support import (
    assert_values_kept,
    csrf_of,
    field_error,
    form_values,
    fresh_form,
)
from webapp.models import Submission
from webapp.services import intake as intake_package
from webapp.services.intake import References, parse
from webapp.services.rules import State

FIXTURES = [
    "trustbench_result_fake_engine.json",
    "llama_bench_rtx4080_b5163.json",
    "llama_bench_rtx4080_b5163.jsonl",
    "llama_bench_rtx3090ti_b1275.json",
    "ollama_mistral_issue1806.txt",
    "ollama_before_after_pr12742.txt",
    "ollama_api_generate_stream.jsonl",
    "ollama_api_chat.json",
    "vllm_llama32_3b_10qps.json",
    "vllm_results_appended.jsonl",
]
RUNNER_FILE = "trustbench_result_fake_engine.json"
# What an operator typed before importing: it must survive every refusal.
TYPED = {"handle": "kept-handle", "notes": "typed before the import", "quant_provider": "me",
         "vram_peak_mib": "6150"}


def count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Submission))


def refs() -> References:
    return References.from_csv_dir("webapp/data")


def page_form(client, path: str) -> dict[str, str]:
    """The form as the page renders it (csrf token included), like a browser sends it."""
    html = client.get(path).text
    values = form_values(html)
    values["csrf_token"] = csrf_of(html)
    values.pop("website", None)
    return values


def upload(client, path: str, raw: bytes | None = None, *, name: str = "result.json",
           paste: str | None = None, typed: dict | None = None, form_path: str | None = None):
    data = page_form(client, form_path or path.removesuffix("/import"))
    data.update(typed or {})
    if raw is not None:
        data["intake_file"] = (io.BytesIO(raw), name)
    if paste is not None:
        data["intake_text"] = paste
    return post_multipart(client, path, data)


def multipart(data: dict) -> tuple[bytes, str]:
    """The body a browser sends, in memory (the test client spools large ones to a
    temporary file it never closes)."""
    fields = {key: FileStorage(value[0], filename=value[1]) if isinstance(value, tuple)
              else value for key, value in data.items()}
    stream, _length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    return stream.getvalue(), f'multipart/form-data; boundary="{boundary}"'


def post_multipart(client, path: str, data: dict, **kwargs):
    body, content_type = multipart(data)
    return client.post(path, input_stream=io.BytesIO(body), content_type=content_type,
                       **kwargs)


@pytest.fixture
def hub(runner_hub):
    return runner_hub


# --- every format fills the forms ---------------------------------------------------------


@pytest.mark.parametrize("name", FIXTURES)
def test_each_format_fills_the_fresh_form_with_its_sources(client, session, name):
    expected = parse(fixture_bytes(name), filename=name, references=refs())
    response = upload(client, "/submit/benchmark/import", fixture_bytes(name), name=name,
                      typed=TYPED)
    assert response.status_code == 200
    html = response.text
    shown = form_values(html)
    for field, value in expected.values.items():
        assert shown.get(field) == value, (name, field)
    # what was filled, and from where; the notes; estimates apart and never filled
    assert expected.provenance in html and expected.sha256 in html
    text = unescape(html)
    for source in expected.sources.values():
        assert f"<code>{source}</code>" in text
    for note in expected.notes:
        assert as_shown(note) in text
    for field, estimate in expected.estimates.items():
        assert estimate.basis in text and shown.get(field, "") == ""
    for raw in expected.unmapped.values():
        assert f"“{raw}” (set to “Other”)" in text
    # what was typed and not in the file stays
    for field, value in TYPED.items():
        if field not in expected.values:
            assert shown[field] == value
    assert count(session) == 0


def test_pasted_text_fills_the_form_like_a_file(client):
    text = fixture_bytes("ollama_mistral_issue1806.txt").decode()
    response = upload(client, "/submit/benchmark/import", paste=text)
    assert response.status_code == 200
    shown = form_values(response.text)
    assert shown["runs-0-decode_tps"] == "24.606" and shown["runtime"] == "ollama"
    assert shown["intake_text"] == ""  # read, so not kept in the form
    assert "Ollama reports no time to first token" in response.text


def test_a_paste_with_terminal_colour_codes_is_the_parsers_to_judge(client):
    """A terminal copy carries escape codes: the form, not the edge's 400, answers."""
    text = fixture_bytes("ollama_mistral_issue1806.txt").decode()
    coloured = "\x1b[1m" + text.replace("eval rate:", "\x1b[32meval rate:\x1b[0m", 1)
    response = upload(client, "/submit/benchmark/import", paste=coloured, typed=TYPED)
    assert response.status_code in (200, 422), response.status_code
    assert 'name="intake_file"' in response.text  # the form came back
    assert form_values(response.text)["handle"] == TYPED["handle"]


def test_a_file_with_runs_replaces_every_typed_run(client):
    typed = {f"runs-{i}-decode_tps": "1" for i in range(6)}
    response = upload(client, "/submit/benchmark/import", fixture_bytes(RUNNER_FILE),
                      typed=typed)
    shown = form_values(response.text)
    assert shown["runs-2-decode_tps"] == "250.484"
    assert all(shown[f"runs-{i}-decode_tps"] == "" for i in range(3, 6))


def test_the_reproduce_form_is_filled_but_its_locked_set_only_checked(client, hub, session):
    response = upload(client, f"/benchmarks/{hub.id}/reproduce/import",
                      fixture_bytes(RUNNER_FILE), typed=TYPED)
    assert response.status_code == 200
    shown = form_values(response.text)
    assert shown["runs-0-ttft_ms"] == "203.383" and shown["runtime"] == "llama-cpp"
    assert shown["runtime_version"] == "b5163-8cf427ff" and shown["seed"] == "42"
    for locked in ("model", "quant", "hardware", "hardware_count"):
        assert locked not in shown
    assert 'id="intake-checked"' in response.text and "Qwen2.5-7B-Instruct" in response.text
    assert shown["handle"] == "kept-handle" and shown["vram_peak_mib"] == "6150"
    assert shown["provenance"]
    assert count(session) == 1  # the hub only


@pytest.mark.parametrize(("changes", "named"), [
    ({"model": "llama-3.1-8b-instruct"}, "The file's model is Qwen2.5-7B-Instruct; this "
                                         "benchmark's is Llama-3.1-8B-Instruct."),
    ({"quant": "gguf-q8_0"}, "The file's quant is"),
    ({"runtime": "vllm"}, "The file's engine is llama.cpp; this benchmark needs the vllm "
                          "engine family."),
])
def test_a_file_of_another_configuration_is_refused_naming_the_mismatch(
        client, make_row, session, changes, named):
    row = make_row(**{"model": "qwen2.5-7b-instruct", "quant": "gguf-q4_k_m", **changes})
    session.commit()
    response = upload(client, f"/benchmarks/{row.id}/reproduce/import",
                      fixture_bytes(RUNNER_FILE), typed=TYPED)
    assert response.status_code == 409
    message = field_error(response.text, "intake_file")
    assert message and named in message, message
    assert_values_kept(response.text, TYPED)
    assert form_values(response.text).get("runs-0-ttft_ms") == ""
    assert count(session) == 1


def test_a_gpu_the_hub_does_not_have_is_refused(client, hub):
    data = json.loads(fixture_bytes(RUNNER_FILE))
    data["environment"].update(gpu_name="NVIDIA GeForce RTX 3090", gpu_count=1)
    response = upload(client, f"/benchmarks/{hub.id}/reproduce/import",
                      json.dumps(data).encode())
    assert response.status_code == 409
    assert "GeForce RTX 3090" in field_error(response.text, "intake_file")


# --- bad files: a message beside the field, a 4xx, what was typed kept, nothing stored -----


def _runner(**changes) -> bytes:
    data = json.loads(fixture_bytes(RUNNER_FILE))
    data.update(changes)
    return json.dumps(data).encode()


def _negative() -> bytes:
    data = json.loads(fixture_bytes(RUNNER_FILE))
    data["runs"][1]["decode_tps"] = -250.0
    return json.dumps(data).encode()


def _runner_stamps() -> bytes:
    data = json.loads(fixture_bytes(RUNNER_FILE))
    data["runs"][0].update(t0_s=-1e308, t1_s=1e308, t2_s=1.7e308)  # T1 - T0 is inf
    return json.dumps(data).encode()


def _vllm(**changes) -> bytes:
    data = {"completed": 3, "median_ttft_ms": 52.9, "median_tpot_ms": 13.5, **changes}
    return json.dumps(data).encode()


HUGE = 10**400  # beyond any float: dividing by it, or it by anything, overflows
# Numbers at the edge of what Python holds, each of which once reached a parser's
# arithmetic unchecked and answered 500 (a black-box audit): now the file's problem.
EDGE_FILES = {
    "llama-bench n_gen beyond a float": json.dumps(
        [{"n_prompt": 0, "n_gen": HUGE, "samples_ns": [1, 2, 3], "build_commit": "x"}]),
    "llama-bench speed of inf": json.dumps(
        [{"n_prompt": 0, "n_gen": 10, "samples_ns": [1e-300, 2, 3], "build_commit": "x"}]),
    "ollama count of 5,000 digits": fixture_bytes("ollama_llama2_openwebui188.txt").decode()
    .replace("eval count:           25 token(s)", f"eval count: {'9' * 5000} token(s)"),
    "vllm total output tokens beyond a float": _vllm(total_output_tokens=HUGE).decode(),
    "vllm total input tokens beyond a float": _vllm(total_input_tokens=HUGE + 1).decode(),
    "vllm time per token of 1e-320": _vllm(median_tpot_ms=1e-320).decode(),
    "runner timestamps beyond a float": _runner_stamps().decode(),
}


@pytest.mark.parametrize("case", EDGE_FILES)
def test_numbers_at_the_edge_are_refused_beside_the_field(client, session, case):
    response = upload(client, "/submit/benchmark/import", paste=EDGE_FILES[case], typed=TYPED)
    assert response.status_code == 422, response.text[:300]
    message = field_error(response.text, "intake_file")
    assert message and ("too large" in message or "no run measures" in message), message
    assert_values_kept(response.text, TYPED)
    assert count(session) == 0


BAD_FILES = {
    "empty": (b"", 422, "empty"),
    "blank": (b"  \n\n ", 422, "empty"),
    "truncated": (fixture_bytes(RUNNER_FILE)[:900], 422, "cut off"),
    "wrong format": (b'{"hello": "world"}', 422, "not a format the form can read"),
    "an image": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 422, "not text"),
    "nested": (b"[" * 5000 + b"]" * 5000, 422, "nested more than"),
    "huge": (b"[" + b"0," * 260_000 + b"0]", 422, "more than 250,000 values"),
    "nan": (fixture_bytes(RUNNER_FILE).replace(b'"ttft_ms": 203.383', b'"ttft_ms": NaN', 1),
            422, "NaN"),
    "negative": (_negative(), 422, "greater than zero"),
    "newer version": (_runner(version=2), 422, "newer than this site reads"),
    # \ud800 decodes to half a UTF-16 pair, which no page can be written with (was a 500)
    "a lone surrogate": (fixture_bytes(RUNNER_FILE).replace(
        b'"Debian GNU/Linux 12 (bookworm)"', b'"Debian \\ud800"', 1), 422, "\\ud800"),
    "over the size limit": (b" " * intake_package.MAX_BYTES + b"{}", 413, "the limit is 2 MiB"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_refused_beside_the_field_and_keeps_what_was_typed(client, session,
                                                                        case):
    raw, status, words = BAD_FILES[case]
    assert b"NaN" in raw or case != "nan"
    response = upload(client, "/submit/benchmark/import", raw, typed=TYPED)
    assert response.status_code == status, response.text[:300]
    message = field_error(response.text, "intake_file")
    assert message and words in message, message
    assert 'href="#f-intake_file"' in response.text  # and in the summary at the top
    assert_values_kept(response.text, TYPED)
    assert not form_values(response.text)["provenance"]
    assert count(session) == 0


@pytest.mark.parametrize("case", ["truncated", "newer version", "over the size limit"])
def test_the_reproduce_form_refuses_bad_files_the_same_way(client, hub, session, case):
    raw, status, words = BAD_FILES[case]
    response = upload(client, f"/benchmarks/{hub.id}/reproduce/import", raw, typed=TYPED)
    assert response.status_code == status
    assert words in field_error(response.text, "intake_file")
    assert_values_kept(response.text, TYPED)
    assert count(session) == 1


def test_nothing_chosen_is_a_400_that_keeps_the_form(client, session):
    response = upload(client, "/submit/benchmark/import", typed=TYPED)
    assert response.status_code == 400
    assert "Choose a file" in field_error(response.text, "intake_file")
    assert_values_kept(response.text, TYPED)


def test_a_short_refused_paste_is_shown_again(client):
    response = upload(client, "/submit/benchmark/import", paste="total duration: 3s\n")
    assert response.status_code == 422
    assert form_values(response.text)["intake_text"] == "total duration: 3s\n"


# --- the body cap: larger for the import, the app's own everywhere else --------------------


def test_a_valid_file_larger_than_the_apps_body_cap_is_read(client, app):
    raw = _runner(padding="x" * (1024 * 1024))
    assert len(raw) > app.config["MAX_CONTENT_LENGTH"]
    response = upload(client, "/submit/benchmark/import", raw)
    assert response.status_code == 200
    assert form_values(response.text)["runs-0-ttft_ms"] == "203.383"


def test_a_body_over_the_import_cap_is_a_413(client, app, session):
    limit = app.config["INTAKE_MAX_CONTENT_LENGTH"]
    response = upload(client, "/submit/benchmark/import", b" " * limit + b"{}")
    assert response.status_code == 413
    # the page names the limit and the way back to the form
    assert "may be up to 2 MiB" in response.text and "Back" in response.text
    assert count(session) == 0


def test_the_other_forms_keep_the_apps_body_cap(client, app):
    data = page_form(client, "/review/login")
    data["password"] = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/review/login", data=data)
    assert response.status_code == 413
    assert "What you sent is too large." in response.text


def test_a_paste_left_unread_comes_back_beside_the_upload_field(client, app, session):
    """The form's own button pressed with output in the paste box (as large as an import
    may be): the form comes back with everything typed and says what to do, instead of a
    bare 413 page or sending the form without reading the paste."""
    for size in (40, app.config["MAX_CONTENT_LENGTH"] + 1):
        data = page_form(client, "/submit/benchmark")
        data.update(fresh_form(handle="paster"))
        data["intake_text"] = ("total duration: 4.8s\n" * size)[:size]
        response = client.post("/submit/benchmark", data=data)
        assert response.status_code == 422, size
        assert "holds text that was not read" in field_error(response.text, "intake_file")
        assert form_values(response.text)["handle"] == "paster"
        assert form_values(response.text)["intake_text"] == data["intake_text"]
    assert count(session) == 0



def test_a_chunked_upload_larger_than_the_apps_body_cap_is_read(client, app):
    data = page_form(client, "/submit/benchmark")
    data["intake_file"] = (io.BytesIO(_runner(padding="x" * (512 * 1024))), "result.json")
    body, content_type = multipart(data)
    response = client.post(
        "/submit/benchmark/import", input_stream=io.BytesIO(body), content_type=content_type,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200, response.text[:500]
    assert form_values(response.text)["runs-0-ttft_ms"] == "203.383"


# --- CSRF --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/submit/benchmark/import", "/benchmarks/{id}/reproduce/import"])
def test_the_import_needs_the_forms_csrf_token(client, hub, session, path):
    url = path.format(id=hub.id)
    data = page_form(client, url.removesuffix("/import"))
    for token in (None, "forged"):
        sent = {**data, "intake_file": (io.BytesIO(fixture_bytes(RUNNER_FILE)), "r.json")}
        if token is None:
            sent.pop("csrf_token")
        else:
            sent["csrf_token"] = token
        response = post_multipart(client, url, sent)
        assert response.status_code == 400
        assert 'id="intake-result"' not in response.text
    sent = {**data, "intake_file": (io.BytesIO(fixture_bytes(RUNNER_FILE)), "r.json")}
    assert post_multipart(client, url, sent).status_code == 200


@pytest.mark.parametrize("path", ["/submit/benchmark", "/benchmarks/{id}/reproduce",
                                  "/submit/benchmark/import", "/benchmarks/{id}/reproduce/import"])
def test_a_form_whose_token_expired_comes_back_with_everything_typed(app, hub, session, path):
    """Cookies cleared (or a long pause) before sending: nothing is done, and the form comes
    back with what was typed and a fresh token, not a page that says "go back" (the
    browser restores a form's fields only in part, and a reload empties it)."""
    url = path.format(id=hub.id)
    visitor = app.test_client()
    sent = {**page_form(visitor, url.removesuffix("/import")), **TYPED,
            "runs-0-decode_tps": "101.5"}
    visitor.delete_cookie("session")  # the session that held the token is gone
    response = post_multipart(visitor, url, sent)
    assert response.status_code == 400
    assert 'id="form-expired"' in response.text and "nothing was sent" in response.text
    shown = form_values(response.text)
    assert shown["runs-0-decode_tps"] == "101.5"
    assert_values_kept(response.text, TYPED)
    assert 'id="intake-result"' not in response.text  # no file was read
    assert count(session) == 1  # the hub alone: nothing was stored
    again = {**sent, "csrf_token": shown["csrf_token"]}
    if url.endswith("/import"):
        again["intake_file"] = (io.BytesIO(fixture_bytes(RUNNER_FILE)), "r.json")
    assert post_multipart(visitor, url, again).status_code in (200, 303, 422)  # taken now


@pytest.mark.parametrize("path", ["/benchmarks/{id}/reproduce",
                                  "/benchmarks/{id}/reproduce/import"])
@pytest.mark.parametrize("which", ["missing", "queued"])
def test_a_stale_form_for_a_row_that_is_not_public_is_a_404_page(app, session, make_row,
                                                                 path, which):
    """A token refused on the reproduce form of a row that does not exist or is not public
    (a session expired meanwhile, or no token at all) is that row's 404 page: the
    expired-form page has no form to give back."""
    row_id = 999_999 if which == "missing" else make_row(state=State.QUEUED).id
    session.commit()
    response = app.test_client().post(path.format(id=row_id), data={"handle": "x"})
    assert response.status_code == 404
    assert "<h1" in response.text and "Not Found" in response.text


# --- the form itself -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/submit/benchmark", "/benchmarks/{id}/reproduce"])
def test_enter_in_a_field_sends_the_form_not_the_import(client, hub, path):
    import html5lib

    document = html5lib.parse(client.get(path.format(id=hub.id)).text,
                              namespaceHTMLElements=False)
    form = document.find(".//form[@class='submission-form']")
    submits = [element for element in form.iter() if element.get("type") == "submit"
               and element.tag in ("button", "input")]
    assert submits[0].get("formaction") is None  # the default button: the form's own
    # and the form's first <button> is its own "send" (what the other tests click)
    assert next(form.iter("button")).get("formaction") is None
    reader = next(element for element in submits if element.get("formaction"))
    assert reader.get("formaction").endswith("/import")
    assert reader.get("formenctype") == "multipart/form-data"
    assert form.find(".//input[@type='file'][@name='intake_file']") is not None
    # the live check sends a list of the numbers it needs: never the paste
    sent = form.get("hx-params").split(",")
    assert "runs-0-decode_tps" in sent and "intake_text" not in sent


# --- the locked set: names the site cannot place, devices, "other" names -------------------

LLAMA_BENCH = "llama_bench_rtx4080_b5163.json"
UNCHECKED = "could not be checked against this benchmark's"


@pytest.fixture
def llama_hub(make_row, session):
    """Llama-3.1-8B-Instruct on one RTX 3090, Q4_K_M, served by Ollama."""
    row = make_row(model="llama-3.1-8b-instruct", hardware="rtx-3090", quant="gguf-q4_k_m",
                   runtime="ollama")
    session.commit()
    return row


def _ollama_paste(command: str) -> str:
    timings = fixture_bytes("ollama_mistral_issue1806.txt").decode().split("\n", 2)[2]
    return f"$ {command}\n>>> hello\n{timings}"


def _bench(**changes) -> bytes:
    data = json.loads(fixture_bytes(LLAMA_BENCH))
    for record in data:
        record.update(gpu_info="NVIDIA GeForce RTX 3090", model_type="llama 8B Q4_K - Medium",
                      model_filename="Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf")
        record.update(changes)
    return json.dumps(data).encode()


BLOB = "sha256-667b0c1932bc6ffc593ed1d03f895bf2dc8dc6df21db3042284a6f4416b06a29"


@pytest.mark.parametrize(("kind", "name", "shown"), [
    ("paste", "ollama run my-finetune:8b --verbose", "my-finetune:8b"),
    ("file", "models/8B/ggml-model-Q4_K_M.gguf", "ggml-model-Q4_K_M"),
    ("file", f"/usr/share/ollama/.ollama/models/blobs/{BLOB}", BLOB),
])
def test_a_model_the_site_cannot_place_is_unchecked_not_another_configuration(
        client, llama_hub, session, kind, name, shown):
    path = f"/benchmarks/{llama_hub.id}/reproduce/import"
    if kind == "paste":
        response = upload(client, path, paste=_ollama_paste(name), typed=TYPED)
    else:
        response = upload(client, path, _bench(model_filename=name), typed=TYPED)
    assert response.status_code == 200, field_error(response.text, "intake_file")
    text = unescape(response.text)
    assert f"The file's model (“{shown}”) {UNCHECKED} (Llama-3.1-8B-Instruct)" in text
    assert form_values(response.text)["runs-0-decode_tps"]
    assert count(session) == 1


def test_an_ollama_pull_from_hugging_face_names_the_model(client, llama_hub):
    command = "ollama run hf.co/bartowski/Meta-Llama-3.1-8B-Instruct-GGUF:Q4_K_M --verbose"
    response = upload(client, f"/benchmarks/{llama_hub.id}/reproduce/import",
                      paste=_ollama_paste(command))
    assert response.status_code == 200
    assert UNCHECKED not in unescape(response.text)
    assert form_values(response.text)["runs-0-decode_tps"] == "24.606"


@pytest.mark.parametrize(("hub_name", "status"), [
    ("Hermes-3-Llama-3.1-8B", 409), ("ggml-model-q4_k_m.gguf", 200),
])
def test_two_other_models_are_compared_by_name(client, make_row, session, hub_name, status):
    row = make_row(model="other", other_model=hub_name, hardware="rtx-3090", runtime="ollama")
    session.commit()
    response = upload(client, f"/benchmarks/{row.id}/reproduce/import",
                      _bench(model_filename="models/8B/ggml-model-Q4_K_M.gguf"))
    assert response.status_code == status
    if status == 409:
        assert ("The file's model is “ggml-model-Q4_K_M”; this benchmark's is "
                f"“{hub_name}”.") in field_error(response.text, "intake_file")


@pytest.mark.parametrize("changes", [{"gpu_info": ""}, {"n_gpu_layers": 0}])
def test_a_cpu_only_run_cannot_reproduce_a_gpu_benchmark(client, llama_hub, session, changes):
    response = upload(client, f"/benchmarks/{llama_hub.id}/reproduce/import",
                      _bench(**changes), typed=TYPED)
    assert response.status_code == 409
    assert ("The file ran on the CPU only (no model layers on a GPU); this benchmark ran on "
            "the GeForce RTX 3090 GPU.") in field_error(response.text, "intake_file")
    assert form_values(response.text).get("runs-0-decode_tps") == ""
    assert_values_kept(response.text, TYPED)


def test_a_gpu_run_cannot_reproduce_a_cpu_benchmark(client, make_row, session):
    row = make_row(hardware="cpu-ddr5-5600-2ch", runtime="ollama", cpu_family="Ryzen 9 7950X")
    session.commit()
    response = upload(client, f"/benchmarks/{row.id}/reproduce/import", _bench())
    assert response.status_code == 409
    assert ("The file ran on a GPU (GeForce RTX 3090); this benchmark ran on the CPU (CPU "
            "with dual-channel DDR5-5600).") in field_error(response.text, "intake_file")


# --- outputs the form does not read, named ----------------------------------------------

BENCH_TABLE_RIGHT_ALIGNED = """\
| model                          |       size |     params | backend    | ngl |            test |                  t/s |
| ------------------------------ | ---------: | ---------: | ---------- | --: | --------------: | -------------------: |
| llama 8B Q4_K - Medium         |   4.58 GiB |     8.03 B | CUDA       |  99 |           pp512 |      5110.41 ± 20.17 |
| llama 8B Q4_K - Medium         |   4.58 GiB |     8.03 B | CUDA       |  99 |           tg128 |        124.60 ± 0.31 |
"""  # noqa: E501
BENCH_CSV = (
    'build_commit,build_number,cpu_info,gpu_info,model_filename,n_prompt,n_gen,avg_ns,avg_ts\n'
    '"8cf427ff","5163","AMD Ryzen 7 7800X3D","NVIDIA GeForce RTX 3090","m.gguf","0","128",'
    '"1027000000","124.6"\n'
)


@pytest.mark.parametrize(("raw", "words"), [
    (BENCH_TABLE_RIGHT_ALIGNED, "This is llama-bench's table output"),
    (BENCH_CSV, "This is llama-bench's CSV output (-o csv)"),  # -o csv set as code
    ("ggml_cuda_init: found 1 CUDA devices:\n" + BENCH_CSV, "CSV output"),
])
def test_known_outputs_the_form_does_not_read_are_named(client, session, raw, words):
    response = upload(client, "/submit/benchmark/import", raw.encode(), name="bench.out",
                      typed=TYPED)
    assert response.status_code == 422
    message = field_error(response.text, "intake_file")
    assert words in message, message
    assert_values_kept(response.text, TYPED)


def test_llama_bench_json_after_its_log_lines_is_read(client):
    log = ("ggml_cuda_init: GGML_CUDA_FORCE_MMQ:    no\n"
           "ggml_cuda_init: found 1 CUDA devices:\n"
           "  Device 0: NVIDIA GeForce RTX 3090, compute capability 8.6, VMM: yes\n")
    response = upload(client, "/submit/benchmark/import",
                      log.encode() + fixture_bytes(LLAMA_BENCH), name="bench.json")
    assert response.status_code == 200
    shown = form_values(response.text)
    assert shown["runs-0-decode_tps"] and shown["hardware"] == "rtx-4080"
    assert "The 3 lines before the JSON" in unescape(response.text)


def test_log_lines_before_broken_json_say_to_drop_2_and_1(client):
    raw = b"ggml_cuda_init: found 1 CUDA devices:\n" + fixture_bytes(LLAMA_BENCH)[:400]
    response = upload(client, "/submit/benchmark/import", raw, name="bench.json")
    assert response.status_code == 422
    assert "without 2>&1" in field_error(response.text, "intake_file")
    assert "without <code>2&gt;&amp;1</code>" in response.text  # set as code, escaped


@pytest.mark.parametrize(("extra", "shown"), [
    (2, "The file is 2,097,154 bytes; the limit is 2 MiB (2,097,152 bytes)."),
    (10 * 1024, "The file is 2.01 MiB; the limit is 2 MiB."),
])
def test_a_file_just_over_the_limit_reads_as_over(client, extra, shown):
    raw = b" " * (intake_package.MAX_BYTES + extra - 2) + b"{}"
    response = upload(client, "/submit/benchmark/import", raw)
    assert response.status_code == 413
    assert shown in field_error(response.text, "intake_file")
