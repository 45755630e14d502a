"""Moderation: state transitions and the reviewer's decisions, each with an audit event.

Services add and flush; the request commits once, so a decision and its audit event
land together or not at all. After any change that touches a hub's evidence the
hub's derived index is refreshed here, before the caller commits.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from webapp.models import AuditEvent, FeedbackNote, Reviewer, Submission
from webapp.services import (
    divergence,
    evidence,
    labels,
    matching,
    measurements,
    plausibility,
    trust,
)
from webapp.services.rules import (
    REJECTION_REASON_MAX,
    SPREAD_LIMIT,
    Band,
    Kind,
    Ring,
    State,
    percent,
)

SUBMITTER = "submitter"
SYSTEM = "system"
REVIEWER_PREFIX = "reviewer:"
EDITORIAL_OPERATOR = "editorial"
AUDIT_REASON_MAX = 500  # AuditEvent.reason's width
RESOLUTION_MAX = 500  # FeedbackNote.resolution_note's width

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


class TriageError(ValueError):
    """A feedback resolution the rules refuse; the message is for the user."""


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
    return " ".join((text or "").split())


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
        raise TransitionError(f"The reason must be at most {AUDIT_REASON_MAX} characters.")

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
    if not (reason or "").strip():
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
    return tuple(problems)


# --- editorial rows ----------------------------------------------------------------------


@dataclass(frozen=True)
class EditorialRun:
    ttft_ms: float
    tokens_generated: int
    decode_tps: float


def publish_editorial(
    session: Session,
    *,
    columns: Mapping[str, object],
    runs: Sequence[EditorialRun],
    actor: str,
    now: datetime,
) -> Submission:
    """An editors' measurement: published at once as an approved editorial row.

    `columns` are already-validated Submission columns (matching set, build context,
    vram_peak_mib, notes, measured_at); the headline numbers are computed from `runs`.
    The editors count as one operator.
    """
    values = dict(columns)
    values.setdefault("measured_at", now)
    row = Submission(
        **values,
        kind=Kind.EDITORIAL,
        **measurements.row_fields(
            [(run.ttft_ms, run.tokens_generated, run.decode_tps) for run in runs]),
        operator_key=EDITORIAL_OPERATOR,
        status_nonce=secrets.token_urlsafe(32),
        created_at=now,
    )
    transition(session, row, State.APPROVED, actor=actor, now=now,
               reason="Editorial measurement published.")
    return row


# --- operator links ----------------------------------------------------------------------


def link_operators(
    session: Session,
    submissions: Sequence[Submission],
    *,
    actor: str,
    now: datetime,
    reason: str = "",
) -> str:
    """Count these submissions, and everything already linked to them, as one operator.

    The shared key is the oldest named (handle) key among them, else the oldest key. Every
    re-keyed submission gets an audit event (its state unchanged) and every hub whose
    evidence changed is refreshed. Returns the shared key.
    """
    rows = sorted({row.id: row for row in submissions}.values(), key=lambda r: r.id)
    if len(rows) < 2:
        raise TransitionError("Pick at least two submissions to link as one operator.")
    note = one_line(reason)
    keys = {row.operator_key for row in rows}
    if len(keys) == 1:
        raise TransitionError("These submissions already count as one operator.")
    named = [row.operator_key for row in rows
             if not row.operator_key.startswith(trust.ANONYMOUS_PREFIX)]
    target = named[0] if named else rows[0].operator_key
    affected = session.scalars(
        select(Submission).where(Submission.operator_key.in_(keys - {target}))
    ).all()
    ids = ", ".join(f"#{row.id}" for row in rows)
    text = f"Linked as one operator with {ids}." + (f" {note}" if note else "")
    if len(text) > AUDIT_REASON_MAX:
        raise TransitionError(f"The reason must be at most {AUDIT_REASON_MAX} characters.")
    hubs: set[int] = set()
    for row in affected:
        row.operator_key = target
        session.add(AuditEvent(submission_id=row.id, actor=actor, from_state=row.state,
                               to_state=row.state, reason=text, created_at=now))
        if row.state == State.APPROVED or row.derived_badge is not None:
            hubs.add(row.id)
        if row.hub_id is not None:
            hubs.add(row.hub_id)
    session.flush()
    for hub in session.scalars(select(Submission).where(Submission.id.in_(hubs))):
        evidence.refresh_derived(session, hub)
    session.flush()
    return target


# --- feedback triage -----------------------------------------------------------------------


def resolve_feedback(
    session: Session, note: FeedbackNote, *, reviewer: Reviewer, now: datetime, resolution: str
) -> FeedbackNote:
    text = (resolution or "").strip()
    if note.status != "open":
        raise TriageError("This feedback note is resolved already.")
    if not text:
        raise TriageError("Resolving a feedback note needs a note saying what was done.")
    if len(text) > RESOLUTION_MAX:
        raise TriageError(f"The resolution note must be at most {RESOLUTION_MAX} characters.")
    note.status = "resolved"
    note.resolution_note = text
    note.resolved_by_id = reviewer.id
    note.resolved_at = now
    session.flush()
    return note


@dataclass(frozen=True)
class Triage:
    open: tuple[FeedbackNote, ...]  # oldest first: the longest waiting on top
    resolved: tuple[FeedbackNote, ...]  # the most recently resolved first


def feedback_triage(session: Session, *, resolved_limit: int = 50) -> Triage:
    def notes(*conditions, order, limit=None):
        statement = (
            select(FeedbackNote)
            .where(*conditions)
            .options(selectinload(FeedbackNote.submission),
                     selectinload(FeedbackNote.resolved_by))
            .order_by(*order)
            .limit(limit)
        )
        return tuple(session.scalars(statement))

    return Triage(
        open=notes(FeedbackNote.status == "open",
                   order=(FeedbackNote.created_at, FeedbackNote.id)),
        resolved=notes(FeedbackNote.status != "open",
                       order=(FeedbackNote.resolved_at.desc(), FeedbackNote.id.desc()),
                       limit=resolved_limit),
    )


def open_feedback_count(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(FeedbackNote).where(FeedbackNote.status == "open")
    ) or 0


def sort_feedback(notes: Iterable[FeedbackNote]) -> list[FeedbackNote]:
    return sorted(notes, key=lambda note: (note.status != "open", note.created_at))


# --- the side-by-side comparison --------------------------------------------------------------


def _comparable(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return trust.comparable(None if value is None else str(value))


@dataclass(frozen=True)
class ContextDiff:
    label: str
    hub_value: str | None
    repro_value: str | None
    differs: bool
    environment: bool  # one of the three fields that decide the ring


ENVIRONMENT_FIELDS = ("os_label", "driver_version", "runtime_version")
CONTEXT_FIELDS = (
    ("runtime_version", "Runtime version"),
    ("driver_version", "Driver / CUDA / ROCm / Metal version"),
    ("os_label", "OS label"),
    ("concurrent_users", "Concurrent users"),
    ("prompt_tokens", "Prompt length (tokens)"),
    ("max_tokens", "Max tokens"),
    ("seed", "Seed"),
    ("quant_provider", "Quant provider"),
    ("model_sha256_prefix", "Model file sha256 (prefix)"),
    ("speculative", "Speculative decoding"),
    ("batch_gt1", "Batch larger than 1"),
    ("tensor_parallel", "Tensor parallel"),
)


def context_differences(hub: Submission, repro: Submission) -> tuple[ContextDiff, ...]:
    diffs = [ContextDiff("Runtime", hub.other_runtime or hub.runtime.name,
                         repro.other_runtime or repro.runtime.name,
                         _comparable(hub.other_runtime or hub.runtime.name)
                         != _comparable(repro.other_runtime or repro.runtime.name), False)]
    for name, label in CONTEXT_FIELDS:
        a, b = getattr(hub, name), getattr(repro, name)
        diffs.append(ContextDiff(label, labels.shown(a), labels.shown(b),
                                 _comparable(a) != _comparable(b), name in ENVIRONMENT_FIELDS))
    return tuple(diffs)


def compare_numbers(hub: Submission, repro: Submission) -> divergence.Comparison | None:
    try:
        return divergence.compare(hub.ttft_ms, hub.decode_tps, repro.ttft_ms, repro.decode_tps)
    except ValueError:
        return None


@dataclass(frozen=True)
class MetricRow:
    label: str
    unit: str
    hub_value: float | None
    repro_value: float | None
    divergence: float | None
    band: Band | None

    @property
    def divergence_label(self) -> str:
        return percent(self.divergence) if self.divergence is not None else "—"


@dataclass(frozen=True)
class Signal:
    """A reason to suspect two submissions come from one operator."""

    other: Submission
    relation: str  # "the original row" or "reproduction #n of the same original"
    shared: tuple[str, ...]  # "handle", "same-day IP hash"
    linked: bool  # already counted as one operator

    @property
    def message(self) -> str:
        what = " and ".join(self.shared)
        verdict = ("They already count as one operator." if self.linked
                   else "They count as different operators unless you link them.")
        return f"Shares a {what} with {self.relation} (#{self.other.id}). {verdict}"


def signals(
    repro: Submission, hub: Submission, siblings: Iterable[Submission]
) -> tuple[Signal, ...]:
    """Shared normalised handle or same-day IP hash with the hub or another reproduction."""
    found: list[Signal] = []
    others = [(hub, "the original row")] + [
        (row, f"reproduction #{row.id} of the same original")
        for row in siblings if row.id not in (repro.id, hub.id)
    ]
    own_handle = trust.normalise_handle(repro.handle)
    for other, relation in others:
        shared: list[str] = []
        if own_handle and own_handle == trust.normalise_handle(other.handle):
            shared.append("handle")
        if (repro.ip_hash and repro.ip_day and repro.ip_hash == other.ip_hash
                and repro.ip_day == other.ip_day):
            shared.append("same-day IP hash")
        if shared:
            found.append(Signal(other, relation, tuple(shared),
                                other.operator_key == repro.operator_key))
    return tuple(found)


@dataclass(frozen=True)
class SideBySide:
    hub: Submission
    matching: tuple[matching.Dimension, ...]
    context: tuple[ContextDiff, ...]
    ring: Ring
    comparison: divergence.Comparison | None
    metrics: tuple[MetricRow, ...]
    signals: tuple[Signal, ...]
    problems: tuple[str, ...]  # why it cannot be marked reproduced
    same_operator: bool  # counts as the original's operator: no evidence for the badge

    @property
    def matching_ok(self) -> bool:
        return all(check.matches for check in self.matching)

    @property
    def environment_differences(self) -> tuple[ContextDiff, ...]:
        return tuple(diff for diff in self.context if diff.environment and diff.differs)


def side_by_side(session: Session, repro: Submission) -> SideBySide | None:
    hub = repro.hub
    if repro.kind != Kind.REPRODUCTION or hub is None:
        return None
    siblings = session.scalars(
        select(Submission).where(Submission.hub_id == hub.id, Submission.id != repro.id)
    ).all()
    comparison = compare_numbers(hub, repro)
    band = comparison.band if comparison else None
    metrics = (
        MetricRow("Time to first token", "ms", hub.ttft_ms, repro.ttft_ms,
                  comparison.ttft_divergence if comparison else None, band),
        MetricRow("Decode speed", "tok/s", hub.decode_tps, repro.decode_tps,
                  comparison.decode_divergence if comparison else None, band),
        MetricRow("Tokens generated", "tokens", hub.tokens_generated, repro.tokens_generated,
                  None, None),
        MetricRow("Memory peak", "MiB", hub.vram_peak_mib, repro.vram_peak_mib, None, None),
        MetricRow("Prefill speed", "tok/s", hub.prefill_tps, repro.prefill_tps, None, None),
    )
    return SideBySide(
        hub=hub,
        matching=matching.compare(hub, repro),
        context=context_differences(hub, repro),
        ring=trust.ring(evidence.environment_of(hub), evidence.environment_of(repro)),
        comparison=comparison,
        metrics=metrics,
        signals=signals(repro, hub, siblings),
        problems=reproduction_problems(repro),
        same_operator=repro.operator_key == hub.operator_key,
    )


# --- a submission as a reviewer sees it ------------------------------------------------------


@dataclass(frozen=True)
class Review:
    row: Submission
    plausibility: plausibility.Plausibility
    spreads: tuple[divergence.SpreadCheck, ...]
    comparison: SideBySide | None
    history: tuple[AuditEvent, ...]
    feedback: tuple[FeedbackNote, ...]
    revision_targets: tuple[State, ...]

    @property
    def is_queued(self) -> bool:
        return self.row.state == State.QUEUED

    @property
    def spread_flagged(self) -> bool:
        return any(check.flagged for check in self.spreads)

    @property
    def can_mark_reproduced(self) -> bool:
        return self.comparison is not None and not self.comparison.problems


def review(session: Session, submission_id: int) -> Review | None:
    row = session.scalars(
        select(Submission)
        .where(Submission.id == submission_id)
        .options(selectinload(Submission.runs), selectinload(Submission.audit_events),
                 selectinload(Submission.feedback))
    ).unique().one_or_none()
    if row is None:
        return None
    return Review(
        row=row,
        plausibility=plausibility.of_row(row),
        spreads=divergence.spread_checks(row.ttft_spread, row.decode_spread),
        comparison=side_by_side(session, row),
        history=tuple(row.audit_events),
        feedback=tuple(sort_feedback(row.feedback)),
        revision_targets=revision_targets(row),
    )


# --- the queue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFlag:
    code: str
    label: str
    rejection_reason: str | None = None  # a one-click rejection quoting the numbers


QUEUE_FLAGS = {
    "exceeds-ceiling": "Exceeds the bandwidth ceiling",
    "vram-exceeds-memory": "Memory peak exceeds the hardware's memory",
    "high-spread": f"Spread above {percent(SPREAD_LIMIT)}",
    "not-reproduction": "Diverges too far to be a reproduction",
    "related-band": "Related band: needs the reviewer's call",
    "matching-set": "Matching set differs from the original",
    "same-operator-signal": "Shares a handle or same-day IP hash",
    "other-entry": "Uses an \"other\" pick-list entry",
}


@dataclass(frozen=True)
class QueueItem:
    row: Submission
    flags: tuple[QueueFlag, ...]
    comparison: divergence.Comparison | None

    @property
    def can_mark_reproduced(self) -> bool:
        blocking = {"not-reproduction", "matching-set"}
        return self.row.kind == Kind.REPRODUCTION and not any(
            flag.code in blocking for flag in self.flags)

    @property
    def reject_flags(self) -> tuple[QueueFlag, ...]:
        return tuple(flag for flag in self.flags if flag.rejection_reason)


@dataclass(frozen=True)
class Queue:
    items: tuple[QueueItem, ...]
    counts: dict[Kind, int]  # every queued submission, by kind
    matched: int  # queued submissions matching the filters
    page: int
    pages: int
    kind: Kind | None
    flag: str | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def queue_counts(session: Session) -> dict[Kind, int]:
    counts = dict.fromkeys(Kind, 0)
    for kind, count in session.execute(
        select(Submission.kind, func.count()).where(Submission.state == State.QUEUED)
        .group_by(Submission.kind)
    ):
        counts[Kind(kind)] = count
    return counts


def queue_flags(row: Submission, hub: Submission | None,
                siblings: Sequence[Submission]) -> tuple[QueueFlag, ...]:
    flags = [
        QueueFlag(flag.code.value, flag.code.label, flag.rejection_reason)
        for flag in plausibility.of_row(row).flags
    ]
    if divergence.spread_exceeds(row.ttft_spread) or divergence.spread_exceeds(row.decode_spread):
        flags.append(QueueFlag("high-spread", QUEUE_FLAGS["high-spread"]))
    if hub is not None and row.kind == Kind.REPRODUCTION:
        comparison = compare_numbers(hub, row)
        if comparison is not None and comparison.band is Band.NOT_REPRODUCTION:
            flags.append(QueueFlag("not-reproduction", QUEUE_FLAGS["not-reproduction"]))
        elif comparison is not None and comparison.band is Band.RELATED:
            flags.append(QueueFlag("related-band", QUEUE_FLAGS["related-band"]))
        if not matching.same(hub, row):
            flags.append(QueueFlag("matching-set", QUEUE_FLAGS["matching-set"]))
        if signals(row, hub, siblings):
            flags.append(QueueFlag("same-operator-signal", QUEUE_FLAGS["same-operator-signal"]))
    if row.model.is_other or row.hardware.is_other or row.quant.is_other or row.runtime.is_other:
        flags.append(QueueFlag("other-entry", QUEUE_FLAGS["other-entry"]))
    return tuple(flags)


def queue(
    session: Session,
    *,
    kind: Kind | None = None,
    flag: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Queue:
    """Queued submissions, oldest first, with their flags; filters by kind and flag.

    Flags are computed by the rules, so the flag filter runs over the queued rows in
    Python; the queue is bounded by the submission rate limits.
    """
    statement = (
        select(Submission)
        .where(Submission.state == State.QUEUED)
        .options(selectinload(Submission.hub))
        .order_by(Submission.created_at, Submission.id)
    )
    if kind is not None:
        statement = statement.where(Submission.kind == kind)
    rows = session.scalars(statement).unique().all()
    hub_ids = {row.hub_id for row in rows if row.hub_id is not None}
    siblings: dict[int, list[Submission]] = defaultdict(list)
    if hub_ids:
        for sibling in session.scalars(
            select(Submission).where(Submission.hub_id.in_(hub_ids))
        ):
            siblings[sibling.hub_id].append(sibling)
    items = []
    for row in rows:
        flags = queue_flags(row, row.hub, siblings.get(row.hub_id, []))
        if flag == "any" and not flags:
            continue
        if flag not in (None, "any") and flag not in {f.code for f in flags}:
            continue
        comparison = compare_numbers(row.hub, row) if row.hub is not None else None
        items.append(QueueItem(row, flags, comparison))
    pages = max(1, -(-len(items) // per_page))
    page = min(max(page, 1), pages)
    start = (page - 1) * per_page
    return Queue(
        items=tuple(items[start:start + per_page]),
        counts=queue_counts(session),
        matched=len(items),
        page=page,
        pages=pages,
        kind=kind,
        flag=flag,
    )


def queue_item(session: Session, row: Submission) -> QueueItem:
    """One row as the queue shows it (for the htmx swap after an error)."""
    siblings = []
    if row.hub_id is not None:
        siblings = session.scalars(
            select(Submission).where(Submission.hub_id == row.hub_id)
        ).all()
    comparison = compare_numbers(row.hub, row) if row.hub is not None else None
    return QueueItem(row, queue_flags(row, row.hub, siblings), comparison)


# --- the audit log --------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditPage:
    events: tuple[AuditEvent, ...]
    page: int
    has_next: bool


def audit_log(session: Session, *, page: int = 1, per_page: int = 50) -> AuditPage:
    page = max(page, 1)
    events = session.scalars(
        select(AuditEvent)
        .options(selectinload(AuditEvent.submission))
        .order_by(AuditEvent.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    return AuditPage(tuple(events[:per_page]), page, len(events) > per_page)


def similar_public_rows(session: Session, row: Submission, *, limit: int = 5) -> list[Submission]:
    """Public rows with the same matching set: possible duplicates of a fresh submission."""
    return matching.public_rows(session, matching.key_of(row), limit=limit, exclude_id=row.id)
