"""The trustbench runner's own result file (format "trustbench-result", version 1).

The fixture is a real result of trustbench_measure.py, produced against the
runner tests' fake engine (see fixtures/SOURCES.md):

    FakeEngine(ttft=0.2, itl=0.004, usage=True, routes={"/props": {...}}, models=[...])
    trustbench_measure.main(["--endpoint", engine.url, "--out", "result.json"])

Cases the fixture does not show (GPUs, bad numbers, newer versions) change a copy of it.
"""

from __future__ import annotations

import json

import pytest

from tests.intake.conftest import fixture_bytes
from webapp.services.intake import IntakeError, parse

FIXTURE = "trustbench_result_fake_engine.json"


def result(**changes) -> dict:
    data = json.loads(fixture_bytes(FIXTURE))
    data.update(changes)
    return data


def load(refs, data):
    return parse(json.dumps(data).encode(), filename="result.json", references=refs)


def test_the_runners_result_fills_every_run_and_the_build_context(read):
    intake = read(FIXTURE)
    assert intake.format == "trustbench-result"
    assert intake.format_version == "1.0"
    assert intake.provenance == "measured with trustbench-measure 1.0"
    assert intake.run_count == 3
    assert intake.values["runs-0-ttft_ms"] == "203.383"
    assert intake.values["runs-1-tokens_generated"] == "512"
    assert intake.values["runs-2-decode_tps"] == "250.484"
    assert intake.sources["runs-2-decode_tps"] == "runs[2].decode_tps"
    assert intake.values["prompt_tokens"] == "517"
    assert intake.values["max_tokens"] == "512"
    assert intake.values["seed"] == "42"
    assert intake.values["concurrent_users"] == "1"
    assert intake.values["runtime"] == "llama-cpp"
    assert intake.values["runtime_version"] == "b5163-8cf427ff"
    assert intake.values["os_label"] == "Debian GNU/Linux 12 (bookworm)"
    assert intake.values["model"] == "qwen2.5-7b-instruct"
    assert intake.values["quant"] == "gguf-q4_k_m"
    assert intake.sources["model"] == "model_info.file"
    assert intake.facts["prompt_sha256"] == (
        "9f88ea45b4f2d74e705d083402f3c683f2363ec18e4bb60f274ba058853b78e3"
    )
    assert not intake.estimates and not intake.unmapped
    assert not any("time to first token" in note for note in intake.notes)


def test_what_the_runner_could_not_find_is_left_to_the_operator(read):
    intake = read(FIXTURE)
    assert "vram_peak_mib" not in intake.values and "hardware" not in intake.values
    assert any("could not read the VRAM peak (not measured" in n for n in intake.notes)
    assert any("could not find: gpu_name, driver_version, vram_peak_mib" in n
               for n in intake.notes)


def test_gpus_driver_and_vram_when_the_runner_found_them(refs):
    data = result()
    data["environment"].update({
        "gpu_names": ["NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 4090"],
        "gpu_name": "NVIDIA GeForce RTX 4090", "gpu_count": 2,
        "driver_version": "550.54.14", "cuda_version": "12.4",
    })
    data["vram"]["peak_mib"] = 6021.5
    intake = load(refs, data)
    assert intake.values["hardware"] == "rtx-4090"
    assert intake.values["hardware_count"] == "2"
    assert any("counts every GPU in the machine (2)" in note for note in intake.notes)
    assert intake.values["driver_version"] == "550.54.14, CUDA 12.4"
    assert intake.values["vram_peak_mib"] == "6021.5"
    assert intake.sources["vram_peak_mib"] == "vram.peak_mib"


def test_an_apple_machine_reports_metal(refs):
    data = result()
    data["environment"].update({"gpu_names": ["Apple M2 Max"], "gpu_count": 1,
                                "metal": "Metal 3"})
    intake = load(refs, data)
    assert intake.values["hardware"] == "apple-m2-max"
    assert intake.values["driver_version"] == "Metal 3"


