"""Validated submissions, feedback and signed tokens' payloads (pydantic models).

The one place where what an operator types is judged. Bounds come from the rule set
(webapp/services/rules.py) and the column sizes; every message is written for the
person at the form. Reading a posted form into these models, and their messages back
beside the form's fields, is the web layer's (webapp/web/forms.py).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from webapp.services import trust
from webapp.services.rules import (
    DECODE_MAX_TPS,
    FEEDBACK_KINDS,
    MAX_RUNS,
    MIN_RUNS,
    PREFILL_MAX_TPS,
    TTFT_MAX_MS,
    VRAM_MAX_MIB,
)
from webapp.services.trust import ANONYMOUS_PREFIX

OTHER = "other"

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
HARDWARE_COUNT_MAX = 64
CONCURRENT_USERS_MAX = 100_000
TOKENS_MAX = 10_000_000
SEED_MAX = 2**63 - 1  # a BIGINT column
RUN_FIELDS = ("ttft_ms", "tokens_generated", "decode_tps")
FLAG_FIELDS = ("speculative", "batch_gt1", "tensor_parallel")
TRUE_VALUES = frozenset({"on", "1", "true", "yes", "y"})


def _error(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message)


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- numbers -------------------------------------------------------------------------


def _to_float(value: object) -> float:
    if isinstance(value, bool):
        raise _error("number", "Enter a number.")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace("_", "")
        if "," in text:
            raise _error("number", "Enter a number using digits and a decimal point, e.g. 1234.5.")
        try:
            number = float(text)
        except ValueError:
            raise _error("number", "Enter a number, e.g. 1234.5.") from None
    else:
        raise _error("number", "Enter a number.")
    if not math.isfinite(number):
        raise _error("finite", "Enter a finite number.")
    return number


def _to_int(value: object) -> int:
    if isinstance(value, bool):
        raise _error("integer", "Enter a whole number.")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise _error("integer", "Enter a whole number.")
        return int(value)
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        if re.fullmatch(r"[+-]?\d{1,20}", text):
            return int(text)
        if re.fullmatch(r"[+-]?\d+\.\d*|[+-]?\d*\.\d+|[+-]?\d+(\.\d*)?[eE][+-]?\d+", text):
            raise _error("integer", "Enter a whole number (no decimals).")
        raise _error("integer", "Enter a whole number, e.g. 512.")
    raise _error("integer", "Enter a whole number.")


def _required(convert: Callable[[object], Any]) -> Callable[[object], Any]:
    def parse(value: object) -> Any:
        if is_blank(value):
            raise _error("required", "This field is required.")
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
            raise _error("positive", "Enter a number greater than zero.")
        if value >= limit:
            raise _error("too_large", f"Must be less than {_fmt(limit)} {unit}.".rstrip())
        return value

    return check


def _between(low: int, high: int, unit: str = "") -> Callable[[int | None], int | None]:
    def check(value: int | None) -> int | None:
        if value is None:
            return None
        if value < low:
            raise _error("too_small", f"Must be at least {_fmt(low)}{unit}.")
        if value > high:
            raise _error("too_large", f"Must be at most {_fmt(high)}{unit}.")
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


def _seed(value: int | None) -> int | None:
    if value is None:
        return None
    if value < 0:
        raise _error(
            "seed", "Enter the fixed seed you used (0 or more); a random seed cannot be matched."
        )
    if value > SEED_MAX:
        raise _error("too_large", f"Must be at most {SEED_MAX}.")
    return value


Seed = Annotated[int | None, BeforeValidator(_optional(_to_int)), AfterValidator(_seed)]


# --- text --------------------------------------------------------------------------


def _clean_text(value: object, *, limit: int, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise _error("text", "Enter text.")
    allowed = {"\n", "\r", "\t"} if multiline else set()
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value):
        raise _error("control", "Remove the control characters from this field.")
    text = value.strip()
    if len(text) > limit:
        raise _error("too_long", f"Must be at most {limit} characters (you have {len(text)}).")
    return text


def _optional_text(limit: int) -> Callable[[object], str | None]:
    def parse(value: object) -> str | None:
        if is_blank(value):
            return None
        return _clean_text(value, limit=limit)

    return parse


def OptionalText(limit: int):  # noqa: N802 - reads like a type in the field list
    return Annotated[str | None, BeforeValidator(_optional_text(limit))]


def _handle(value: object) -> str | None:
    if is_blank(value):
        return None
    text = _clean_text(value, limit=HANDLE_MAX)
    if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise _error(
            "email", "A handle is a pseudonym: please do not use an email address here."
        )
    normalised = trust.normalise_handle(text)
    if normalised is not None and normalised.startswith(ANONYMOUS_PREFIX):
        # Anonymous operators are keyed "anon:<random>"; a handle must never pose as one.
        raise _error(
            "handle", f"A handle cannot start with \"{ANONYMOUS_PREFIX}\": choose another one, "
            "or leave it empty to stay anonymous."
        )
    return text


def _url(value: object) -> str | None:
    if is_blank(value):
        return None
    text = _clean_text(value, limit=URL_MAX)
    invalid = _error("url", "Enter a web address starting with http:// or https://.")
    if any(ch.isspace() for ch in text):
        raise invalid
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        raise invalid from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise invalid
    if parts.username or parts.password:
        raise _error("url", "Leave user names and passwords out of the web address.")
    return text


def _notes(value: object) -> str:
    if is_blank(value):
        return ""
    return _clean_text(value, limit=NOTES_MAX, multiline=True)


def _sha_prefix(value: object) -> str | None:
    if is_blank(value):
        return None
    text = _clean_text(value, limit=SHA_PREFIX_MAX + 10).lower()
    if not re.fullmatch(r"[0-9a-f]+", text):
        raise _error("hex", "Enter hexadecimal digits only (0–9, a–f).")
    if not SHA_PREFIX_MIN <= len(text) <= SHA_PREFIX_MAX:
        raise _error(
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


# --- submissions -----------------------------------------------------------------------


class Run(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ttft_ms: TtftMs
    tokens_generated: TokenCount
    decode_tps: DecodeTps

    def as_tuple(self) -> tuple[float, int, float]:
        return (self.ttft_ms, self.tokens_generated, self.decode_tps)


def _run_count(value: object) -> object:
    if isinstance(value, list):
        if len(value) < MIN_RUNS:
            raise _error(
                "run_count",
                f"Enter at least {MIN_RUNS} timed runs (you entered {len(value)}): "
                "the median of several runs is what counts.",
            )
        if len(value) > MAX_RUNS:
            raise _error(
                "run_count", f"Enter at most {MAX_RUNS} timed runs (you entered {len(value)})."
            )
    return value


class Measurement(BaseModel):
    """What a fresh benchmark and a reproduction both carry: build context and numbers."""

    model_config = ConfigDict(extra="ignore")

    runtime_version: OptionalText(RUNTIME_VERSION_MAX) = None
    driver_version: OptionalText(DRIVER_VERSION_MAX) = None
    os_label: OptionalText(OS_LABEL_MAX) = None
    concurrent_users: ConcurrentUsers = 1
    prompt_tokens: OptionalTokenCount = None
    max_tokens: OptionalTokenCount = None
    seed: Seed = None
    quant_provider: OptionalText(QUANT_PROVIDER_MAX) = None
    model_sha256_prefix: ShaPrefix = None
    speculative: Flag = False
    batch_gt1: Flag = False
    tensor_parallel: Flag = False
    runs: Annotated[list[Run], BeforeValidator(_run_count)]
    vram_peak_mib: VramMib
    prefill_tps: PrefillTps = None
    notes: Notes = ""
    handle: Handle = None
    url: Url = None

    def run_tuples(self) -> list[tuple[float, int, float]]:
        return [run.as_tuple() for run in self.runs]


def _reference(info: ValidationInfo, table: str) -> Mapping[str, Any]:
    context = info.context or {}
    return context.get(table) or {}


def _pick(table: str, noun: str) -> Callable[[object, ValidationInfo], str]:
    def check(value: object, info: ValidationInfo) -> str:
        if is_blank(value) or not isinstance(value, str):
            raise _error("required", f"Choose the {noun}.")
        slug = value.strip()
        if slug not in _reference(info, table):
            raise _error("choice", f"Choose the {noun} from the list, or “Other”.")
        return slug

    return check


def _other_name(dimension: str, noun: str):
    limit = OTHER_NAME_MAX[dimension]

    def check(value: object, info: ValidationInfo) -> str | None:
        chosen = info.data.get(dimension)
        if chosen != OTHER:
            return None  # only read when "Other" was picked
        if is_blank(value):
            raise _error("other_required", f"You chose “Other”: name the {noun} here.")
        return _clean_text(value, limit=limit)

    return check


class FreshSubmission(Measurement):
    """A fresh benchmark row. Validate with context = the reference tables by slug:
    {"models": ..., "hardware": ..., "quants": ..., "runtimes": ...}."""

    model: str | None = Field(default=None, validate_default=True)
    other_model: str | None = Field(default=None, validate_default=True)
    hardware: str | None = Field(default=None, validate_default=True)
    hardware_count: HardwareCount = 1
    other_hardware: str | None = Field(default=None, validate_default=True)
    cpu_family: str | None = Field(default=None, validate_default=True)
    quant: str | None = Field(default=None, validate_default=True)
    other_quant: str | None = Field(default=None, validate_default=True)
    runtime: str | None = Field(default=None, validate_default=True)
    other_runtime: str | None = Field(default=None, validate_default=True)

    _check_model = field_validator("model", mode="plain")(_pick("models", "model"))
    _check_hardware = field_validator("hardware", mode="plain")(_pick("hardware", "hardware"))
    _check_quant = field_validator("quant", mode="plain")(_pick("quants", "quant"))
    _check_runtime = field_validator("runtime", mode="plain")(_pick("runtimes", "runtime"))
    _check_other_model = field_validator("other_model", mode="plain")(
        _other_name("model", "model")
    )
    _check_other_hardware = field_validator("other_hardware", mode="plain")(
        _other_name("hardware", "hardware")
    )
    _check_other_quant = field_validator("other_quant", mode="plain")(
        _other_name("quant", "quant")
    )
    _check_other_runtime = field_validator("other_runtime", mode="plain")(
        _other_name("runtime", "runtime")
    )

    @field_validator("cpu_family", mode="plain")
    @classmethod
    def _check_cpu_family(cls, value: object, info: ValidationInfo) -> str | None:
        hardware = _reference(info, "hardware").get(info.data.get("hardware"))
        if hardware is None or getattr(hardware, "kind", None) != "cpu":
            return None
        if is_blank(value):
            raise _error(
                "cpu_required",
                "CPU-only runs are matched by CPU family: enter it, e.g. “AMD Ryzen 9 7950X”.",
            )
        return _clean_text(value, limit=CPU_FAMILY_MAX)


class ReproductionSubmission(Measurement):
    """A reproduction: the matching set is locked; only the runtime may change, within
    the hub's engine family. Validate with context {"runtimes": {slug: runtime}} holding
    that family's runtimes."""

    runtime: str | None = Field(default=None, validate_default=True)

    @field_validator("runtime", mode="plain")
    @classmethod
    def _check_runtime(cls, value: object, info: ValidationInfo) -> str:
        if is_blank(value) or not isinstance(value, str):
            raise _error("required", "Choose the runtime you ran.")
        if value.strip() not in _reference(info, "runtimes"):
            raise _error(
                "engine_family",
                "A reproduction must run on the same engine family as the original; "
                "choose one from the list or submit a fresh benchmark.",
            )
        return value.strip()


