"""Ollama: `ollama run --verbose` text, read from outputs pasted in Ollama's and others'
threads; the JSON of Ollama's API (/api/generate, /api/chat); and Ollama's tags."""

from __future__ import annotations

import json
from html import unescape

import pytest

from tests.intake.conftest import as_shown, fixture_bytes
from tests.test_intake_web import UNCHECKED, count, upload
from tests.test_submit_support import field_error, form_values
from webapp.services.intake import IntakeError, check_locked, parse
from webapp.services.intake.ollama import duration_ms


def test_one_answer_becomes_one_run(read):
    intake = read("ollama_mistral_issue1806.txt")
    assert intake.format == "ollama-verbose"
    assert intake.run_count == 1
    assert intake.values["runs-0-tokens_generated"] == "120"
    # eval count ÷ eval duration: 120 / 4.876787 s (Ollama printed 24.61 tokens/s)
    assert float(intake.values["runs-0-decode_tps"]) == pytest.approx(120 / 4.876787, abs=0.001)
    assert intake.sources["runs-0-tokens_generated"] == (
        "line 15: eval count:           120 token(s)"
    )
    assert "eval duration:        4.876787s" in intake.sources["runs-0-decode_tps"]
    assert intake.values["prompt_tokens"] == "11"
    assert float(intake.values["prefill_tps"]) == pytest.approx(11 / 0.204563, abs=0.001)
    assert intake.values["runtime"] == "ollama"
    assert intake.provenance == "imported from ollama run --verbose"


def test_ttft_is_left_to_the_operator_and_the_estimate_is_a_lower_bound(read):
    intake = read("ollama_mistral_issue1806.txt")
    assert "runs-0-ttft_ms" not in intake.values
    assert any("reports no time to first token" in note for note in intake.notes)
    estimate = intake.estimates["runs-0-ttft_ms"]
    assert float(estimate.value) == pytest.approx(1.365523 + 204.563, abs=0.1)
    assert "lower bound" in estimate.basis


def test_fewer_than_three_runs_are_filled_with_a_note(read):
    intake = read("ollama_mistral_issue1806.txt")
    assert any("at least 3" in note for note in intake.notes)


def test_answers_pasted_one_after_another_become_runs(read):
    intake = read("ollama_before_after_pr12742.txt")
    assert intake.run_count == 2
    assert intake.values["runs-0-tokens_generated"] == "1873"
    assert intake.values["runs-1-tokens_generated"] == "1769"
    assert float(intake.values["runs-1-decode_tps"]) == pytest.approx(1769 / 17.148014223,
                                                                      abs=0.001)
    assert intake.sources["runs-1-tokens_generated"].startswith("line 18:")
    assert intake.values["prompt_tokens"] == "32768"


def test_three_pasted_outputs_give_three_runs_and_a_median(refs):
    # three real outputs pasted one after another, as an operator would
    paste = b"\n".join(
        fixture_bytes(name) for name in (
            "ollama_orca_mini_pr6122.txt", "ollama_metal_pr2163.txt",
            "ollama_llama2_openwebui188.txt",
        )
    )
    intake = parse(paste, filename=None, references=refs)
    assert intake.run_count == 3
    tokens = [intake.values[f"runs-{i}-tokens_generated"] for i in range(3)]
    assert tokens == ["84", "10", "25"]
    assert not any("at least 3" in note for note in intake.notes)
    # prompt lengths differ (48, 42, 21): not filled, and the note says why
    assert "prompt_tokens" not in intake.values
    assert any("prompt eval count differs" in note for note in intake.notes)
    prefill = sorted([48 / 0.095572, 42 / 0.593785, 21 / 0.231416])[1]
    assert float(intake.values["prefill_tps"]) == pytest.approx(prefill, abs=0.001)


