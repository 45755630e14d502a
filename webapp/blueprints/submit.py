"""Fresh benchmark submissions and the submitter's private status page."""

from __future__ import annotations

from collections.abc import Mapping

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from webapp import schemas
from webapp.errors import keeps_typed_on_expiry, rate_limited
from webapp.extensions import db, read_only
from webapp.models import Submission, utcnow
from webapp.services import (
    labels,
    live_check,
    matching,
    moderation,
    pick_lists,
    plausibility,
    provenance,
    submissions,
    tokens,
)
from webapp.services.rules import SPREAD_LIMIT, Band, Kind, State
from webapp.web import intake as importing
from webapp.web import live_get, replies
from webapp.web.forms import parse_form, read_form
from webapp.web.htmx import wants_fragment

bp = Blueprint("submit", __name__)

MATCHING_HUBS_SHOWN = 3

STATE_EXPLANATIONS = {
    State.QUEUED: "Waiting for a reviewer. Nothing of it is public yet; you can still withdraw it.",
    State.APPROVED: "A reviewer approved it: it is a public row of the catalog.",
    State.REPRODUCED: "A reviewer judged it a clean reproduction: it counts as evidence for "
                      "the original row.",
    State.REJECTED: "A reviewer rejected it. It stays private; the reason is below.",
    State.WITHDRAWN: "You withdrew it. It will never be published.",
}


# --- the fresh form ------------------------------------------------------------------------


def _live(refs: pick_lists.References, posted: schemas.FormInput) -> dict:
    wanted = live_check.typed_matching_set(refs, posted.values)
    return {
        "check": live_check.check_fresh(refs, posted, today=utcnow().date()),
        "matching_hubs": matching.public_rows(db.session, wanted,
                                              limit=MATCHING_HUBS_SHOWN) if wanted else [],
    }


def _render_fresh(choices, posted: schemas.FormInput, errors: Mapping[str, str], status: int,
                  **extra) -> tuple[str, int]:
    return render_template(
        "submit/benchmark.html",
        choices=choices,
        values=posted.values,
        **_live(choices.by_slug, posted),
        **replies.form_context(errors),
        **extra,
    ), status


def _expired(**_view_args):
    """The fresh form again with what was sent, after its token was refused."""
    choices = pick_lists.reference_choices(db.session)
    return _render_fresh(choices, read_form(importing.typed_values(request.form)), {}, 400,
                         form_expired=True)


@bp.route("/submit/benchmark", methods=["GET", "POST"])
@keeps_typed_on_expiry(_expired)
def benchmark():
    choices = pick_lists.reference_choices(db.session)
    if request.method == "GET":
        # Query args pre-fill the form (a link with a configuration, or with numbers).
        return _render_fresh(choices, _prefilled(request.args), {}, 200)

    if replies.is_bot(request.form):
        return replies.calm_reply()
    now = utcnow()
    data, errors, posted = parse_form(
        schemas.FreshSubmission, request.form,
        submissions.form_context(db.session, choices.by_slug, now=now))
    errors.update(live_check.check_fresh(choices.by_slug, posted).blocking())
    errors.update(importing.unread_paste(request.form))
    if errors or data is None:
        return _render_fresh(choices, posted, errors, 422)

    ip_hash, limited = replies.over_limit("submissions", now)
    if limited:
        db.session.commit()
        return _render_fresh(choices, posted, {}, 429,
                             **rate_limited("submissions", ip_hash, now))
    submission = submissions.create_fresh(db.session, data, choices.by_slug, ip_hash=ip_hash,
                                          now=now)
    provenance.record(submission, posted.values)
    db.session.commit()
    return replies.status_redirect(submission)


@bp.post("/submit/benchmark/prefilled")
@keeps_typed_on_expiry(_expired)
def prefilled():
    """The fresh form, pre-filled with what a refused reproduction sent (its page's "Submit
    your numbers as a fresh benchmark"): a form, so a long note travels whole where a
    link's query string could not carry it. Nothing is stored or checked here."""
    choices = pick_lists.reference_choices(db.session)
    return _render_fresh(choices, _prefilled(request.form), {}, 200)


def _prefilled(given) -> schemas.FormInput:
    """The fresh form's values from a link's query or a pre-fill form's fields, with the
    defaults a blank form shows (its token is the page's own, not the sender's)."""
    prefill = read_form(given)
    prefill.values.pop("csrf_token", None)
    prefill.values.setdefault("hardware_count", "1")
    prefill.values.setdefault("concurrent_users", "1")
    prefill.values.setdefault("measured_on", utcnow().date().isoformat())
    return prefill


