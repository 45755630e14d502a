"""The trustbench runner's own result file (format "trustbench-result", version 1).

This is the site's own format, not another tool's output: the file is built here from
the schema in issue 11 and the intake brief (the runner was being written at the time).
"""

from __future__ import annotations

import copy
import json

import pytest

from webapp.services.intake import IntakeError, parse


def result(**changes) -> dict:
    data = {
        "format": "trustbench-result",
        "version": 1,
        "runner_version": "1.0",
        "runs": [
            {"ttft_ms": 210.0, "tokens_generated": 512, "decode_tps": 128.0,
             "t0": 100.0, "t1": 100.21, "t2": 104.21},
            {"ttft_ms": 200.0, "tokens_generated": 512, "decode_tps": 125.0,
             "t0": 110.0, "t1": 110.2, "t2": 114.296},
            {"ttft_ms": 220.0, "tokens_generated": 512, "decode_tps": 130.0,
             "t0": 120.0, "t1": 120.22, "t2": 124.158462},
        ],
        "vram_peak_mib": 6021.5,
        "environment": {
            "runtime": "llama.cpp", "runtime_version": "b4500",
            "driver_version": "550.54.14", "cuda_version": "12.4",
            "os_label": "Ubuntu 24.04", "gpu_name": "NVIDIA GeForce RTX 4090", "gpu_count": 2,
            "model": "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf",
        },
        "settings": {"max_tokens": 512, "seed": 42},
        "prompt_tokens": 500,
        "prompt_sha256": "ab" * 32,
    }
    data.update(changes)
    return data


def read(refs, data) -> object:
    return parse(json.dumps(data).encode(), filename="result.json", references=refs)


def test_every_run_and_the_build_context_are_filled(refs):
    intake = read(refs, result())
    assert intake.format == "trustbench-result"
    assert intake.format_version == "1.0"
    assert intake.provenance == "measured with trustbench-measure 1.0"
    assert intake.run_count == 3
    assert intake.values["runs-1-ttft_ms"] == "200"
    assert intake.values["runs-2-decode_tps"] == "130"
    assert intake.sources["runs-2-decode_tps"] == "runs[2].decode_tps"
    assert intake.values["vram_peak_mib"] == "6021.5"
    assert intake.values["max_tokens"] == "512"
    assert intake.values["seed"] == "42"
    assert intake.values["prompt_tokens"] == "500"
    assert intake.values["runtime"] == "llama-cpp"
    assert intake.values["runtime_version"] == "b4500"
    assert intake.values["driver_version"] == "550.54.14, CUDA 12.4"
    assert intake.values["os_label"] == "Ubuntu 24.04"
    assert intake.values["hardware"] == "rtx-4090"
    assert intake.values["hardware_count"] == "2"
    assert intake.values["model"] == "llama-3.1-8b-instruct"
    assert intake.values["quant"] == "gguf-q4_k_m"
    assert intake.facts["prompt_sha256"] == "ab" * 32
    assert not intake.estimates
    assert not any("time to first token" in note for note in intake.notes)


def test_a_newer_format_version_is_refused(refs):
    with pytest.raises(IntakeError, match="format version 2, newer than this site reads"):
        read(refs, result(version=2))


@pytest.mark.parametrize("version", [0, "1", None, 1.5, True])
def test_a_missing_or_odd_version_is_refused(refs, version):
    with pytest.raises(IntakeError, match="no valid format version"):
        read(refs, result(version=version))


def test_another_trustbench_format_is_refused(refs):
    with pytest.raises(IntakeError, match="this site reads “trustbench-result” files"):
        read(refs, result(format="trustbench-result-v9"))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("ttft_ms", -3, "runs\\[0\\].ttft_ms is -3"),
    ("ttft_ms", 0, "greater than zero"),
    ("decode_tps", "fast", "should be a number"),
    ("tokens_generated", 511.5, "whole number"),
    ("tokens_generated", True, "should be a number"),
])
def test_bad_run_numbers_are_refused(refs, field, value, message):
    data = result()
    data["runs"][0][field] = value
    with pytest.raises(IntakeError, match=message):
        read(refs, data)


def test_timestamps_out_of_order_are_refused(refs):
    data = result()
    data["runs"][1]["t2"] = 109.0
    with pytest.raises(IntakeError, match="out of order"):
        read(refs, data)


def test_decode_over_t2_minus_t0_is_flagged(refs):
    data = copy.deepcopy(result())
    run = data["runs"][0]
    run["decode_tps"] = 512 / (run["t2"] - run["t0"])  # the wrong denominator
    intake = read(refs, data)
    assert any("does not equal tokens ÷ (T2 − T1)" in note for note in intake.notes)


def test_no_vram_reading_leaves_the_field_to_the_operator(refs):
    intake = read(refs, result(vram_peak_mib=None))
    assert "vram_peak_mib" not in intake.values
    assert any("could not read the VRAM peak" in note for note in intake.notes)


def test_more_than_ten_runs_fill_ten_with_a_note(refs):
    data = result()
    data["runs"] = [dict(data["runs"][0]) for _ in range(12)]
    intake = read(refs, data)
    assert intake.run_count == 10
    assert any("holds 12 runs" in note for note in intake.notes)


def test_no_runs_is_refused(refs):
    with pytest.raises(IntakeError, match="no runs"):
        read(refs, result(runs=[]))


def test_an_unknown_gpu_goes_to_other_with_its_name(refs):
    data = result()
    data["environment"]["gpu_name"] = "NVIDIA GeForce RTX 4090 D"
    data["environment"]["gpu_count"] = 1
    intake = read(refs, data)
    assert intake.values["hardware"] == "other"
    assert intake.values["other_hardware"] == "NVIDIA GeForce RTX 4090 D"
    assert intake.unmapped["hardware"] == "NVIDIA GeForce RTX 4090 D"
