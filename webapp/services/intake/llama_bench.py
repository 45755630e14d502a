"""llama.cpp's `llama-bench -o json` and `-o jsonl` output, read into form values.

Decode runs come from the generation test's per-repetition samples (`samples_ns`), the
prefill speed from the prompt test of the same configuration, the runtime version from
`build_number` (or `build_commit`), the GPU from `gpu_info`, model and quant from
`model_filename` and `model_type`. llama-bench measures no time to first token: the
parser says so, and offers an estimate only as an estimate.
"""

from __future__ import annotations

import json
import statistics
from typing import Any

from webapp.services.intake import matching
from webapp.services.intake.core import (
    MAX_RUNS,
    Draft,
    IntakeError,
    References,
    computed,
    fmt,
    optional_text,
    positive_int,
    positive_number,
    run_field,
)

FORMAT_JSON = "llama-bench-json"
FORMAT_JSONL = "llama-bench-jsonl"
TOOL = "llama-bench"
_SHAPE_KEYS = frozenset({
    "n_prompt", "n_gen", "n_depth", "test_time", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts",
    "samples_ns", "samples_ts",
})


def looks_like(record: Any) -> bool:
    return (
        isinstance(record, dict)
        and "n_prompt" in record
        and "n_gen" in record
        and any(key in record for key in ("samples_ns", "samples_ts", "avg_ts", "build_commit"))
    )


def _count(record: dict, key: str, label: str) -> int:
    value = record.get(key, 0)
    if type(value) is int and value >= 0:  # the usual case, checked quickly
        return value
    if value is None:
        return 0
    return positive_int(value, f"{label}: {key}")


def _config(record: dict) -> str:
    """Everything but the test's shape and timings: records of one configuration."""
    rest = {key: value for key, value in record.items() if key not in _SHAPE_KEYS}
    return json.dumps(rest, sort_keys=True, default=str)


def _test_name(record: dict) -> str:
    n_prompt, n_gen = record.get("n_prompt") or 0, record.get("n_gen") or 0
    name = f"pp{n_prompt}" if not n_gen else f"tg{n_gen}" if not n_prompt else (
        f"pp{n_prompt}+tg{n_gen}"
    )
    depth = record.get("n_depth") or 0
    return f"{name} @ d{depth}" if depth else name


def _speeds(record: dict, tokens: int, label: str) -> tuple[list[float], list[str]]:
    """tok/s per repetition, from samples_ns (exact) or samples_ts (rounded), each with
    its source."""
    name = _test_name(record)
    samples = record.get("samples_ns")
    if isinstance(samples, list) and samples:
        speeds = [
            computed(tokens / (positive_number(ns, f"{label}: samples_ns[{i}]") / 1e9),
                     f"{label}: {tokens} tokens ÷ samples_ns[{i}]")
            for i, ns in enumerate(samples)
        ]
        return speeds, [f"{label} ({name}): {tokens} tokens ÷ samples_ns[{i}]"
                        for i in range(len(speeds))]
    samples = record.get("samples_ts")
    if isinstance(samples, list) and samples:
        speeds = [positive_number(ts, f"{label}: samples_ts[{i}]") for i, ts in enumerate(samples)]
        return speeds, [f"{label} ({name}): samples_ts[{i}]" for i in range(len(speeds))]
    raise IntakeError(
        f"{label} ({name}) has no per-repetition samples (samples_ns), only an average: the "
        "form needs each run. Use a llama-bench build from September 2023 or later."
    )


def parse(records: list[tuple[str, Any]], fmt_name: str, refs: References) -> Draft:
    """`records`: (label, object) pairs, the label naming the record or line for sources."""
    for label, record in records:
        if not looks_like(record):
            raise IntakeError(f"{label} is not a llama-bench result (it has no n_prompt/n_gen).")
    draft = Draft(fmt_name, TOOL)
    shaped = [
        (label, record, _count(record, "n_prompt", label), _count(record, "n_gen", label),
         _count(record, "n_depth", label))
        for label, record in records
    ]
    generation = [item for item in shaped if item[2] == 0 and item[3] > 0 and item[4] == 0]
    if not generation:
        raise IntakeError(
            "This llama-bench output has no text-generation test (n_prompt 0, n_gen above 0), "
            "so it holds no decode speed. Run e.g. `llama-bench -m MODEL -p 500 -n 512 "
            "-r 3 -o json`."
        )
    label, chosen, _, n_gen, _ = generation[0]
    if len(generation) > 1:
        draft.note(
            f"The file holds {len(generation)} generation tests; the first ({label}, "
            f"{_test_name(chosen)}) was used. Upload one configuration per submission."
        )
    speeds, sources = _speeds(chosen, n_gen, label)
    draft.put_runs(
        [(None, n_gen, speed) for speed in speeds],
        [{"tokens_generated": f"{label}: n_gen", "decode_tps": source} for source in sources],
    )
    draft.put("max_tokens", n_gen, f"{label}: n_gen")
    draft.note(
        "llama-bench measures no time to first token: enter TTFT for each run yourself "
        "(trustbench-measure measures it)."
    )
    if not chosen.get("n_prompt"):
        draft.note(
            "llama-bench's generation test decodes from an empty context (n_prompt 0), while "
            "the reproduction guide decodes after its prompt: expect a small difference."
        )
    _prefill(draft, shaped, chosen, speeds)
    _build(draft, chosen, label, refs)
    _hardware(draft, chosen, label, refs)
    _model(draft, chosen, label, refs)
    if chosen.get("test_time") is not None:
        draft.put_measured_on(chosen["test_time"], f"{label}: test_time")
    return draft


