"""vLLM serving-benchmark result JSON, read from results published in a benchmark repo."""

from __future__ import annotations

import json

import pytest

from tests.intake.conftest import fixture_bytes
from webapp.services.intake import IntakeError, parse


def result() -> dict:
    return json.loads(fixture_bytes("vllm_llama32_3b_10qps.json"))


def test_a_summary_fills_no_runs_and_offers_the_medians_as_estimates(read):
    intake = read("vllm_llama32_3b_10qps.json")
    assert intake.format == "vllm-bench"
    assert intake.run_count == 0
    assert not any(key.startswith("runs-") for key in intake.values)
    ttft = intake.estimates["runs-0-ttft_ms"]
    decode = intake.estimates["runs-0-decode_tps"]
    assert float(ttft.value) == pytest.approx(52.999333499883505, abs=0.05)
    assert float(decode.value) == pytest.approx(1000 / 13.512526767533997, abs=0.05)
    assert "median over 300 requests" in ttft.basis
    assert "median_tpot_ms" in decode.basis
    assert any("only summaries" in note for note in intake.notes)


def test_concurrent_requests_are_marked_batch_above_one(read):
    intake = read("vllm_llama32_3b_10qps.json")
    assert intake.values["batch_gt1"] == "on"
    assert "concurrent_users" not in intake.values  # max_concurrency was null: no limit
    assert any("serving benchmark under load" in note for note in intake.notes)


def test_lengths_model_engine_and_metadata_hardware(read):
    intake = read("vllm_llama32_3b_10qps.json")
    assert intake.values["prompt_tokens"] == "999"  # 299700 input tokens ÷ 300 requests
    assert intake.values["model"] == "other"
    assert intake.values["other_model"] == "Llama-3.2-3B-Instruct"
    assert intake.facts["model_id"] == "meta-llama/Llama-3.2-3B-Instruct"
    assert intake.values["runtime"] == "vllm"
    # "gpu": "4xNVIDIA_L40S" came from the operator's --metadata, and says so
    assert intake.values["hardware"] == "l40s"
    assert intake.values["hardware_count"] == "4"
    assert "--metadata" in intake.sources["hardware"]
    assert intake.format_version is None
    assert intake.provenance == "imported from vLLM serving benchmark"


def test_an_appended_results_file_uses_one_result_and_says_which(read):
    intake = read("vllm_results_appended.jsonl")
    assert intake.format == "vllm-bench"
    assert any("holds 9 benchmark results; line 1 was used" in note for note in intake.notes)
    assert float(intake.estimates["runs-0-ttft_ms"].value) == pytest.approx(52.87, abs=0.05)


def test_a_single_stream_result_is_preferred_and_fills_concurrency(refs):
    # the real results, one of them changed to max_concurrency 1 (vLLM writes an int there)
    lines = fixture_bytes("vllm_results_appended.jsonl").decode().splitlines()
    third = json.loads(lines[2])
    third["max_concurrency"] = 1
    lines[2] = json.dumps(third)
    intake = parse("\n".join(lines).encode(), filename="r.jsonl", references=refs)
    assert intake.values["concurrent_users"] == "1"
    assert "batch_gt1" not in intake.values
    assert any("line 3 was used (the first single-stream one)" in note for note in intake.notes)


def test_detailed_requests_become_runs(refs):
    # vLLM's --save-detailed keeps per-request arrays: ttfts and itls in seconds,
    # output_lens in tokens (benchmarks/benchmark_serving.py). No published file with
    # them was found, so this case adds three requests to the real result.
    data = result()
    data.update({
        "max_concurrency": 1, "completed": 3,
        "input_lens": [1000, 1000, 1000],
        "output_lens": [4, 4, 3],
        "ttfts": [0.05, 0.052, 0.051],
        "itls": [[0.01, 0.01, 0.02], [0.01, 0.01, 0.01], [0.02, 0.02]],
    })
    intake = parse(json.dumps(data).encode(), filename="d.json", references=refs)
    assert intake.run_count == 3
    assert float(intake.values["runs-0-ttft_ms"]) == pytest.approx(50.0)
    assert intake.values["runs-0-tokens_generated"] == "4"
    assert float(intake.values["runs-0-decode_tps"]) == pytest.approx(4 / 0.04)  # T2 − T1
    assert intake.values["prompt_tokens"] == "1000"
    assert intake.sources["runs-2-decode_tps"].endswith("sum of itls[2] (T2 − T1)")
    assert not intake.estimates


def test_a_zero_tpot_is_refused(refs):
    data = result()
    data["median_tpot_ms"] = 0
    with pytest.raises(IntakeError, match="median_tpot_ms is 0"):
        parse(json.dumps(data).encode(), filename="r.json", references=refs)


def test_a_negative_ttft_is_refused(refs):
    data = result()
    data["median_ttft_ms"] = -52.9
    with pytest.raises(IntakeError, match="greater than zero"):
        parse(json.dumps(data).encode(), filename="r.json", references=refs)


def test_the_printed_summary_is_refused_with_the_way_out(refs):
    # the console summary, verbatim from the same README (nerdalert/vllm-bench-automation)
    text = (
        "============ Serving Benchmark Result ============\n"
        "Successful requests:                     300\n"
        "Benchmark duration (s):                  36.03\n"
        "Total input tokens:                      299700\n"
        "Total generated tokens:                  81050\n"
    )
    with pytest.raises(IntakeError, match="--save-result"):
        parse(text.encode(), filename="out.txt", references=refs)
