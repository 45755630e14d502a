"""The reviewer dashboard: login, the moderation queue, decisions, feedback triage,
editorial rows and the audit log. Every page except the login needs a reviewer.

Views stay thin: parse -> a service in moderation/accounts -> one commit -> redirect,
or roll back and re-render with the message and a 4xx status.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from webapp.errors import render_error
from webapp.extensions import db, login_manager
from webapp.models import FeedbackNote, Hardware, ModelVariant, Quant, Runtime, Submission, utcnow
from webapp.schemas import OTHER, FreshSubmission
from webapp.services import accounts, divergence, labels, moderation, plausibility, privacy
from webapp.services.rules import (
    FEEDBACK_KINDS,
    MAX_RUNS,
    MIN_RUNS,
    REJECTION_REASON_MAX,
    REJECTION_REASONS,
    SPREAD_LIMIT,
    Kind,
    State,
    percent,
)
from webapp.web.forms import parse_form
from webapp.web.htmx import wants_fragment

bp = Blueprint("review", __name__, url_prefix="/review")

OPEN_ENDPOINTS = frozenset({"review.login"})
WRITTEN = "written"  # the "write your own" choice among the rejection reasons
QUEUE_PER_PAGE = 50
LOGIN_NAME_MAX = 80
# Ids are 32-bit INTEGER columns; a longer number in a URL is a 404, not a database error.
ID = "int(max=2147483647)"


@bp.record_once
def _wire_login(_state) -> None:
    login_manager.login_view = "review.login"
    login_manager.login_message = "Log in to open the reviewer dashboard."
    login_manager.login_message_category = "info"
    login_manager.user_loader(_load_reviewer)
    login_manager.unauthorized_handler(_unauthorized)
    # Flask-Login binds a session to a hash of the client address and user agent, reading
    # the address itself. Trustbench reads addresses only in services/privacy (SPEC §8);
    # the session_token in the user id is what ends sessions, so the user agent suffices.
    login_manager._session_identifier_generator = _session_identifier


def _load_reviewer(user_id: str):
    return accounts.load_session_user(db.session, user_id)


def _session_identifier() -> str:
    agent = request.headers.get("User-Agent", "")
    return hashlib.sha256(agent.encode("utf-8", "replace")).hexdigest()


def _unauthorized():
    login = url_for("review.login")
    if wants_fragment():
        response = make_response(render_error(
            401, "Unauthorized", "Your reviewer session has ended. Log in again.")
        )
        response.headers["HX-Redirect"] = login
        return response
    flash(login_manager.login_message, login_manager.login_message_category)
    if request.method == "GET":
        return redirect(url_for("review.login", next=request.full_path.rstrip("?")))
    return redirect(login, code=303)


@bp.before_request
def _require_reviewer():
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.after_request
def _private(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.vary.add("Cookie")
    return response


@bp.context_processor
def _helpers():
    return {
        "current_user": current_user,
        "number": labels.number,
        "percent": percent,
        "utc": _utc_label,
        "actor": lambda actor: moderation.actor_label(actor, show_reviewer_names=True),
        "State": State,
        "Kind": Kind,
        "model_label": labels.model_label,
        "hardware_label": labels.hardware_label,
        "quant_label": labels.quant_label,
        "runtime_label": labels.runtime_label,
        "operator_label": labels.operator_label,
        "open_feedback": moderation.open_feedback_count(db.session)
        if current_user.is_authenticated else 0,
    }


def _utc_label(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def _reviewer():
    return current_user._get_current_object()


def _actor() -> str:
    return moderation.reviewer_actor(_reviewer())


def _submission_or_404(submission_id: int, *, lock: bool = False) -> Submission:
    """The submission, or a 404. lock=True (decisions) takes its row lock on PostgreSQL, so
    two reviewers deciding the same row at once are serialised and the second one sees the
    first one's decision (SQLite serialises writers with BEGIN IMMEDIATE already)."""
    row = db.session.get(Submission, submission_id,
                         with_for_update=moderation.ROW_LOCK if lock else None,
                         populate_existing=lock)
    if row is None:
        abort(404)
    return row


def _small_int(text: str | None) -> int | None:
    """A positive id or page number as typed, or None (never a database overflow)."""
    value = (text or "").strip()
    return int(value) if re.fullmatch(r"[0-9]{1,9}", value) else None


