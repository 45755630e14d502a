"""`ollama run --verbose` output, pasted as text, read into form values.

Ollama prints a block of timings after each answer ("total duration", "load duration",
"prompt eval count/duration/rate", "eval count/duration/rate"). Several answers pasted
one after another become several runs. Decode speed is eval count ÷ eval duration.

Time to first token is not filled: the prompt eval duration is only the engine's prompt
processing, and leaves out tokenisation, queueing, the HTTP round trip and the first
token itself. Load + prompt eval duration is offered as an estimate (a lower bound),
clearly marked, never as a measurement.
"""

from __future__ import annotations

import re
import shlex
import statistics
from dataclasses import dataclass, field

from webapp.services.intake import matching
from webapp.services.intake.core import (
    MAX_RUNS,
    OTHER,
    Draft,
    IntakeError,
    References,
    positive_int,
    positive_number,
    run_field,
)

FORMAT = "ollama-verbose"
TOOL = "ollama run --verbose"
_KEYS = (
    "total duration", "load duration", "prompt eval count", "prompt eval duration",
    "prompt eval rate", "eval count", "eval duration", "eval rate", "llm library",
    "gpu loaded layers",
)
_LINE = re.compile(r"^\s*(" + "|".join(_KEYS) + r")\s*:\s*(\S.*?)\s*$", re.IGNORECASE)
# Go's time.Duration text: "2m7.682s", "891.933µs", "204.563ms", "1h0m2s"
_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|µs|μs|us|ns)")
_UNIT_MS = {"h": 3_600_000.0, "m": 60_000.0, "s": 1000.0, "ms": 1.0, "µs": 1e-3, "μs": 1e-3,
            "us": 1e-3, "ns": 1e-6}
_COUNT = re.compile(r"^(\d+)\s*token\(s\)$")
_RATE = re.compile(r"^(\d+(?:\.\d+)?)\s*tokens/s$")
_RUN_COMMAND = re.compile(r"\bollama\s+run\s+(.+)$", re.MULTILINE)
_VARIANT_WORDS = ("instruct", "chat", "text", "base", "it")


def looks_like_api(record: object) -> bool:
    """A response of Ollama's HTTP API (/api/generate or /api/chat), streamed or not."""
    return (isinstance(record, dict) and "model" in record and "done" in record
            and ("created_at" in record or "eval_count" in record))


def looks_like(text: str) -> bool:
    found = {match.group(1).lower() for match in map(_LINE.match, text.splitlines()) if match}
    return "eval count" in found and ("eval duration" in found or "eval rate" in found)


def duration_ms(text: str, where: str) -> float:
    """Go's duration text -> milliseconds."""
    compact = text.strip()
    parts = _PART.findall(compact)
    if not parts or "".join(number + unit for number, unit in parts) != compact:
        raise IntakeError(f"{where}: “{text}” is not a duration Ollama prints (e.g. 4.8s).")
    total = sum(float(number) * _UNIT_MS[unit] for number, unit in parts)
    return positive_number(total, where)


@dataclass
class Block:
    """One answer's timings: key -> (value text, line number, line text)."""

    lines: dict[str, tuple[str, int, str]] = field(default_factory=dict)

    def line(self, key: str) -> str:
        _value, number, text = self.lines[key]
        return f"line {number}: {text.strip()}"


def blocks(text: str) -> list[Block]:
    """Split the paste into answers: a key seen twice starts a new block."""
    found: list[Block] = []
    current = Block()
    for number, line in enumerate(text.splitlines(), start=1):
        match = _LINE.match(line)
        if not match:
            continue
        key = match.group(1).lower()
        if key in current.lines or (key == "total duration" and current.lines):
            found.append(current)
            current = Block()
        current.lines[key] = (match.group(2), number, line)
    if current.lines:
        found.append(current)
    return found


def _count(block: Block, key: str) -> int | None:
    if key not in block.lines:
        return None
    value, number, _ = block.lines[key]
    match = _COUNT.match(value)
    if not match:
        raise IntakeError(f"Line {number}: “{value}” is not a token count (e.g. 120 token(s)).")
    return positive_int(int(match.group(1)), f"Line {number} ({key})")


def _duration(block: Block, key: str) -> float | None:
    if key not in block.lines:
        return None
    value, number, _ = block.lines[key]
    return duration_ms(value, f"Line {number} ({key})")


def _rate(block: Block, key: str) -> float | None:
    if key not in block.lines:
        return None
    value, number, _ = block.lines[key]
    match = _RATE.match(value)
    if not match:
        raise IntakeError(f"Line {number}: “{value}” is not a rate (e.g. 24.61 tokens/s).")
    return positive_number(float(match.group(1)), f"Line {number} ({key})")


