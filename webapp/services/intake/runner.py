"""The trustbench runner's result file (`trustbench-result`, version 1), read into form
values.

The runner follows the reproduction guide, so its runs fill the form as they are: TTFT,
tokens and decode speed per run, the VRAM high-water mark, the build context it
collected, and the prompt's sha256 (kept as a fact, so a reproduction can be checked to
have run the hub's prompt). A file from a newer format version is refused.

Field names follow issue 11 and the helper brief; the runner itself
(webapp/runner/trustbench_measure.py) was being written at the same time.
"""

from __future__ import annotations

from typing import Any

from webapp.services.intake import matching
from webapp.services.intake.core import (
    Draft,
    IntakeError,
    References,
    optional_text,
    positive_int,
    positive_number,
)

FORMAT = "trustbench-result"
TOOL = "trustbench-measure"
SUPPORTED_VERSION = 1
# Runs whose timestamps disagree with their numbers by more than this are flagged.
TIMESTAMP_TOLERANCE = 0.02


def looks_like(record: Any) -> bool:
    return isinstance(record, dict) and record.get("format") == FORMAT


def _version(data: dict) -> int:
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise IntakeError(
            "This trustbench result has no valid format version: it may have been edited. "
            "Measure again with the runner."
        )
    if version > SUPPORTED_VERSION:
        raise IntakeError(
            f"This result was written in format version {version}, newer than this site "
            f"reads (up to version {SUPPORTED_VERSION}). Use the runner this site serves "
            "(/measure.py), or ask the site's maintainers to update it."
        )
    return version


def _section(data: dict, key: str) -> dict:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise IntakeError(f"“{key}” in the result should be an object.")
    return value


def _check_timestamps(draft: Draft, run: dict, index: int, tokens: int, decode: float,
                      ttft: float) -> None:
    """T0 < T1 < T2, and decode = tokens ÷ (T2 − T1) in the unit TTFT implies."""
    stamps = [run.get(key) for key in ("t0", "t1", "t2")]
    if not all(isinstance(s, int | float) and not isinstance(s, bool) for s in stamps):
        return
    t0, t1, t2 = (float(s) for s in stamps)
    if not t0 < t1 < t2:
        raise IntakeError(
            f"runs[{index}]: the timestamps are out of order (T0 < T1 < T2 is required)."
        )
    ms_per_unit = ttft / (t1 - t0)
    from_stamps = tokens / ((t2 - t1) * ms_per_unit / 1000)
    if abs(from_stamps - decode) > TIMESTAMP_TOLERANCE * decode:
        draft.note(
            f"Run {index + 1}: decode_tps does not equal tokens ÷ (T2 − T1) from its own "
            "timestamps: the file may have been edited. Check the numbers."
        )


def parse(data: dict, refs: References) -> Draft:
    _version(data)
    draft = Draft(FORMAT, TOOL)
    draft.format_version = optional_text(data.get("runner_version"), 20)
    runs_data = data.get("runs")
    if not isinstance(runs_data, list) or not runs_data:
        raise IntakeError("The result has no runs: measure again with the runner.")
    runs, sources = [], []
    for index, run in enumerate(runs_data):
        if not isinstance(run, dict):
            raise IntakeError(f"runs[{index}] in the result should be an object.")
        ttft = positive_number(run.get("ttft_ms"), f"runs[{index}].ttft_ms")
        tokens = positive_int(run.get("tokens_generated"), f"runs[{index}].tokens_generated")
        decode = positive_number(run.get("decode_tps"), f"runs[{index}].decode_tps")
        _check_timestamps(draft, run, index, tokens, decode, ttft)
        runs.append((ttft, tokens, decode))
        sources.append({name: f"runs[{index}].{name}" for name in
                        ("ttft_ms", "tokens_generated", "decode_tps")})
    draft.put_runs(runs, sources)
    vram = data.get("vram_peak_mib")
    if vram is None:
        draft.note("The runner could not read the VRAM peak (no nvidia-smi or rocm-smi): "
                   "enter it yourself.")
    else:
        draft.put("vram_peak_mib", positive_number(vram, "vram_peak_mib"), "vram_peak_mib")
    prompt_tokens = data.get("prompt_tokens")
    if prompt_tokens is not None:
        draft.put("prompt_tokens", positive_int(prompt_tokens, "prompt_tokens"), "prompt_tokens")
    prefill = data.get("prefill_tps")
    if prefill is not None:
        draft.put("prefill_tps", positive_number(prefill, "prefill_tps"), "prefill_tps")
    model = optional_text(data.get("model"), 200)
    if model:
        draft.facts["model_id"] = model
    _settings(draft, _section(data, "settings"))
    _environment(draft, _section(data, "environment"), refs)
    for key in ("prompt_sha256", "tokens_source", "endpoint_api"):
        value = optional_text(data.get(key), 80)
        if value:
            draft.facts[key] = value
    return draft


def _settings(draft: Draft, settings: dict) -> None:
    if settings.get("max_tokens") is not None:
        draft.put("max_tokens", positive_int(settings["max_tokens"], "settings.max_tokens"),
                  "settings.max_tokens")
    seed = settings.get("seed")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise IntakeError(f"settings.seed should be a whole number, 0 or more; found {seed!r}.")
        draft.put("seed", seed, "settings.seed")
    model = optional_text(settings.get("model"), 200)
    if model:
        draft.facts["model_id"] = model


def _environment(draft: Draft, env: dict, refs: References) -> None:
    runtime = optional_text(env.get("runtime"), 80)
    if runtime:
        matching.apply(draft, "runtime", matching.match_runtime(runtime, refs),
                       "environment.runtime")
    for key in ("runtime_version", "os_label"):
        value = optional_text(env.get(key), 80)
        if value:
            draft.put(key, value, f"environment.{key}")
    driver = optional_text(env.get("driver_version"), 120)
    extras = [
        f"{label} {value}" for label, key in (("CUDA", "cuda_version"), ("ROCm", "rocm_version"))
        if (value := optional_text(env.get(key), 40)) and (not driver or value not in driver)
    ]
    if driver or extras:
        text = ", ".join(filter(None, [driver, *extras]))
        draft.put("driver_version", text[:120], "environment.driver_version")
    gpu = optional_text(env.get("gpu_name"), 400)
    if gpu:
        match = matching.match_hardware(gpu, refs)
        count = env.get("gpu_count")
        if count is not None and matching.split_devices(gpu) and len(
            matching.split_devices(gpu)
        ) == 1:
            match = matching.Match(match.slug, match.raw,
                                   positive_int(count, "environment.gpu_count"), match.caveat)
        matching.apply(draft, "hardware", match, "environment.gpu_name, environment.gpu_count")
    model = optional_text(env.get("model"), 200) or draft.facts.get("model_id")
    if model:
        matching.apply(draft, "model", matching.match_model(model, refs), "the served model id")
        quant = matching.quant_from_name(model)
        if quant:
            match = matching.match_quant(quant, refs, gguf=model.lower().endswith(".gguf"))
            matching.apply(draft, "quant", match, "the served model id")
