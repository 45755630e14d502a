"""Tool-reported names onto the reference tables; unknown names go to "other"."""

from __future__ import annotations

import pytest

from webapp.services.intake import matching
from webapp.services.intake.core import OTHER


@pytest.mark.parametrize(("raw", "slug", "count"), [
    ("NVIDIA GeForce RTX 4090", "rtx-4090", 1),
    ("NVIDIA GeForce RTX 4090, NVIDIA GeForce RTX 4090", "rtx-4090", 2),
    ("NVIDIA GeForce RTX 3090 Ti/NVIDIA GeForce RTX 3090 Ti", "rtx-3090-ti", 2),  # old builds
    ("nvidia  geforce rtx 3090", "rtx-3090", 1),
    ("Apple M2 Max", "apple-m2-max", 1),
    ("AMD Radeon RX 7900 XTX", "rx-7900-xtx", 1),
    ("NVIDIA RTX A6000", "rtx-a6000", 1),
    ("NVIDIA RTX 6000 Ada Generation", "rtx-6000-ada", 1),
    ("NVIDIA H100 80GB HBM3", "h100-sxm", 1),
    ("4xNVIDIA_L40S", "l40s", 4),
    ("Tesla P40", "tesla-p40", 1),
])
def test_gpu_names(refs, raw, slug, count):
    match = matching.match_hardware(raw, refs)
    assert (match.slug, match.count) == (slug, count)


@pytest.mark.parametrize("raw", [
    "NVIDIA GeForce RTX 4090 D",  # a different SKU, not an RTX 4090
    "NVIDIA GeForce RTX 4090 Laptop GPU",
    "Intel(R) Arc(TM) Pro B70 Graphics",
    "NVIDIA GeForce RTX 5090, NVIDIA GeForce RTX 3090 Ti",  # mixed devices
])
def test_unknown_or_mixed_gpus_are_other_with_the_raw_name(refs, raw):
    match = matching.match_hardware(raw, refs)
    assert (match.slug, match.raw) == (OTHER, raw)


def test_a_name_missing_the_memory_size_maps_with_a_caveat(refs):
    match = matching.match_hardware("NVIDIA GeForce RTX 4060 Ti", refs)
    assert match.slug == "rtx-4060-ti-16gb"
    assert "does not say 16GB" in match.caveat


@pytest.mark.parametrize(("raw", "slug"), [
    ("models/Qwen2.5-7B-Instruct-Q4_K_M.gguf", "qwen2.5-7b-instruct"),
    ("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", "llama-3.1-8b-instruct"),
    ("Meta-Llama-3.1-8B-Q4_K_M.gguf", "llama-3.1-8b"),  # base, not instruct
    ("mistral-7b-instruct-v0.3.Q4_K_M.gguf", "mistral-7b-instruct-v0.3"),
    ("Qwen/Qwen2.5-7B-Instruct-AWQ", "qwen2.5-7b-instruct"),
    ("google/gemma-2-9b-it", "gemma-2-9b-it"),
    ("gpt-oss-20b-mxfp4.gguf", "gpt-oss-20b"),
    ("Hermes-3-Llama-3.1-8B.Q4_K_M.gguf", OTHER),  # a fine-tune is another model
    ("mistral-7b-instruct-v0.2.Q4_K_M.gguf", OTHER),  # another version
    ("C:/Users/someone/models/ggml-model-q4_0.gguf", OTHER),
])
def test_model_names(refs, raw, slug):
    assert matching.match_model(raw, refs).slug == slug


def test_an_unknown_model_keeps_its_file_name_without_folders(refs):
    match = matching.match_model("C:/Users/someone/models/ggml-model-q4_0.gguf", refs)
    assert match.raw == "ggml-model-q4_0"


@pytest.mark.parametrize(("model_type", "level"), [
    ("qwen2 7B Q4_K - Medium", "Q4_K_M"),
    ("llama 7B mostly Q4_0", "Q4_0"),
    ("llama 8B Q2_K - Medium", "Q2_K"),
    ("llama 8B Q3_K - Small", "Q3_K_S"),
    ("llama 8B IQ4_XS - 4.25 bpw", "IQ4_XS"),
    ("llama 8B F16", "F16"),
    ("gpt-oss 20B MXFP4 MoE", "MXFP4"),
    ("qwen35moe 35B.A3B Q4_K - Medium", "Q4_K_M"),
])
def test_llama_cpp_file_types(model_type, level):
    assert matching.gguf_ftype(model_type) == (level, False)


@pytest.mark.parametrize(("label", "gguf", "slug"), [
    ("Q4_K_M", True, "gguf-q4_k_m"),
    ("q4_k_m", True, "gguf-q4_k_m"),
    ("IQ4_XS", True, "gguf-iq4_xs"),
    ("F16", True, "gguf-f16"),
    ("Q4_0", True, OTHER),
    ("AWQ", False, "awq-int4"),
    ("GPTQ Int4", False, "gptq-int4"),
    ("GPTQ", False, OTHER),  # 4 or 8 bits: not said
    ("FP8", False, "fp8"),
    ("BF16", False, "bf16"),
    ("mlx 4bit", False, "mlx-4bit"),
])
def test_quants(refs, label, gguf, slug):
    assert matching.match_quant(label, refs, gguf=gguf).slug == slug


@pytest.mark.parametrize(("raw", "slug"), [
    ("llama.cpp", "llama-cpp"), ("llama-server", "llama-cpp"), ("Ollama", "ollama"),
    ("vLLM", "vllm"), ("vllm 0.6.4", "vllm"), ("SGLang", "sglang"), ("mystery", OTHER),
])
def test_runtimes(refs, raw, slug):
    assert matching.match_runtime(raw, refs).slug == slug