class FeedbackSubmission(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: str | None = Field(default=None, validate_default=True)
    message: str | None = Field(default=None, validate_default=True)

    @field_validator("kind", mode="plain")
    @classmethod
    def _check_kind(cls, value: object) -> str:
        if is_blank(value) or not isinstance(value, str) or value.strip() not in FEEDBACK_KINDS:
            raise _error("choice", "Choose what kind of problem this is.")
        return value.strip()

    @field_validator("message", mode="plain")
    @classmethod
    def _check_message(cls, value: object) -> str:
        if is_blank(value):
            raise _error("required", "Write a short message for the reviewers.")
        return _clean_text(value, limit=FEEDBACK_MESSAGE_MAX, multiline=True)


# --- signed tokens' payloads --------------------------------------------------------


class LockPayload(BaseModel):
    """The locked matching set of a reproduce form: the hub and its matching key
    (services/matching.py) as it was when the form was rendered."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    hub: int
    model: int
    hardware: int
    count: int
    quant: int
    engine: str
    # the typed names of "other" entries (model, hardware or CPU family, quant, runtime)
    names: list[str] = Field(min_length=4, max_length=4)


class StatusPayload(BaseModel):
    """A private status link: the submission and its unguessable nonce."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    id: int
    nonce: str = Field(min_length=16, max_length=64)


# --- what is already valid in a form still being typed ------------------------------


@dataclass
class FormInput:
    """What was posted, kept as typed (for re-rendering) and shaped for a schema.

    webapp/web/forms.py reads request forms into it; the live checks read it.
    """

    values: dict[str, str]
    data: dict[str, Any]
    # the form row each parsed run came from, so messages land beside the right input
    run_rows: list[int] = field(default_factory=list)


_TYPED = {"vram_peak_mib": TypeAdapter(VramMib), "hardware_count": TypeAdapter(HardwareCount)}


def typed_value(name: str, value: object) -> Any | None:
    """The field's value when it already passes the rules, else None (still typing)."""
    try:
        return _TYPED[name].validate_python(value)
    except ValidationError:
        return None


def typed_runs(posted: FormInput) -> list[tuple[float, int, float]]:
    """The run rows that already pass the rules; half-typed rows are left out."""
    runs = []
    for row in posted.data.get("runs", [])[:MAX_RUNS]:
        try:
            runs.append(Run.model_validate(row).as_tuple())
        except ValidationError:
            continue
    return runs