def test_microseconds_and_minutes_are_read(read):
    assert float(read("ollama_llama2_openwebui188.txt").estimates["runs-0-ttft_ms"].value) == (
        pytest.approx(0.891933 + 231.416, abs=0.1)
    )
    intake = read("ollama_minutes_llm_ollama32.txt")
    assert float(intake.values["runs-0-decode_tps"]) == pytest.approx(1133 / 127.682, abs=0.001)


@pytest.mark.parametrize(("text", "ms"), [
    ("5.088275983s", 5088.275983),
    ("2m7.682s", 127682.0),
    ("891.933µs", 0.891933),
    ("891.933μs", 0.891933),  # Greek mu, as some terminals paste it
    ("204.563ms", 204.563),
    ("1h0m2s", 3602000.0),
])
def test_go_durations(text, ms):
    assert duration_ms(text, "x") == pytest.approx(ms)


@pytest.mark.parametrize("text", ["5 seconds", "-1s", "0s", "s", "1.2.3s"])
def test_bad_durations_are_refused(text):
    with pytest.raises(IntakeError):
        duration_ms(text, "Line 9 (eval duration)")


def test_a_library_name_on_the_command_line_is_its_default_model_with_notes(read):
    intake = read("ollama_mistral_issue1806.txt")
    # "mistral" is Ollama's library default: Mistral-7B-Instruct (v0.3 today), quant open
    assert intake.values["model"] == "mistral-7b-instruct-v0.3"
    assert "other_model" not in intake.values and "model" not in intake.unmapped
    assert intake.sources["model"] == "the command line: ollama run mistral --verbose"
    assert intake.facts["ollama_tag"] == "mistral"
    assert ("The model was taken from Ollama's library: “mistral” is Ollama's name for "
            "Mistral-7B-Instruct-v0.3; `ollama show mistral` tells.") in intake.notes
    # this paste is from January 2024, when the tag was still v0.2: the note says so
    assert any("v0.1, then v0.2, before v0.3" in note for note in intake.notes)
    assert "quant" not in intake.values
    assert "The Ollama tag “mistral” does not name its quant: choose it." in intake.notes


def test_a_quoted_prompt_on_the_command_line_is_not_the_model(read):
    intake = read("ollama_orca_mini_pr6122.txt")
    # a name outside the library table stays Other, with the tag kept
    assert intake.values["model"] == "other"
    assert intake.values["other_model"] == "orca-mini"
    assert intake.unmapped["model"] == "orca-mini"
    assert any("“orca-mini” does not say which exact model" in note for note in intake.notes)


def test_partial_gpu_offload_and_backend_are_reported(read):
    intake = read("ollama_metal_pr2163.txt")
    assert intake.facts["backend"] == "metal"
    assert any("Only 1/27 layers ran on the GPU" in note for note in intake.notes)


def test_an_exact_tag_maps_model_and_quant(refs):
    paste = fixture_bytes("ollama_mistral_issue1806.txt").replace(
        b"ollama run mistral --verbose", b"ollama run qwen2.5:7b-instruct-q4_K_M --verbose"
    )
    intake = parse(paste, filename=None, references=refs)
    assert intake.values["model"] == "qwen2.5-7b-instruct"
    assert intake.values["quant"] == "gguf-q4_k_m"


def test_a_timing_block_without_eval_lines_is_refused(refs):
    text = fixture_bytes("ollama_minutes_llm_ollama32.txt").decode()
    head = "\n".join(line for line in text.splitlines() if not line.startswith("eval"))
    with pytest.raises(IntakeError, match="no complete timing block"):
        parse(head.encode(), filename=None, references=refs)


def test_a_zero_eval_count_is_refused(refs):
    text = fixture_bytes("ollama_mistral_issue1806.txt").replace(
        b"eval count:           120 token(s)", b"eval count:           0 token(s)"
    )
    with pytest.raises(IntakeError, match="greater than zero"):
        parse(text, filename=None, references=refs)


