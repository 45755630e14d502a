"""Feedback triage: the open and the resolved feedback notes, each list paged on its own
(`page`, `resolved_page`), and resolving one from the triage page or from the submission
page it is about.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from webapp.blueprints.review import ID, bp, page_arg, reviewer, small_int
from webapp.blueprints.review.decisions import QUEUE_PER_PAGE, submission_page
from webapp.extensions import db
from webapp.models import FeedbackNote, utcnow
from webapp.services import feedback_triage
from webapp.services.rules import FEEDBACK_KINDS


def _triage_page(status: int = 200, *, errors: dict | None = None, form: dict | None = None,
                 newly_resolved: bool = False):
    """The triage page at the pages the address asks for (a resolve form posts to an
    address carrying them, so an error shows on the page the note is on).
    `newly_resolved`: the error is about a note resolved meanwhile, now on the resolved
    list's first page, which is shown."""
    triage = feedback_triage.feedback_triage(
        db.session, open_page=page_arg("page"),
        resolved_page=1 if newly_resolved else page_arg("resolved_page"),
        per_page=QUEUE_PER_PAGE)
    return render_template(
        "review/feedback.html", triage=triage,
        feedback_kinds=FEEDBACK_KINDS, errors=errors or {}, form=form or {},
    ), status


@bp.get("/feedback")
def feedback():
    return _triage_page()


@bp.post(f"/feedback/<{ID}:note_id>/resolve")
def resolve_feedback(note_id: int):
    # Its row lock on PostgreSQL: two reviewers resolving one note at once are serialised,
    # and the second finds it resolved (SQLite serialises writers already).
    note = db.session.get(FeedbackNote, note_id, with_for_update={"of": FeedbackNote},
                          populate_existing=True)
    if note is None:
        abort(404)
    form = request.form.to_dict()
    try:
        feedback_triage.resolve_feedback(db.session, note, reviewer=reviewer(), now=utcnow(),
                                         resolution=form.get("resolution", ""))
    except feedback_triage.TriageError as error:
        db.session.rollback()
        status = 409 if isinstance(error, feedback_triage.AlreadyResolved) else 422
        if form.get("return_to") == "submission":
            return submission_page(note.submission_id, status, form=form,
                                   feedback_errors={note_id: str(error)})
        return _triage_page(status, errors={note_id: str(error)}, form=form,
                            newly_resolved=status == 409)
    db.session.commit()
    flash(f"Feedback note on #{note.submission_id} resolved.", "success")
    if form.get("return_to") == "submission":
        page = small_int(request.args.get("feedback_page"))
        return redirect(url_for("review.submission", submission_id=note.submission_id,
                                feedback_page=page if page and page > 1 else None,
                                _anchor="feedback"), code=303)
    return redirect(url_for("review.feedback", page=small_int(request.args.get("page")),
                            resolved_page=small_int(request.args.get("resolved_page"))),
                    code=303)
