"""The audit log page: every state transition, newest first, paged."""

from __future__ import annotations

from flask import render_template

from webapp.blueprints.review import bp, page_arg
from webapp.blueprints.review.decisions import QUEUE_PER_PAGE
from webapp.extensions import db
from webapp.services import review_audit


@bp.get("/audit")
def audit():
    return render_template("review/audit.html",
                           log=review_audit.audit_log(db.session, page=page_arg("page"),
                                                      per_page=QUEUE_PER_PAGE))
