"""Ollama's timings read into form values: the text `ollama run --verbose` prints, and the
JSON of Ollama's HTTP API (/api/generate, /api/chat).

Ollama prints a block of timings after each answer ("total duration", "load duration",
"prompt eval count/duration/rate", "eval count/duration/rate"). Several answers pasted
one after another become several runs. Its API gives the same numbers (durations in
nanoseconds) in the final object of each response, "done": true: each is one run, and
the streamed chunks before it carry none. Both feed one function (`fill`). Decode speed
is eval count ÷ eval duration.

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
from typing import Any

from webapp.services.intake import matching
from webapp.services.intake.core import (
    MAX_RUNS,
    OTHER,
    Draft,
    IntakeError,
    ModelRef,
    References,
    computed,
    digits,
    optional_text,
    positive_int,
    positive_number,
    run_field,
)

FORMAT = "ollama-verbose"
TOOL = "ollama run --verbose"
FORMAT_API = "ollama-api"
TOOL_API = "the Ollama API"
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
_TEXT_WORD = re.compile(r"[-_.]text(?=$|[-_.])", re.IGNORECASE)
# Library names whose tags have pointed at other weights over time.
_LIBRARY_CAVEATS = {
    "mistral": "Ollama's “mistral” tags named Mistral-7B-Instruct v0.1, then v0.2, before "
               "v0.3 (May 2024): a copy pulled earlier is one of those.",
}


@dataclass(frozen=True)
class Timing:
    """One answer's timings (milliseconds), with the line or key each came from."""

    tokens: int
    eval_ms: float | None  # None: only the printed rate is there
    rate: float | None
    sources: dict[str, str]  # form run field -> source
    prompt_tokens: int | None = None
    prompt_ms: float | None = None
    prompt_source: str = ""
    load_ms: float | None = None

    @property
    def decode_tps(self) -> float:
        """eval count ÷ eval duration; Ollama's printed rate only when the duration is not
        there."""
        if not self.eval_ms:
            return self.rate or 0.0
        # A duration at the edge of what a float holds (1e-300 s) divides to inf.
        return computed(self.tokens / (self.eval_ms / 1000),
                        self.sources.get("decode_tps", "The decode speed"))

    @property
    def prefill_tps(self) -> float | None:
        if not (self.prompt_tokens and self.prompt_ms):
            return None
        return computed(self.prompt_tokens / (self.prompt_ms / 1000),
                        f"{self.prompt_source} ÷ its duration" if self.prompt_source
                        else "The prompt processing speed")


@dataclass(frozen=True)
class Wording:
    """How the notes name Ollama's numbers: the --verbose text's words or the API's keys."""

    answer: str
    load: str
    prompt_count: str
    prompt_duration: str
    fresh: str  # how to keep later runs from reusing the first one's prompt
    unsaid: str  # the note on max tokens and seed


_TEXT = Wording(
    "answer", "load duration", "prompt eval count", "prompt eval duration",
    "use a fresh prompt (or /clear) for every run",
    "Ollama does not print max tokens or the seed: enter the values you set "
    "(num_predict, seed).",
)
_API = Wording(
    "response", "load_duration", "prompt_eval_count", "prompt_eval_duration",
    "send every run without the earlier ones' context or messages",
    "Ollama's API does not return max tokens or the seed: enter the values you set "
    "(num_predict, seed).",
)


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
    where = f"Line {number} ({key})"
    return positive_int(digits(match.group(1), where), where)


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
    timings = []
    for position, block in enumerate(blocks(text), start=1):
        timing = _block_timing(block)
        if timing is None:
            draft.note(f"Answer {position} has no eval count and duration: it was skipped.")
            continue
        timings.append(timing)
        for key, label in (("llm library", "backend"), ("gpu loaded layers", "GPU layers")):
            if key in block.lines:
                draft.facts[label] = block.lines[key][0]
    if not timings:
        raise IntakeError(
            "The pasted Ollama output has no complete timing block (eval count and eval "
            "duration). Run `ollama run MODEL --verbose` and paste everything it prints."
        )
    fill(draft, timings, _TEXT)
    runtime = matching.match_runtime("ollama", refs)
    draft.put("runtime", runtime.slug, "the output of `ollama run --verbose`")
    draft.note("Ollama's --verbose output does not name its version: enter it (ollama -v).")
    _model(draft, text, refs)
    layers = draft.facts.get("GPU layers", "")
    if re.fullmatch(r"\d+/\d+", layers) and len(set(layers.split("/"))) == 2:
        draft.note(f"Only {layers} layers ran on the GPU: the rest ran on the CPU.")
    return draft


