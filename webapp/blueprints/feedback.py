"""Anonymous feedback notes against a public row, and the page that finds the row when
the visitor came without one."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from webapp import schemas
from webapp.errors import rate_limited
from webapp.extensions import db
from webapp.models import Submission, utcnow
from webapp.services import labels, submissions
from webapp.services.rules import FEEDBACK_KINDS, State
from webapp.web import replies
from webapp.web.forms import parse_form

bp = Blueprint("feedback", __name__)

# What a visitor pastes to name a row: its number ("123", "#123"), or its page's address
# with or without the site ("https://host/benchmarks/123", "/benchmarks/123/reproduce").
ROW_REFERENCE = re.compile(
    r"#?(?P<id>\d{1,12})|(?:(?:https?://)?[^\s/?#]+)?/benchmarks/(?P<path_id>\d{1,12})"
    r"(?:[/?#]\S*)?", re.IGNORECASE)
FIND_MAX = 300


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


def _label_demo(row: Submission) -> None:
    if row.is_demo:
        g.demo_data_shown = True  # base.html's banner: generated rows, not measurements


def _render(row: Submission, values: Mapping[str, str], errors: Mapping[str, str],
            status: int, **extra) -> tuple[str, int]:
    _label_demo(row)
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


class _NotFound(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _found(typed: str) -> int:
    """The id of the public row a pasted address or number names, or _NotFound."""
    match = ROW_REFERENCE.fullmatch(typed) if len(typed) <= FIND_MAX else None
    if match is None:
        raise _NotFound(400, "That is neither a benchmark’s address nor its number. Paste "
                             "the address of its page (…/benchmarks/123) or type the number "
                             "alone.")
    benchmark_id = int(match.group("id") or match.group("path_id"))
    if submissions.feedback_target(db.session, benchmark_id) is None:
        raise _NotFound(404, f"There is no public benchmark #{benchmark_id}. It may have "
                             "been withdrawn or never published: check the number, or find "
                             "the row in the catalog.")
    return benchmark_id


def _finder():
    """`/submit/feedback` without a row: a GET form that finds it from a pasted address or
    number and sends the visitor on to that row's feedback form."""
    g.shared_page = True  # nothing posts from here: no per-visitor token, no session
    typed = request.args.get("find")
    if typed is None:
        return render_template("feedback/find.html", typed="", error=None,
                               example=_example()), 200
    try:
        benchmark_id = _found(typed.strip())
    except _NotFound as problem:
        return render_template("feedback/find.html", typed=typed[:FIND_MAX],
                               error=str(problem), example=_example()), problem.status
    return redirect(url_for("feedback.new", benchmark=benchmark_id), 303)


def _example() -> str:
    return url_for("public.detail", benchmark_id=123, _external=True)


@bp.route("/submit/feedback", methods=["GET", "POST"])
def new():
    if request.method == "GET" and "benchmark" not in request.args:
        return _finder()
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
        return _render(row, posted.values, {}, 429, **rate_limited("feedback", ip_hash, now))
    submissions.create_feedback(db.session, row, data, ip_hash=ip_hash, now=now)
    db.session.commit()
    return redirect(url_for("feedback.sent", benchmark=row.id), 303)


@bp.get("/submit/feedback/sent")
def sent():
    row = _row()
    _label_demo(row)
    return render_template("feedback/sent.html", row=row, row_page=_row_page(row))
