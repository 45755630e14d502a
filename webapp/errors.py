"""Every error is a page (or a small fragment for htmx requests).

Error pages carry no CSRF token (base.html leaves it out, as on shared pages): they have no
form that posts, and a 404 must not open a session. The one exception is the 503 page of
a database that cannot be written, whose form carries what the visitor sent back to them.

A form refused by a rate limit (429) is its own form again, filled with what was typed and
headed by errors/_rate_limited.html: `rate_limited` gives that notice its words (when the
next attempt fits) and the response its Retry-After header.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, Response, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError
from werkzeug.exceptions import HTTPException

from webapp.extensions import database_problem_of, db
from webapp.services import privacy, waiting
from webapp.services.api.models import Problem
from webapp.web.htmx import wants_fragment
from webapp.web.intake import too_large_message

MESSAGES = {
    400: "The request could not be understood.",
    403: "You are not allowed to do that.",
    404: "There is nothing at this address. It may never have existed, or it is not public.",
    405: "That action is not available at this address.",
    413: "What you sent is too large.",
    429: "Too many requests from your network. Please wait a while and try again.",
    500: "Something went wrong on our side. Please go back and try again.",
    503: "The site cannot reach or write its database just now (it may be full, read-only "
         "or restarting). Please try again in a few minutes.",
}
CONTROL_CHARACTERS = ("The address or the form contains control characters (such as a NUL "
                      "byte), which this site does not accept. Remove them and try again.")
RETRY_AFTER_SECONDS = 60
# Never written back into a page: a password, and the form's own spent CSRF token.
NOT_CARRIED_BACK = ("password", "csrf_token")


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(Exception, _unexpected)
    app.after_request(_retry_after)


def rate_limited(action: str, ip_hash: str, now: datetime) -> dict:
    """The context of a form's 429 page: the limit, and when the next attempt fits (in
    words and as a UTC time). The response gets the same wait as its Retry-After header."""
    wait = waiting.next_attempt(db.session, action, ip_hash, now)
    g.retry_after_seconds = wait.seconds
    return {"rate_limited": True, "rate_limit_label": privacy.limit_label(action),
            "retry": wait}


def _retry_after(response: Response) -> Response:
    if response.status_code == 429:
        seconds = g.get("retry_after_seconds")
        if seconds is not None:
            response.headers["Retry-After"] = str(seconds)
    return response


# The open-data files a program fetches: their refusals are problem+json like the API's.
_MACHINE_PATHS = frozenset({"/benchmarks.csv", "/benchmarks.jsonl", "/feed.atom"})


def wants_problem() -> bool:
    """Under /api/, and for the exports and the feed, every error is
    application/problem+json (RFC 9457), never a page: a program reads it."""
    return request.path.startswith("/api/") or request.path in _MACHINE_PATHS


def problem_response(status: int, title: str, detail: str, *, parameter: str | None = None,
                     headers: dict[str, str] | None = None):
    body = Problem(title=title, status=status, detail=detail, instance=request.path[:200],
                   parameter=parameter)
    response = current_app.response_class(body.model_dump_json(exclude_none=True),
                                          status=status, mimetype="application/problem+json")
    response.headers.update(headers or {})
    return response


def render_error(status: int, title: str, message: str, *,
                 headers: dict[str, str] | None = None,
                 link: tuple[str, str] | None = None):
    if wants_problem():
        return problem_response(status, title, message, headers=headers)
    g.shared_page = True  # no per-visitor CSRF token, so no session for an error
    g.error_page = True
    template = "errors/_fragment.html" if wants_fragment() else "errors/error.html"
    return (render_template(template, status=status, title=title, message=message,
                            link=link), status, headers or {})


# A view marked with keeps_typed_on_expiry answers its own refused token: its form again,
# with everything typed and a fresh token, rather than a page that says "go back" (the
# browser gives a form's fields back only in part, and a reload empties it).
_ON_EXPIRY = "trustbench_on_expired_form"


def keeps_typed_on_expiry(render: Callable[..., Any]) -> Callable[[Any], Any]:
    """Mark a form view: `render(**view_args)` gives its form filled with request.form,
    told that it expired (400). The token was still checked: nothing is done."""
    def mark(view: Any) -> Any:
        setattr(view, _ON_EXPIRY, render)
        return view
    return mark


def _csrf_error(_error: CSRFError):
    render = getattr(current_app.view_functions.get(request.endpoint or ""), _ON_EXPIRY, None)
    if render is not None and request.method == "POST" and not wants_fragment():
        try:
            return render(**(request.view_args or {}))
        except HTTPException as error:  # the form's own page is gone (a 404): say that
            return _http_error(error)
    return render_error(
        400,
        "Form expired",
        "This form's security token was missing or has expired. Go back, reload the page "
        "and send it again.",
    )


def _http_error(error: HTTPException):
    status = error.code or 500
    description = error.description or ""
    # Werkzeug's stock description gives way to ours; a view's own abort() text stays.
    if not description or description == type(error).description:
        description = (status == 413 and too_large_message()) or MESSAGES.get(status, "")
    # Keep what the client needs to act on: a 405 must say what is allowed (RFC 9110).
    kept = {name: value for name, value in error.get_headers()
            if name in ("Allow", "Retry-After")}
    return render_error(status, error.name, description, headers=kept)


def _database_error(error: DBAPIError):
    if _refused_nul(error):
        db.session.rollback()
        return render_error(400, "Bad Request", CONTROL_CHARACTERS)
    problem = database_problem_of(error)
    if problem is None:
        return _unexpected(error)
    db.session.rollback()
    # The driver's own first line, never the statement's parameters (typed values).
    current_app.logger.warning(
        "database %s on %s %s: %s", problem, request.method, request.path,
        str(error.orig).splitlines()[0] if str(error.orig) else type(error.orig).__name__)
    return _unavailable()


def _refused_nul(error: DBAPIError) -> bool:
    """PostgreSQL refuses a NUL in text (psycopg before sending it, 22021 on the server).
    security.py refuses control characters up front; a value the public forms leave to
    their own field checks can still reach a query first (the live check's pick-lists)."""
    if not isinstance(error, DataError):
        return False
    return (getattr(error.orig, "sqlstate", None) == "22021"
            or "NUL (0x00)" in str(error.orig))


def _unavailable():
    """The 503 page; a form's values come back in a form that sends them again."""
    g.error_page = True
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_problem():
        return problem_response(503, "Service Unavailable", MESSAGES[503], headers=headers)
    if wants_fragment():
        g.shared_page = True
        return render_template("errors/_fragment.html", status=503,
                               message=MESSAGES[503]), 503, headers
    sent = _carried_back()
    if not sent:
        g.shared_page = True
    return render_template(
        "errors/unavailable.html", status=503, title="Service unavailable",
        message=MESSAGES[503], sent=sent, password_left_out=_password_left_out(),
        action=request.script_root + request.full_path.rstrip("?"),
    ), 503, headers


def _carried_back() -> list[tuple[str, str]]:
    if request.method != "POST":
        return []
    return [(name, value) for name, value in request.form.items(multi=True)
            if not _never_carried_back(name)]


def _never_carried_back(name: str) -> bool:
    return any(word in name.lower() for word in NOT_CARRIED_BACK)


def _password_left_out() -> bool:
    return request.method == "POST" and any("password" in name.lower()
                                            for name in request.form)


def _unexpected(_error: Exception):
    db.session.rollback()
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return render_error(500, "Internal server error", MESSAGES[500])