def test_a_paste_that_opens_with_a_bracket_is_still_read(refs):
    paste = b"[the answer was cut here]\n" + fixture_bytes("ollama_llama2_openwebui188.txt")
    assert parse(paste, filename=None, references=refs).run_count == 1


# --- Ollama's HTTP API -------------------------------------------------------------------

STREAM = "ollama_api_generate_stream.jsonl"
CHAT = "ollama_api_chat.json"
THREE = "ollama_api_generate_runs.json"


def _api(refs, data):
    """Parse API responses given as objects: one, a list, or (a str) NDJSON as is."""
    raw = data if isinstance(data, str) else json.dumps(data)
    return parse(raw.encode(), filename="ollama.json", references=refs)


def _refused(refs, data) -> str:
    with pytest.raises(IntakeError) as caught:
        _api(refs, data)
    return str(caught.value)


def _three() -> list[dict]:
    return json.loads(fixture_bytes(THREE))


def test_a_streamed_generate_is_one_run_read_from_its_final_chunk(read):
    intake = read(STREAM)
    assert intake.format == "ollama-api"
    assert intake.provenance == "imported from the Ollama API"
    assert intake.run_count == 1
    # line 20 is the chunk with "done": true; the 19 before it carry only text
    assert intake.values["runs-0-tokens_generated"] == "19"
    assert float(intake.values["runs-0-decode_tps"]) == pytest.approx(19 / (156073000 / 1e9),
                                                                      abs=0.001)
    assert intake.sources["runs-0-tokens_generated"] == "line 20: eval_count"
    assert intake.sources["runs-0-decode_tps"] == "line 20: eval_count ÷ eval_duration"
    assert intake.values["prompt_tokens"] == "20"
    assert float(intake.values["prefill_tps"]) == pytest.approx(20 / 0.019876, abs=0.001)
    assert intake.values["runtime"] == "ollama"
    assert ("19 streamed chunks (“done”: false) carry no timings and were skipped: the final "
            "chunk of each response was read.") in intake.notes
    assert any("at least 3" in note for note in intake.notes)


def test_the_api_gives_no_ttft_only_the_marked_estimate(read):
    intake = read(STREAM)
    assert "runs-0-ttft_ms" not in intake.values
    assert any(note.startswith("Ollama reports no time to first token: “prompt_eval_duration”")
               for note in intake.notes)
    estimate = intake.estimates["runs-0-ttft_ms"]
    assert float(estimate.value) == pytest.approx(2812.470215 + 19.876, abs=0.1)
    assert estimate.basis.startswith(
        "estimate, a lower bound: load_duration + prompt_eval_duration of response 1.")


def test_the_api_model_tag_is_placed_like_the_command_lines(read):
    intake = read(STREAM)
    assert intake.values["model"] == "llama-3.1-8b-instruct"
    assert intake.sources["model"] == "line 20: model"
    assert intake.facts["ollama_tag"] == "llama3.1:8b"
    assert ("The model was taken from Ollama's library: “llama3.1:8b” is Ollama's name for "
            "Llama-3.1-8B-Instruct; `ollama show llama3.1:8b` tells.") in intake.notes
    assert "quant" not in intake.values  # not in the tag: the operator chooses, never Q4_K_M
    assert "The Ollama tag “llama3.1:8b” does not name its quant: choose it." in intake.notes


def test_a_chat_response_fills_one_run_and_its_tags_quant(read):
    intake = read(CHAT)
    assert intake.format == "ollama-api" and intake.run_count == 1
    assert intake.values["runs-0-tokens_generated"] == "41"
    assert float(intake.values["runs-0-decode_tps"]) == pytest.approx(41 / 0.563305, abs=0.001)
    assert intake.sources["runs-0-decode_tps"] == "the result: eval_count ÷ eval_duration"
    assert intake.values["prompt_tokens"] == "36"
    assert intake.values["model"] == "qwen2.5-7b-instruct"
    assert intake.values["quant"] == "gguf-q4_k_m"
    assert not any("streamed chunk" in note for note in intake.notes)