def _block_timing(block: Block) -> Timing | None:
    tokens = _count(block, "eval count")
    eval_ms = _duration(block, "eval duration")
    rate = _rate(block, "eval rate")
    if tokens is None or (eval_ms is None and rate is None):
        return None
    if eval_ms is not None:
        source = f"{block.line('eval count')} ÷ {block.line('eval duration')}"
    else:
        source = block.line("eval rate")
    prompt_tokens = _count(block, "prompt eval count")
    prompt_ms = _duration(block, "prompt eval duration")
    has_prompt = bool(prompt_tokens and prompt_ms)
    return Timing(
        tokens, eval_ms, rate, {"tokens_generated": block.line("eval count"), "decode_tps": source},
        prompt_tokens, prompt_ms, block.line("prompt eval count") if has_prompt else "",
        (_duration(block, "load duration") or 0.0) if has_prompt else None,
    )


def fill(draft: Draft, timings: list[Timing], words: Wording) -> None:
    """The runs, prefill and prompt length, the TTFT note and its estimates: one answer's
    timings each, from the --verbose text or from the API."""
    draft.put_runs([(None, timing.tokens, timing.decode_tps) for timing in timings],
                   [timing.sources for timing in timings])
    draft.note(
        f"Ollama reports no time to first token: “{words.prompt_duration}” is only the "
        "engine's prompt processing. Enter TTFT for each run yourself (trustbench-measure "
        "measures it); an estimate is offered separately."
    )
    if all(timing.prefill_tps for timing in timings):
        for index, timing in enumerate(timings[:MAX_RUNS]):
            draft.estimate(
                run_field(index, "ttft_ms"), (timing.load_ms or 0.0) + (timing.prompt_ms or 0.0),
                f"estimate, a lower bound: {words.load} + {words.prompt_duration} of "
                f"{words.answer} {index + 1}. It leaves out tokenisation, queueing, the HTTP "
                "round trip and the first token itself.",
            )
    _prompt(draft, [timing for timing in timings if timing.prefill_tps], words)


def _prompt(draft: Draft, timings: list[Timing], words: Wording) -> None:
    if not timings:
        return
    draft.put("prefill_tps", statistics.median([timing.prefill_tps or 0.0 for timing in timings]),
              f"median over the {words.answer}s of {words.prompt_count} ÷ "
              f"{words.prompt_duration}")
    distinct = {timing.prompt_tokens for timing in timings}
    if len(distinct) == 1:
        draft.put("prompt_tokens", timings[0].prompt_tokens or 0, timings[0].prompt_source)
    else:
        shown = ", ".join(str(timing.prompt_tokens) for timing in timings)
        draft.note(
            f"The {words.prompt_count} differs between {words.answer}s ({shown}): Ollama "
            f"reuses cached prompt tokens, so later {words.answer}s may process fewer. Prompt "
            f"length was not filled; {words.fresh}."
        )
    draft.note(words.unsaid)


# --- the HTTP API ------------------------------------------------------------------------


def parse_api(records: list[tuple[str, Any]], refs: References) -> Draft:
    """Responses of /api/generate or /api/chat, streamed or not: (label, object) pairs, the
    label naming the line or record for sources. Each final object is one run."""
    finals = [(label, record) for label, record in records if record.get("done") is True]
    if not finals:
        raise IntakeError(
            "These are streamed chunks of Ollama's API without the final one: no object has "
            "“done”: true, and only that last chunk of a response carries the timings. Save "
            "the whole stream, or send the request with “stream”: false."
        )
    if len(finals) > MAX_RUNS:
        raise IntakeError(
            f"The file holds {len(finals)} finished responses of Ollama's API (“done”: true); "
            f"the form takes at most {MAX_RUNS} runs. Upload at most {MAX_RUNS}."
        )
    tags = sorted({str(record.get("model")) for _, record in finals})
    if len(tags) > 1:
        shown = ", ".join(f"“{tag[:80]}”" for tag in tags[:4])
        raise IntakeError(
            f"The responses are of different models ({shown}): a benchmark is one model. "
            "Upload the runs of one model."
        )
    draft = Draft(FORMAT_API, TOOL_API)
    fill(draft, [_api_timing(label, record) for label, record in finals], _API)
    skipped = len(records) - len(finals)
    if skipped:
        draft.note(
            f"{skipped} streamed chunk{'s' if skipped != 1 else ''} (“done”: false) "
            f"{'carry' if skipped != 1 else 'carries'} no timings and "
            f"{'were' if skipped != 1 else 'was'} skipped: the final chunk of each response "
            "was read."
        )
    runtime = matching.match_runtime("ollama", refs)
    draft.put("runtime", runtime.slug, "a response of Ollama's API")
    draft.note("Ollama's API does not return its version: enter it (ollama -v).")
    label, record = finals[0]
    draft.put_measured_on(record.get("created_at"), f"{label}: created_at")
    tag = optional_text(record.get("model"))
    if tag:
        apply_tag(draft, tag, f"{label}: model", refs)
    else:
        draft.note("The responses do not name the model: choose it.")
    return draft


