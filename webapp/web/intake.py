"""Import: a tool's output (an uploaded file or pasted text) fills the fresh and the
reproduce forms, for the operator to review before sending.

The forms' import views (`submit.import_file`, `reproduce.import_file`) read the upload
here with services/intake and re-render the form they came from: every filled value
with the source line it came from, the notes, the estimates (shown, never filled), the
names no reference entry matched, and a signed provenance token (services/provenance)
that the form's own POST reads. Nothing is stored. A file the intake refuses, or one
that contradicts the reproduce form's locked matching set, is named beside the upload
field with a 4xx, and the form keeps what was typed.

The body cap: the import views take a file of up to intake.MAX_BYTES, more than the
app's MAX_CONTENT_LENGTH. Their cap (config INTAKE_MAX_CONTENT_LENGTH) is set on the
request before any hook reads the form (CSRF and security.py read it in app-level hooks).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Flask, current_app, request
from markupsafe import Markup, escape

from webapp.services import intake, pick_lists, provenance, runner_file
from webapp.web.forms import RUN_KEY, field_labels

CONFIG_KEY = "INTAKE_MAX_CONTENT_LENGTH"
FORM_OVERHEAD = 64 * 1024  # the form's own fields around the file: a few KiB
UPLOAD_FIELD = "intake_file"
PASTE_FIELD = "intake_text"
PROVENANCE_FIELD = provenance.FIELD
PASTE_KEPT_MAX = 32 * 1024  # a refused paste is shown again up to this size
ENDPOINTS = frozenset({"submit.import_file", "reproduce.import_file"})
# The forms' own POSTs carry the paste box too (an operator may paste and press the
# form's button instead of the import's): the same cap, so the form comes back with a
# message instead of a bare 413 (unread_paste).
FORM_ENDPOINTS = frozenset({"submit.benchmark", "reproduce.reproduce"})
# The reproduce form's locked dimensions: checked against the lock, never filled.
LOCKED_FIELDS = frozenset({"model", "other_model", "hardware", "hardware_count",
                           "other_hardware", "cpu_family", "quant", "other_quant",
                           "other_runtime"})
PICKED_TABLES = {"model": "models", "hardware": "hardware", "quant": "quants",
                 "runtime": "runtimes"}


class Refusal(Exception):
    """An upload the form refuses: the message goes beside the upload field."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class UploadHelp:
    limit: str
    accept: str


def install(app: Flask) -> None:
    """The import views' body cap, and the template globals the forms and pages use."""
    app.config.setdefault(CONFIG_KEY, intake.MAX_BYTES + FORM_OVERHEAD)
    # First of the app-level hooks: Flask-WTF's CSRF check and security.py read
    # request.form before any view, and the cap must be raised before the body is read.
    app.before_request_funcs.setdefault(None, []).insert(0, _raise_body_cap)
    # How the numbers got there (detail page, dashboard), the runner's two commands
    # (guide, detail page, reproduce form) and the upload field's limits (both forms).
    app.add_template_global(provenance.of_row, "provenance_of")
    app.add_template_global(runner_file.commands, "runner_commands")
    app.add_template_global(
        UploadHelp(limit=intake.safejson.size_mib(),
                   accept=".json,.jsonl,.txt,.log,application/json,text/plain"),
        "intake_upload",
    )
    app.add_template_filter(code_spans, "code_spans")


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def code_spans(text: object) -> Markup:
    """A message with commands in backticks ("the text `ollama run --verbose` prints"),
    escaped whole first, then each backticked span set as <code> (the import's messages
    and notes name commands so; the backticks read as stray marks on a page)."""
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escape(text))))  # noqa: S704  # nosec B704


def _raise_body_cap() -> None:
    if request.endpoint in ENDPOINTS or (request.endpoint in FORM_ENDPOINTS
                                         and request.method == "POST"):
        limit = current_app.config[CONFIG_KEY]
        request.max_content_length = limit
        request.max_form_memory_size = limit


# --- reading the upload ------------------------------------------------------------------