def test_a_list_of_three_responses_is_three_runs(read):
    intake = read(THREE)
    assert intake.run_count == 3
    assert [intake.values[f"runs-{i}-tokens_generated"] for i in range(3)] == ["128"] * 3
    for index, eval_ns in enumerate((1065231000, 1061874000, 1063902000)):
        assert float(intake.values[f"runs-{index}-decode_tps"]) == pytest.approx(
            128 / (eval_ns / 1e9), abs=0.001)
        assert intake.sources[f"runs-{index}-tokens_generated"] == f"record {index + 1}: eval_count"
    assert not any("at least 3" in note for note in intake.notes)
    prefill = sorted(20 / (ns / 1e9) for ns in (21306000, 20487000, 20911000))[1]
    assert float(intake.values["prefill_tps"]) == pytest.approx(prefill, abs=0.001)
    # the first response loaded the model: its estimate says so by its size
    assert float(intake.estimates["runs-0-ttft_ms"].value) > 2000
    assert float(intake.estimates["runs-2-ttft_ms"].value) == pytest.approx(
        17.958305 + 20.911, abs=0.1)


def test_ndjson_of_non_streamed_responses_is_read_like_the_list(refs, read):
    lines = "\n".join(json.dumps(record) for record in _three()) + "\n"
    intake = _api(refs, lines)
    listed = read(THREE)
    assert intake.run_count == 3
    assert {key: value for key, value in intake.values.items() if key.startswith("runs-")} == {
        key: value for key, value in listed.values.items() if key.startswith("runs-")}
    assert intake.sources["runs-2-decode_tps"] == "line 3: eval_count ÷ eval_duration"


def test_the_api_and_the_verbose_text_give_the_same_numbers(refs, read):
    """The numbers of ollama_mistral_issue1806.txt, as the API would give them."""
    text = read("ollama_mistral_issue1806.txt")
    api = _api(refs, {
        "model": "mistral", "created_at": "2024-01-06T10:00:00Z", "response": "…", "done": True,
        "total_duration": 5088275983, "load_duration": 1365523, "prompt_eval_count": 11,
        "prompt_eval_duration": 204563000, "eval_count": 120, "eval_duration": 4876787000,
    })
    for key in ("runs-0-tokens_generated", "runs-0-decode_tps", "prefill_tps",
                "prompt_tokens", "model", "runtime"):
        assert api.values[key] == text.values[key], key
    assert api.estimates["runs-0-ttft_ms"].value == text.estimates["runs-0-ttft_ms"].value


def test_prompt_counts_that_differ_leave_prompt_length_open(refs):
    runs = _three()
    runs[1]["prompt_eval_count"] = 1  # the second run hit the prompt cache
    intake = _api(refs, runs)
    assert "prompt_tokens" not in intake.values
    assert any(note.startswith("The prompt_eval_count differs between responses (20, 1, 20)")
               for note in intake.notes)


def test_a_response_without_prompt_timings_gets_no_prefill_or_estimate(refs):
    runs = _three()
    del runs[0]["prompt_eval_count"], runs[0]["prompt_eval_duration"]  # Ollama omits zeros
    intake = _api(refs, runs)
    assert intake.run_count == 3
    assert intake.estimates == {}  # one run without: none is offered
    assert float(intake.values["prefill_tps"]) == pytest.approx(
        (20 / 0.020487 + 20 / 0.020911) / 2, abs=0.001)  # the median of the other two
    assert intake.values["prompt_tokens"] == "20"


def test_streamed_chunks_without_the_final_one_are_refused(refs):
    chunks = fixture_bytes(STREAM).decode().splitlines()[:-1]
    message = _refused(refs, "\n".join(chunks))
    assert message.startswith("These are streamed chunks of Ollama's API without the final one")
    assert "“stream”: false" in message


