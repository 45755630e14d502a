"""Validated submissions, feedback and signed tokens' payloads (pydantic models).

The one place where what an operator types is judged, built from the field types in
webapp/fields.py; every message is written for the person at the form. Reading a posted
form into these models, and their messages back beside the form's fields, is the web
layer's (webapp/web/forms.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from webapp.fields import (
    CPU_FAMILY_MAX,
    DRIVER_VERSION_MAX,
    FEEDBACK_MESSAGE_MAX,
    OS_LABEL_MAX,
    OTHER_NAME_MAX,
    QUANT_PROVIDER_MAX,
    RUNTIME_VERSION_MAX,
    ConcurrentUsers,
    DecodeTps,
    Flag,
    Handle,
    HardwareCount,
    Notes,
    OptionalText,
    OptionalTokenCount,
    PrefillTps,
    Seed,
    ShaPrefix,
    TokenCount,
    TtftMs,
    Url,
    VramMib,
    check_tensor_parallel,
    error,
    free_text,
    is_blank,
    is_unreadable,
)
from webapp.measured_on import measured_moment, parse_measured_on
from webapp.services.rules import FEEDBACK_KINDS, MAX_RUNS, MIN_RUNS

OTHER = "other"

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
            raise error(
                "run_count",
                f"Enter at least {MIN_RUNS} timed runs (you entered {len(value)}): "
                "the median of several runs is what counts.",
            )
        if len(value) > MAX_RUNS:
            raise error(
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
    # Validate with context {"today": the UTC date} and, for a reproduction,
    # {"hub_measured_on": the original's date} (services/submissions.form_context).
    measured_on: date = Field(default=None, validate_default=True)

    @field_validator("measured_on", mode="plain")
    @classmethod
    def _check_measured_on(cls, value: object, info: ValidationInfo) -> date:
        context = info.context or {}
        return parse_measured_on(value, today=context.get("today") or datetime.now(UTC).date(),
                                 not_before=context.get("hub_measured_on"))

    def run_tuples(self) -> list[tuple[float, int, float]]:
        return [run.as_tuple() for run in self.runs]

    def measured_at(self, now: datetime) -> datetime:
        """The moment stored as the row's measured_at (age counts from it)."""
        return measured_moment(self.measured_on, now)


def _reference(info: ValidationInfo, table: str) -> Mapping[str, Any]:
    context = info.context or {}
    return context.get(table) or {}


def _pick(table: str, noun: str) -> Callable[[object, ValidationInfo], str]:
    def check(value: object, info: ValidationInfo) -> str:
        if is_blank(value) or not isinstance(value, str):
            raise error("required", f"Choose the {noun}.")
        slug = value.strip()
        if slug not in _reference(info, table):
            raise error("choice", f"Choose the {noun} from the list, or “Other”.")
        return slug

    return check


def _other_name(dimension: str, noun: str):
    limit = OTHER_NAME_MAX[dimension]

    def check(value: object, info: ValidationInfo) -> str | None:
        chosen = info.data.get(dimension)
        if chosen != OTHER:
            return None  # only read when "Other" was picked
        if is_unreadable(value):
            raise error("other_required", f"You chose “Other”: name the {noun} here.")
        return free_text(value, limit=limit)

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

    @field_validator("hardware_count", mode="after")
    @classmethod
    def _check_tensor_parallel(cls, value: int, info: ValidationInfo) -> int:
        check_tensor_parallel(bool(info.data.get("tensor_parallel")), value)
        return value

    @field_validator("cpu_family", mode="plain")
    @classmethod
    def _check_cpu_family(cls, value: object, info: ValidationInfo) -> str | None:
        hardware = _reference(info, "hardware").get(info.data.get("hardware"))
        if hardware is None or getattr(hardware, "kind", None) != "cpu":
            return None
        if is_unreadable(value):
            raise error(
                "cpu_required",
                "CPU-only runs are matched by CPU family: enter it, e.g. “AMD Ryzen 9 7950X”.",
            )
        return free_text(value, limit=CPU_FAMILY_MAX)


class ReproductionSubmission(Measurement):
    """A reproduction: the matching set is locked; only the runtime may change, within
    the hub's engine family. Validate with context {"runtimes": {slug: runtime}} holding
    that family's runtimes, and "hub_hardware_count", the hub's locked device count."""

    runtime: str | None = Field(default=None, validate_default=True)

    @field_validator("tensor_parallel", mode="after")
    @classmethod
    def _check_tensor_parallel(cls, value: bool, info: ValidationInfo) -> bool:
        check_tensor_parallel(value, (info.context or {}).get("hub_hardware_count"),
                              locked=True)
        return value

    @field_validator("runtime", mode="plain")
    @classmethod
    def _check_runtime(cls, value: object, info: ValidationInfo) -> str:
        if is_blank(value) or not isinstance(value, str):
            raise error("required", "Choose the runtime you ran.")
        if value.strip() not in _reference(info, "runtimes"):
            raise error(
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
            raise error("choice", "Choose what kind of problem this is.")
        return value.strip()

    @field_validator("message", mode="plain")
    @classmethod
    def _check_message(cls, value: object) -> str:
        if is_unreadable(value):
            raise error("required", "Write a short message for the reviewers.")
        return free_text(value, limit=FEEDBACK_MESSAGE_MAX, multiline=True)


# --- signed tokens' payloads --------------------------------------------------------


# A row or reference id a signed payload names: an INTEGER column, 32 bits on PostgreSQL.
# Only a payload signed with the site's key gets this far; one naming an id no column can
# hold is refused like a bad signature, not handed to the database (an overflow, a 500).
StoredId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class LockPayload(BaseModel):
    """The locked matching set of a reproduce form: the hub and its matching key
    (services/matching.py) as it was when the form was rendered."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    hub: StoredId
    model: StoredId
    hardware: StoredId
    count: StoredId
    quant: StoredId
    engine: str
    # the typed names of "other" entries (model, hardware or CPU family, quant, runtime)
    names: list[str] = Field(min_length=4, max_length=4)


class StatusPayload(BaseModel):
    """A private status link: the submission and its unguessable nonce."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    id: StoredId
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