def _api_timing(label: str, record: dict) -> Timing:
    where = label[:1].upper() + label[1:]
    if "eval_count" not in record or "eval_duration" not in record:
        why = (" (its done_reason is “load”: the request only loaded the model; leave it out)"
               if record.get("done_reason") == "load" else "")
        raise IntakeError(
            f"{where} is a finished response (“done”: true) without eval_count and "
            f"eval_duration{why}: it has no timings to read."
        )

    def ms(key: str) -> float | None:
        if key not in record:  # Ollama leaves out zero values
            return None
        return positive_number(record[key], f"{where}: {key}") / 1e6

    tokens = positive_int(record["eval_count"], f"{where}: eval_count")
    eval_ms, prompt_ms, load_ms, _total = map(ms, (  # total_duration: checked, not used
        "eval_duration", "prompt_eval_duration", "load_duration", "total_duration"))
    prompt_tokens = (positive_int(record["prompt_eval_count"], f"{where}: prompt_eval_count")
                     if "prompt_eval_count" in record else None)
    return Timing(
        tokens, eval_ms, None,
        {"tokens_generated": f"{label}: eval_count",
         "decode_tps": f"{label}: eval_count ÷ eval_duration"},
        prompt_tokens, prompt_ms, f"{label}: prompt_eval_count", load_ms,
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
    """An Ollama tag -> model and quant: one that spells its variant
    ("qwen2.5:7b-instruct-q4_K_M", "llama3.1:8b-text-q4_K_M": "-text" is the base model),
    a Hugging Face pull ("hf.co/bartowski/Meta-Llama-3.1-8B-Instruct-GGUF:Q4_K_M"), or a
    library tag that does not ("llama3.1:8b", "qwen2.5:7b-q4_K_M", "mistral"), placed by
    Ollama's library table (matching.OLLAMA_LIBRARY). Any other is kept as Other, never
    guessed."""
    draft.facts["ollama_tag"] = tag
    name, _, variant = tag.partition(":")
    stem, tags = matching.strip_quant_tags(f"{name}-{variant}" if variant else name)
    tags = [part for part in tags if part.lower() not in ("gguf", "ud", "imat", "imatrix")]
    words = re.split(r"[-_.]", f"{matching.model_stem(name)}-{variant}".lower())
    found = _spelled(stem, words, refs) if set(words) & set(_VARIANT_WORDS) else None
    if not (found and found.known) and "text" not in words:
        library = _library(name, variant, refs)
        if library:
            found = matching.Match(library.slug, stem)
            draft.note(
                f"The model was taken from Ollama's library: “{tag}” is Ollama's name for "
                f"{library.name}; `ollama show {tag}` tells."
            )
            if caveat := _LIBRARY_CAVEATS.get(name.lower()):
                draft.note(caveat)
    if found is None:
        draft.put("model", OTHER, source)
        draft.put("other_model", tag, source)
        draft.unmapped["model"] = tag
        draft.note(
            f"The Ollama tag “{tag}” does not say which exact model and quant it is: choose "
            "them (`ollama show` tells)."
        )
        return
    if found.known and "text" in words:
        draft.note(f"“{tag}” is a “-text” tag: Ollama's name for the base model, not the "
                   "instruct one.")
    matching.apply(draft, "model", found, source)
    if tags:
        quant = matching.match_quant(tags[-1].upper(), refs, gguf=True)
        matching.apply(draft, "quant", quant, source)
    else:
        draft.note(f"The Ollama tag “{tag}” does not name its quant: choose it.")


def _spelled(stem: str, words: list[str], refs: References) -> matching.Match:
    """The model a tag names that spells its variant; a "-text" tag is a base model."""
    if "text" not in words:
        return matching.match_model(stem, refs)
    base = matching.match_model(_TEXT_WORD.sub("", stem), refs)
    ref = _model_ref(base.slug, refs)
    return matching.Match(base.slug if ref and ref.variant == "base" else OTHER, stem)


def _library(name: str, variant: str, refs: References) -> ModelRef | None:
    """The model a library tag names (NAME, NAME:SIZE, NAME:SIZE-QUANT) when it spells no
    variant after its size, or only "instruct": Ollama's default tags are that model."""
    if "/" in name:  # a namespace's own upload or a Hugging Face pull
        return None
    words = matching.strip_quant_tags(variant)[0].lower().split("-")
    for cut in (1, 2):  # sizes are one word ("8b") or two ("30b-a3b")
        slug = matching.ollama_library_model(f"{name}:{'-'.join(words[:cut])}")
        if slug and words[cut:] in ([], ["instruct"], ["chat"], ["it"]):
            return _model_ref(slug, refs)
    return None


def _model_ref(slug: str, refs: References) -> ModelRef | None:
    return next((ref for ref in refs.models if ref.slug == slug), None)