def test_a_non_streamed_response_cut_short_is_refused(refs):
    """Ollama 0.13.0 sometimes answered "stream": false with a chunk (ollama#13239)."""
    response = json.loads(fixture_bytes(CHAT))
    response["done"] = False
    for key in ("done_reason", "total_duration", "load_duration", "prompt_eval_count",
                "prompt_eval_duration", "eval_count", "eval_duration"):
        del response[key]
    assert "without the final one" in _refused(refs, response)


@pytest.mark.parametrize("missing", ["eval_count", "eval_duration"])
def test_a_final_response_without_eval_timings_is_refused(refs, missing):
    runs = _three()
    del runs[1][missing]
    message = _refused(refs, runs)
    assert message == ("Record 2 is a finished response (“done”: true) without eval_count and "
                       "eval_duration: it has no timings to read.")


def test_a_load_only_response_is_named_in_the_refusal(refs):
    load = {"model": "llama3.1:8b", "created_at": "2025-03-14T09:31:05.2Z", "response": "",
            "done": True, "done_reason": "load"}
    message = _refused(refs, [load, *_three()])
    assert message.startswith("Record 1 is a finished response")
    assert "done_reason is “load”: the request only loaded the model; leave it out" in message


@pytest.mark.parametrize(("key", "value", "words"), [
    ("eval_count", 0, "Record 2: eval_count is 0: timings and counts must be greater than zero."),
    ("eval_duration", -1065231000, "Record 2: eval_duration is -1065231000"),
    ("eval_count", "128", "Record 2: eval_count should be a number; the file has '128'."),
    ("eval_count", 127.5, "Record 2: eval_count should be a whole number"),
    ("prompt_eval_duration", 0, "Record 2: prompt_eval_duration is 0"),
    ("load_duration", None, "Record 2: load_duration should be a number"),
    ("total_duration", True, "Record 2: total_duration should be a number"),
])
def test_values_that_are_not_positive_numbers_are_refused(refs, key, value, words):
    runs = _three()
    runs[1][key] = value
    assert words in _refused(refs, runs)


@pytest.mark.parametrize(("key", "words"), [
    ("eval_duration", "Record 2: eval_count ÷ eval_duration works out to inf"),
    ("prompt_eval_duration", "works out to inf"),
])
def test_a_duration_too_small_to_divide_by_is_refused(refs, key, words):
    """1e-300 ns is a positive number, but a speed of inf: refused as the llama-bench
    and vLLM readers refuse theirs (it filled the form with inf)."""
    runs = _three()
    runs[1][key] = 1e-300
    assert words in _refused(refs, runs)


def test_more_responses_than_the_form_takes_are_refused(refs):
    runs = (_three() * 4)[:11]
    assert _refused(refs, runs) == (
        "The file holds 11 finished responses of Ollama's API (“done”: true); the form takes "
        "at most 10 runs. Upload at most 10."
    )
    assert _api(refs, runs[:10]).run_count == 10


def test_responses_of_different_models_are_refused(refs):
    runs = _three()
    runs[2]["model"] = "llama3.1:8b-instruct-q8_0"
    assert _refused(refs, runs) == (
        "The responses are of different models (“llama3.1:8b”, “llama3.1:8b-instruct-q8_0”): "
        "a benchmark is one model. Upload the runs of one model."
    )


def test_a_record_that_is_not_an_api_response_is_named(refs):
    runs = [*_three(), {"note": "my run"}]
    assert _refused(refs, runs).startswith(
        "Record 4 is not a response of Ollama's API, unlike the others in the file.")


# --- Ollama's library tags ----------------------------------------------------------------


def _tagged(refs, tag: str):
    paste = fixture_bytes("ollama_mistral_issue1806.txt").replace(
        b"ollama run mistral --verbose", f"ollama run {tag} --verbose".encode())
    return parse(paste, filename=None, references=refs)


