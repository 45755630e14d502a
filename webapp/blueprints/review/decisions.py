"""The moderation queue, a submission as the reviewer sees it, and the decisions on it:
approve, mark reproduced, reject, revise, and link two submissions as one operator.

Views stay thin: parse -> a moderation service -> one commit -> redirect, or roll back and
re-render with the message and a 422 (the queue row alone for an htmx request from it).
A decision sent from the queue without JavaScript goes back to the queue as it was filtered
and paged: the row's forms carry the queue's own parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from webapp.blueprints.review import (
    ID,
    actor,
    bp,
    page_arg,
    page_number,
    small_int,
    submission_or_404,
)
from webapp.extensions import db
from webapp.models import AuditEvent, Submission, utcnow
from webapp.services import labels, moderation, operator_links, review_queue, review_view
from webapp.services.rules import (
    FEEDBACK_KINDS,
    REJECTION_REASON_MAX,
    REJECTION_REASONS,
    Kind,
    State,
)
from webapp.web.htmx import wants_fragment

WRITTEN = "written"  # the "write your own" choice among the rejection reasons
QUEUE_PER_PAGE = 50


# --- the queue -----------------------------------------------------------------------------


def queue_filters(values: Mapping[str, str]) -> dict:
    """The queue's own parameters (kind, flag, page) read from its address or from the
    hidden inputs a queue row's forms carry back: an unknown or invalid value is dropped."""
    kind = values.get("kind", "")
    flag = values.get("flag", "")
    return {
        "kind": Kind(kind) if kind in Kind._value2member_map_ else None,
        "flag": flag if flag == "any" or flag in review_queue.QUEUE_FLAGS else None,
        "page": page_number(values.get("page")),
    }


def queue_args(*, kind: Kind | None, flag: str | None, page: int) -> dict[str, str]:
    """The queue's parameters as its address spells them, the defaults left out: the
    arguments of url_for("review.queue") and the hidden inputs of a queue row's forms."""
    args = {"kind": kind.value if kind else None, "flag": flag,
            "page": str(page) if page > 1 else None}
    return {name: value for name, value in args.items() if value}


@bp.get("/")
def queue():
    listing = review_queue.queue(db.session, **queue_filters(request.args),
                                 per_page=QUEUE_PER_PAGE)
    # The page shown, not the page asked for: past the last page, that is the last one.
    shown = queue_args(kind=listing.kind, flag=listing.flag, page=listing.page)
    return render_template("review/queue.html", queue=listing, flags=review_queue.QUEUE_FLAGS,
                           reasons=REJECTION_REASONS, reason_max=REJECTION_REASON_MAX,
                           queue_args=shown)


# --- a submission ---------------------------------------------------------------------------


def submission_page(submission_id: int, status: int = 200, *, error: str | None = None,
                    form: dict | None = None, feedback_errors: dict | None = None,
                    from_queue: dict[str, str] | None = None):
    """The submission page, with a decision's or a feedback note's error when there is one
    (at the page of feedback notes the address asks for: a resolve form posts to an
    address carrying it). `from_queue`: the queue's parameters when the error is a queue
    decision's sent without JavaScript, so the page's way back and its decision forms
    return to the queue as it was filtered and paged."""
    review = review_view.review(db.session, submission_id,
                                feedback_page=page_arg("feedback_page"))
    if review is None:
        abort(404)
    similar = []
    if review.row.kind != Kind.REPRODUCTION:
        similar = review_view.similar_public_rows(db.session, review.row)
    return render_template(
        "review/submission.html", review=review, row=review.row, error=error,
        form=form or {}, reasons=REJECTION_REASONS, reason_max=REJECTION_REASON_MAX,
        similar=similar, feedback_kinds=FEEDBACK_KINDS, errors=feedback_errors or {},
        build_context=labels.build_context(review.row), from_queue=from_queue,
    ), status


@bp.get(f"/submissions/<{ID}:submission_id>")
def submission(submission_id: int):
    return submission_page(submission_id)


@bp.get(f"/submissions/<{ID}:submission_id>/history")
def history(submission_id: int):
    review = review_view.review(db.session, submission_id)
    if review is None:
        abort(404)
    if not wants_fragment():
        return redirect(url_for("review.submission", submission_id=submission_id,
                                _anchor="history"))
    return render_template("review/_history.html", review=review)


# --- decisions ------------------------------------------------------------------------------