def _int_arg(name: str, default: int = 1) -> int:
    return _small_int(request.args.get(name)) or default


# --- login and logout ------------------------------------------------------------------


def _safe_next(target: str | None) -> str | None:
    """Only a path inside the dashboard: never another host, never login/logout."""
    if not target or not target.startswith("/review") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    if parts.path in (url_for("review.login"), url_for("review.logout")):
        return None
    return target


def _login_page(status: int = 200, *, error: str | None = None, name: str = ""):
    next_url = _safe_next(request.values.get("next"))
    return render_template("review/login.html", error=error, name=name,
                           next_url=next_url), status


def _count_login_attempt(name: str, now: datetime) -> tuple[str, bool]:
    """Count the attempt per IP hash and per account: (ip hash, over either limit)."""
    ip_hash = privacy.ip_hash(db.session, privacy.client_address(request), now)
    over_ip = privacy.hit(db.session, "login", f"ip:{ip_hash}", now)
    over_account = privacy.hit(db.session, "login", f"account:{name}", now) if name else False
    return ip_hash, over_ip or over_account


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("review.queue"))
        return _login_page()

    name = accounts.normalise_name(request.form.get("name"))[:LOGIN_NAME_MAX]
    password = request.form.get("password", "")
    now = utcnow()
    ip_hash, throttled = _count_login_attempt(name, now)
    if throttled:
        db.session.commit()  # the counters must survive the refusal
        current_app.logger.warning(
            "review login throttled: account=%r ip_hash=%s", name, ip_hash)
        message = (f"Too many login attempts ({privacy.limit_label('login')} allowed). "
                   "Wait a while and try again.")
        return _login_page(429, error=message, name=name)

    reviewer = accounts.authenticate(db.session, name, password)
    if reviewer is None:
        db.session.commit()
        current_app.logger.warning("review login failed: account=%r ip_hash=%s", name, ip_hash)
        return _login_page(401, error="That name and password do not match an active "
                                      "reviewer account.", name=name)

    accounts.rotate_session(reviewer)
    reviewer.last_login_at = now
    db.session.commit()
    next_url = _safe_next(request.form.get("next"))
    session.clear()  # a fresh session: nothing from before the login carries over
    login_user(reviewer)
    return redirect(next_url or url_for("review.queue"), code=303)


@bp.post("/logout")
def logout():
    reviewer = _reviewer()
    accounts.rotate_session(reviewer)  # a saved copy of this session's cookie stops working
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("review.login"), code=303)


# --- the queue -----------------------------------------------------------------------------


@bp.get("/")
def queue():
    kind_arg = request.args.get("kind", "")
    kind = Kind(kind_arg) if kind_arg in Kind._value2member_map_ else None
    flag_arg = request.args.get("flag", "")
    flag = flag_arg if flag_arg == "any" or flag_arg in moderation.QUEUE_FLAGS else None
    listing = moderation.queue(db.session, kind=kind, flag=flag, page=_int_arg("page"),
                               per_page=QUEUE_PER_PAGE)
    return render_template("review/queue.html", queue=listing, flags=moderation.QUEUE_FLAGS,
                           reasons=REJECTION_REASONS, reason_max=REJECTION_REASON_MAX)


# --- a submission ---------------------------------------------------------------------------


def _submission_page(submission_id: int, status: int = 200, *, error: str | None = None,
                     form: dict | None = None, feedback_errors: dict | None = None):
    review = moderation.review(db.session, submission_id)
    if review is None:
        abort(404)
    similar = []
    if review.row.kind != Kind.REPRODUCTION:
        similar = moderation.similar_public_rows(db.session, review.row)
    return render_template(
        "review/submission.html", review=review, row=review.row, error=error,
        form=form or {}, reasons=REJECTION_REASONS, reason_max=REJECTION_REASON_MAX,
        similar=similar, feedback_kinds=FEEDBACK_KINDS, errors=feedback_errors or {},
        build_context=labels.build_context(review.row),
    ), status


@bp.get(f"/submissions/<{ID}:submission_id>")
def submission(submission_id: int):
    return _submission_page(submission_id)