@pytest.mark.parametrize(("tag", "model", "quant"), [
    ("llama3.1:8b", "llama-3.1-8b-instruct", None),
    ("llama3.1", "llama-3.1-8b-instruct", None),
    ("llama3.1:latest", "llama-3.1-8b-instruct", None),
    ("llama3.1:70b", "llama-3.1-70b-instruct", None),
    ("llama3.3:70b", "llama-3.3-70b-instruct", None),
    ("qwen2.5:14b", "qwen2.5-14b-instruct", None),
    ("qwen2.5:32b", "qwen2.5-32b-instruct", None),
    ("qwen2.5:7b-q4_K_M", "qwen2.5-7b-instruct", "gguf-q4_k_m"),
    ("qwen3:30b-a3b", "qwen3-30b-a3b", None),
    ("qwen3:30b-a3b-q8_0", "qwen3-30b-a3b", "gguf-q8_0"),
    ("mistral:7b", "mistral-7b-instruct-v0.3", None),
    ("mixtral:8x7b", "mixtral-8x7b-instruct", None),
    ("gemma2:9b", "gemma-2-9b-it", None),
    ("gemma2:9b-instruct-q4_K_M", "gemma-2-9b-it", "gguf-q4_k_m"),
    ("phi3:mini", "phi-3-mini-4k-instruct", None),
    ("phi3:3.8b", "phi-3-mini-4k-instruct", None),
    ("deepseek-r1:7b", "deepseek-r1-distill-qwen-7b", None),
    ("gpt-oss:20b", "gpt-oss-20b", None),
    ("gpt-oss:120b", "gpt-oss-120b", None),
])
def test_library_tags_that_do_not_spell_the_variant_are_the_instruct_model(
        refs, tag, model, quant):
    intake = _tagged(refs, tag)
    assert intake.values["model"] == model
    assert intake.values.get("quant") == quant
    assert any(note.startswith(f"The model was taken from Ollama's library: “{tag}” is")
               and f"`ollama show {tag}` tells" in note for note in intake.notes)
    assert (f"The Ollama tag “{tag}” does not name its quant: choose it." in intake.notes) is (
        quant is None)


@pytest.mark.parametrize(("tag", "model", "quant"), [
    ("llama3.1:8b-instruct-q4_K_M", "llama-3.1-8b-instruct", "gguf-q4_k_m"),
    ("qwen2.5:7b-instruct-q4_K_M", "qwen2.5-7b-instruct", "gguf-q4_k_m"),
    ("mistral:7b-instruct-v0.3-q4_K_M", "mistral-7b-instruct-v0.3", "gguf-q4_k_m"),
])
def test_tags_that_spell_the_variant_are_read_as_before(refs, tag, model, quant):
    intake = _tagged(refs, tag)
    assert (intake.values["model"], intake.values["quant"]) == (model, quant)
    assert not any("Ollama's library" in note for note in intake.notes)


def test_a_text_tag_is_the_base_model(refs):
    intake = _tagged(refs, "llama3.1:8b-text-q4_K_M")
    assert intake.values["model"] == "llama-3.1-8b"
    assert intake.values["quant"] == "gguf-q4_k_m"
    assert any("“-text” tag: Ollama's name for the base model" in note for note in intake.notes)
    assert not any("Ollama's library:" in note for note in intake.notes)


@pytest.mark.parametrize(("tag", "other"), [
    ("llama3.1:70b-text", "llama3.1-70b-text"),  # no base 70B in the list: never the instruct
    ("qwen3:30b", "qwen3:30b"),  # a size the table does not list
    ("deepseek-r1", "deepseek-r1"),  # its default moved from 7b to 8b: not guessed
    ("qwen3:30b-a3b-thinking-2507", "qwen3:30b-a3b-thinking-2507"),  # another model
    ("mistral:7b-instruct-v0.2-q4_K_M", "mistral-7b-instruct-v0.2"),  # another version
    ("my-finetune:8b", "my-finetune:8b"),
])
def test_other_tags_stay_other(refs, tag, other):
    intake = _tagged(refs, tag)
    assert intake.values["model"] == "other"
    assert intake.values["other_model"] == other
    assert not any("Ollama's library:" in note for note in intake.notes)


