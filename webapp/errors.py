"""Every error is a page (or a small fragment for htmx requests)."""

from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp.extensions import db
from webapp.web.htmx import wants_fragment

MESSAGES = {
    400: "The request could not be understood.",
    403: "You are not allowed to do that.",
    404: "There is nothing at this address. It may never have existed, or it is not public.",
    405: "That action is not available at this address.",
    413: "What you sent is too large.",
    429: "Too many requests from your network. Please wait a while and try again.",
    500: "Something went wrong on our side. Please go back and try again.",
}


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def render_error(status: int, title: str, message: str):
    template = "errors/_fragment.html" if wants_fragment() else "errors/error.html"
    return render_template(template, status=status, title=title, message=message), status


def _csrf_error(_error: CSRFError):
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
        description = MESSAGES.get(status, "")
    return render_error(status, error.name, description)


def _unexpected(_error: Exception):
    db.session.rollback()
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return render_error(500, "Internal server error", MESSAGES[500])
