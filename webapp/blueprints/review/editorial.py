"""The editorial form: the editors publish their own measurement as an approved row.

The form is the public benchmark form's (FreshSubmission, the measurement date included);
the rules' flags are shown and must be confirmed before the row goes live.
"""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from webapp.blueprints.review import actor, bp
from webapp.extensions import db
from webapp.measured_on import MEASURED_ON_MIN
from webapp.models import Hardware, ModelVariant, Quant, Runtime, utcnow
from webapp.schemas import OTHER, FreshSubmission
from webapp.services import divergence, plausibility
from webapp.services.editorial import EditorialRun, publish_editorial
from webapp.services.rules import MAX_RUNS, MIN_RUNS, SPREAD_LIMIT, percent
from webapp.services.submissions import form_context
from webapp.web.forms import field_labels, in_page_order, parse_form


def _reference_tables() -> dict[str, dict]:
    def by_slug(model, order):
        return {row.slug: row for row in db.session.scalars(select(model).order_by(*order))}

    return {
        "models": by_slug(ModelVariant, (ModelVariant.family, ModelVariant.name)),
        "hardware": by_slug(Hardware, (Hardware.vendor, Hardware.name)),
        "quants": by_slug(Quant, (Quant.family, Quant.name)),
        "runtimes": by_slug(Runtime, (Runtime.name,)),
    }


def _pick_list(rows, label) -> list[tuple[str, str]]:
    # "Other" goes last, as on the public forms.
    options = [(row.slug, label(row)) for row in rows if row.slug != OTHER]
    return options + [(row.slug, label(row)) for row in rows if row.slug == OTHER]


def _editorial_page(status: int = 200, *, errors=None, values=None, flags=None):
    tables = _reference_tables()
    options = {
        "model": _pick_list(tables["models"].values(), lambda m: m.name),
        "hardware": _pick_list(tables["hardware"].values(), lambda h: h.name),
        "quant": _pick_list(tables["quants"].values(), lambda q: q.label),
        "runtime": _pick_list(tables["runtimes"].values(), lambda r: r.name),
    }
    errors = in_page_order(errors or {})
    return render_template(
        "review/editorial.html", options=options, errors=errors, labels=field_labels(errors),
        values=values or {}, flags=flags or (), run_slots=range(MAX_RUNS),
        min_runs=MIN_RUNS, max_runs=MAX_RUNS, other=OTHER, spread_limit=percent(SPREAD_LIMIT),
        measured_on_min=MEASURED_ON_MIN.isoformat(),
    ), status


@bp.route("/editorial", methods=["GET", "POST"])
def editorial():
    if request.method == "GET":
        return _editorial_page()
    tables = _reference_tables()
    now = utcnow()
    # The measurement date is the public forms' field (schemas.Measurement), one parser.
    parsed, errors, posted = parse_form(
        FreshSubmission, request.form, context=form_context(db.session, tables, now=now))
    if parsed is not None and not parsed.notes:
        summary = divergence.summarise_runs(parsed.run_tuples())
        if summary.needs_note:
            errors["notes"] = (f"A spread above {percent(SPREAD_LIMIT)} needs a note "
                               "explaining it.")
    if errors:
        return _editorial_page(422, errors=errors, values=posted.values)

    flags = _editorial_flags(parsed, tables)
    if flags and not request.form.get("confirm_flags"):
        return _editorial_page(422, values=posted.values, flags=flags, errors={
            "confirm_flags": "The rules flag these numbers. Check them, then confirm to "
                             "publish anyway."})
    published = publish_editorial(
        db.session, columns=_editorial_columns(parsed, tables, parsed.measured_at(now)),
        runs=[EditorialRun(*run) for run in parsed.run_tuples()],
        actor=actor(), now=now,
    )
    db.session.commit()
    flash(f"Editorial row #{published.id} published.", "success")
    return redirect(url_for("review.submission", submission_id=published.id), code=303)


def _editorial_columns(parsed: FreshSubmission, tables, measured_at: datetime) -> dict:
    return {
        "model_id": tables["models"][parsed.model].id,
        "hardware_id": tables["hardware"][parsed.hardware].id,
        "hardware_count": parsed.hardware_count,
        "quant_id": tables["quants"][parsed.quant].id,
        "runtime_id": tables["runtimes"][parsed.runtime].id,
        "other_model": parsed.other_model,
        "other_hardware": parsed.other_hardware,
        "other_quant": parsed.other_quant,
        "other_runtime": parsed.other_runtime,
        "cpu_family": parsed.cpu_family,
        "runtime_version": parsed.runtime_version,
        "driver_version": parsed.driver_version,
        "os_label": parsed.os_label,
        "concurrent_users": parsed.concurrent_users,
        "prompt_tokens": parsed.prompt_tokens,
        "max_tokens": parsed.max_tokens,
        "seed": parsed.seed,
        "quant_provider": parsed.quant_provider,
        "model_sha256_prefix": parsed.model_sha256_prefix,
        "speculative": parsed.speculative,
        "batch_gt1": parsed.batch_gt1,
        "tensor_parallel": parsed.tensor_parallel,
        "vram_peak_mib": parsed.vram_peak_mib,
        "prefill_tps": parsed.prefill_tps,
        "notes": parsed.notes,
        "measured_at": measured_at,
    }


def _editorial_flags(parsed: FreshSubmission, tables) -> tuple:
    setup = plausibility.Setup(
        model=tables["models"][parsed.model], hardware=tables["hardware"][parsed.hardware],
        hardware_count=parsed.hardware_count, quant=tables["quants"][parsed.quant],
        other_quant=parsed.other_quant, speculative=parsed.speculative,
        batch_gt1=parsed.batch_gt1, tensor_parallel=parsed.tensor_parallel,
    )
    decode = divergence.summarise_runs(parsed.run_tuples()).decode_median
    return plausibility.assess(setup, decode_tps=decode,
                               vram_peak_mib=parsed.vram_peak_mib).flags
