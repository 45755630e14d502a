"""Moderation: state transitions and the reviewer's decisions, each with an audit event.

Services add and flush; the request commits once, so a decision and its audit event
land together or not at all. After any change that touches a hub's evidence the
hub's derived index is refreshed here, before the caller commits.

Built on these: editorial publishing (editorial), operator linking (operator_links). The
dashboard reads through review_queue, review_view, review_compare and review_audit, and
feedback notes are triaged in feedback_triage; none of them is imported here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from webapp import fields
from webapp.models import AuditEvent, Reviewer, Submission
from webapp.services import divergence, evidence, matching
from webapp.services.rules import REJECTION_REASON_MAX, Band, Kind, State, percent

SUBMITTER = "submitter"
SYSTEM = "system"
REVIEWER_PREFIX = "reviewer:"
AUDIT_REASON_MAX = 500  # AuditEvent.reason's width

# from-state -> states a transition may lead to. None is "not yet in the database".
ALLOWED: dict[State | None, frozenset[State]] = {
    None: frozenset({State.QUEUED, State.APPROVED}),  # arrival; editorial rows publish at once
    State.QUEUED: frozenset({State.APPROVED, State.REPRODUCED, State.REJECTED, State.WITHDRAWN}),
    State.APPROVED: frozenset({State.REPRODUCED, State.REJECTED}),
    State.REPRODUCED: frozenset({State.APPROVED, State.REJECTED}),
    State.REJECTED: frozenset({State.APPROVED, State.REPRODUCED}),
    State.WITHDRAWN: frozenset(),
}
DECIDED = frozenset({State.APPROVED, State.REPRODUCED, State.REJECTED})


class TransitionError(ValueError):
    """A transition the rules do not allow; the message is for the user."""


# --- actors ----------------------------------------------------------------------------


def reviewer_actor(reviewer: Reviewer) -> str:
    # Prefixed, so a reviewer who picked the name "submitter" cannot pass as one.
    return f"{REVIEWER_PREFIX}{reviewer.name}"


def actor_label(actor: str, *, show_reviewer_names: bool) -> str:
    """Who acted, as a page shows it; reviewer names only where they may be seen."""
    if actor == SUBMITTER:
        return "The submitter"
    if actor == SYSTEM:
        return "Trustbench"
    if actor.startswith(REVIEWER_PREFIX):
        name = actor.removeprefix(REVIEWER_PREFIX)
        return f"Reviewer {name}" if show_reviewer_names else "A reviewer"
    return actor if show_reviewer_names else "A reviewer"


def one_line(text: str | None) -> str:
    """A reason on one line; "" when nothing in it is visible (a zero-width space is no
    reason)."""
    line = " ".join((text or "").split())
    return line if fields.has_visible(line) else ""


# --- the one transition function -----------------------------------------------------------


def transition(
    session: Session,
    submission: Submission,
    to_state: State,
    *,
    actor: str,
    now: datetime,
    reason: str = "",
) -> AuditEvent:
    from_state = State(submission.state) if submission.id is not None else None
    reason = (reason or "").strip()
    if fields.has_control_characters(reason):
        raise TransitionError(fields.CONTROL_MESSAGE)
    if not fields.has_visible(reason):
        reason = ""  # an invisible reason reads as none to the submitter and in the audit
    if fields.has_bidi_reordering(reason):
        raise TransitionError(fields.BIDI_REORDERING_MESSAGE)
    if to_state not in ALLOWED[from_state]:
        raise TransitionError(
            f"A submission that is {from_state.label if from_state else 'new'} "
            f"cannot become {to_state.label}."
        )
    if to_state == State.REPRODUCED and submission.kind != Kind.REPRODUCTION:
        raise TransitionError("Only a reproduction can be marked reproduced.")
    if to_state == State.REJECTED:
        reason = one_line(reason)
        if not reason:
            raise TransitionError("A rejection needs a one-line reason.")
        if len(reason) > REJECTION_REASON_MAX:
            raise TransitionError(
                f"The rejection reason must be at most {REJECTION_REASON_MAX} characters."
            )
    if from_state in DECIDED and not reason:
        raise TransitionError("Revising an earlier decision needs a reason.")
    if len(reason) > AUDIT_REASON_MAX:
        raise TransitionError(
            f"The note or reason must be at most {AUDIT_REASON_MAX} characters.")

    submission.state = to_state
    submission.rejection_reason = reason if to_state == State.REJECTED else None
    if to_state in DECIDED:
        submission.decided_at = now
    if submission.id is None:
        session.add(submission)
        session.flush()
    event = AuditEvent(
        submission_id=submission.id,
        actor=actor,
        from_state=from_state.value if from_state else None,
        to_state=to_state.value,
        reason=reason,
        created_at=now,
    )
    session.add(event)
    session.flush()
    _refresh_affected(session, submission)
    return event


# FOR NO KEY UPDATE OF submissions: lock the submission row only, never the reference
# rows its joined load reads (a plain FOR UPDATE would lock the model and hardware rows
# every decision shares, and deadlock against inserts that reference them), and let
# inserts that reference the row (a new reproduction of a hub) go ahead.
ROW_LOCK = {"of": Submission, "key_share": True}


def _refresh_affected(session: Session, submission: Submission) -> None:
    if submission.state == State.APPROVED or submission.derived_badge is not None:
        evidence.refresh_derived(session, submission)
    if submission.hub_id is not None:
        # Lock the hub: two reproductions of it decided at once must not both refresh its
        # derived columns from snapshots that miss each other (PostgreSQL; a no-op on SQLite).
        hub = session.get(Submission, submission.hub_id, with_for_update=ROW_LOCK,
                          populate_existing=True)
        if hub is not None:
            evidence.refresh_derived(session, hub)


# --- decisions -------------------------------------------------------------------------------


def approve_public(
    session: Session, submission: Submission, *, actor: str, now: datetime, reason: str = ""
) -> AuditEvent:
    """A fresh row goes live. A reproduction approved this way fragments: it becomes a
    public row of its own and keeps hub_id as its "related to" link."""
    if (
        not (reason or "").strip()
        and submission.kind == Kind.REPRODUCTION
        and submission.state == State.QUEUED
        and submission.hub_id is not None
    ):
        reason = f"Approved as a row of its own, related to #{submission.hub_id}."
    return transition(session, submission, State.APPROVED, actor=actor, now=now, reason=reason)


def mark_reproduced(
    session: Session, submission: Submission, *, actor: str, now: datetime, reason: str = ""
) -> AuditEvent:
    """A clean reproduction: it attaches to its hub and counts as evidence."""
    problems = reproduction_problems(submission)
    if problems:
        raise TransitionError(" ".join(problems))
    return transition(session, submission, State.REPRODUCED, actor=actor, now=now, reason=reason)


def reject(
    session: Session, submission: Submission, *, actor: str, now: datetime, reason: str
) -> AuditEvent:
    return transition(session, submission, State.REJECTED, actor=actor, now=now, reason=reason)


DECISIONS = {
    State.APPROVED: approve_public,
    State.REPRODUCED: mark_reproduced,
    State.REJECTED: reject,
}


def revise(
    session: Session,
    submission: Submission,
    to_state: State,
    *,
    actor: str,
    now: datetime,
    reason: str,
) -> AuditEvent:
    """Move an earlier decision to another decided state; a reason is always required."""
    state = State(submission.state)
    if state not in DECIDED:
        raise TransitionError(
            f"Only a decided submission can be revised; this one is {state.label}."
        )
    if not fields.has_visible(reason or ""):
        raise TransitionError("Revising an earlier decision needs a reason.")
    if to_state == state:
        raise TransitionError(f"The submission is already {to_state.label}.")
    decide = DECISIONS.get(to_state)
    if decide is None:
        raise TransitionError(f"A decision cannot be revised to {to_state.label}.")
    return decide(session, submission, actor=actor, now=now, reason=reason)


def revision_targets(submission: Submission) -> tuple[State, ...]:
    """The states a decided submission may be revised to, in ladder order."""
    state = State(submission.state)
    if state not in DECIDED:
        return ()
    allowed = ALLOWED[state]
    return tuple(
        target for target in (State.APPROVED, State.REPRODUCED, State.REJECTED)
        if target in allowed
        and (target != State.REPRODUCED or submission.kind == Kind.REPRODUCTION)
    )


def reproduction_problems(submission: Submission) -> tuple[str, ...]:
    """Why this submission cannot be marked reproduced (empty when it can)."""
    if submission.kind != Kind.REPRODUCTION:
        return ("Only a reproduction can be marked reproduced.",)
    hub = submission.hub
    if hub is None:
        return ("This reproduction has no original row to attach to.",)
    problems: list[str] = []
    if hub.state != State.APPROVED:
        problems.append(
            f"The original row #{hub.id} is not public ({State(hub.state).label}), so there "
            "is nothing to attach this reproduction to."
        )
    mismatched = [check.label for check in matching.compare(hub, submission)
                  if not check.matches]
    if mismatched:
        problems.append(
            "The matching set differs from the original's (" + ", ".join(mismatched).lower()
            + "), so it is not a reproduction."
        )
    comparison = compare_numbers(hub, submission)
    if comparison is not None and comparison.band is Band.NOT_REPRODUCTION:
        problems.append(
            f"It diverges from the original by {percent(comparison.worst)}: "
            f"{Band.NOT_REPRODUCTION.label.lower()}."
        )
    copied = same_measurement(submission)
    if copied is not None:
        problems.append(copied)
    return tuple(problems)


def same_measurement(submission: Submission,
                     siblings: Iterable[Submission] | None = None) -> str | None:
    """Why this reproduction is a measurement its original or an earlier reproduction of
    it already holds (the same result file, by its sha256), so it is no second
    measurement (SPEC §5: the badge moves only on evidence); None when it is its own.
    `siblings`: the hub's reproductions when the caller has them loaded. (Typed numbers
    are not compared: two operators may well type the same medians.)"""
    hub = submission.hub
    if hub is None or submission.id is None or not submission.source_sha256:
        return None
    others = hub.reproductions if siblings is None else siblings
    earlier = [hub, *sorted((row for row in others
                             if row.id is not None and row.id < submission.id),
                            key=lambda row: row.id)]
    for row in earlier:
        if row.source_sha256 == submission.source_sha256:
            name = "the original's" if row is hub else f"reproduction #{row.id}'s"
            return (f"Its result file is {name} own (sha256 {submission.source_sha256[:12]}…): "
                    "one measurement, not a reproduction of it.")
    return None


def compare_numbers(hub: Submission, repro: Submission) -> divergence.Comparison | None:
    """The reproduction's divergence from its original; None when the numbers cannot compare."""
    try:
        return divergence.compare(hub.ttft_ms, hub.decode_tps, repro.ttft_ms, repro.decode_tps)
    except ValueError:
        return None