def test_an_ollama_tag_is_read_as_one(refs):
    data = result(model="qwen2.5:7b-instruct-q4_K_M", model_info={"file": None})
    data["environment"].update(runtime="ollama", runtime_version="0.5.7")
    intake = load(refs, data)
    assert intake.values["runtime"] == "ollama"
    assert intake.values["model"] == "qwen2.5-7b-instruct"
    assert intake.values["quant"] == "gguf-q4_k_m"
    library = load(refs, result(model="llama3.1:8b", model_info={"file": None}))
    assert library.values["model"] == "llama-3.1-8b-instruct"  # Ollama's library default
    vague = load(refs, result(model="my-finetune:8b", model_info={"file": None}))
    assert vague.values["model"] == "other"  # a name the site cannot place


def test_a_newer_format_version_is_refused(refs):
    with pytest.raises(IntakeError, match="format version 2, newer than this site reads"):
        load(refs, result(version=2))


@pytest.mark.parametrize("version", [0, "1", None, 1.5, True])
def test_a_missing_or_odd_version_is_refused(refs, version):
    with pytest.raises(IntakeError, match="no valid format version"):
        load(refs, result(version=version))


def test_another_trustbench_format_is_refused(refs):
    with pytest.raises(IntakeError, match="this site reads “trustbench-result” files"):
        load(refs, result(format="trustbench-result-v9"))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("ttft_ms", -3, "runs\\[0\\].ttft_ms is -3"),
    ("ttft_ms", 0, "greater than zero"),
    ("decode_tps", None, "should be a number"),
    ("decode_tps", "fast", "should be a number"),
    ("tokens_generated", 511.5, "whole number"),
    ("tokens_generated", True, "should be a number"),
])
def test_bad_run_numbers_are_refused(refs, field, value, message):
    data = result()
    data["runs"][0][field] = value
    with pytest.raises(IntakeError, match=message):
        load(refs, data)


def test_timestamps_out_of_order_are_refused(refs):
    data = result()
    data["runs"][1]["t2_s"] = data["runs"][1]["t0_s"]
    with pytest.raises(IntakeError, match="out of order"):
        load(refs, data)


def test_decode_over_t2_minus_t0_is_flagged(refs):
    data = result()
    run = data["runs"][0]
    run["decode_tps"] = 512 / (run["t2_s"] - run["t0_s"])  # the wrong denominator
    intake = load(refs, data)
    assert any("does not equal tokens ÷ (T2 − T1)" in note for note in intake.notes)


def test_the_first_draft_names_are_read_too(refs):
    # the brief's draft schema: vram_peak_mib, environment.os_label, t0/t1/t2
    data = result(vram_peak_mib=6021.5, prompt_tokens=500)
    del data["vram"]
    data["environment"]["os_label"] = data["environment"].pop("os")
    for run in data["runs"]:
        for name in ("t0", "t1", "t2"):
            run[name] = run.pop(f"{name}_s")
    intake = load(refs, data)
    assert intake.values["vram_peak_mib"] == "6021.5"
    assert intake.values["prompt_tokens"] == "500"
    assert intake.values["os_label"] == "Debian GNU/Linux 12 (bookworm)"


def test_more_than_ten_runs_fill_ten_with_a_note(refs):
    data = result()
    data["runs"] = [dict(data["runs"][0]) for _ in range(12)]
    intake = load(refs, data)
    assert intake.run_count == 10
    assert any("holds 12 runs" in note for note in intake.notes)


def test_no_runs_is_refused(refs):
    with pytest.raises(IntakeError, match="no runs"):
        load(refs, result(runs=[]))


def test_an_unknown_gpu_goes_to_other_with_its_name(refs):
    data = result()
    data["environment"].update(gpu_names=["NVIDIA GeForce RTX 4090 D"], gpu_count=1)
    intake = load(refs, data)
    assert intake.values["hardware"] == "other"
    assert intake.values["other_hardware"] == "NVIDIA GeForce RTX 4090 D"
    assert intake.unmapped["hardware"] == "NVIDIA GeForce RTX 4090 D"