# --- the reproduce form's locked set ------------------------------------------------------

LLAMA_LOCK = {"model": "llama-3.1-8b-instruct", "hardware": "rtx-3090", "hardware_count": 1,
              "quant": "gguf-q4_k_m", "runtime": "ollama"}


@pytest.mark.parametrize("source", ["paste", "api"])
def test_a_library_tag_is_checked_against_the_locked_model(refs, read, source):
    intake = _tagged(refs, "llama3.1:8b") if source == "paste" else read(THREE)
    check = check_locked(intake, references=refs, **LLAMA_LOCK)
    assert check.conflicts == () and check.unchecked == ()
    other = check_locked(intake, references=refs, **(LLAMA_LOCK | {"model": "qwen2.5-7b-instruct"}))
    assert other.conflicts == (
        "The file's model is Llama-3.1-8B-Instruct; this benchmark's is Qwen2.5-7B-Instruct.",)


@pytest.mark.parametrize(("hub_name", "conflict"), [
    ("llama3.1:8b", False),  # a hub an earlier import kept as "Other" with the tag
    ("llama3.1:latest", False),
    ("llama3.1:8b-q4_K_M", False),
    ("qwen2.5:7b", True),
])
def test_a_hubs_ollama_tag_is_read_through_the_library(refs, hub_name, conflict):
    intake = _tagged(refs, "llama3.1:8b")
    check = check_locked(intake, references=refs, other_model=hub_name,
                         **(LLAMA_LOCK | {"model": "other"}))
    assert bool(check.conflicts) is conflict
    assert check.unchecked == ()


# --- through the import form --------------------------------------------------------------


@pytest.mark.parametrize("name", [STREAM, CHAT, THREE])
def test_the_import_form_reads_the_api(client, session, refs, name):
    expected = parse(fixture_bytes(name), filename=name, references=refs)
    response = upload(client, "/submit/benchmark/import", fixture_bytes(name), name=name)
    assert response.status_code == 200, field_error(response.text, "intake_file")
    shown = form_values(response.text)
    for field, value in expected.values.items():
        assert shown.get(field) == value, field
    text = unescape(response.text)
    assert "imported from the Ollama API" in text
    for source in expected.sources.values():
        assert f"<code>{source}</code>" in text
    for note in expected.notes:
        assert as_shown(note) in text
    assert all(shown.get(f"runs-{i}-ttft_ms", "") == "" for i in range(3))
    assert shown["provenance"]
    assert count(session) == 0


def test_a_stream_cut_before_its_end_is_refused_beside_the_field(client):
    chunks = b"\n".join(fixture_bytes(STREAM).split(b"\n")[:5])
    response = upload(client, "/submit/benchmark/import", chunks, name="stream.jsonl",
                      typed={"handle": "kept-handle"})
    assert response.status_code == 422
    assert "streamed chunks of Ollama's API without the final one" in field_error(
        response.text, "intake_file")
    assert form_values(response.text)["handle"] == "kept-handle"


def test_the_reproduce_form_recognises_a_library_tag(client, make_row, session):
    hub = make_row(model="llama-3.1-8b-instruct", hardware="rtx-3090", quant="gguf-q4_k_m",
                   runtime="ollama")
    session.commit()
    response = upload(client, f"/benchmarks/{hub.id}/reproduce/import", fixture_bytes(THREE),
                      name="runs.json")
    assert response.status_code == 200, field_error(response.text, "intake_file")
    assert UNCHECKED not in unescape(response.text)
    assert form_values(response.text)["runs-2-decode_tps"] == "120.312"