def _decided_message(row: Submission) -> str:
    state = State(row.state)
    if state == State.REPRODUCED:
        return (f"#{row.id} marked reproduced: it now counts as evidence for #{row.hub_id}.")
    if state == State.APPROVED and row.kind == Kind.REPRODUCTION:
        return f"#{row.id} approved as a row of its own, related to #{row.hub_id}."
    if state == State.APPROVED:
        return f"#{row.id} approved: it is now public."
    if state == State.REJECTED:
        return f"#{row.id} rejected: {row.rejection_reason}"
    return f"#{row.id} is now {state.label.lower()}."


def _last_event(row: Submission) -> AuditEvent | None:
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.submission_id == row.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(1)).first()


def _at(event: AuditEvent) -> str:
    return f" at {event.created_at.strftime('%Y-%m-%d %H:%M')} UTC"


def _last_decided_by(row: Submission) -> str:
    """Who made the row's latest change, and when: ' by bob at 2026-12-04 08:15 UTC'."""
    event = _last_event(row)
    if event is None:
        return ""
    return f" by {event.actor.removeprefix('reviewer:')}{_at(event)}"


def _already_decided(row: Submission) -> str:
    """Why a queue decision cannot be taken: someone decided the submission meanwhile."""
    return (f"#{row.id} was already decided{_last_decided_by(row)}: it is "
            f"{State(row.state).label.lower()}. Nothing was changed. To change that "
            "decision, revise it on the submission's page, with a reason.")


def _withdrawn(row: Submission) -> str:
    """Why a queue decision cannot be taken: the submitter withdrew the submission."""
    event = _last_event(row)
    return (f"#{row.id} was withdrawn by its submitter{_at(event) if event else ''}: "
            "there is nothing left to decide, and nothing was changed.")


def _revised_meanwhile(row: Submission) -> str:
    """Why a revision cannot be taken: its form was drawn before another revision."""
    return (f"#{row.id} was revised meanwhile{_last_decided_by(row)}: it is "
            f"{State(row.state).label.lower()}. Your revision was not applied: check the "
            "row as it is now and send it again if it still stands.")


DECISION = "_decision"  # the form dict's note of the decision it was sent to
_TARGETS = {"approve": State.APPROVED, "mark_reproduced": State.REPRODUCED,
            "reject": State.REJECTED}


def _as_revision(form: dict, read_form) -> dict:
    """A decision refused because the row was decided meanwhile, carried to the revise
    form the page then shows: the state it asked for and the reason or note it gave (a
    listed rejection reason with its written detail), so nothing typed is lost."""
    carried = dict(form)
    target = _TARGETS.get(form.get(DECISION, ""))
    if target is not None:
        carried["to_state"] = target.value
    try:
        carried["reason"] = read_form(form)[1]
    except moderation.TransitionError:
        carried["reason"] = " ".join(
            part for part in (form.get("reason_text"), form.get("note")) if part)
    return carried


def _decision(submission_id: int, read_form, *, first: bool = True) -> object:
    """Run one decision; commit it with its audit event, or roll back and say why.

    read_form(form) returns the moderation decision to run and its reason, or raises
    TransitionError when the form does not say enough to decide. A `first` decision
    (approve, mark reproduced, reject: the queue's buttons) is taken only on a queued
    submission: a button on a page loaded before another reviewer decided must not
    overturn that decision (409); changing a decision is a revision, with its own form.
    """
    row = submission_or_404(submission_id, lock=True)
    form = request.form.to_dict()
    form[DECISION] = request.endpoint.rsplit(".", 1)[-1]  # which form to refill on an error
    if first and row.state == State.WITHDRAWN:
        message = _withdrawn(row)  # meanwhile, by its submitter: nothing left to decide
        db.session.rollback()
        return _decision_failed(submission_id, message, form, status=409)
    if first and row.state != State.QUEUED:
        message = _already_decided(row)
        db.session.rollback()
        return _decision_failed(submission_id, message, _as_revision(form, read_form),
                                status=409)
    if not first and form.get("from_state", row.state) != row.state:
        # The revise form was drawn for another state: someone revised the row meanwhile.
        message = _revised_meanwhile(row)
        db.session.rollback()
        return _decision_failed(submission_id, message, form, status=409)
    try:
        decide, reason = read_form(form)
        decide(db.session, row, actor=actor(), now=utcnow(), reason=reason)
    except moderation.TransitionError as error:
        db.session.rollback()
        return _decision_failed(submission_id, str(error), form)
    db.session.commit()
    message = _decided_message(row)
    if wants_fragment():
        return render_template(
            "review/_queue_row.html", item=review_queue.QueueItem(row, (), None),
            message=message, counts=review_queue.queue_counts(db.session),
        )
    flash(message, "success")
    if form.get("return_to") == "queue":
        # Back to the queue as it was filtered and paged (a page now past the last one
        # shows the last one, as the queue does for any such page).
        return redirect(url_for("review.queue", **queue_args(**queue_filters(form))),
                        code=303)
    return redirect(url_for("review.submission", submission_id=row.id), code=303)