@bp.get(f"/submissions/<{ID}:submission_id>/history")
def history(submission_id: int):
    review = moderation.review(db.session, submission_id)
    if review is None:
        abort(404)
    if not wants_fragment():
        return redirect(url_for("review.submission", submission_id=submission_id,
                                _anchor="history"))
    return render_template("review/_history.html", review=review)


# --- decisions ------------------------------------------------------------------------------


def _rejection_reason(form) -> tuple[str, str | None]:
    """The reason a reject form gives: a listed reason, a written one, or both."""
    choice = (form.get("reason") or "").strip()
    written = moderation.one_line(form.get("reason_text"))
    if choice and choice != WRITTEN and choice not in REJECTION_REASONS:
        return "", "Pick a reason from the list or write one."
    listed = choice if choice in REJECTION_REASONS else ""
    if listed and written:
        return f"{listed}: {written}", None
    return listed or written, None


def _decided_message(row: Submission) -> str:
    state = State(row.state)
    if state == State.REPRODUCED:
        return (f"#{row.id} marked reproduced: it now counts as evidence for #{row.hub_id}.")
    if state == State.APPROVED and row.kind == Kind.REPRODUCTION:
        return f"#{row.id} approved as a row of its own, related to #{row.hub_id}."
    if state == State.APPROVED:
        return f"#{row.id} approved: it is now public."
    if state == State.REJECTED:
        return f"#{row.id} rejected: {row.rejection_reason}"
    return f"#{row.id} is now {state.label.lower()}."


def _decision(submission_id: int, decide) -> object:
    """Run one decision; commit it with its audit event, or roll back and say why."""
    row = _submission_or_404(submission_id, lock=True)
    form = request.form.to_dict()
    try:
        decide(row, form)
    except moderation.TransitionError as error:
        db.session.rollback()
        return _decision_failed(submission_id, str(error), form)
    db.session.commit()
    message = _decided_message(row)
    if wants_fragment():
        return render_template(
            "review/_queue_row.html", item=moderation.QueueItem(row, (), None),
            message=message, counts=moderation.queue_counts(db.session),
        )
    flash(message, "success")
    if form.get("return_to") == "queue":
        return redirect(url_for("review.queue"), code=303)
    return redirect(url_for("review.submission", submission_id=row.id), code=303)


def _decision_failed(submission_id: int, message: str, form: dict):
    if wants_fragment() and form.get("return_to") == "queue":
        row = _submission_or_404(submission_id)
        item = moderation.queue_item(db.session, row)
        return render_template(
            "review/_queue_row.html", item=item, error=message, form=form,
            reasons=REJECTION_REASONS, reason_max=REJECTION_REASON_MAX,
        ), 422
    return _submission_page(submission_id, 422, error=message, form=form)


@bp.post(f"/submissions/<{ID}:submission_id>/approve")
def approve(submission_id: int):
    def decide(row, form):
        moderation.approve_public(db.session, row, actor=_actor(), now=utcnow(),
                                  reason=form.get("note", ""))
    return _decision(submission_id, decide)


@bp.post(f"/submissions/<{ID}:submission_id>/reproduced")
def mark_reproduced(submission_id: int):
    def decide(row, form):
        moderation.mark_reproduced(db.session, row, actor=_actor(), now=utcnow(),
                                   reason=form.get("note", ""))
    return _decision(submission_id, decide)


@bp.post(f"/submissions/<{ID}:submission_id>/reject")
def reject(submission_id: int):
    def decide(row, form):
        reason, problem = _rejection_reason(form)
        if problem:
            raise moderation.TransitionError(problem)
        moderation.reject(db.session, row, actor=_actor(), now=utcnow(), reason=reason)
    return _decision(submission_id, decide)


@bp.post(f"/submissions/<{ID}:submission_id>/revise")
def revise(submission_id: int):
    def decide(row, form):
        target = form.get("to_state", "")
        if target not in State._value2member_map_:
            raise moderation.TransitionError("Choose the state to revise the decision to.")
        moderation.revise(db.session, row, State(target), actor=_actor(), now=utcnow(),
                          reason=form.get("reason", ""))
    return _decision(submission_id, decide)


