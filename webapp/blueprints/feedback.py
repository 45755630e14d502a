"""Anonymous feedback notes against a public row."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, abort, redirect, render_template, request, url_for

from webapp import schemas
from webapp.extensions import db
from webapp.models import Submission, utcnow
from webapp.services import labels, privacy, submissions
from webapp.services.rules import FEEDBACK_KINDS, State
from webapp.web import replies
from webapp.web.forms import parse_form

bp = Blueprint("feedback", __name__)


def _row() -> Submission:
    raw = request.args.get("benchmark", "").strip()
    if not raw:
        abort(400, "Feedback is sent about one benchmark: open its page and use "
                   "“Send feedback”.")
    if not raw.isdigit() or len(raw) > 12:  # beyond any id: nothing to find
        abort(404)
    row = submissions.feedback_target(db.session, int(raw))
    if row is None:
        abort(404)
    return row


def _row_page(row: Submission) -> int:
    """The public page a row lives on: a reproduction's evidence shows on its hub's page."""
    return row.hub_id if row.hub_id and row.state != State.APPROVED else row.id


def _render(row: Submission, values: Mapping[str, str], errors: Mapping[str, str],
            status: int, **extra) -> tuple[str, int]:
    return render_template(
        "feedback/new.html",
        row=row,
        row_page=_row_page(row),
        row_label=f"{labels.model_label(row)} on {labels.hardware_label(row)}",
        kinds=FEEDBACK_KINDS,
        values=values,
        **replies.form_context(errors),
        **extra,
    ), status


@bp.route("/submit/feedback", methods=["GET", "POST"])
def new():
    row = _row()
    if request.method == "GET":
        return _render(row, {}, {}, 200)
    if replies.is_bot(request.form):
        return replies.calm_reply()
    data, errors, posted = parse_form(schemas.FeedbackSubmission, request.form)
    if data is None:
        return _render(row, posted.values, errors, 422)
    now = utcnow()
    ip_hash, limited = replies.over_limit("feedback", now)
    if limited:
        db.session.commit()
        return _render(row, posted.values, {}, 429, rate_limited=True,
                       rate_limit_label=privacy.limit_label("feedback"))
    submissions.create_feedback(db.session, row, data, ip_hash=ip_hash, now=now)
    db.session.commit()
    return redirect(url_for("feedback.sent", benchmark=row.id), 303)


@bp.get("/submit/feedback/sent")
def sent():
    row = _row()
    return render_template("feedback/sent.html", row=row, row_page=_row_page(row))
