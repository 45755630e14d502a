"""Form plumbing: a posted form into what was typed, a schema's verdict into messages
beside fields, and the labels and limits the form templates show.

Forms post flat names (`runs-0-ttft_ms`, `hardware_count`, ...); `parse_form` turns them
into a pydantic model from webapp/schemas.py or into `{field name: message}`, so a page
can put each message beside its field and keep everything that was typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, ValidationError

from webapp import fields, measured_on, schemas
from webapp.fields import FLAG_FIELDS, RUN_FIELDS, is_blank
from webapp.models import Submission
from webapp.schemas import FormInput
from webapp.services.rules import MAX_RUNS, MIN_RUNS

RUN_KEY = re.compile(r"^runs-(\d{1,3})-(" + "|".join(RUN_FIELDS) + r")$")
# A crafted form could name run rows far beyond the form's slots; stop reading there.
RUN_ROWS_READ = 100
# A link that pre-fills the fresh form carries it in the query string; gunicorn refuses
# request lines over its limit, so such a link leaves long notes behind rather than
# break. The reproduce page's refusal sends its pre-fill in a form instead (whole).
PREFILL_QUERY_MAX = 3000

M = TypeVar("M", bound=BaseModel)


def run_field(row: int, name: str) -> str:
    return f"runs-{row}-{name}"


def read_form(form: Mapping[str, str], *, with_runs: bool = True) -> FormInput:
    """Flatten a posted form; blank run rows are ignored (the form shows ten slots)."""
    values = {key: form.get(key, "") for key in form.keys()}  # noqa: SIM118 - MultiDict
    data: dict[str, Any] = {
        key: value for key, value in values.items() if not RUN_KEY.match(key)
    }
    for flag in FLAG_FIELDS:
        data[flag] = fields.flag_value(values.get(flag, ""))
    run_rows: list[int] = []
    if with_runs:
        rows: dict[int, dict[str, str]] = {}
        for key, value in values.items():
            match = RUN_KEY.match(key)
            if match and int(match.group(1)) < RUN_ROWS_READ:
                rows.setdefault(int(match.group(1)), {})[match.group(2)] = value
        runs = []
        for index in sorted(rows):
            row = {name: rows[index].get(name, "") for name in RUN_FIELDS}
            if all(is_blank(value) for value in row.values()):
                continue
            runs.append(row)
            run_rows.append(index)
        data["runs"] = runs
    return FormInput(values=values, data=data, run_rows=run_rows)


def errors_by_field(error: ValidationError, run_rows: list[int] | None = None) -> dict[str, str]:
    """{form field name: first message}; run-level messages use `runs-<row>-<field>`."""
    rows = run_rows or []
    messages: dict[str, str] = {}
    for item in error.errors(include_url=False):
        loc = item.get("loc", ())
        message = item.get("msg", "This value is not valid.")
        if item.get("type") == "missing":
            message = "This field is required."
        name = _field_name(loc, rows)
        messages.setdefault(name, message)
    return messages


def _field_name(loc: tuple, rows: list[int]) -> str:
    if not loc:
        return "__all__"
    if loc[0] == "runs" and len(loc) >= 3 and isinstance(loc[1], int):
        row = rows[loc[1]] if loc[1] < len(rows) else loc[1]
        return run_field(row, str(loc[2]))
    return str(loc[0])


def parse_form(
    schema: type[M], form: Mapping[str, str], context: Mapping[str, Any] | None = None
) -> tuple[M | None, dict[str, str], FormInput]:
    """(model or None, {field: message}, what was typed)."""
    posted = read_form(form, with_runs="runs" in schema.model_fields)
    try:
        return schema.model_validate(posted.data, context=dict(context or {})), {}, posted
    except ValidationError as error:
        messages = errors_by_field(error, posted.run_rows)
    if "runs" in messages:
        # A wrong number of runs stops the list before its rows are read; read them
        # anyway, so every message shows at once.
        for row, run in zip(posted.run_rows, posted.data.get("runs", []), strict=True):
            try:
                schemas.Run.model_validate(run)
            except ValidationError as error:
                for name, message in errors_by_field(error).items():
                    messages.setdefault(run_field(row, name), message)
    return None, messages, posted


# --- pre-filling the fresh form ------------------------------------------------------

PREFILL_FIELDS = (
    "runtime_version", "driver_version", "os_label", "concurrent_users", "prompt_tokens",
    "max_tokens", "seed", "quant_provider", "model_sha256_prefix", "vram_peak_mib",
    "prefill_tps", "handle", "url", "measured_on",
)
OTHER_NAME_FIELDS = ("other_model", "other_hardware", "cpu_family", "other_quant",
                     "other_runtime")


def fresh_prefill(hub: Submission, posted: FormInput | None = None, *,
                  in_a_link: bool = True) -> dict[str, str]:
    """Values that open the fresh form with the hub's configuration and, when given, what
    the operator typed on the reproduce form (their runtime included): query args of a
    link (`in_a_link`: notes too long for one are left out) or a form's fields."""
    values = posted.values if posted is not None else {}
    args: dict[str, str] = {
        "model": hub.model.slug,
        "hardware": hub.hardware.slug,
        "hardware_count": str(hub.hardware_count),
        "quant": hub.quant.slug,
        "runtime": (values.get("runtime") or hub.runtime.slug).strip(),
    }
    for name in OTHER_NAME_FIELDS:
        if getattr(hub, name):
            args[name] = getattr(hub, name)
    if posted is not None:
        for position, row in enumerate(posted.data.get("runs", [])[:MAX_RUNS]):
            for name in RUN_FIELDS:
                if (row.get(name) or "").strip():
                    args[run_field(position, name)] = row[name].strip()
        for name in PREFILL_FIELDS:
            if (values.get(name) or "").strip():
                args[name] = values[name].strip()
        for name in FLAG_FIELDS:
            if posted.data.get(name):
                args[name] = "on"
        notes = (values.get("notes") or "").strip()
        if notes and (not in_a_link
                      or len(urlencode({**args, "notes": notes})) <= PREFILL_QUERY_MAX):
            args["notes"] = notes
    return args