def references(choices: pick_lists.Choices) -> intake.References:
    tables = choices.by_slug
    return intake.References.from_rows(
        hardware=tables["hardware"].values(), models=tables["models"].values(),
        quants=tables["quants"].values(), runtimes=tables["runtimes"].values(),
    )


def read_upload(refs: intake.References) -> tuple[intake.Intake, str | None]:
    upload = request.files.get(UPLOAD_FIELD)
    if upload is not None and upload.filename:
        raw, name = upload.read(), upload.filename
    elif (request.form.get(PASTE_FIELD) or "").strip():
        raw, name = request.form[PASTE_FIELD].encode("utf-8"), None
    else:
        raise Refusal("Choose a file, or paste the tool's output, before reading it.", 400)
    status = 413 if len(raw) > intake.MAX_BYTES else 422
    try:
        found = intake.parse(raw, filename=name, references=refs)
    except intake.IntakeError as error:
        raise Refusal(str(error), status) from None
    _check_runner(found)
    return found, name


def _check_runner(found: intake.Intake) -> None:
    """A runner's result names the runner file that wrote it: not the one this site
    serves now (or none) is a doubt the row keeps."""
    if found.format != intake.runner.FORMAT:
        return
    served = runner_file.served()
    if served is not None and found.facts.get("runner_sha256") != served.sha256:
        found.doubts.append("other-runner")
        found.notes.append(intake.DOUBTS["other-runner"])


def typed_values(form: Mapping[str, str]) -> dict[str, str]:
    """What the operator typed, to keep: the paste only when it is short."""
    values = {key: form.get(key, "") for key in form.keys()}  # noqa: SIM118 - MultiDict
    if len(values.get(PASTE_FIELD, "")) > PASTE_KEPT_MAX:
        values.pop(PASTE_FIELD)
    return values


def filled(typed: Mapping[str, str], found: intake.Intake,
            allowed: Callable[[str], bool]) -> tuple[dict[str, str], list[str]]:
    """The typed values with the file's on top. A file with runs replaces every typed
    run, so a row never mixes runs of two sources."""
    applied = [name for name in found.values if allowed(name)]
    imports_runs = any(RUN_KEY.match(name) for name in applied)
    values = {
        key: value for key, value in typed.items()
        if key not in (PASTE_FIELD, PROVENANCE_FIELD)
        and not (imports_runs and RUN_KEY.match(key))
    }
    values.update({name: found.values[name] for name in applied})
    token = provenance.issue(found)
    if token:
        values[PROVENANCE_FIELD] = token
    return values, applied


# --- what the operator reviews -----------------------------------------------------------


@dataclass(frozen=True)
class Line:
    label: str
    value: str
    source: str


@dataclass(frozen=True)
class Summary:
    """The import as the form shows it above the fields."""

    provenance: str
    filename: str | None
    sha256: str
    filled: tuple[Line, ...]
    checked: tuple[Line, ...]  # the reproduce form: the file's matching set, as locked
    notes: tuple[str, ...]
    estimates: tuple[Line, ...]  # value and how it was estimated; never filled
    unmapped: tuple[tuple[str, str], ...]
    facts: tuple[tuple[str, str], ...]
    runs_imported: bool


FACT_LABELS = {
    "prompt_sha256": "Prompt sha256",
    "runner_sha256": "Runner file sha256",
    "model_id": "Model as served",
    "build_commit": "Build commit",
    "model_type": "Model type",
    "ollama_tag": "Ollama tag",
}


def _label(name: str) -> str:
    return field_labels({name: ""}).get(name) or name.replace("_", " ").capitalize()


def _shown(name: str, value: str, choices: pick_lists.Choices) -> str:
    table = PICKED_TABLES.get(name)
    row = choices.by_slug[table].get(value) if table else None
    return getattr(row, "label", None) or getattr(row, "name", None) or value


