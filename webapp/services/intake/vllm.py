"""vLLM's serving-benchmark result JSON (`benchmarks/benchmark_serving.py --save-result`,
`vllm bench serve --save-result`), read into form values.

It is a serving benchmark: TTFT and time per output token (TPOT) summarise many
requests, which ran concurrently unless `max_concurrency` was 1. With `--save-detailed`
the file keeps each request (`ttfts`, `itls`, `output_lens`) and each request becomes a
run; without it there are only summaries, which are offered as estimates for one run,
never filled as if they were timed runs. Decode speed is 1000 ÷ TPOT for one stream.
"""

from __future__ import annotations

from typing import Any

from webapp.services.intake import matching
from webapp.services.intake.core import (
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

FORMAT = "vllm-bench"
TOOL = "vLLM serving benchmark"
_METADATA_HARDWARE = ("gpu", "gpus", "hardware", "device", "accelerator")
_BACKEND_RUNTIMES = {"vllm": "vLLM", "tgi": "tgi", "sglang": "SGLang", "lmdeploy": "lmdeploy",
                     "tensorrt-llm": "TensorRT-LLM", "scalellm": "scalellm"}


def looks_like(record: Any) -> bool:
    return (
        isinstance(record, dict)
        and any(key in record for key in ("median_ttft_ms", "mean_ttft_ms"))
        and any(key in record for key in ("median_tpot_ms", "mean_tpot_ms"))
    )


def _concurrency(result: dict, label: str) -> int | None:
    value = result.get("max_concurrency")
    return None if value is None else positive_int(value, f"{label}: max_concurrency")


def parse(results: list[tuple[str, Any]], refs: References) -> Draft:
    """`results`: (label, object) pairs; one per line when --append-result was used."""
    for label, result in results:
        if not looks_like(result):
            raise IntakeError(f"{label} is not a vLLM serving-benchmark result.")
    draft = Draft(FORMAT, TOOL)
    single = [item for item in results if _concurrency(item[1], item[0]) == 1]
    label, result = (single or results)[0]
    if len(results) > 1:
        draft.note(
            f"The file holds {len(results)} benchmark results; {label} was used"
            f"{' (the first single-stream one)' if single else ''}. Upload one per submission."
        )
    completed = positive_int(result.get("completed"), f"{label}: completed")
    draft.facts["requests"] = str(completed)
    prompts = result.get("num_prompts")
    if isinstance(prompts, int) and prompts > completed:
        draft.note(f"Only {completed} of {prompts} requests completed: check the server's log.")
    _load(draft, result, label, completed)
    if not _detailed_runs(draft, result, label):
        _summary_estimates(draft, result, label, completed)
    _lengths(draft, result, label, completed)
    _setup(draft, result, label, refs)
    return draft


def _load(draft: Draft, result: dict, label: str, completed: int) -> None:
    concurrency = _concurrency(result, label)
    rate = result.get("request_rate")
    if rate is not None:
        draft.facts["request_rate"] = str(rate)
    if concurrency is not None:
        draft.put("concurrent_users", concurrency, f"{label}: max_concurrency")
    if concurrency == 1 or completed == 1:
        draft.note("One request at a time (max_concurrency 1): a single stream, as the guide asks.")
        return
    cap = "no limit" if concurrency is None else str(concurrency)
    draft.put("batch_gt1", "on", f"{label}: max_concurrency ({cap})")
    draft.note(
        f"This is a serving benchmark under load: max_concurrency {cap}, request rate "
        f"{rate if rate is not None else 'unknown'}. Requests ran together (batch > 1), so "
        "“Batch larger than 1” was ticked and the numbers are not single-stream. Run "
        "`vllm bench serve --max-concurrency 1` for a single-stream row."
    )


def _detailed_runs(draft: Draft, result: dict, label: str) -> bool:
    """With --save-detailed, each successful request becomes a run."""
    ttfts, itls, lens = result.get("ttfts"), result.get("itls"), result.get("output_lens")
    if not (isinstance(ttfts, list) and isinstance(itls, list) and isinstance(lens, list)):
        return False
    runs, sources = [], []
    for i, (ttft, gaps, tokens) in enumerate(zip(ttfts, itls, lens, strict=False)):
        if not tokens or not ttft or not isinstance(gaps, list) or not gaps:
            continue  # a failed request, or one token only: no decode time
        seconds = sum(positive_number(gap, f"{label}: itls[{i}]") for gap in gaps)
        count = positive_int(tokens, f"{label}: output_lens[{i}]")
        runs.append((computed(positive_number(ttft, f"{label}: ttfts[{i}]") * 1000,
                              f"{label}: ttfts[{i}] in ms"), count,
                     computed(count / seconds, f"{label}: output_lens[{i}] ÷ sum of itls[{i}]")))
        sources.append({
            "ttft_ms": f"{label}: ttfts[{i}] (seconds)",
            "tokens_generated": f"{label}: output_lens[{i}]",
            "decode_tps": f"{label}: output_lens[{i}] ÷ sum of itls[{i}] (T2 − T1)",
        })
    if not runs:
        return False
    draft.put_runs(runs, sources)
    return True


def _summary_estimates(draft: Draft, result: dict, label: str, completed: int) -> None:
    key = "median" if "median_ttft_ms" in result else "mean"
    ttft = positive_number(result.get(f"{key}_ttft_ms"), f"{label}: {key}_ttft_ms")
    tpot_key = "median_tpot_ms" if "median_tpot_ms" in result else "mean_tpot_ms"
    tpot = positive_number(result.get(tpot_key), f"{label}: {tpot_key}")
    over = f"the {key} over {completed} requests, not a timed run"
    draft.estimate(run_field(0, "ttft_ms"), ttft, f"{label}: {key}_ttft_ms — {over}")
    draft.estimate(
        run_field(0, "decode_tps"), computed(1000 / tpot, f"1000 ÷ {label}: {tpot_key}"),
        f"1000 ÷ {tpot_key} ({fmt(tpot)} ms, {label}) — {over}",
    )
    total = result.get("total_output_tokens")
    if isinstance(total, int) and total > 0:
        draft.estimate(
            run_field(0, "tokens_generated"), round(total / completed),
            f"{label}: total_output_tokens ÷ completed — the mean over {completed} requests",
        )
    draft.note(
        "The file holds only summaries over all requests, no per-request timings, so no "
        "runs were filled: the medians are offered as estimates. Re-run with "
        "--save-detailed to import each request as a run, or enter your runs."
    )
    draft.note(
        "Decode speed from vLLM is 1000 ÷ time per output token, which leaves out the first "
        "token: (tokens − 1) ÷ (T2 − T1), slightly below the guide's tokens ÷ (T2 − T1)."
    )


def _lengths(draft: Draft, result: dict, label: str, completed: int) -> None:
    inputs = result.get("input_lens")
    if isinstance(inputs, list) and inputs and len(set(map(str, inputs))) == 1:
        draft.put("prompt_tokens", positive_int(inputs[0], f"{label}: input_lens[0]"),
                  f"{label}: input_lens (all equal)")
    else:
        total = result.get("total_input_tokens")
        if isinstance(total, int) and total > 0 and total % completed == 0:
            draft.put("prompt_tokens", total // completed,
                      f"{label}: total_input_tokens ÷ completed")
        elif isinstance(total, int) and total > 0:
            draft.note(
                f"Prompts had different lengths (mean {fmt(total / completed, 1)} tokens): "
                "prompt length was not filled."
            )
    draft.note("vLLM's result does not record max tokens or the seed: enter them.")


def _setup(draft: Draft, result: dict, label: str, refs: References) -> None:
    model_id = optional_text(result.get("model_id"), 200)
    if model_id:
        draft.facts["model_id"] = model_id
        matching.apply(draft, "model", matching.match_model(model_id, refs), f"{label}: model_id")
        quant = matching.quant_from_name(model_id)
        if quant:
            match = matching.match_quant(quant, refs, gguf=False)
            matching.apply(draft, "quant", match, f"{label}: model_id")
        else:
            draft.note("vLLM does not record the weights' precision: choose the quant (e.g. BF16).")
    backend = (optional_text(result.get("backend"), 40) or "").lower()
    if backend in _BACKEND_RUNTIMES:
        match = matching.match_runtime(_BACKEND_RUNTIMES[backend], refs)
        matching.apply(draft, "runtime", match, f"{label}: backend")
        draft.note("The result does not record the engine's version: enter it.")
    else:
        draft.note(
            f"The benchmark used the “{backend or 'unknown'}” client, which does not name the "
            "server's engine: choose the runtime."
        )
    for key in _METADATA_HARDWARE:
        value = optional_text(result.get(key), 200)
        if value:
            match = matching.match_hardware(value, refs)
            matching.apply(draft, "hardware", match, f"{label}: {key} (from --metadata)")
            draft.note(f"The hardware comes from the operator's own --metadata {key}=…: check it.")
            break
    else:
        draft.note("vLLM's result does not record the GPU: choose the hardware and count.")
    if result.get("date") is not None:
        draft.put_measured_on(result["date"], f"{label}: date")