def _decision_failed(submission_id: int, message: str, form: dict, status: int = 422):
    from_queue = None
    if form.get("return_to") == "queue":
        from_queue = queue_args(**queue_filters(form))
    if wants_fragment() and from_queue is not None:
        row = submission_or_404(submission_id)
        item = review_queue.queue_item(db.session, row)
        # A row decided or withdrawn meanwhile leaves the queue: its line says why and
        # loses its buttons (and the counts above the table catch up).
        gone = row.state != State.QUEUED
        return render_template(
            "review/_queue_row.html", item=item, error=message, form=form, gone=gone,
            reasons=REJECTION_REASONS, reason_max=REJECTION_REASON_MAX,
            counts=review_queue.queue_counts(db.session) if gone else None,
            queue_args=from_queue,
        ), status
    return submission_page(submission_id, status, error=message, form=form,
                           from_queue=from_queue)


def _with_note(decide):
    """A decision whose reason is the form's optional note."""
    return lambda form: (decide, form.get("note", ""))


def _rejection(form):
    """The reason a reject form gives: a listed reason, a written one, or both."""
    choice = (form.get("reason") or "").strip()
    written = moderation.one_line(form.get("reason_text"))
    if choice and choice != WRITTEN and choice not in REJECTION_REASONS:
        raise moderation.TransitionError("Pick a reason from the list or write one.")
    listed = choice if choice in REJECTION_REASONS else ""
    reason = f"{listed}: {written}" if listed and written else listed or written
    return moderation.reject, reason


def _revision(form):
    target = form.get("to_state", "")
    if target not in State._value2member_map_:
        raise moderation.TransitionError("Choose the state to revise the decision to.")
    return partial(moderation.revise, to_state=State(target)), form.get("reason", "")


@bp.post(f"/submissions/<{ID}:submission_id>/approve")
def approve(submission_id: int):
    return _decision(submission_id, _with_note(moderation.approve_public))


@bp.post(f"/submissions/<{ID}:submission_id>/reproduced")
def mark_reproduced(submission_id: int):
    return _decision(submission_id, _with_note(moderation.mark_reproduced))


@bp.post(f"/submissions/<{ID}:submission_id>/reject")
def reject(submission_id: int):
    return _decision(submission_id, _rejection)


@bp.post(f"/submissions/<{ID}:submission_id>/revise")
def revise(submission_id: int):
    return _decision(submission_id, _revision, first=False)


@bp.post(f"/submissions/<{ID}:submission_id>/link")
def link(submission_id: int):
    form = request.form.to_dict()
    other_id = small_int((form.get("other") or "").strip().lstrip("#"))
    # Both rows locked, the lower id first: two links of one pair sent from either end at
    # once wait for each other (the second then finds them linked) instead of both going
    # through or deadlocking (PostgreSQL; SQLite serialises writers already).
    locked = {}
    for row_id in sorted({submission_id, other_id} - {None}):
        locked[row_id] = db.session.get(Submission, row_id, with_for_update=moderation.ROW_LOCK,
                                        populate_existing=True)
    row = locked[submission_id]
    if row is None:
        abort(404)
    other = locked.get(other_id) if other_id else None
    try:
        if other is None:
            raise moderation.TransitionError("Give the number of an existing submission.")
        key = operator_links.link_operators(db.session, [row, other], actor=actor(),
                                            now=utcnow(), reason=form.get("reason", ""))
    except moderation.TransitionError as error:
        db.session.rollback()
        return submission_page(submission_id, 422, error=str(error), form=form)
    db.session.commit()
    flash(f"#{row.id} and #{other.id} now count as one operator ({key}).", "success")
    return redirect(url_for("review.submission", submission_id=row.id), code=303)
