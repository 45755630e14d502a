"""Field types for what operators type: numbers, text, handles, web addresses.

Each type parses a form's text (or a JSON value) and refuses it with a message written
for the person at the form. Bounds come from the rule set (webapp/services/rules.py)
and the column sizes; the pydantic models in webapp/schemas.py are made of these.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from webapp.services import trust
from webapp.services.labels import ascii_host
from webapp.services.rules import (
    DECODE_MAX_TPS,
    PREFILL_MAX_TPS,
    TENSOR_PARALLEL_MIN_DEVICES,
    TTFT_MAX_MS,
    VRAM_MAX_MIB,
)
from webapp.services.trust import ANONYMOUS_PREFIX

# Column sizes and caps that are about storage, not about the rules of evidence.
HANDLE_MAX = 40
URL_MAX = 300
NOTES_MAX = 4000
FEEDBACK_MESSAGE_MAX = 2000
OTHER_NAME_MAX = {"model": 120, "hardware": 120, "quant": 60, "runtime": 80}
CPU_FAMILY_MAX = 80
RUNTIME_VERSION_MAX = 60
DRIVER_VERSION_MAX = 120
OS_LABEL_MAX = 80
QUANT_PROVIDER_MAX = 80
SHA_PREFIX_MIN = 8
SHA_PREFIX_MAX = 64
# The smallest timing, speed or memory peak taken: a thousandth of the unit (the pages
# show one decimal); below it a "positive" value is float dust (1e-320), not a reading.
MEASURE_MIN = 0.001
HARDWARE_COUNT_MAX = 64
CONCURRENT_USERS_MAX = 100_000
TOKENS_MAX = 10_000_000
SEED_MAX = 2**63 - 1  # a BIGINT column
RUN_FIELDS = ("ttft_ms", "tokens_generated", "decode_tps")
FLAG_FIELDS = ("speculative", "batch_gt1", "tensor_parallel")
TRUE_VALUES = frozenset({"on", "1", "true", "yes", "y"})


def error(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message)


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- numbers -------------------------------------------------------------------------


def _to_float(value: object) -> float:
    if isinstance(value, bool):
        raise error("number", "Enter a number.")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace("_", "")
        if "," in text:
            raise error("number", "Enter a number using digits and a decimal point, e.g. 1234.5.")
        try:
            number = float(text)
        except ValueError:
            raise error("number", "Enter a number, e.g. 1234.5.") from None
    else:
        raise error("number", "Enter a number.")
    if not math.isfinite(number):
        raise error("finite", "Enter a finite number.")
    return number


def _to_int(value: object) -> int:
    if isinstance(value, bool):
        raise error("integer", "Enter a whole number.")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise error("integer", "Enter a whole number.")
        return int(value)
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        if re.fullmatch(r"[+-]?\d{1,20}", text):
            return int(text)
        if re.fullmatch(r"[+-]?\d+\.\d*|[+-]?\d*\.\d+|[+-]?\d+(\.\d*)?[eE][+-]?\d+", text):
            raise error("integer", "Enter a whole number (no decimals).")
        raise error("integer", "Enter a whole number in digits, such as 2.")
    raise error("integer", "Enter a whole number.")


def _required(convert: Callable[[object], Any]) -> Callable[[object], Any]:
    def parse(value: object) -> Any:
        if is_blank(value):
            raise error("required", "This field is required.")
        return convert(value)

    return parse


def _optional(convert: Callable[[object], Any]) -> Callable[[object], Any]:
    def parse(value: object) -> Any:
        return None if is_blank(value) else convert(value)

    return parse


def _with_default(convert: Callable[[object], Any], default: Any) -> Callable[[object], Any]:
    def parse(value: object) -> Any:
        return default if is_blank(value) else convert(value)

    return parse


def _fmt(number: float) -> str:
    return f"{number:,.0f}" if float(number).is_integer() else f"{number:,}"


N = TypeVar("N", int, float)


def _positive_below(limit: float, unit: str) -> Callable[[N | None], N | None]:
    """Strictly positive and strictly below `limit` (the rule set's exclusive bounds)."""

    def check(value: N | None) -> N | None:
        if value is None:
            return None
        if value <= 0:
            raise error("positive", "Enter a number greater than zero.")
        if value < MEASURE_MIN:  # 1e-320 is positive, and no measurement
            raise error("too_small", f"Must be at least {MEASURE_MIN}.")
        if value >= limit:
            raise error("too_large", f"Must be less than {_fmt(limit)} {unit}.".rstrip())
        return value

    return check


def _between(low: int, high: int, unit: str = "") -> Callable[[int | None], int | None]:
    def check(value: int | None) -> int | None:
        if value is None:
            return None
        if value < low:
            raise error("too_small", f"Must be at least {_fmt(low)}{unit}.")
        if value > high:
            raise error("too_large", f"Must be at most {_fmt(high)}{unit}.")
        return value

    return check


TtftMs = Annotated[
    float, BeforeValidator(_required(_to_float)), AfterValidator(_positive_below(TTFT_MAX_MS, "ms"))
]
DecodeTps = Annotated[
    float,
    BeforeValidator(_required(_to_float)),
    AfterValidator(_positive_below(DECODE_MAX_TPS, "tok/s")),
]
TokenCount = Annotated[
    int, BeforeValidator(_required(_to_int)), AfterValidator(_between(1, TOKENS_MAX))
]
VramMib = Annotated[
    float,
    BeforeValidator(_required(_to_float)),
    AfterValidator(_positive_below(VRAM_MAX_MIB, "MiB (4 TiB)")),
]
PrefillTps = Annotated[
    float | None,
    BeforeValidator(_optional(_to_float)),
    AfterValidator(_positive_below(PREFILL_MAX_TPS, "tok/s")),
]
OptionalTokenCount = Annotated[
    int | None, BeforeValidator(_optional(_to_int)), AfterValidator(_between(1, TOKENS_MAX))
]
ConcurrentUsers = Annotated[
    int,
    BeforeValidator(_with_default(_to_int, 1)),
    AfterValidator(_between(1, CONCURRENT_USERS_MAX)),
]
HardwareCount = Annotated[
    int,
    BeforeValidator(_with_default(_to_int, 1)),
    AfterValidator(_between(1, HARDWARE_COUNT_MAX)),
]


def check_tensor_parallel(tensor_parallel: bool, hardware_count: int | None, *,
                          locked: bool = False) -> None:
    """Tensor parallelism needs at least two devices (SPEC §11): refuse it on one."""
    if not tensor_parallel or hardware_count is None:
        return
    if hardware_count < TENSOR_PARALLEL_MIN_DEVICES:
        if locked:
            raise error(
                "tensor_parallel",
                f"The original ran on {hardware_count} device, and tensor parallelism needs "
                f"at least {TENSOR_PARALLEL_MIN_DEVICES}: untick it (a run split across "
                "more devices is a fresh benchmark of another configuration).",
            )
        raise error(
            "tensor_parallel",
            f"Tensor parallelism needs at least {TENSOR_PARALLEL_MIN_DEVICES} devices: enter "
            "how many devices the run was split across, or untick tensor parallelism.",
        )


def _seed(value: int | None) -> int | None:
    if value is None:
        return None
    if value < 0:
        raise error(
            "seed", "Enter the fixed seed you used (0 or more); a random seed cannot be matched."
        )
    if value > SEED_MAX:
        raise error("too_large", f"Must be at most {SEED_MAX}.")
    return value


Seed = Annotated[int | None, BeforeValidator(_optional(_to_int)), AfterValidator(_seed)]


# --- text --------------------------------------------------------------------------


# Embedding, override and isolate controls reorder the text after them, so a reader sees
# something other than what was written ("\u202egpj.exe" reads "exe.jpg"). The bidi marks
# (U+200E, U+200F, U+061C) only place neutral characters beside right-to-left words, which
# people writing Arabic or Hebrew need, so free text keeps them; handles refuse every bidi
# control (services/trust.py).
BIDI_REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
BIDI_REORDERING_MESSAGE = (
    "Remove the text-direction control characters (such as U+202E): they reorder what the "
    "reader sees."
)
# Letters and symbols that draw nothing: the Hangul fillers and the blank Braille pattern.
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_visible(text: str) -> bool:
    """Whether a reader would see anything: a letter, digit, punctuation mark or symbol.
    Whitespace, format characters (Cf: zero-width spaces and joiners, bidi controls, the
    BOM, soft hyphens), combining marks alone, unassigned and private-use code points
    show nothing a person can read."""
    return any(unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK_GLYPHS
               for ch in text)


def has_bidi_reordering(text: str) -> bool:
    return any(ch in BIDI_REORDERING for ch in text)


def is_unreadable(value: object) -> bool:
    """Blank, or text with nothing visible in it: what a required field refuses."""
    return is_blank(value) or (isinstance(value, str) and not has_visible(value))


CONTROL_MESSAGE = ("Remove the control characters (such as a NUL, a bell, an escape or "
                   "U+FFFF) from the text: they cannot be stored or shown.")
_LINE_BREAKS_AND_TABS = frozenset("\n\r\t")


def _is_noncharacter(ch: str) -> bool:
    """Unicode's noncharacters: U+FDD0-U+FDEF and the last two code points of every plane
    (U+FFFE, U+FFFF, …). XML 1.0 forbids U+FFFE and U+FFFF outright: one in a stored name
    would make the Atom feed and the badge SVG that carry it unreadable."""
    point = ord(ch)
    return 0xFDD0 <= point <= 0xFDEF or point & 0xFFFE == 0xFFFE


def has_control_characters(text: str, *, multiline: bool = True) -> bool:
    """Whether `text` holds a control character (Unicode Cc) other than, when `multiline`,
    tabs and line breaks, or a character no text may hold (a noncharacter, a lone
    surrogate)."""
    allowed = _LINE_BREAKS_AND_TABS if multiline else frozenset()
    for ch in text:
        if ch < " " or "\x7f" <= ch <= "\x9f":
            if ch not in allowed:
                return True
        elif ch >= "\ud800" and (ch <= "\udfff" or _is_noncharacter(ch)):
            return True
    return False


def clean_text(value: object, *, limit: int, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise error("text", "Enter text.")
    if has_control_characters(value, multiline=multiline):
        raise error("control", "Remove the control characters from this field (a NUL, an "
                               "escape, U+FFFF and the like cannot be stored or shown).")
    text = value.strip()
    if len(text) > limit:
        raise error("too_long", f"Must be at most {limit} characters (you have {len(text)}).")
    return text


def free_text(value: object, *, limit: int, multiline: bool = False) -> str:
    """Text a person will read (names, versions, notes, messages): clean_text, and neither
    text-direction controls nor only invisible characters. A required field refuses
    `is_unreadable` input with its own message before calling this."""
    text = clean_text(value, limit=limit, multiline=multiline)
    if has_bidi_reordering(text):
        raise error("bidi", BIDI_REORDERING_MESSAGE)
    if text and not has_visible(text):
        raise error("invisible", "This field holds only invisible characters: type visible "
                                 "text, or leave it empty.")
    return text


def _optional_text(limit: int) -> Callable[[object], str | None]:
    def parse(value: object) -> str | None:
        if is_blank(value):
            return None
        return free_text(value, limit=limit)

    return parse


def OptionalText(limit: int):  # noqa: N802 - reads like a type in the field list
    return Annotated[str | None, BeforeValidator(_optional_text(limit))]


def _handle(value: object, info: ValidationInfo) -> str | None:
    """A pseudonymous handle (SPEC §5, §11). Validate with context {"reviewer_names": ...}
    (services/submissions.form_context) so reviewers' names are refused too."""
    if is_blank(value):
        return None
    text = clean_text(value, limit=HANDLE_MAX)
    if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise error(
            "email", "A handle is a pseudonym: please do not use an email address here."
        )
    if trust.has_bidi_control(text):
        raise error(
            "bidi", "Remove the text-direction control characters from the handle: they "
            "change how it is shown and can make it look like someone else's."
        )
    normalised = trust.normalise_handle(text)
    if normalised is None:
        raise error("handle", "Enter a handle with visible letters or digits, or leave it "
                              "empty to stay anonymous.")
    if normalised.startswith(ANONYMOUS_PREFIX):
        # Anonymous operators are keyed "anon:<random>"; a handle must never pose as one.
        raise error(
            "handle", f"A handle cannot start with \"{ANONYMOUS_PREFIX}\": choose another one, "
            "or leave it empty to stay anonymous."
        )
    if trust.reserved_handle(text, (info.context or {}).get("reviewer_names", ())):
        # One message for every reserved name, so the form tells nobody which names
        # the reviewers log in with.
        raise error(
            "reserved", "This handle is reserved: it is, or looks like, a name this site "
            "uses for its editors or reviewers. Choose another one, or leave it empty to "
            "stay anonymous."
        )
    return text


def _url(value: object) -> str | None:
    if is_blank(value):
        return None
    text = clean_text(value, limit=URL_MAX)
    invalid = error("url", "Enter a web address starting with http:// or https://.")
    if any(ch.isspace() for ch in text):
        raise error("url_space", "Remove the spaces from the web address (write a space in "
                                 "a path as %20).")
    if any(unicodedata.category(ch) == "Cf" for ch in text):
        # Written into an href as typed: a bidi override would show the reader another
        # address than the link's, and a zero-width character one they cannot type.
        raise error("url_invisible", "Remove the invisible or text-direction characters "
                                     "from the web address.")
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        raise invalid from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise invalid
    try:
        port = parts.port  # ValueError when not a number or beyond 65535
    except ValueError:
        port = 0
    if port == 0:
        raise error("url_port", "The port after the host name must be a number from 1 to "
                                "65535: correct it, or leave the port out.")
    if parts.username or parts.password:
        raise error("url", "Leave user names and passwords out of the web address.")
    # A host in other letters than ASCII is kept in its ASCII form (IDNA), as readers will
    # see it: "еxample.com" with a Cyrillic е must not pass for example.com.
    kept = ascii_host(text)
    if kept is None or len(kept) > URL_MAX:
        raise error("url_host", "This host name cannot be written as a web address: check "
                                "its spelling, or write it in its xn-- form.")
    return kept


def _notes(value: object) -> str:
    if is_blank(value):
        return ""
    return free_text(value, limit=NOTES_MAX, multiline=True)


def _sha_prefix(value: object) -> str | None:
    if is_blank(value):
        return None
    # clean_text's own limit is far above the field's, so an over-long prefix is told the
    # field's rule (8 to 64 hex digits), not a length the form never mentions.
    text = clean_text(value, limit=SHA_PREFIX_MAX * 16).lower()
    if not re.fullmatch(r"[0-9a-f]+", text):
        raise error("hex", "Enter hexadecimal digits only (0–9, a–f).")
    if not SHA_PREFIX_MIN <= len(text) <= SHA_PREFIX_MAX:
        raise error(
            "hex_length",
            f"Enter between {SHA_PREFIX_MIN} and {SHA_PREFIX_MAX} hex digits of the sha256.",
        )
    return text


def flag_value(value: object) -> bool:
    """A checkbox's value: ticked ("on", "1", "true", ...) or not."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in TRUE_VALUES


Handle = Annotated[str | None, BeforeValidator(_handle)]
Url = Annotated[str | None, BeforeValidator(_url)]
Notes = Annotated[str, BeforeValidator(_notes)]
ShaPrefix = Annotated[str | None, BeforeValidator(_sha_prefix)]
Flag = Annotated[bool, BeforeValidator(flag_value)]
