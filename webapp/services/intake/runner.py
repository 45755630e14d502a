"""The trustbench runner's result file (`trustbench-result`, version 1), read into form
values.

The runner (trustbench_measure.py) follows the reproduction guide, so its
runs fill the form as they are: TTFT, tokens and decode speed per run, the VRAM
high-water mark, the build context it collected, and the prompt's sha256 (kept as a
fact, so a reproduction can be checked to have run the hub's prompt). A file from a
newer format version is refused. Where the runner's names differ from the first draft
of the schema (`vram.peak_mib` / `vram_peak_mib`, `environment.os` / `os_label`,
`t0_s` / `t0`), both are read.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from webapp.services.intake import matching, ollama
from webapp.services.intake.core import (
    RUN_FIELDS,
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
# The sha256 of the runner's one timed prompt (trustbench_measure.PROMPT_SHA256; a test
# checks they agree). A result naming another prompt measured something else.
PROMPT_SHA256 = "9f88ea45b4f2d74e705d083402f3c683f2363ec18e4bb60f274ba058853b78e3"
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


def _stamp(run: dict, name: str) -> float | None:
    value = run.get(f"{name}_s", run.get(name))
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _check_timestamps(draft: Draft, run: dict, index: int, values: tuple) -> None:
    """T0 < T1 < T2, and decode = tokens ÷ (T2 − T1) in the unit TTFT implies."""
    ttft, tokens, decode = values
    t0, t1, t2 = (_stamp(run, name) for name in ("t0", "t1", "t2"))
    if t0 is None or t1 is None or t2 is None:
        return
    if not t0 < t1 < t2:
        raise IntakeError(
            f"runs[{index}]: the timestamps are out of order (T0 < T1 < T2 is required)."
        )
    if not all(math.isfinite(value) for value in (t0, t1, t2, t1 - t0, t2 - t1)):
        raise IntakeError(f"runs[{index}]: the timestamps are too large to be times.")
    ms_per_unit = ttft / (t1 - t0)
    if not 0 < ms_per_unit < math.inf:
        raise IntakeError(f"runs[{index}]: the timestamps do not fit the run's TTFT.")
    from_stamps = tokens / ((t2 - t1) * ms_per_unit / 1000)
    if abs(from_stamps - decode) > TIMESTAMP_TOLERANCE * decode:
        draft.note(
            f"Run {index + 1}: decode_tps does not equal tokens ÷ (T2 − T1) from its own "
            "timestamps: the file may have been edited. Check the numbers."
        )
        draft.doubt("edited")


def parse(data: dict, refs: References) -> Draft:
    _version(data)
    draft = Draft(FORMAT, TOOL)
    draft.format_version = optional_text(data.get("runner_version"), 20)
    _prompt_measured(draft, data)
    runs_data = data.get("runs")
    if not isinstance(runs_data, list) or not runs_data:
        raise IntakeError("The result has no runs: measure again with the runner.")
    runs, prompt_counts = [], []
    for index, run in enumerate(runs_data):
        if not isinstance(run, dict):
            raise IntakeError(f"runs[{index}] in the result should be an object.")
        values = (
            positive_number(run.get("ttft_ms"), f"runs[{index}].ttft_ms"),
            positive_int(run.get("tokens_generated"), f"runs[{index}].tokens_generated"),
            positive_number(run.get("decode_tps"), f"runs[{index}].decode_tps"),
        )
        _check_timestamps(draft, run, index, values)
        runs.append(values)
        if run.get("prompt_tokens") is not None:
            prompt_counts.append(positive_int(run["prompt_tokens"], f"runs[{index}].prompt_tokens"))
    draft.put_runs(runs, [{name: f"runs[{i}].{name}" for name in RUN_FIELDS}
                          for i in range(len(runs))])
    _vram(draft, data)
    _prompt(draft, data, prompt_counts)
    _settings(draft, _section(data, "settings"))
    environment = _section(data, "environment")
    _environment(draft, environment, refs)
    _model(draft, data, environment, refs)
    _caveats(draft, data)
    if data.get("created_at") is not None:
        draft.put_measured_on(data["created_at"], "created_at")
    return draft


def _prompt_measured(draft: Draft, data: dict) -> None:
    """The runner sends one fixed prompt: a result naming another measured something
    else (refused); one naming none cannot be checked (a doubt the row keeps)."""
    named = data.get("prompt_sha256")
    if named is None or named == "":
        draft.doubt("no-prompt")
        return
    if not isinstance(named, str) or named.strip().lower() != PROMPT_SHA256:
        shown = str(named)[:16]
        raise IntakeError(
            f"This result was measured with another prompt than the runner's (its prompt "
            f"sha256 starts {shown}, the runner's {PROMPT_SHA256[:16]}), so its numbers do "
            "not compare with the rows here. Measure again with the runner this site "
            "serves (/measure.py), unchanged."
        )


def _vram(draft: Draft, data: dict) -> None:
    vram = _section(data, "vram")
    if "peak_mib" in vram:
        peak, source = vram.get("peak_mib"), "vram.peak_mib"
    else:
        peak, source = data.get("vram_peak_mib"), "vram_peak_mib"
    if peak is None:
        why = optional_text(vram.get("note"), 160) or "no nvidia-smi or rocm-smi"
        draft.note(f"The runner could not read the VRAM peak ({why}): enter it yourself.")
        return
    draft.put("vram_peak_mib", positive_number(peak, source), source)
    if optional_text(vram.get("scope"), 80):
        draft.note("The VRAM peak is the sum over every GPU of the machine, including memory "
                   "other programs used during the runs.")


def _prompt(draft: Draft, data: dict, counts: list[int]) -> None:
    if data.get("prompt_tokens") is not None:
        draft.put("prompt_tokens", positive_int(data["prompt_tokens"], "prompt_tokens"),
                  "prompt_tokens")
    elif counts and len(set(counts)) == 1:
        draft.put("prompt_tokens", counts[0], "runs[].prompt_tokens (all equal)")
    elif counts:
        shown = ", ".join(map(str, counts))
        draft.put("prompt_tokens", round(statistics.median(counts)),
                  f"median of runs[].prompt_tokens ({shown})")
    for key in ("prompt_sha256", "token_count_source", "runner_sha256"):
        value = optional_text(data.get(key), 80)
        if value:
            draft.facts[key] = value
    if data.get("token_count_source") in ("stream", "mixed"):
        draft.note("Tokens were counted from the streamed chunks, not the server's usage "
                   "report, for some or all runs: counts may be approximate.")


def _settings(draft: Draft, settings: dict) -> None:
    if settings.get("max_tokens") is not None:
        draft.put("max_tokens", positive_int(settings["max_tokens"], "settings.max_tokens"),
                  "settings.max_tokens")
    seed = settings.get("seed")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise IntakeError(f"settings.seed should be a whole number, 0 or more; found {seed!r}.")
        draft.put("seed", seed, "settings.seed")
    if settings.get("concurrency") is not None:
        draft.put("concurrent_users", positive_int(settings["concurrency"],
                                                   "settings.concurrency"), "settings.concurrency")


def _environment(draft: Draft, env: dict, refs: References) -> None:
    runtime = optional_text(env.get("runtime"), 80)
    if runtime:
        matching.apply(draft, "runtime", matching.match_runtime(runtime, refs),
                       "environment.runtime")
    version = optional_text(env.get("runtime_version"), 60)
    if version:
        draft.put("runtime_version", version, "environment.runtime_version")
    os_key = "os" if env.get("os") else "os_label"
    os_label = optional_text(env.get(os_key), 80)
    if os_label:
        draft.put("os_label", os_label, f"environment.{os_key}")
    driver = optional_text(env.get("driver_version"), 120)
    extras = [
        f"{label} {value}" for label, key in
        (("CUDA", "cuda_version"), ("ROCm", "rocm_version"), ("Metal", "metal"))
        if (value := optional_text(env.get(key), 40)) and (not driver or value not in driver)
    ]
    if driver or extras:
        text = ", ".join(filter(None, [driver, *extras])).replace("Metal Metal", "Metal")
        draft.put("driver_version", text[:120], "environment.driver_version, cuda/rocm version")
    names = env.get("gpu_names")
    if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
        gpu, source = ", ".join(names), "environment.gpu_names"
    else:
        gpu, source = optional_text(env.get("gpu_name"), 400), "environment.gpu_name"
    if not gpu:
        return
    draft.device = "gpu"
    match = matching.match_hardware(gpu, refs)
    count = env.get("gpu_count")
    if count is not None and len(matching.split_devices(gpu)) == 1:
        count = positive_int(count, "environment.gpu_count")
        match = matching.Match(match.slug, match.raw, count, match.caveat)
        source += ", environment.gpu_count"
    if match.count > 1:
        draft.note(f"The runner counts every GPU in the machine ({match.count}): check the "
                   "count is the number that served the model.")
    matching.apply(draft, "hardware", match, source)


def _model(draft: Draft, data: dict, env: dict, refs: References) -> None:
    """The served model: the runtime's own file name when it reported one (llama.cpp),
    else the id the endpoint listed (an Ollama tag, a Hugging Face id, a file name)."""
    info = _section(data, "model_info")
    served = optional_text(data.get("model"), 200) or optional_text(env.get("model"), 200)
    file_name = optional_text(info.get("file"), 200)
    if served:
        draft.facts["model_id"] = served
    name, source = (file_name, "model_info.file") if file_name else (served, "model")
    if not name:
        draft.note("The result does not name the model: choose it.")
        return
    if draft.values.get("runtime") == "ollama" or (":" in name and "/" not in name):
        ollama.apply_tag(draft, name, source, refs)
        return
    matching.apply(draft, "model", matching.match_model(name, refs), source)
    quant = matching.quant_from_name(name)
    if quant:
        gguf = name.lower().endswith(".gguf") or draft.values.get("runtime") == "llama-cpp"
        matching.apply(draft, "quant", matching.match_quant(quant, refs, gguf=gguf), source)
    else:
        draft.note("The model name does not say its quant: choose it.")


def _caveats(draft: Draft, data: dict) -> None:
    wide = data.get("spread_needs_note")
    if isinstance(wide, list) and wide:
        names = ", ".join(str(name) for name in wide[:3])
        draft.note(f"The runs spread by more than 10% in {names}: the form asks for a note "
                   "explaining it.")
    missing = data.get("missing")
    if isinstance(missing, list) and missing:
        shown = ", ".join(str(name) for name in missing[:12])
        draft.note(f"The runner could not find: {shown}. Enter what you know.")
