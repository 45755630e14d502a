"""`ollama run --verbose` text, read from outputs pasted in Ollama's and others' threads."""

from __future__ import annotations

import pytest

from tests.intake.conftest import fixture_bytes
from webapp.services.intake import IntakeError, parse
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


def test_the_model_on_the_command_line_is_kept_but_not_guessed(read):
    intake = read("ollama_mistral_issue1806.txt")
    # "mistral" names no size, variant or quant: Other, with the tag kept
    assert intake.values["model"] == "other"
    assert intake.values["other_model"] == "mistral"
    assert intake.unmapped["model"] == "mistral"
    assert intake.sources["model"] == "the command line: ollama run mistral --verbose"


def test_a_quoted_prompt_on_the_command_line_is_not_the_model(read):
    intake = read("ollama_orca_mini_pr6122.txt")
    assert intake.values["other_model"] == "orca-mini"


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