def parse(text: str, refs: References) -> Draft:
    draft = Draft(FORMAT, TOOL)
    runs, sources, ttft_estimates, prefill, prompt_counts = [], [], [], [], []
    for position, block in enumerate(blocks(text), start=1):
        tokens = _count(block, "eval count")
        eval_ms = _duration(block, "eval duration")
        rate = _rate(block, "eval rate")
        if tokens is None or (eval_ms is None and rate is None):
            draft.note(f"Answer {position} has no eval count and duration: it was skipped.")
            continue
        if eval_ms is not None:
            decode = tokens / (eval_ms / 1000)
            source = f"{block.line('eval count')} ÷ {block.line('eval duration')}"
        else:
            decode, source = rate, block.line("eval rate")
        runs.append((None, tokens, decode))
        sources.append({"tokens_generated": block.line("eval count"), "decode_tps": source})
        prompt_tokens = _count(block, "prompt eval count")
        prompt_ms = _duration(block, "prompt eval duration")
        if prompt_tokens and prompt_ms:
            prefill.append(prompt_tokens / (prompt_ms / 1000))
            prompt_counts.append((prompt_tokens, block.line("prompt eval count")))
            ttft_estimates.append((_duration(block, "load duration") or 0.0) + prompt_ms)
        for key, label in (("llm library", "backend"), ("gpu loaded layers", "GPU layers")):
            if key in block.lines:
                draft.facts[label] = block.lines[key][0]
    if not runs:
        raise IntakeError(
            "The pasted Ollama output has no complete timing block (eval count and eval "
            "duration). Run `ollama run MODEL --verbose` and paste everything it prints."
        )
    draft.put_runs(runs, sources)
    draft.note(
        "Ollama reports no time to first token: “prompt eval duration” is only the "
        "engine's prompt processing. Enter TTFT for each run yourself (trustbench-measure "
        "measures it); an estimate is offered separately."
    )
    for index, estimate in enumerate(ttft_estimates[:MAX_RUNS]):
        if len(ttft_estimates) == len(runs):
            draft.estimate(
                run_field(index, "ttft_ms"), estimate,
                "estimate, a lower bound: load duration + prompt eval duration of answer "
                f"{index + 1}. It leaves out tokenisation, queueing, the HTTP round trip and "
                "the first token itself.",
            )
    _prompt(draft, prefill, prompt_counts)
    runtime = matching.match_runtime("ollama", refs)
    draft.put("runtime", runtime.slug, "the output of `ollama run --verbose`")
    draft.note("Ollama's --verbose output does not name its version: enter it (ollama -v).")
    _model(draft, text, refs)
    layers = draft.facts.get("GPU layers", "")
    if re.fullmatch(r"\d+/\d+", layers) and len(set(layers.split("/"))) == 2:
        draft.note(f"Only {layers} layers ran on the GPU: the rest ran on the CPU.")
    return draft


def _prompt(draft: Draft, prefill: list[float], counts: list[tuple[int, str]]) -> None:
    if not prefill:
        return
    draft.put("prefill_tps", statistics.median(prefill),
              "median over the answers of prompt eval count ÷ prompt eval duration")
    distinct = {count for count, _ in counts}
    if len(distinct) == 1:
        draft.put("prompt_tokens", counts[0][0], counts[0][1])
    else:
        shown = ", ".join(str(count) for count, _ in counts)
        draft.note(
            f"The prompt eval count differs between answers ({shown}): Ollama reuses cached "
            "prompt tokens, so later answers may process fewer. Prompt length was not filled; "
            "use a fresh prompt (or /clear) for every run."
        )
    draft.note(
        "Ollama does not print max tokens or the seed: enter the values you set "
        "(num_predict, seed)."
    )


def _model(draft: Draft, text: str, refs: References) -> None:
    """The model named on a pasted `ollama run` command line, when there is one."""
    command = _RUN_COMMAND.search(text)
    if not command:
        draft.note("The paste does not show the `ollama run` command: choose the model.")
        return
    try:
        words = shlex.split(command.group(1))
    except ValueError:
        words = command.group(1).split()
    tag = next((word for word in words if not word.startswith("-")), "")
    if not tag:
        return
    source = f"the command line: ollama run {' '.join(words)}"[:200]
    apply_tag(draft, tag, source, refs)


def apply_tag(draft: Draft, tag: str, source: str, refs: References) -> None:
    """An Ollama tag ("qwen2.5:7b-instruct-q4_K_M", or a Hugging Face pull such as
    "hf.co/bartowski/Meta-Llama-3.1-8B-Instruct-GGUF:Q4_K_M") -> model and quant. A tag
    that does not say the variant ("llama3.1:8b", "mistral") is kept as Other, never
    guessed."""
    draft.facts["ollama_tag"] = tag
    name, _, variant = tag.partition(":")
    stem, tags = matching.strip_quant_tags(f"{name}-{variant}" if variant else name)
    tags = [part for part in tags if part.lower() not in ("gguf", "ud", "imat", "imatrix")]
    words = re.split(r"[-_.]", f"{matching.model_stem(name)}-{variant}".lower())
    if not any(word in _VARIANT_WORDS for word in words):
        draft.put("model", OTHER, source)
        draft.put("other_model", tag, source)
        draft.unmapped["model"] = tag
        draft.note(
            f"The Ollama tag “{tag}” does not say which exact model and quant it is: choose "
            "them (`ollama show` tells)."
        )
        return
    matching.apply(draft, "model", matching.match_model(stem, refs), source)
    if tags:
        quant = matching.match_quant(tags[-1].upper(), refs, gguf=True)
        matching.apply(draft, "quant", quant, source)
    else:
        draft.note(f"The Ollama tag “{tag}” does not name its quant: choose it.")
