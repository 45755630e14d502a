"""The reviewer dashboard's blueprint: its login wiring, the reviewer-only gate, the
private-page headers, the template helpers, and what its views share (the acting reviewer,
a submission from the URL, ids and page numbers as typed).

The views live in the modules beside this one and register on `bp`: auth (login and
logout), decisions (the queue, a submission and the decisions on it), feedback (triage),
editorial (the editors' own rows) and audit (the log). Every page except the login needs
a reviewer.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    make_response,
    redirect,
    request,
    url_for,
)
from flask_login import current_user

from webapp.errors import render_error
from webapp.extensions import db, login_manager
from webapp.models import Submission
from webapp.services import accounts, feedback_triage, labels, moderation, paging
from webapp.services.rules import Kind, State, percent
from webapp.web.htmx import wants_fragment

bp = Blueprint("review", __name__, url_prefix="/review")

OPEN_ENDPOINTS = frozenset({"review.login"})
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
    if wants_fragment():
        if request.method == "GET":
            response = make_response(render_error(
                401, "Unauthorized", "Your reviewer session has ended. Log in again."))
            response.headers["HX-Redirect"] = url_for("review.login")
            return response
        # A decision sent with htmx: no redirect, which would drop the form as typed.
        # review.js puts the message in the row, where the form stays as it was, with
        # what was written to copy and a link that logs in and comes back to this page.
        return render_error(
            401, "Unauthorized", "Your reviewer session has ended (a login from another "
            "browser, a logout, or a disabled account), so nothing was done."
            + auth.unsent_text(), link=(auth.login_url_back(), "Log in again"))
    if request.method == "GET":
        flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(url_for("review.login", next=request.full_path.rstrip("?")))
    # A form sent from a page whose session ended meanwhile (a login elsewhere, a logout,
    # a disabled account): the login page at once, saying nothing was done and showing
    # what was written, rather than a redirect that dropped it.
    return auth.session_ended_page()


@bp.before_request
def _require_reviewer():
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.after_request
def _private(response):
    response.headers["Cache-Control"] = "private, no-store"
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
        # An error page asks nothing of the database: it may be the error.
        "open_feedback": feedback_triage.open_feedback_count(db.session)
        if not g.get("error_page") and current_user.is_authenticated else 0,
    }


def _utc_label(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


# --- what the views share ------------------------------------------------------------------


def reviewer():
    return current_user._get_current_object()


def actor() -> str:
    return moderation.reviewer_actor(reviewer())


def submission_or_404(submission_id: int, *, lock: bool = False) -> Submission:
    """The submission, or a 404. lock=True (decisions) takes its row lock on PostgreSQL, so
    two reviewers deciding the same row at once are serialised and the second one sees the
    first one's decision (SQLite serialises writers with BEGIN IMMEDIATE already)."""
    row = db.session.get(Submission, submission_id,
                         with_for_update=moderation.ROW_LOCK if lock else None,
                         populate_existing=lock)
    if row is None:
        abort(404)
    return row


def small_int(text: str | None) -> int | None:
    """A positive id or page number as typed, or None (never a database overflow)."""
    value = (text or "").strip()
    return int(value) if re.fullmatch(r"[0-9]{1,9}", value) else None


def page_number(text: str | None) -> int:
    """A page number as typed: page 1 for anything but digits; digits past any page (more
    than nine) read as the furthest page, which the lists clamp to their last, as 999999
    does (they read as page 1)."""
    value = (text or "").strip()
    if re.fullmatch(r"[0-9]{10,}", value):
        return paging.PAGE_MAX
    return small_int(value) or 1


def page_arg(name: str) -> int:
    """The page number the address asks for in `name` (see page_number)."""
    return page_number(request.args.get(name))


# The views register on `bp` as they are imported, so they come after it exists (the
# package layout Flask's own tutorial uses for a blueprint split across modules).
from webapp.blueprints.review import audit, auth, decisions, editorial, feedback  # noqa: E402, F401
