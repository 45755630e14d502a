"""The package's surface: the result, the references, the locked-set check, and purity."""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

import webapp.services.intake as intake_package
from tests.intake.conftest import fixture_bytes
from webapp.services import rules
from webapp.services.intake import References, check_locked, core, parse

PACKAGE = Path(intake_package.__file__).resolve().parent


def test_the_result_keeps_the_sha256_of_the_exact_bytes(refs):
    raw = fixture_bytes("llama_bench_rtx4080_b5163.json")
    intake = parse(raw, filename="bench.json", references=refs)
    assert intake.sha256 == hashlib.sha256(raw).hexdigest()


def test_every_value_has_a_source(read):
    for name in ("llama_bench_rtx4080_b5163.json", "ollama_mistral_issue1806.txt",
                 "vllm_llama32_3b_10qps.json"):
        intake = read(name)
        assert set(intake.values) == set(intake.sources)
        assert all(isinstance(value, str) for value in intake.values.values())


def test_estimates_are_never_values(read):
    for name in ("llama_bench_rtx4080_b5163.json", "ollama_mistral_issue1806.txt",
                 "vllm_llama32_3b_10qps.json"):
        intake = read(name)
        assert intake.estimates
        assert not set(intake.estimates) & set(intake.values)


def test_utf16_with_a_bom_is_read(refs):
    # Windows PowerShell writes redirected output as UTF-16 with a byte-order mark
    raw = fixture_bytes("llama_bench_rtx4080_b5163.jsonl").decode().encode("utf-16")
    assert parse(raw, filename="b.jsonl", references=refs).run_count == 5


def test_crlf_line_endings_are_read(refs):
    raw = fixture_bytes("ollama_before_after_pr12742.txt").replace(b"\n", b"\r\n")
    assert parse(raw, filename=None, references=refs).run_count == 2


def test_references_from_orm_like_rows():
    refs = References.from_rows(
        hardware=[SimpleNamespace(slug="rtx-4090", name="GeForce RTX 4090", vendor="NVIDIA",
                                  kind="gpu")],
        models=[{"slug": "m", "name": "Qwen2.5-7B-Instruct", "family": "Qwen 2.5",
                 "variant": "instruct"}],
        quants=[SimpleNamespace(slug="gguf-q4_k_m", name="Q4_K_M", family="GGUF")],
        runtimes=[{"slug": "llama-cpp", "name": "llama.cpp", "engine_family": "llama.cpp",
                   "aliases": "llamacpp|llama-cpp"}],
    )
    assert refs.hardware[0].vendor == "NVIDIA"
    assert refs.runtimes[0].aliases == ("llamacpp", "llama-cpp")
    intake = parse(fixture_bytes("llama_bench_rtx4080_b5163.json"), filename="b.json",
                   references=refs)
    assert intake.values["hardware"] == "other"  # RTX 4080 is not in this small table
    assert intake.values["model"] == "m"


def locked(**changes):
    values = {"model": "qwen2.5-7b-instruct", "hardware": "rtx-4080", "hardware_count": 1,
              "quant": "gguf-q4_k_m", "runtime": "ollama"}
    return values | changes


def conflicts(intake, **kwargs) -> list[str]:
    return list(check_locked(intake, **kwargs).conflicts)


def test_a_file_matching_the_locked_set_has_no_conflicts(read, refs):
    intake = read("llama_bench_rtx4080_b5163.json")
    # llama.cpp and Ollama are one engine family
    check = check_locked(intake, references=refs, **locked())
    assert check.conflicts == () and check.unchecked == ()


def test_each_contradiction_is_named(read, refs):
    intake = read("llama_bench_rtx4080_b5163.json")
    problems = conflicts(intake, references=refs, **locked(
        model="llama-3.1-8b-instruct", hardware="rtx-4090", quant="gguf-q8_0", runtime="vllm",
    ))
    assert len(problems) == 4
    assert "The file's model is Qwen2.5-7B-Instruct; this benchmark's is " \
           "Llama-3.1-8B-Instruct." in problems
    assert any("GeForce RTX 4080" in p and "GeForce RTX 4090" in p for p in problems)
    assert any("needs the vllm engine family" in p for p in problems)


def test_a_device_count_contradiction_is_named(read, refs):
    intake = read("llama_bench_rtx4080_b5163.json")
    assert conflicts(intake, references=refs, **locked(hardware_count=2)) == [
        "The file ran on 1 device; this benchmark ran on 2."
    ]


def test_an_unknown_name_in_the_file_is_unchecked_not_a_contradiction(read, refs):
    intake = read("llama_bench_rtx3090ti_b1275.json")
    assert intake.values["model"] == "other"
    check = check_locked(intake, references=refs, **locked(hardware="rtx-3090-ti"))
    assert check.conflicts == ()
    assert any("“ggml-model-q4_0”" in note and "could not be checked" in note
               for note in check.unchecked)


@pytest.mark.parametrize(("hub_name", "conflict"), [
    ("GGML-Model-Q4_0.gguf", False),  # the same name, spelt otherwise
    ("Hermes-3-Llama-3.1-8B", True),
    (None, False),  # an "other" without a name: unchecked
])
def test_two_other_names_are_compared(read, refs, hub_name, conflict):
    intake = read("llama_bench_rtx3090ti_b1275.json")
    check = check_locked(intake, references=refs, other_model=hub_name,
                         **locked(model="other", hardware="rtx-3090-ti"))
    assert bool(check.conflicts) is conflict
    assert any("model" in note for note in check.unchecked) is (hub_name is None)


def test_a_cpu_only_run_contradicts_a_gpu_benchmark_and_the_converse(read, refs):
    data = json.loads(fixture_bytes("llama_bench_rtx4080_b5163.json"))
    for record in data:
        record["n_gpu_layers"] = 0
    cpu_run = parse(json.dumps(data).encode(), filename="b.json", references=refs)
    assert cpu_run.device == "cpu"
    assert conflicts(cpu_run, references=refs, **locked()) == [
        "The file ran on the CPU only (no model layers on a GPU); this benchmark ran on the "
        "GeForce RTX 4080 GPU."
    ]
    assert conflicts(cpu_run, references=refs, **locked(hardware="cpu-ddr5-5600-2ch")) == []
    gpu_run = read("llama_bench_rtx4080_b5163.json")
    assert conflicts(gpu_run, references=refs, **locked(hardware="cpu-ddr5-5600-2ch")) == [
        "The file ran on a GPU (GeForce RTX 4080); this benchmark ran on the CPU (CPU with "
        "dual-channel DDR5-5600)."
    ]


def test_the_run_limits_agree_with_the_rule_set():
    assert (core.MIN_RUNS, core.MAX_RUNS) == (rules.MIN_RUNS, rules.MAX_RUNS)


def modules() -> list[Path]:
    return sorted(PACKAGE.glob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.name)
def test_each_module_is_pure_small_and_says_its_topic(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    outside = {
        name for name in imported
        if name.split(".")[0] in ("flask", "sqlalchemy", "flask_sqlalchemy", "webapp")
        and not name.startswith("webapp.services.intake")
    }
    assert not outside, f"{path.name} imports {outside}"
    assert ast.get_docstring(tree), f"{path.name} has no opening docstring"
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 450
