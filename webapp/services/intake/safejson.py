"""Reading untrusted bytes as text and JSON within limits, with messages for the operator.

Size is checked before anything is decoded; nesting depth and item count are checked on
the raw text before the JSON parser sees it (Python's parser recurses per nesting level
and builds every item in memory). NaN, Infinity and numbers too large for a float are
refused while parsing.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

from webapp.services.intake.core import IntakeError

MAX_BYTES = 2 * 1024 * 1024  # 2 MiB
MAX_DEPTH = 16  # llama-bench nests 2 deep, vLLM 2, the runner's result 3
MAX_ITEMS = 250_000  # values in arrays and objects, counted by their separating commas

# A JSON string, unrolled so that long strings do not backtrack.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def size_mib(limit: int = MAX_BYTES) -> str:
    return f"{limit / (1024 * 1024):g} MiB"


def _size_over(size: int, limit: int = MAX_BYTES) -> str:
    """The size against the limit, precise enough to read as over: "2.01 MiB", or bytes
    when two decimals would show the limit itself."""
    mib = f"{size / (1024 * 1024):.2f}"
    if float(mib) > limit / (1024 * 1024):
        return f"The file is {mib} MiB; the limit is {size_mib(limit)}."
    return f"The file is {size:,} bytes; the limit is {size_mib(limit)} ({limit:,} bytes)."


def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without a byte-order mark) or UTF-16 with a BOM, as Windows
    PowerShell writes when a command's output is redirected to a file."""
    if len(raw) > MAX_BYTES:
        raise IntakeError(
            f"{_size_over(len(raw))} Upload the tool's result file, not a whole log."
        )
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise IntakeError(
            "The file is not text (it is not UTF-8). Upload the tool's JSON or text output."
        ) from None
    if "\x00" in text:
        raise IntakeError("The file contains NUL bytes: it is not a text or JSON file.")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise IntakeError("The file is empty: there is nothing to read.")
    return text


def _outside_strings(text: str) -> str:
    """The text with every JSON string emptied. Without escaped quotes, splitting on
    quotes is exact and fast; with them, a (slower) pattern finds the strings."""
    if '\\"' in text:
        return _STRING.sub('""', text)
    return '""'.join(text.split('"')[::2])


def check_shape(text: str, *, lines: bool = False) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH or holding more than MAX_ITEMS values,
    before the parser builds anything. `lines`: JSON Lines, one value per line."""
    if text.count(",") > MAX_ITEMS and _outside_strings(text).count(",") > MAX_ITEMS:
        raise IntakeError(
            f"The JSON holds more than {MAX_ITEMS:,} values: that is not a benchmark "
            "result this form can read."
        )
    # A value cannot nest deeper than it has brackets: only those with many are walked.
    parts = text.split("\n") if lines else [text]
    for part in parts:
        if part.count("[") + part.count("{") > MAX_DEPTH:
            _check_depth(part)


def _check_depth(text: str) -> None:
    steps = [_DEPTH_STEP[char] for char in _BRACKET.findall(_outside_strings(text))]
    if steps and max(accumulate(steps)) > MAX_DEPTH:
        raise IntakeError(
            f"The JSON is nested more than {MAX_DEPTH} levels deep: that is not a benchmark "
            "result this form can read."
        )


def _reject_constant(name: str) -> Any:
    raise _Constant(name)


class _Constant(ValueError):
    pass


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _Constant(text)
    return number


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
# An escaped UTF-16 surrogate (\ud800-\udfff): a pair decodes to one character, a lone
# one to a code point no page, database or file can hold.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def loads(
    text: str, *, what: str = "The file", line: int | None = None, checked: bool = False
) -> Any:
    """json.loads with the limits above (`checked`: the caller ran check_shape on the
    whole text already); every failure is an IntakeError."""
    if not checked:
        check_shape(text)
    try:
        data = _DECODER.decode(text)
    except _Constant as error:
        where = "" if line else _where_constant(text, str(error))  # else `what` names it
        raise IntakeError(
            f"{what} contains {error}{where}, which is not a measurement. "
            "Check the run that produced it and measure again."
        ) from None
    except json.JSONDecodeError as error:
        raise IntakeError(_decode_message(error, what, line)) from None
    except (ValueError, RecursionError):
        # e.g. an integer with thousands of digits (Python refuses to convert it)
        raise IntakeError(f"{what} holds a number too large to be a measurement.") from None
    if _SURROGATE_ESCAPE.search(text):
        _refuse_lone_surrogates(data, what)
    return data


def _refuse_lone_surrogates(data: Any, what: str) -> None:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        escaped = error.object[error.start:error.end].encode("unicode_escape").decode()
        raise IntakeError(
            f"{what} holds the escape {escaped}, half of a UTF-16 pair with no other half: "
            "it is not text. Save the tool's output again, or remove that character."
        ) from None


def _where_constant(text: str, token: str) -> str:
    bare = _STRING.sub('""', text)  # JSON strings hold no raw newlines: lines are kept
    match = re.search(r"(?<![\w.])" + re.escape(token) + r"(?![\w.])", bare)
    if not match or "\n" not in text.strip():
        return ""
    return f" (line {bare.count(chr(10), 0, match.start()) + 1})"


def _decode_message(error: json.JSONDecodeError, what: str, line: int | None) -> str:
    lineno = line if line is not None else error.lineno
    content_end = len(error.doc.rstrip())
    if error.pos >= content_end - 1 or error.msg.startswith("Unterminated string"):
        return (
            f"{what} ends before its JSON is complete (line {lineno}): it looks cut off. "
            "Save or copy the whole output and try again."
        )
    return (
        f"{what} is not valid JSON: {error.msg.lower()} at line {lineno}, "
        f"column {error.colno}."
    )
