"""Feedback triage: the open and recently resolved feedback notes, and resolving one from
the triage page or from the submission page it is about.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from webapp.blueprints.review import ID, bp, reviewer
from webapp.blueprints.review.decisions import submission_page
from webapp.extensions import db
from webapp.models import FeedbackNote, utcnow
from webapp.services import feedback_triage
from webapp.services.rules import FEEDBACK_KINDS


def _triage_page(status: int = 200, *, errors: dict | None = None, form: dict | None = None):
    return render_template(
        "review/feedback.html", triage=feedback_triage.feedback_triage(db.session),
        feedback_kinds=FEEDBACK_KINDS, errors=errors or {}, form=form or {},
    ), status


@bp.get("/feedback")
def feedback():
    return _triage_page()


@bp.post(f"/feedback/<{ID}:note_id>/resolve")
def resolve_feedback(note_id: int):
    note = db.session.get(FeedbackNote, note_id)
    if note is None:
        abort(404)
    form = request.form.to_dict()
    try:
        feedback_triage.resolve_feedback(db.session, note, reviewer=reviewer(), now=utcnow(),
                                         resolution=form.get("resolution", ""))
    except feedback_triage.TriageError as error:
        db.session.rollback()
        if form.get("return_to") == "submission":
            return submission_page(note.submission_id, 422, form=form,
                                   feedback_errors={note_id: str(error)})
        return _triage_page(422, errors={note_id: str(error)}, form=form)
    db.session.commit()
    flash(f"Feedback note on #{note.submission_id} resolved.", "success")
    if form.get("return_to") == "submission":
        return redirect(url_for("review.submission", submission_id=note.submission_id,
                                _anchor="feedback"), code=303)
    return redirect(url_for("review.feedback"), code=303)
