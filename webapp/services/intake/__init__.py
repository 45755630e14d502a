"""Intake: turning other tools' output into form values, each with its source.

`parse(raw, filename=..., references=...)` detects the format, refuses bad input with an
`IntakeError` whose message is for the operator, and returns an `Intake`: values to
pre-fill (form field -> text), the source line or JSON key of each, notes the operator
must read, estimates shown apart (never filled), names that matched no reference entry,
the format and its version, and the sha256 of the bytes. Pure: no Flask, no database,
no clock.

Formats: the trustbench runner's result file, `llama-bench -o json` / `-o jsonl`,
`ollama run --verbose` text, the JSON of Ollama's API (/api/generate, /api/chat: one
response, a list of them, or a stream), and vLLM's serving-benchmark result JSON.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from webapp.services.intake import llama_bench, ollama, runner, safejson, vllm
from webapp.services.intake.core import (
    DOUBTS,
    OTHER,
    Estimate,
    HardwareRef,
    Intake,
    IntakeError,
    ModelRef,
    QuantRef,
    References,
    RuntimeRef,
)
from webapp.services.intake.matching import LockCheck, check_locked
from webapp.services.intake.safejson import MAX_BYTES, MAX_DEPTH, MAX_ITEMS

__all__ = [
    "DOUBTS",
    "FORMATS",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_ITEMS",
    "OTHER",
    "Estimate",
    "HardwareRef",
    "Intake",
    "IntakeError",
    "LockCheck",
    "ModelRef",
    "QuantRef",
    "References",
    "RuntimeRef",
    "check_locked",
    "parse",
]

# format name -> what the operator should upload, for messages and the form's help text
FORMATS = {
    runner.FORMAT: "the result file of trustbench-measure",
    llama_bench.FORMAT_JSON: "the output of `llama-bench -o json`",
    llama_bench.FORMAT_JSONL: "the output of `llama-bench -o jsonl`",
    ollama.FORMAT: "the text `ollama run MODEL --verbose` prints after an answer",
    ollama.FORMAT_API: "the JSON Ollama's API (/api/generate, /api/chat) answers with",
    vllm.FORMAT: "the result JSON of vLLM's serving benchmark (--save-result)",
}
_SUPPORTED = (
    "Upload the trustbench-measure result file, `llama-bench -o json` (or jsonl) output, "
    "the text `ollama run --verbose` prints, the responses of Ollama's API "
    "(/api/generate, /api/chat), or a vLLM serving-benchmark result JSON."
)


def parse(raw: bytes, *, filename: str | None = None, references: References) -> Intake:
    """Read one uploaded file or pasted text. Raises IntakeError for anything it refuses."""
    if not isinstance(raw, bytes | bytearray):
        raise TypeError("parse() reads bytes; encode pasted text as UTF-8 first")
    try:
        return _parse(bytes(raw), filename, references)
    except IntakeError:
        raise
    except (ArithmeticError, ValueError):
        # The parsers check each number they read and work out; a value at the edge of
        # what Python's numbers hold that slipped past them is refused the same way, as
        # the file's problem (a 422 beside the upload field), never a server error.
        raise IntakeError(
            "A number in the file is too large or too small to be a measurement (it could "
            "not be worked with): check the file, or enter the runs by hand."
        ) from None


def _parse(raw: bytes, filename: str | None, references: References) -> Intake:
    text = safejson.decode_text(raw)  # size limit first, then empty / not text
    sha256 = hashlib.sha256(raw).hexdigest()
    stripped = text.strip()
    if stripped[0] in "[{":
        try:
            draft = _parse_json(stripped, filename, references)
        except IntakeError:
            if not ollama.looks_like(stripped):  # e.g. Ollama output after a "[GIN]" log line
                raise
            draft = ollama.parse(text, references)
    elif ollama.looks_like(stripped):
        draft = ollama.parse(text, references)
    elif (start := _json_after_log(stripped)) is not None:
        draft = _parse_after_log(stripped, start, filename, references)
    else:
        raise IntakeError(_unknown_text(stripped, filename))
    return draft.finish(sha256)


# A line that opens a tool's JSON output: llama-bench's lone "[", or a JSON Lines record.
_JSON_START = re.compile(r'^\s*(?:[\[{]\s*$|\{\s*"|\[\s*\{)', re.MULTILINE)


def _json_after_log(text: str) -> int | None:
    """Where JSON starts after log lines (a tool's stderr, sent along by `2>&1`)."""
    match = _JSON_START.search(text)
    return match.start() if match else None


def _parse_after_log(text: str, start: int, filename: str | None, refs: References):
    skipped = text[:start].count("\n")
    try:
        draft = _parse_json(text[start:].strip(), filename, refs)
    except IntakeError as error:
        raise IntakeError(
            f"The file has {skipped} line{'s' if skipped != 1 else ''} of log before its JSON "
            f"(the tool's messages, sent along by `2>&1`), and the JSON after them could not "
            f"be read: {error} Run the tool without `2>&1` and upload only its output."
        ) from None
    draft.note(
        f"The {skipped} line{'s' if skipped != 1 else ''} before the JSON (the tool's log, "
        "sent along by `2>&1`) were skipped."
    )
    return draft


def _parse_json(text: str, filename: str | None, refs: References):
    if _is_jsonl(text):
        safejson.check_shape(text, lines=True)  # once for the whole file
        records = [
            (f"line {number}",
             safejson.loads(line, what=f"Line {number}", line=number, checked=True))
            for number, line in enumerate(text.split("\n"), start=1)
            if line.strip()
        ]
        return _dispatch_records(records, jsonl=True, refs=refs, name=filename)
    data = safejson.loads(text)
    if isinstance(data, dict):
        if runner.looks_like(data):
            return runner.parse(data, refs)
        if str(data.get("format", "")).startswith("trustbench"):
            raise IntakeError(
                f"This file's format is “{str(data['format'])[:40]}”; this site reads "
                f"“{runner.FORMAT}” files. Measure again with the runner this site serves."
            )
        return _dispatch_records([("the result", data)], jsonl=True, refs=refs, name=filename)
    if not data:
        raise IntakeError("The JSON is an empty list: there are no results in it.")
    records = [(f"record {number}", item) for number, item in enumerate(data, start=1)]
    return _dispatch_records(records, jsonl=False, refs=refs, name=filename)


def _is_jsonl(text: str) -> bool:
    """JSON Lines: several lines, the first a whole object and the next opening one
    (pretty-printed JSON opens with a lone bracket or brace)."""
    head = [line.strip() for line in text.split("\n", 3)[:3] if line.strip()]
    return (
        len(head) >= 2
        and head[0].startswith("{") and head[0].endswith("}") and head[1].startswith("{")
    )


def _dispatch_records(
    records: list[tuple[str, Any]], *, jsonl: bool, refs: References, name: str | None
):
    if all(llama_bench.looks_like(record) for _, record in records):
        fmt_name = llama_bench.FORMAT_JSONL if jsonl else llama_bench.FORMAT_JSON
        return llama_bench.parse(records, fmt_name, refs)
    if all(vllm.looks_like(record) for _, record in records):
        return vllm.parse(records, refs)
    if all(ollama.looks_like_api(record) for _, record in records):
        return ollama.parse_api(records, refs)
    if any(llama_bench.looks_like(record) for _, record in records):
        label = next(label for label, record in records if not llama_bench.looks_like(record))
        raise IntakeError(f"{label} is not a llama-bench result, unlike the others in the file.")
    if any(runner.looks_like(record) for _, record in records):
        raise IntakeError("Upload one trustbench result file at a time.")
    if any(ollama.looks_like_api(record) for _, record in records):
        label = next(label for label, record in records if not ollama.looks_like_api(record))
        raise IntakeError(
            f"{label[:1].upper()}{label[1:]} is not a response of Ollama's API, unlike the "
            "others in the file. Upload only what /api/generate or /api/chat returned."
        )
    shown = f"“{name[:80]}”" if name else "This JSON"
    raise IntakeError(f"{shown} is not a format the form can read. {_SUPPORTED}")


def _unknown_text(text: str, filename: str | None) -> str:
    head = text[:4000]
    if _has_bench_header(head, "|", {"model", "test", "t/s"}):
        return (
            "This is llama-bench's table output, which keeps only averages. Run llama-bench "
            "with `-o json` (or `-o jsonl`) so each repetition is kept, and upload that."
        )
    if _has_bench_header(head, ",", {"n_prompt", "n_gen", "samples_ns"}) or \
            _has_bench_header(head, ",", {"n_prompt", "n_gen", "avg_ts"}):
        return (
            "This is llama-bench's CSV output (`-o csv`), which the form does not read. Run "
            "llama-bench with `-o json` (or `-o jsonl`) and upload that."
        )
    if "Serving Benchmark Result" in head:
        return (
            "This is vLLM's printed summary. Run the benchmark with --save-result (and "
            "--save-detailed) and upload the JSON file it writes."
        )
    if "total duration" in head or "prompt eval" in head:
        return (
            "This Ollama output has no complete timing block (eval count and eval duration). "
            "Paste everything `ollama run MODEL --verbose` prints after the answer."
        )
    name = f"“{filename[:80]}”" if filename else "this text"
    return f"The form cannot read {name}. {_SUPPORTED}"


def _has_bench_header(head: str, separator: str, names: set[str]) -> bool:
    """A header line whose cells, spacing and quotes aside, include all of `names`:
    llama-bench pads and right-aligns its table's columns."""
    return any(
        names <= {cell.strip().strip('"').lower() for cell in line.split(separator)}
        for line in head.splitlines()
        if line.count(separator) >= len(names)
    )