def _prefill(draft: Draft, shaped: list, chosen: dict, decode: list[float]) -> None:
    config = _config(chosen)
    prompt = next(
        (item for item in shaped
         if item[2] > 0 and item[3] == 0 and item[4] == 0 and _config(item[1]) == config),
        None,
    )
    if prompt is None:
        draft.note(
            "The file has no prompt-processing test for this configuration: prefill speed "
            "and prompt length were not filled."
        )
        return
    label, record, n_prompt, _, _ = prompt
    speeds, _sources = _speeds(record, n_prompt, label)
    prefill = statistics.median(speeds)
    draft.put("prefill_tps", prefill, f"{label} ({_test_name(record)}): median of samples_ns")
    draft.put("prompt_tokens", n_prompt, f"{label}: n_prompt")
    decode_median = statistics.median(decode)
    estimate = n_prompt / prefill * 1000 + 1000 / decode_median
    basis = (
        f"estimate, not a measurement: {n_prompt} prompt tokens at {fmt(prefill, 1)} tok/s "
        f"plus one token at {fmt(decode_median, 1)} tok/s. It leaves out tokenisation, "
        "sampling, queueing and the HTTP round trip, so real TTFT is higher."
    )
    for index in range(min(len(decode), MAX_RUNS)):
        draft.estimate(run_field(index, "ttft_ms"), estimate, basis)


# llama.cpp numbers its builds b1, b2, …: b7000 came in 2025. Anything past nine digits
# is not one (and would not fit the signed record of where the numbers came from).
MAX_BUILD_NUMBER = 999_999_999


def _shown_number(number: int) -> str:
    text = str(number)
    return text if len(text) <= 20 else f"{text[:12]}… ({len(text)} digits)"


def _build(draft: Draft, record: dict, label: str, refs: References) -> None:
    commit = optional_text(record.get("build_commit"), 40)
    number = record.get("build_number")
    if isinstance(number, bool) or not isinstance(number, int):
        number = None
    elif not 0 < number <= MAX_BUILD_NUMBER:
        draft.note(f"build_number {_shown_number(number)} is not a llama.cpp build number, "
                   "so the runtime version was not taken from it.")
        number = None
    if number is not None:
        version, source = f"b{number}", f"{label}: build_number"
    elif commit:
        version, source = commit, f"{label}: build_commit"
    else:
        version, source = None, ""
    runtime = matching.match_runtime("llama.cpp", refs)
    draft.put("runtime", runtime.slug, "llama-bench is part of llama.cpp")
    if version:
        draft.format_version = version
        draft.put("runtime_version", version, source)
    if commit:
        draft.facts["build_commit"] = commit
    backends = optional_text(record.get("backends"), 60)
    if backends:
        draft.facts["backends"] = backends
    for key in ("type_k", "type_v"):
        kind = optional_text(record.get(key), 20)
        if kind and kind.lower() != "f16":
            draft.note(f"The KV cache was quantised ({key} = {kind}); say so in your notes.")


def _hardware(draft: Draft, record: dict, label: str, refs: References) -> None:
    gpu_info = optional_text(record.get("gpu_info"), 400) or ""
    layers = record.get("n_gpu_layers")
    if not gpu_info or layers == 0:
        cpu = optional_text(record.get("cpu_info"), 80)
        why = "n_gpu_layers is 0" if gpu_info else "llama-bench reports no GPU"
        draft.note(
            f"This looks like a CPU-only run ({why}): choose the CPU entry that matches your "
            "RAM; the CPU family was filled from cpu_info."
        )
        if cpu:
            draft.put("cpu_family", cpu, f"{label}: cpu_info")
        draft.device = "cpu"
        return
    draft.device = "gpu"
    match = matching.match_hardware(gpu_info, refs)
    split = optional_text(record.get("split_mode"), 20) or "layer"
    if match.count > 1 and split == "none":
        match = matching.Match(match.slug, match.raw, 1, match.caveat)
        draft.note("split_mode is none: only the main GPU ran the model, so the count is 1.")
    elif match.count > 1:
        draft.note(
            f"llama-bench lists every GPU it sees ({match.count} here): check the count is "
            "the number that ran the model."
        )
        if split in ("row", "tensor"):
            draft.put("tensor_parallel", "on", f"{label}: split_mode = {split}")
    matching.apply(draft, "hardware", match, f"{label}: gpu_info")


def _model(draft: Draft, record: dict, label: str, refs: References) -> None:
    filename = optional_text(record.get("model_filename"), 400)
    model_type = optional_text(record.get("model_type"), 120)
    if model_type:
        draft.facts["model_type"] = model_type
    if filename:
        match = matching.match_model(filename, refs)
        matching.apply(draft, "model", match, f"{label}: model_filename")
    quant, source = None, ""
    if model_type:
        quant, guessed = matching.gguf_ftype(model_type)
        source = f"{label}: model_type"
        if quant and guessed:
            draft.note(f"llama.cpp guessed the file type ({model_type}): check the quant.")
    if not quant and filename:
        quant, source = matching.quant_from_name(filename), f"{label}: model_filename"
    if quant:
        matching.apply(draft, "quant", matching.match_quant(quant, refs, gguf=True), source)
