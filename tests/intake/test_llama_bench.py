"""llama-bench -o json / -o jsonl, read from the examples in llama.cpp's own README."""

from __future__ import annotations

import json
import statistics

import pytest

from tests.intake.conftest import fixture_bytes
from webapp.services.intake import IntakeError, parse

B5163_TG_NS = [1075361300, 1065089400, 1071761200, 1081934900, 1089692600]
B5163_PP_NS = [74601900, 71632900, 71745200, 71952700, 70745500]


def decode_runs(intake) -> list[float]:
    return [float(intake.values[f"runs-{i}-decode_tps"]) for i in range(intake.run_count)]


def test_json_fills_decode_runs_from_the_generation_samples(read):
    intake = read("llama_bench_rtx4080_b5163.json")
    assert intake.format == "llama-bench-json"
    assert intake.run_count == 5
    expected = [128 / (ns / 1e9) for ns in B5163_TG_NS]
    assert decode_runs(intake) == pytest.approx(expected, abs=0.001)
    # the README's rounded samples_ts agree with the exact values
    assert decode_runs(intake) == pytest.approx([119.03, 120.178, 119.43, 118.307, 117.464],
                                                abs=0.001)
    assert statistics.median(decode_runs(intake)) == pytest.approx(119.03, abs=0.001)
    assert all(intake.values[f"runs-{i}-tokens_generated"] == "128" for i in range(5))
    assert "samples_ns[0]" in intake.sources["runs-0-decode_tps"]
    assert intake.sources["runs-0-tokens_generated"] == "record 2: n_gen"


def test_no_ttft_is_filled_and_the_notes_say_so(read):
    intake = read("llama_bench_rtx4080_b5163.json")
    assert not any(key.endswith("ttft_ms") for key in intake.values)
    assert any("measures no time to first token" in note for note in intake.notes)


def test_a_ttft_estimate_is_offered_apart_and_marked(read):
    intake = read("llama_bench_rtx4080_b5163.json")
    prefill = statistics.median(512 / (ns / 1e9) for ns in B5163_PP_NS)
    decode = statistics.median(128 / (ns / 1e9) for ns in B5163_TG_NS)
    estimate = intake.estimates["runs-0-ttft_ms"]
    assert float(estimate.value) == pytest.approx(512 / prefill * 1000 + 1000 / decode, abs=0.1)
    assert estimate.basis.startswith("estimate, not a measurement")
    assert "runs-0-ttft_ms" not in intake.values


def test_prefill_prompt_length_and_generation_length(read):
    intake = read("llama_bench_rtx4080_b5163.json")
    prefill = statistics.median(512 / (ns / 1e9) for ns in B5163_PP_NS)
    assert float(intake.values["prefill_tps"]) == pytest.approx(prefill, abs=0.001)
    assert intake.values["prompt_tokens"] == "512"
    assert intake.values["max_tokens"] == "128"
    assert intake.sources["prompt_tokens"] == "record 1: n_prompt"


def test_build_hardware_model_and_quant_map_onto_the_references(read):
    intake = read("llama_bench_rtx4080_b5163.json")
    assert intake.format_version == "b5163"
    assert intake.provenance == "imported from llama-bench b5163"
    assert intake.values["runtime"] == "llama-cpp"
    assert intake.values["runtime_version"] == "b5163"
    assert intake.facts["build_commit"] == "8cf427ff"
    assert intake.values["hardware"] == "rtx-4080"
    assert intake.values["hardware_count"] == "1"
    assert intake.values["model"] == "qwen2.5-7b-instruct"
    assert intake.values["quant"] == "gguf-q4_k_m"
    assert intake.sources["quant"] == "record 2: model_type"
    assert intake.unmapped == {}


def test_jsonl_reads_the_same_way_with_line_numbers(read):
    intake = read("llama_bench_rtx4080_b5163.jsonl")
    assert intake.format == "llama-bench-jsonl"
    assert decode_runs(intake) == pytest.approx([120.038, 120.203, 118.624, 120.377, 119.982],
                                                abs=0.001)
    assert intake.sources["runs-0-decode_tps"].startswith("line 2 (tg128)")
    assert intake.values["hardware"] == "rtx-4080"


def test_an_old_build_maps_its_gpu_and_keeps_unknown_names_as_other(read):
    intake = read("llama_bench_rtx3090ti_b1275.json")
    assert intake.format_version == "b1275"
    assert intake.values["hardware"] == "rtx-3090-ti"  # not the plain RTX 3090
    assert intake.values["model"] == "other"
    assert intake.values["other_model"] == "ggml-model-q4_0"  # the file name, no folders
    assert intake.values["quant"] == "other"
    assert intake.values["other_quant"] == "Q4_0"  # from "llama 7B mostly Q4_0"
    assert intake.unmapped == {"model": "ggml-model-q4_0", "quant": "Q4_0"}
    assert decode_runs(intake) == pytest.approx([130.019, 131.295, 129.362, 131.86, 132.293],
                                                abs=0.001)