@bp.route("/submit/benchmark/check", methods=["GET", "POST"])
@read_only
def check():
    """The live warning: the fragment for htmx, the whole form otherwise. The form asks
    by GET with the typed numbers only (web/live_get: no session, no token, cacheable);
    the POST stays for pages rendered before."""
    is_get = request.method == "GET"
    posted = read_form(live_get.typed() if is_get else request.form)
    if wants_fragment():
        refs = pick_lists.picked_references(db.session, posted.values)
        response = replies.fragment("submit/_live.html", **_live(refs, posted),
                                    spread_limit=SPREAD_LIMIT)
        return live_get.cacheable(response) if is_get else response
    return _render_fresh(pick_lists.reference_choices(db.session), posted, {}, 200)


@bp.post("/submit/benchmark/import")
@read_only
@keeps_typed_on_expiry(_expired)
def import_file():
    """A tool's output fills the form for review (web/intake); nothing is stored."""
    choices = pick_lists.reference_choices(db.session)
    typed = importing.typed_values(request.form)
    try:
        found, name = importing.read_upload(importing.references(choices))
    except importing.Refusal as error:
        return _render_fresh(choices, read_form(typed), importing.refused(error),
                             error.status)
    values, applied = importing.filled(typed, found, lambda field: True)
    _data, errors, posted = parse_form(
        schemas.FreshSubmission, values,
        submissions.form_context(db.session, choices.by_slug, now=utcnow()))
    return _render_fresh(choices, posted, importing.imported_errors(errors, applied), 200,
                         imported=importing.summary(found, name, applied, choices))


# --- the private status page ---------------------------------------------------------------


def _by_token(token: str, *, lock: bool = False) -> Submission:
    """The submission a status link names, or a 404. lock=True (the withdrawal) takes its
    row lock on PostgreSQL as a reviewer's decision does, so a withdrawal and a decision
    at the same moment are serialised and the second sees the first (SQLite serialises
    writers with BEGIN IMMEDIATE already)."""
    payload = tokens.read_status(token)
    if payload is None:
        abort(404)
    submission = db.session.get(Submission, payload.id,
                                with_for_update=moderation.ROW_LOCK if lock else None,
                                populate_existing=lock)
    if submission is None or not tokens.nonce_matches(payload, submission):
        abort(404)
    return submission


STATUS_PREFIX = "/submissions/"  # every address under it carries a status token


@bp.after_app_request
def _status_addresses_private(response: Response) -> Response:
    # The token is the only key to a status address: never index one, never keep it in
    # any cache, never send it in a Referer, whatever the answer (the page, a 409, a
    # refused token's 404, an expired form's 400, a 405, a 429). "strict-origin" sends
    # the site's origin alone (and nothing to plain HTTP), so the Withdraw button's POST
    # still shows where it came from; "no-referrer" made browsers send "Origin: null",
    # which reads as another site.
    if not request.path.startswith(STATUS_PREFIX):
        return response
    response.headers["Referrer-Policy"] = "strict-origin"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _render_status(submission: Submission, token: str, status: int = 200,
                   problem: str | None = None) -> Response:
    state = State(submission.state)
    hub = db.session.get(Submission, submission.hub_id) if submission.hub_id else None
    html = render_template(
        "submit/status.html",
        submission=submission,
        token=token,
        kind=Kind(submission.kind),
        state=state,
        explanation=STATE_EXPLANATIONS[state],
        can_withdraw=state == State.QUEUED,
        public_page=state == State.APPROVED,
        hub=hub if hub is not None and hub.state == State.APPROVED else None,
        band=Band(submission.band) if submission.band else None,
        facts=[fact for fact in labels.build_context(submission) if fact.value],
        # what the live check showed while typing: shown again for a form sent without it
        flags=plausibility.of_row(submission).flags,
        operator_url=labels.safe_url(submission.url),
        new=request.args.get("new") == "1",
        link=url_for("submit.status", token=token, _external=True),
        problem=problem,
    )
    return make_response(html, status)


@bp.get("/submissions/<token>")
def status(token: str):
    return _render_status(_by_token(token), token)


@bp.get("/submissions/<token>/withdraw")
def confirm_withdraw(token: str):
    """Withdrawing cannot be undone, so the status page's button asks here first: a page
    of its own, so the question is asked with JavaScript off too."""
    submission = _by_token(token)
    if submission.state != State.QUEUED:
        return _render_status(submission, token, 409, problem=(
            "Only a queued submission can be withdrawn; this one is "
            f"{State(submission.state).label.lower()}."))
    html = render_template("submit/withdraw.html", submission=submission, token=token,
                           kind=Kind(submission.kind))
    return make_response(html, 200)


@bp.post("/submissions/<token>/withdraw")
def withdraw(token: str):
    submission = _by_token(token, lock=True)
    try:
        submissions.withdraw(db.session, submission, now=utcnow())
    except (submissions.SubmissionError, moderation.TransitionError) as error:
        db.session.rollback()
        return _render_status(submission, token, 409, problem=str(error))
    db.session.commit()
    flash("Your submission was withdrawn. It will never be published.", "success")
    return redirect(url_for("submit.status", token=token), 303)
