"""The reproduce flow: a hub's locked matching set, the operator's runs, and the live
divergence warning that says while they type what the POST will decide."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, abort, current_app, g, render_template, request

from webapp import schemas
from webapp.errors import keeps_typed_on_expiry, rate_limited
from webapp.extensions import db, read_only
from webapp.models import Submission, utcnow
from webapp.services import (
    detail,
    labels,
    live_check,
    pick_lists,
    provenance,
    submissions,
    tokens,
)
from webapp.services.rules import MIN_RUNS, RELATED_LIMIT, SPREAD_LIMIT, TOLERANCE, Band
from webapp.web import intake as importing
from webapp.web import live_get, page_cache, replies
from webapp.web.forms import fresh_prefill, parse_form, read_form
from webapp.web.htmx import wants_fragment

bp = Blueprint("reproduce", __name__)

# How long a worker may reuse a hub for the live warning (_hub_snapshot).
HUB_SNAPSHOT_SECONDS = 5


def _hub(benchmark_id: int) -> Submission:
    hub = submissions.reproducible_hub(db.session, benchmark_id)
    if hub is None:
        abort(404)
    return hub


def _hub_snapshot(benchmark_id: int) -> Submission | None:
    """The reproducible hub as a detached, read-only copy this worker reuses for a few
    seconds: the live warning runs on every pause in typing, and loading the hub (with
    its four reference rows, and the database round trip) was most of its time.

    The live warning is advice; the POST decides on a fresh load. So a kept copy may
    miss a decision taken on its hub for at most HUB_SNAPSHOT_SECONDS, and no longer.
    Only what the joined load brought (the row's columns, model, hardware, quant,
    runtime) may be read from it; the live warning reads nothing else.
    """
    if not page_cache.enabled():
        return submissions.reproducible_hub(db.session, benchmark_id)
    hub = page_cache.recall("hub_snapshots", benchmark_id, 0)
    if hub is None:
        hub = submissions.reproducible_hub(db.session, benchmark_id)
        if hub is None:
            return None
        # Out of the session with its reference rows, so nothing this request does to
        # its session (a rollback expires what it holds) can reach the kept copy.
        for instance in (hub, hub.model, hub.hardware, hub.quant, hub.runtime):
            db.session.expunge(instance)
        page_cache.remember("hub_snapshots", benchmark_id, 0, hub,
                            lifetime=min(HUB_SNAPSHOT_SECONDS,
                                         current_app.config["PAGE_CACHE_SECONDS"]))
    return hub


def _altered_lock(form: Mapping[str, str], hub: Submission) -> str | None:
    """Why a POST is refused when it carries a locked field (SPEC §9) with another value
    than the hub's, else None. The form sends none (they travel in the signed token),
    so such a value was written by hand: refused, never silently replaced."""
    own = {
        "model": hub.model.slug, "other_model": hub.other_model,
        "hardware": hub.hardware.slug, "hardware_count": str(hub.hardware_count),
        "other_hardware": hub.other_hardware, "cpu_family": hub.cpu_family,
        "quant": hub.quant.slug, "other_quant": hub.other_quant,
        "other_runtime": hub.other_runtime,
    }
    altered = sorted(name for name in importing.LOCKED_FIELDS
                     if name in form and (form.get(name) or "").strip()
                     != (own.get(name) or "").strip())
    if not altered:
        return None
    return ("The locked configuration cannot be changed on a reproduction, but the form "
            f"sent another {', '.join(name.replace('_', ' ') for name in altered)} than "
            "this benchmark's. To measure another configuration, submit it as a new "
            "benchmark; to reproduce this one, reload its reproduce page.")


def _locked(hub: Submission) -> list[tuple[str, str]]:
    engine = hub.runtime.engine_family
    if hub.runtime.is_other:
        engine = f"other: {hub.other_runtime}" if hub.other_runtime else hub.runtime.name
    return [
        ("Model", labels.model_label(hub)),
        ("Hardware (SKU and count)", labels.hardware_label(hub)),
        ("Quant", labels.quant_label(hub)),
        ("Runtime engine family", f"{engine} (the original ran {hub.runtime.name})"),
    ]


def _live(hub: Submission, posted: schemas.FormInput) -> dict:
    check = live_check.check_reproduction(hub, posted, today=utcnow().date())
    refused = check.refused and check.summary is not None
    return {
        "check": check,
        "hub": hub,
        # only a refused run links to the pre-filled fresh form
        "prefill": fresh_prefill(hub, posted, in_a_link=False) if check.refused else {},
        # a refused run is told which way it differs ("31% faster"), not only how far
        "differences": detail.differences(hub.ttft_ms, hub.decode_tps,
                                          check.summary.ttft_median,
                                          check.summary.decode_median) if refused else (),
    }


def _render(hub: Submission, runtimes: Mapping, posted: schemas.FormInput,
            errors: Mapping[str, str], status: int, **extra) -> tuple[str, int]:
    if hub.is_demo:
        g.demo_data_shown = True  # base.html's banner: a generated row, not a measurement
    return render_template(
        "reproduce/reproduce.html",
        values=posted.values,
        lock_token=tokens.lock_token(hub),
        runtimes=runtimes.values(),
        facts=labels.build_context(hub),
        locked=_locked(hub),
        bands=list(Band),
        rules={"MIN_RUNS": MIN_RUNS, "TOLERANCE": TOLERANCE, "RELATED_LIMIT": RELATED_LIMIT,
               "SPREAD_LIMIT": SPREAD_LIMIT},
        plain_prefill=fresh_prefill(hub),
        **_live(hub, posted),
        **replies.form_context(errors),
        **extra,
    ), status


def _expired(benchmark_id: int):
    """The reproduce form again with what was sent, after its token was refused."""
    hub = _hub(benchmark_id)
    return _render(hub, pick_lists.family_runtimes(db.session, hub.runtime),
                   read_form(importing.typed_values(request.form)), {}, 400,
                   form_expired=True)


@bp.route("/benchmarks/<int:benchmark_id>/reproduce", methods=["GET", "POST"])
@keeps_typed_on_expiry(_expired)
def reproduce(benchmark_id: int):
    hub = _hub(benchmark_id)
    runtimes = pick_lists.family_runtimes(db.session, hub.runtime)
    if request.method == "GET":
        blank = read_form({"runtime": hub.runtime.slug, "concurrent_users": "1",
                           "measured_on": utcnow().date().isoformat()})
        return _render(hub, runtimes, blank, {}, 200)

    if replies.is_bot(request.form):
        return replies.calm_reply()
    try:
        tokens.read_lock(request.form.get("lock_token"), hub)
    except tokens.LockError as error:
        posted = read_form(request.form)
        return _render(hub, runtimes, posted, {}, 400, lock_error=str(error))
    altered = _altered_lock(request.form, hub)
    if altered is not None:
        return _render(hub, runtimes, read_form(request.form), {}, 400, lock_error=altered)

    now = utcnow()
    data, errors, posted = parse_form(
        schemas.ReproductionSubmission, request.form,
        submissions.form_context(db.session, {"runtimes": runtimes}, now=now, hub=hub),
    )
    verdict = live_check.check_reproduction(hub, posted)
    errors.update(verdict.blocking())
    errors.update(importing.unread_paste(request.form))
    if verdict.refused:
        # Over the outer band is a decision, not a mistake to fix (SPEC §3): the page
        # leads with the two ways forward, and the form keeps the numbers. Still a 422:
        # the flow refused the submission and nothing was stored.
        return _render(hub, runtimes, posted, errors, 422, decision=errors.pop("band"))
    if errors or data is None:
        return _render(hub, runtimes, posted, errors, 422)

    ip_hash, limited = replies.over_limit("submissions", now)
    if limited:
        db.session.commit()
        return _render(hub, runtimes, posted, {}, 429,
                       **rate_limited("submissions", ip_hash, now))
    submission = submissions.create_reproduction(db.session, hub, data, runtimes[data.runtime],
                                                 ip_hash=ip_hash, now=now)
    provenance.record(submission, posted.values)
    db.session.commit()
    return replies.status_redirect(submission)


@bp.route("/benchmarks/<int:benchmark_id>/reproduce/check", methods=["GET", "POST"])
@read_only
def check(benchmark_id: int):
    """The live divergence warning: the fragment for htmx, the whole form otherwise. The
    form asks by GET with the typed numbers only (web/live_get: no session, no token,
    cacheable); the POST stays for pages rendered before."""
    is_get = request.method == "GET"
    posted = read_form(live_get.typed() if is_get else request.form)
    if wants_fragment():
        hub = _hub_snapshot(benchmark_id)
        if hub is None:
            abort(404)
        response = replies.fragment("reproduce/_live.html", **_live(hub, posted),
                                    spread_limit=SPREAD_LIMIT)
        return live_get.cacheable(response) if is_get else response
    hub = _hub(benchmark_id)
    return _render(hub, pick_lists.family_runtimes(db.session, hub.runtime), posted, {}, 200)


@bp.post("/benchmarks/<int:benchmark_id>/reproduce/import")
@read_only
@keeps_typed_on_expiry(_expired)
def import_file(benchmark_id: int):
    """A tool's output fills the form for review (web/intake); the locked matching set is
    checked against the file, never filled from it. Nothing is stored."""
    hub = _hub(benchmark_id)
    runtimes = pick_lists.family_runtimes(db.session, hub.runtime)
    choices = pick_lists.reference_choices(db.session)
    typed = importing.typed_values(request.form)
    try:
        refs = importing.references(choices)
        found, name = importing.read_upload(refs)
        importing.refuse_other_configuration(found, hub, refs)
        importing.refuse_same_file(found, hub)
    except importing.Refusal as error:
        return _render(hub, runtimes, read_form(typed), importing.refused(error),
                       error.status)

    def allowed(field: str) -> bool:
        if field == "runtime":
            return found.values[field] in runtimes
        return field not in importing.LOCKED_FIELDS

    values, applied = importing.filled(typed, found, allowed)
    _data, errors, posted = parse_form(
        schemas.ReproductionSubmission, values,
        submissions.form_context(db.session, {"runtimes": runtimes}, now=utcnow(), hub=hub))
    return _render(hub, runtimes, posted, importing.imported_errors(errors, applied), 200,
                   imported=importing.summary(found, name, applied, choices))