def summary(found: intake.Intake, name: str | None, applied: list[str],
             choices: pick_lists.Choices) -> Summary:
    def line(field: str) -> Line:
        value = _shown(field, found.values[field], choices)
        return Line(_label(field), value, found.sources.get(field, ""))

    return Summary(
        provenance=found.provenance,
        filename=name,
        sha256=found.sha256,
        filled=tuple(line(field) for field in applied),
        checked=tuple(line(field) for field in found.values if field not in applied),
        notes=tuple(found.notes),
        estimates=tuple(Line(_label(field), estimate.value, estimate.basis)
                        for field, estimate in found.estimates.items()),
        unmapped=tuple(found.unmapped.items()),
        facts=tuple((FACT_LABELS.get(key) or key.replace("_", " ").capitalize(), value)
                    for key, value in found.facts.items()),
        runs_imported=any(RUN_KEY.match(field) for field in applied),
    )


def imported_errors(errors: Mapping[str, str], applied: list[str]) -> dict[str, str]:
    """The form's own messages (parse_form's, on the filled values) for the fields the
    import filled: a value the form would refuse (a token count past any real run, a
    date before the original's) is named beside its field at once, not only when the
    form is sent. Fields the operator has still to fill say nothing yet."""
    return {name: message for name, message in errors.items() if name in applied}


def refused(error: Refusal) -> dict[str, str]:
    return {UPLOAD_FIELD: str(error)}


def unread_paste(form: Mapping[str, str]) -> dict[str, str]:
    """The form's own button pressed with a tool's output still in the paste box: the
    error beside the upload field, so the text is neither sent unread nor dropped."""
    if not (form.get(PASTE_FIELD) or "").strip():
        return {}
    return {UPLOAD_FIELD: (
        "The box “Or paste the output” holds text that was not read. Press “Read it and "
        "fill the form” to fill the form from it and check what it filled, or empty the "
        "box; then send the form again.")}


def too_large_message() -> str | None:
    """The 413 page's words on the forms that take a file or a paste (None elsewhere):
    the limits, and the way back to what was typed."""
    if request.endpoint not in ENDPOINTS | FORM_ENDPOINTS:
        return None
    return (
        f"What you sent is too large for this form: a result file or pasted output may be "
        f"up to {intake.safejson.size_mib()}. Nothing was stored. Go back to the form (your "
        "browser’s Back button may still show what you typed), then upload a smaller file, "
        "or paste only the part of the output with the results.")


def refuse_other_configuration(found: intake.Intake, hub, refs: intake.References) -> None:
    """Refusal (409) when the file's model, hardware, quant, engine or device (CPU or
    GPU) contradicts the reproduce form's locked matching set, naming what differs. What
    the file names in a way the site cannot check joins the import's notes: the locked
    value stands."""
    check = intake.check_locked(
        found, model=hub.model.slug, hardware=hub.hardware.slug,
        hardware_count=hub.hardware_count, quant=hub.quant.slug,
        runtime=hub.runtime.slug, references=refs,
        other_model=hub.other_model, other_hardware=hub.other_hardware,
        other_quant=hub.other_quant, other_runtime=hub.other_runtime,
    )
    if check.conflicts:
        raise Refusal("This file is a run of another configuration, so it cannot "
                      "reproduce this benchmark: " + " ".join(check.conflicts), 409)
    found.notes.extend(check.unchecked)


def refuse_same_file(found: intake.Intake, hub) -> None:
    """Refusal (409) when the file is the original's own result file, or one an earlier
    reproduction of it sent: a reproduction is a second measurement."""
    if hub.source_sha256 == found.sha256:
        raise Refusal("This is the original benchmark's own result file (the same sha256), "
                      "not a second measurement of it. Run the benchmark on your machine and "
                      "upload that result.", 409)
    for row in hub.reproductions:
        if row.source_sha256 == found.sha256:
            raise Refusal(f"This result file was already sent as a reproduction of this "
                          f"benchmark (#{row.id}, the same sha256): a reproduction is your "
                          "own measurement. Run the benchmark on your machine and upload "
                          "that result.", 409)
