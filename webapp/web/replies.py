"""What the anonymous forms share: the honeypot, rate-limited attempts, form context
for templates, htmx fragments and the redirect to a private status link."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import Response, make_response, redirect, render_template, request, url_for

from webapp.extensions import db
from webapp.models import Submission
from webapp.services import privacy, tokens
from webapp.services.rules import SPREAD_LIMIT
from webapp.web.forms import LIMITS, field_labels, in_page_order
from webapp.web.htmx import FRAGMENT_HEADERS
from webapp.web.vary import add_vary

# A field no person fills in: a value means a bot, which gets a calm reply and nothing stored.
HONEYPOT = "website"


def fragment(template: str, **context) -> Response:
    response = make_response(render_template(template, **context))
    add_vary(response, *FRAGMENT_HEADERS)
    return response


def is_bot(form: Mapping[str, str]) -> bool:
    return bool((form.get(HONEYPOT) or "").strip())


def calm_reply() -> Response:
    return make_response(render_template("submit/received.html"), 200)


def over_limit(action: str, now: datetime) -> tuple[str, bool]:
    """(the client's IP hash, whether this attempt is over the action's rate limit)."""
    ip_hash = privacy.ip_hash(db.session, privacy.client_address(request), now)
    return ip_hash, privacy.hit(db.session, action, ip_hash, now)


def form_context(errors: Mapping[str, str]) -> dict:
    errors = in_page_order(errors)
    return {
        "errors": errors,
        "labels": field_labels(errors),
        "limits": LIMITS,
        "honeypot": HONEYPOT,
        "spread_limit": SPREAD_LIMIT,
    }


def status_redirect(submission: Submission) -> Response:
    return redirect(url_for("submit.status", token=tokens.status_token(submission), new=1), 303)