# --- what the templates need to render the same rules --------------------------------

LIMITS = {
    "MIN_RUNS": MIN_RUNS,
    "MAX_RUNS": MAX_RUNS,
    "HANDLE_MAX": fields.HANDLE_MAX,
    "URL_MAX": fields.URL_MAX,
    "NOTES_MAX": fields.NOTES_MAX,
    "FEEDBACK_MESSAGE_MAX": fields.FEEDBACK_MESSAGE_MAX,
    "RUNTIME_VERSION_MAX": fields.RUNTIME_VERSION_MAX,
    "DRIVER_VERSION_MAX": fields.DRIVER_VERSION_MAX,
    "OS_LABEL_MAX": fields.OS_LABEL_MAX,
    "QUANT_PROVIDER_MAX": fields.QUANT_PROVIDER_MAX,
    "SHA_PREFIX_MAX": fields.SHA_PREFIX_MAX,
    "CPU_FAMILY_MAX": fields.CPU_FAMILY_MAX,
    "OTHER_NAME_MAX": fields.OTHER_NAME_MAX,
    "HARDWARE_COUNT_MAX": fields.HARDWARE_COUNT_MAX,
    "MEASURED_ON_MIN": measured_on.MEASURED_ON_MIN.isoformat(),
}

FIELD_LABELS = {
    "model": "Model",
    "other_model": "Other model",
    "hardware": "Hardware",
    "hardware_count": "Number of devices",
    "other_hardware": "Other hardware",
    "cpu_family": "CPU family",
    "quant": "Quant",
    "other_quant": "Other quant",
    "runtime": "Runtime",
    "other_runtime": "Other runtime",
    "runtime_version": "Runtime version",
    "driver_version": "Driver version",
    "os_label": "OS label",
    "concurrent_users": "Concurrent users",
    "prompt_tokens": "Prompt length",
    "max_tokens": "Max tokens",
    "seed": "Seed",
    "quant_provider": "Quant provider",
    "model_sha256_prefix": "Model file sha256",
    "measured_on": "Measured on",
    "tensor_parallel": "Tensor parallelism",
    "runs": "Timed runs",
    "vram_peak_mib": "VRAM peak",
    "prefill_tps": "Prefill speed",
    "notes": "Notes",
    "handle": "Handle",
    "url": "Web address",
    "kind": "Kind of problem",
    "message": "Message",
    "band": "Divergence",
}
_RUN_LABELS = {"ttft_ms": "TTFT", "tokens_generated": "tokens generated",
               "decode_tps": "decode speed"}


# The fields in the order the submit and reproduce forms show them (the feedback form's
# after), so an error summary lists its messages as a reader meets the fields.
PAGE_ORDER = (
    "intake_file", "intake_text", "model", "other_model", "hardware", "hardware_count",
    "other_hardware", "cpu_family", "quant", "other_quant", "runtime", "other_runtime",
    "measured_on", "runtime_version", "driver_version", "os_label", "concurrent_users",
    "prompt_tokens", "max_tokens", "seed", "quant_provider", "model_sha256_prefix",
    "speculative", "batch_gt1", "tensor_parallel", "runs", "vram_peak_mib", "prefill_tps",
    "band", "notes", "handle", "url", "kind", "message",
)
_PLACE = {name: index for index, name in enumerate(PAGE_ORDER)}
_RUN_COLUMNS = ("ttft_ms", "tokens_generated", "decode_tps")


def _place(name: str) -> tuple[int, int]:
    match = RUN_KEY.match(name)
    if match:  # a run's cell: after the runs' own message, row by row, as the table reads
        column = _RUN_COLUMNS.index(match.group(2)) if match.group(2) in _RUN_COLUMNS else 3
        return _PLACE["runs"], 1 + int(match.group(1)) * 4 + column
    return _PLACE.get(name, len(PAGE_ORDER)), 0


def in_page_order(errors: Mapping[str, str]) -> dict[str, str]:
    """`errors` ordered as the form shows its fields (any other name last, as it came)."""
    return dict(sorted(errors.items(), key=lambda item: _place(item[0])))


def field_labels(errors: Mapping[str, str]) -> dict[str, str]:
    """Labels for the fields named in `errors`, run cells included ("Run 2 TTFT")."""
    labels = {}
    for name in errors:
        match = RUN_KEY.match(name)
        if match:
            labels[name] = f"Run {int(match.group(1)) + 1} {_RUN_LABELS[match.group(2)]}"
        elif name in FIELD_LABELS:
            labels[name] = FIELD_LABELS[name]
    return labels