@bp.post(f"/submissions/<{ID}:submission_id>/link")
def link(submission_id: int):
    row = _submission_or_404(submission_id, lock=True)
    form = request.form.to_dict()
    other_id = _small_int((form.get("other") or "").strip().lstrip("#"))
    other = db.session.get(Submission, other_id) if other_id else None
    try:
        if other is None:
            raise moderation.TransitionError("Give the number of an existing submission.")
        key = moderation.link_operators(db.session, [row, other], actor=_actor(), now=utcnow(),
                                        reason=form.get("reason", ""))
    except moderation.TransitionError as error:
        db.session.rollback()
        return _submission_page(submission_id, 422, error=str(error), form=form)
    db.session.commit()
    flash(f"#{row.id} and #{other.id} now count as one operator ({key}).", "success")
    return redirect(url_for("review.submission", submission_id=row.id), code=303)


# --- feedback triage ---------------------------------------------------------------------------


@bp.get("/feedback")
def feedback():
    return render_template("review/feedback.html",
                           triage=moderation.feedback_triage(db.session),
                           feedback_kinds=FEEDBACK_KINDS, errors={}, form={})


@bp.post(f"/feedback/<{ID}:note_id>/resolve")
def resolve_feedback(note_id: int):
    note = db.session.get(FeedbackNote, note_id)
    if note is None:
        abort(404)
    form = request.form.to_dict()
    try:
        moderation.resolve_feedback(db.session, note, reviewer=_reviewer(), now=utcnow(),
                                    resolution=form.get("resolution", ""))
    except moderation.TriageError as error:
        db.session.rollback()
        if form.get("return_to") == "submission":
            return _submission_page(note.submission_id, 422, form=form,
                                    feedback_errors={note_id: str(error)})
        return render_template(
            "review/feedback.html", triage=moderation.feedback_triage(db.session),
            feedback_kinds=FEEDBACK_KINDS, errors={note_id: str(error)}, form=form,
        ), 422
    db.session.commit()
    flash(f"Feedback note on #{note.submission_id} resolved.", "success")
    if form.get("return_to") == "submission":
        return redirect(url_for("review.submission", submission_id=note.submission_id,
                                _anchor="feedback"), code=303)
    return redirect(url_for("review.feedback"), code=303)


# --- editorial rows -------------------------------------------------------------------------


def _reference_tables() -> dict[str, dict]:
    def by_slug(model, order):
        return {row.slug: row for row in db.session.scalars(select(model).order_by(*order))}

    return {
        "models": by_slug(ModelVariant, (ModelVariant.family, ModelVariant.name)),
        "hardware": by_slug(Hardware, (Hardware.vendor, Hardware.name)),
        "quants": by_slug(Quant, (Quant.family, Quant.name)),
        "runtimes": by_slug(Runtime, (Runtime.name,)),
    }


def _measured_at(text: str, now: datetime) -> tuple[datetime | None, str | None]:
    if not text.strip():
        return now, None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None, "Enter the date as YYYY-MM-DD."
    if day > now.date():
        return None, "The measurement date cannot be in the future."
    return datetime.combine(day, time(12, 0), tzinfo=UTC), None


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
    return render_template(
        "review/editorial.html", options=options, errors=errors or {},
        values=values or {}, flags=flags or (), run_slots=range(MAX_RUNS),
        min_runs=MIN_RUNS, max_runs=MAX_RUNS, other=OTHER, spread_limit=percent(SPREAD_LIMIT),
    ), status


@bp.route("/editorial", methods=["GET", "POST"])
def editorial():
    if request.method == "GET":
        return _editorial_page()
    tables = _reference_tables()
    parsed, errors, posted = parse_form(FreshSubmission, request.form, context=tables)
    now = utcnow()
    measured_at, date_error = _measured_at(request.form.get("measured_on", ""), now)
    if date_error:
        errors["measured_on"] = date_error
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
    published = moderation.publish_editorial(
        db.session, columns=_editorial_columns(parsed, tables, measured_at),
        runs=[moderation.EditorialRun(*run) for run in parsed.run_tuples()],
        actor=_actor(), now=now,
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


# --- the audit log ------------------------------------------------------------------------------


@bp.get("/audit")
def audit():
    return render_template("review/audit.html",
                           log=moderation.audit_log(db.session, page=_int_arg("page")))
