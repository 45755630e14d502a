"""The configuration generator: every plausible matching set of the reference data.

Only configurations whose weights fit the hardware's memory are kept (usable memory by
hardware class and runtime), each runtime where its format runs, each with a popularity
weight and the ceiling and prefill rate its numbers follow from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Hardware, ModelVariant, Quant, Runtime
from webapp.services import plausibility
from webapp.services.demo.world import DATACENTER, PROMPT_TOKENS
from webapp.services.reference import OTHER_SLUG

GGUF_RUNTIMES = (
    ("ollama", 6.0), ("llama-cpp", 5.0), ("lm-studio-gguf", 2.0), ("koboldcpp", 1.0),
    ("llamafile", 0.5),
)
SERVING_RUNTIMES = {  # non-GGUF formats on discrete GPUs
    "AWQ": (("vllm", 4.0), ("sglang", 2.0), ("tgi", 1.0), ("tensorrt-llm", 1.0)),
    "GPTQ": (("vllm", 3.0), ("exllamav2", 3.0), ("tgi", 1.0)),
    "FP8": (("vllm", 4.0), ("sglang", 2.0), ("tensorrt-llm", 2.0)),
    "BF16": (("vllm", 4.0), ("sglang", 2.0), ("tgi", 1.0), ("tensorrt-llm", 1.0)),
    "FP16": (("vllm", 3.0), ("tgi", 1.0), ("tensorrt-llm", 1.0)),
}
NVIDIA_ONLY_RUNTIMES = frozenset({"tensorrt-llm", "exllamav2"})
TENSOR_PARALLEL_RUNTIMES = frozenset({"vllm", "sglang", "tgi", "tensorrt-llm"})
FP8_PREFIXES = ("rtx-40", "rtx-50", "rtx-6000-ada", "rtx-pro-6000", "l40s", "h100", "mi300x",
                "dgx-spark")

MODEL_WEIGHT = {
    "llama-3.1-8b-instruct": 10, "qwen2.5-7b-instruct": 5, "qwen3-30b-a3b": 5,
    "gpt-oss-20b": 5, "mistral-7b-instruct-v0.3": 4, "llama-3.3-70b-instruct": 4,
    "qwen2.5-14b-instruct": 3, "qwen2.5-32b-instruct": 3, "gemma-2-9b-it": 3,
    "llama-3.1-8b": 1, "phi-3-mini-4k-instruct": 2, "gpt-oss-120b": 2,
}
HARDWARE_WEIGHT = {
    "rtx-4090": 10, "rtx-3090": 9, "rtx-5090": 5, "rtx-3060-12gb": 5, "rtx-4060-ti-16gb": 3,
    "rtx-4070": 3, "rtx-4080": 3, "apple-m4-max": 4, "apple-m2-max": 3, "apple-m3-max": 3,
    "apple-m4-pro": 3, "apple-m2-ultra": 2, "apple-m1-max": 2, "rx-7900-xtx": 3,
    "ryzen-ai-max-395": 2, "dgx-spark": 2, "h100-sxm": 2, "a100-80gb-sxm": 2,
}
QUANT_WEIGHT = {
    "gguf-q4_k_m": 10, "gguf-q8_0": 4, "gguf-q5_k_m": 3, "gguf-q6_k": 2, "gguf-q4_k_s": 1.5,
    "gguf-iq4_xs": 1, "gguf-q3_k_s": 0.7, "gguf-q2_k": 0.4, "gguf-f16": 0.7, "awq-int4": 2,
    "gptq-int4": 1.2, "mlx-4bit": 3, "mlx-8bit": 1.5, "fp8": 1.5, "bf16": 2, "fp16": 0.8,
}
COUNT_WEIGHT = {1: 1.0, 2: 0.25, 4: 0.06, 8: 0.02}
# Effective prefill throughput per GB/s of memory bandwidth, in TFLOP/s: prefill is
# compute-bound, and these ratios stand in for each class's compute-to-bandwidth balance.
PREFILL_TFLOPS_PER_GBS = {"gpu": 0.12, "unified": 0.04, "cpu": 0.02}
PREFILL_TFLOPS_OVERRIDE = {"h100-sxm": 0.25, "h100-pcie": 0.3, "a100-80gb-sxm": 0.14,
                           "mi300x": 0.2, "dgx-spark": 0.3, "ryzen-ai-max-395": 0.1,
                           "tesla-p40": 0.03}


@dataclass(frozen=True)
class Config:
    """One plausible matching set, with the numbers that follow from it."""

    model_id: int
    model_slug: str
    hardware_id: int
    hardware_slug: str
    hardware_kind: str
    vendor: str
    memory_mib: float
    quant_id: int
    quant_family: str
    quant_slug: str
    runtime_id: int
    runtime_slug: str
    count: int
    tensor_parallel: bool
    ceiling_tps: float
    prefill_tps: float
    weights_mib: float
    serving: bool  # preallocates most of the memory (vLLM and friends)


def reference_rows(session: Session, model) -> list:
    """The reference rows of one table the demo draws from ("other" is no configuration)."""
    return list(session.scalars(
        select(model).where(model.slug != OTHER_SLUG).order_by(model.slug)
    ))


def _hardware_weight(hw: Hardware) -> float:
    if hw.slug in HARDWARE_WEIGHT:
        return HARDWARE_WEIGHT[hw.slug]
    return {"gpu": 1.5, "unified": 1.5, "cpu": 1.0}.get(hw.kind, 1.0)


def _runtime_choices(hw: Hardware, quant: Quant) -> Sequence[tuple[str, float]]:
    if quant.family == "GGUF":
        return GGUF_RUNTIMES
    if quant.family == "MLX":
        return (("mlx-lm", 3.0), ("lm-studio-mlx", 3.0)) if hw.vendor == "Apple" else ()
    if hw.kind == "cpu" or hw.vendor == "Apple" or hw.slug == "tesla-p40":
        return ()
    if hw.kind == "unified" and hw.slug != "dgx-spark":
        return ()
    if quant.family == "FP8" and not hw.slug.startswith(FP8_PREFIXES):
        return ()
    choices = SERVING_RUNTIMES.get(quant.family, ())
    if hw.vendor != "NVIDIA":
        choices = tuple(c for c in choices if c[0] not in NVIDIA_ONLY_RUNTIMES)
    return choices


def _usable_gib(hw: Hardware, count: int, serving: bool) -> float:
    if hw.kind == "gpu":
        return hw.memory_gib * count * (0.8 if serving else 0.95) - 0.8 * count
    if hw.vendor == "Apple":
        return hw.memory_gib * 0.75 - 2
    return hw.memory_gib * 0.85 - 2


def _plain(row: Any, *names: str) -> SimpleNamespace:
    return SimpleNamespace(**{name: getattr(row, name) for name in names})


def build_configs(
    models: Sequence[ModelVariant],
    hardware: Sequence[Hardware],
    quants: Sequence[Quant],
    runtimes: Sequence[Runtime],
) -> tuple[list[Config], list[float]]:
    """Every plausible configuration of the reference data, with a popularity weight."""
    # Plain copies: ORM attribute access in these loops costs seconds.
    models = [_plain(m, "id", "slug", "params_b", "active_params_b") for m in models]
    hardware = [_plain(h, "id", "slug", "kind", "vendor", "memory_gib", "bandwidth_gb_s")
                for h in hardware]
    quants = [_plain(q, "id", "slug", "family", "bits_per_weight") for q in quants]
    runtime_by_slug = {r.slug: _plain(r, "id", "slug") for r in runtimes}
    configs: list[Config] = []
    weights: list[float] = []
    for hw in hardware:
        counts = (1,)
        if hw.kind == "gpu" and hw.memory_gib >= 16:
            counts = (1, 2, 4, 8) if hw.slug in DATACENTER else (1, 2, 4)
        for quant in quants:
            choices = [
                (runtime_by_slug[slug], weight)
                for slug, weight in _runtime_choices(hw, quant)
                if slug in runtime_by_slug
            ]
            if not choices:
                continue
            for model in models:
                total_gib = plausibility.model_bytes(model.params_b, quant.bits_per_weight) / 2**30
                for runtime, runtime_weight in choices:
                    serving = runtime.slug in TENSOR_PARALLEL_RUNTIMES
                    for count in counts:
                        if total_gib * 1.05 > _usable_gib(hw, count, serving):
                            continue
                        # A layer split only makes sense when the weights need the room.
                        if count > 1 and not serving and total_gib * 1.05 <= _usable_gib(
                            hw, count // 2, serving
                        ):
                            continue
                        tensor_parallel = serving and count > 1
                        ceiling = plausibility.ceiling_tps(
                            hw.bandwidth_gb_s, count, tensor_parallel,
                            model.active_params_b, quant.bits_per_weight,
                        )
                        ratio = PREFILL_TFLOPS_OVERRIDE.get(
                            hw.slug, PREFILL_TFLOPS_PER_GBS.get(hw.kind, 0.05)
                        )
                        compute = ratio * hw.bandwidth_gb_s * 1e12 * (
                            count if tensor_parallel else 1
                        )
                        prefill = 0.45 * compute / (2 * model.active_params_b * 1e9)
                        if ceiling < 2 or PROMPT_TOKENS / prefill > 180:
                            continue
                        configs.append(Config(
                            model_id=model.id, model_slug=model.slug,
                            hardware_id=hw.id, hardware_slug=hw.slug,
                            hardware_kind=hw.kind, vendor=hw.vendor,
                            memory_mib=hw.memory_gib * 1024 * count,
                            quant_id=quant.id, quant_family=quant.family,
                            quant_slug=quant.slug,
                            runtime_id=runtime.id, runtime_slug=runtime.slug,
                            count=count, tensor_parallel=tensor_parallel,
                            ceiling_tps=ceiling, prefill_tps=prefill,
                            weights_mib=total_gib * 1024, serving=serving,
                        ))
                        weights.append(
                            MODEL_WEIGHT.get(model.slug, 2) * _hardware_weight(hw)
                            * QUANT_WEIGHT.get(quant.slug, 1) * runtime_weight
                            * COUNT_WEIGHT[count]
                        )
    return configs, weights