def test_the_old_jsonl_equals_the_old_json(read):
    as_json = read("llama_bench_rtx3090ti_b1275.json")
    as_jsonl = read("llama_bench_rtx3090ti_b1275.jsonl")
    assert as_json.values == as_jsonl.values
    assert as_json.sha256 != as_jsonl.sha256


def records(name: str) -> list[dict]:
    return json.loads(fixture_bytes(name))


def test_two_gpus_give_a_count_of_two(refs):
    # llama-bench joins device descriptions with ", " (older builds: "/")
    data = records("llama_bench_rtx4080_b5163.json")
    for record in data:
        record["gpu_info"] = "NVIDIA GeForce RTX 4080, NVIDIA GeForce RTX 4080"
    intake = parse(json.dumps(data).encode(), filename="x.json", references=refs)
    assert intake.values["hardware"] == "rtx-4080"
    assert intake.values["hardware_count"] == "2"
    assert any("lists every GPU it sees" in note for note in intake.notes)


def test_a_cpu_only_run_fills_the_cpu_family_instead_of_a_gpu(refs):
    data = records("llama_bench_rtx3090ti_b1275.json")
    for record in data:
        record["n_gpu_layers"] = 0
    intake = parse(json.dumps(data).encode(), filename="x.json", references=refs)
    assert "hardware" not in intake.values
    assert intake.values["cpu_family"] == "13th Gen Intel(R) Core(TM) i9-13900K"
    assert any("CPU-only" in note for note in intake.notes)


def test_a_file_with_only_a_prompt_test_is_refused(refs):
    data = records("llama_bench_rtx4080_b5163.json")[:1]
    with pytest.raises(IntakeError, match="no text-generation test"):
        parse(json.dumps(data).encode(), filename="x.json", references=refs)


def test_a_generation_test_without_samples_is_refused(refs):
    data = records("llama_bench_rtx4080_b5163.json")
    for record in data:
        del record["samples_ns"], record["samples_ts"]
    with pytest.raises(IntakeError, match="no per-repetition samples"):
        parse(json.dumps(data).encode(), filename="x.json", references=refs)


def test_a_negative_sample_is_refused_with_its_place(refs):
    data = records("llama_bench_rtx4080_b5163.json")
    data[1]["samples_ns"][2] = -1065089400
    with pytest.raises(IntakeError, match=r"record 2: samples_ns\[2\].*greater than zero"):
        parse(json.dumps(data).encode(), filename="x.json", references=refs)


def test_a_zero_sample_is_refused(refs):
    data = records("llama_bench_rtx4080_b5163.json")
    data[1]["samples_ns"][0] = 0
    with pytest.raises(IntakeError, match="greater than zero"):
        parse(json.dumps(data).encode(), filename="x.json", references=refs)


# llama-bench's default output. The first verbatim from ggml-org/llama.cpp
# tools/llama-bench/README.md (commit 5a32f10a), section "Markdown"; the second as current
# builds print it, the test column right-aligned.
MARKDOWN_TABLES = [
    """\
| model                          |       size |     params | backend    | ngl | test       |              t/s |
| ------------------------------ | ---------: | ---------: | ---------- | --: | ---------- | ---------------: |
| llama 7B mostly Q4_0           |   3.56 GiB |     6.74 B | CUDA       |  99 | pp 512     |  2368.80 ± 93.24 |
| llama 7B mostly Q4_0           |   3.56 GiB |     6.74 B | CUDA       |  99 | tg 128     |    131.42 ± 0.59 |
""",  # noqa: E501
    """\
| model                          |       size |     params | backend    | ngl |            test |                  t/s |
| ------------------------------ | ---------: | ---------: | ---------- | --: | --------------: | -------------------: |
| llama 8B Q4_K - Medium         |   4.58 GiB |     8.03 B | CUDA       |  99 |           pp512 |      5110.41 ± 20.17 |
| llama 8B Q4_K - Medium         |   4.58 GiB |     8.03 B | CUDA       |  99 |           tg128 |        124.60 ± 0.31 |
""",  # noqa: E501
]


@pytest.mark.parametrize("table", MARKDOWN_TABLES, ids=["left-aligned", "right-aligned"])
def test_the_markdown_table_is_refused_with_the_way_out(refs, table):
    with pytest.raises(IntakeError, match="table output.*-o json"):
        parse(table.encode(), filename="bench.md", references=refs)
