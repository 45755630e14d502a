"""How a row's numbers got there (SPEC §11): measured with the site's runner, imported
from another tool, or typed by hand. Information shown beside the numbers, never a badge.

An import leaves a signed token in the form (its own salt, like the lock and status
tokens in tokens.py) naming the file's format, version and sha256, the run cells it
filled and a digest of their values. When the form is sent, the row records the source
only if every imported run cell still holds its value and no run row was added or
emptied; otherwise, or with a missing, forged or expired token, the numbers count as
typed by hand. Run cells the tool does not measure (TTFT for llama-bench and Ollama)
are the operator's to type and do not break the link. The token also carries what the
import found doubtful about the file (intake.DOUBTS: timestamps that disagree with the
speeds, another runner, no prompt named); the row keeps them, and its provenance's caveat
says them to reviewers and readers.

Flask is imported for one reason: the signing key is the app's SECRET_KEY.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webapp.models import Submission
from webapp.services.intake import DOUBTS, Intake, llama_bench, ollama, runner, vllm

FIELD = "provenance"  # the form's hidden field holding the token
SALT = "trustbench.intake-provenance.v1"
# As long as a reproduce form's lock: the operator may review for a while.
MAX_AGE_SECONDS = 7 * 24 * 3600
RUN_CELL = re.compile(r"^runs-(\d{1,2})-(ttft_ms|tokens_generated|decode_tps)$")

TOOLS = {
    runner.FORMAT: runner.TOOL,
    llama_bench.FORMAT_JSON: llama_bench.TOOL,
    llama_bench.FORMAT_JSONL: llama_bench.TOOL,
    ollama.FORMAT: ollama.TOOL,
    ollama.FORMAT_API: ollama.TOOL_API,
    vllm.FORMAT: vllm.TOOL,
}
# Formats whose runs never carry a time to first token: the operator typed it.
TTFT_TYPED = {
    llama_bench.FORMAT_JSON: "llama-bench measures no time to first token: TTFT was typed "
                             "by hand.",
    llama_bench.FORMAT_JSONL: "llama-bench measures no time to first token: TTFT was typed "
                              "by hand.",
    ollama.FORMAT: "Ollama reports no time to first token: TTFT was typed by hand.",
    ollama.FORMAT_API: "Ollama reports no time to first token: TTFT was typed by hand.",
}
TYPED_BY_HAND = "typed by hand"


class Payload(BaseModel):
    """What the token carries (short keys: it travels in every form post)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    f: str = Field(max_length=40)  # format
    v: str | None = Field(default=None, max_length=60)  # the tool's version
    s: str = Field(pattern=r"^[0-9a-f]{64}$")  # sha256 of the file's bytes
    c: list[str] = Field(min_length=1, max_length=30)  # the run cells the import filled
    d: str = Field(pattern=r"^[0-9a-f]{64}$")  # digest of their values
    q: list[str] = Field(default=[], max_length=len(DOUBTS))  # the file's doubts (codes)


@dataclass(frozen=True)
class Source:
    format: str
    version: str | None
    sha256: str
    doubts: tuple[str, ...] = ()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _number(text: str) -> str:
    """One spelling per number, so "119.03" and "119.030" agree; other text as it is."""
    text = (text or "").strip()
    try:
        value = float(text)
    except ValueError:
        return text
    return repr(value) if math.isfinite(value) else text


def _digest(cells: list[str], values: Mapping[str, str]) -> str:
    pairs = [[name, _number(values.get(name, ""))] for name in sorted(cells)]
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()


def _rows(names) -> set[int]:
    return {int(match.group(1)) for name in names if (match := RUN_CELL.match(name))}


def issue(found: Intake) -> str | None:
    """The token for an import, or None when it filled no run (its numbers, if any,
    will be typed)."""
    cells = sorted(name for name in found.values if RUN_CELL.match(name))
    if not cells:
        return None
    payload = Payload(f=found.format, v=found.format_version, s=found.sha256, c=cells,
                      d=_digest(cells, found.values),
                      q=[code for code in DOUBTS if code in found.doubts])
    return _serializer().dumps(payload.model_dump())


def source_of(values: Mapping[str, str]) -> Source | None:
    """The source named by the form's token, if the runs sent are still the imported
    ones; else None (typed by hand)."""
    token = values.get(FIELD)
    if not token or not token.strip():
        return None
    try:
        data = _serializer().loads(token.strip(), max_age=MAX_AGE_SECONDS)
        payload = Payload.model_validate(data)
    except (BadData, ValidationError, TypeError):
        return None
    if not all(RUN_CELL.match(name) for name in payload.c):
        return None
    if not set(payload.q) <= DOUBTS.keys():
        return None
    sent_rows = _rows(name for name, value in values.items() if (value or "").strip())
    if sent_rows != _rows(payload.c) or _digest(payload.c, values) != payload.d:
        return None
    return Source(format=payload.f, version=payload.v, sha256=payload.s,
                  doubts=tuple(payload.q))


def record(row: Submission, values: Mapping[str, str]) -> None:
    """Set the row's source columns from the form as sent: all of them, or none."""
    source = source_of(values)
    row.source_format = source.format if source else None
    row.source_version = source.version if source else None
    row.source_sha256 = source.sha256 if source else None
    row.source_doubts = ",".join(source.doubts) if source and source.doubts else None


# --- what pages show ---------------------------------------------------------------------


@dataclass(frozen=True)
class Provenance:
    kind: str  # "measured" (this site's runner) | "imported" | "typed"
    text: str  # "measured with trustbench-measure 1.0", "imported from …", "typed by hand"
    sha256: str | None = None  # of the source file
    caveat: str | None = None  # what the operator typed although the rest was imported


def describe(fmt: str, version: str | None) -> str:
    """The sentence for a format and version: the intake's own wording."""
    return Intake(format=fmt, format_version=version, sha256="",
                  tool=TOOLS.get(fmt, fmt)).provenance


def of_row(row: Submission) -> Provenance:
    """The row's provenance; its caveat says what the operator typed beside an import
    and what the import found doubtful about the file (in DOUBTS' order)."""
    if not row.source_format:
        return Provenance("typed", TYPED_BY_HAND)
    doubts = set((row.source_doubts or "").split(","))
    caveats = [TTFT_TYPED.get(row.source_format),
               *(sentence for code, sentence in DOUBTS.items() if code in doubts)]
    return Provenance(
        kind="measured" if row.source_format == runner.FORMAT else "imported",
        text=describe(row.source_format, row.source_version),
        sha256=row.source_sha256,
        caveat=" ".join(filter(None, caveats)) or None,
    )
