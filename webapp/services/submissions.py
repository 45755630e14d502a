"""Anonymous submissions: fresh rows and reproductions arriving in the queue, feedback
notes, withdrawal, and finding the rows they attach to. Services add and flush; the
view commits. What the operator is told while typing is services/live_check.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp import schemas
from webapp.models import (
    FeedbackNote,
    Reviewer,
    Runtime,
    Submission,
)
from webapp.services import divergence, measurements, moderation, trust
from webapp.services.pick_lists import References
from webapp.services.rules import (
    PUBLIC_STATES,
    Kind,
    State,
)


class SubmissionError(ValueError):
    """A request the rules refuse; the message is for the operator."""


# --- what a form is validated against -----------------------------------------------------


def form_context(session: Session, tables: Mapping[str, Any], *, now: datetime,
                 hub: Submission | None = None) -> dict[str, Any]:
    """The validation context of a submission schema (webapp/schemas.py): the reference
    `tables` it picks from, today's date, the reviewers' names (no handle may pose as
    one) and, for a reproduction, what its hub locks."""
    context: dict[str, Any] = {
        **tables, "today": now.date(),
        "reviewer_names": tuple(session.scalars(select(Reviewer.name))),
    }
    if hub is not None:
        context["hub_hardware_count"] = hub.hardware_count
        context["hub_measured_on"] = hub.measured_at.date()
    return context


# --- creating submissions ----------------------------------------------------------------


def _operator_key(handle: str | None) -> str:
    return trust.normalise_handle(handle) or f"{trust.ANONYMOUS_PREFIX}{secrets.token_hex(8)}"


def _measurement_columns(data: schemas.Measurement) -> dict:
    return dict(
        runtime_version=data.runtime_version,
        driver_version=data.driver_version,
        os_label=data.os_label,
        concurrent_users=data.concurrent_users,
        prompt_tokens=data.prompt_tokens,
        max_tokens=data.max_tokens,
        seed=data.seed,
        quant_provider=data.quant_provider,
        model_sha256_prefix=data.model_sha256_prefix,
        speculative=data.speculative,
        batch_gt1=data.batch_gt1,
        tensor_parallel=data.tensor_parallel,
        vram_peak_mib=data.vram_peak_mib,
        prefill_tps=data.prefill_tps,
        notes=data.notes,
        handle=data.handle,
        url=data.url,
        operator_key=_operator_key(data.handle),
        **measurements.row_fields(data.run_tuples()),
    )


def _arrive(session: Session, submission: Submission, data: schemas.Measurement, *,
            ip_hash: str | None, now: datetime) -> Submission:
    submission.ip_hash = ip_hash
    submission.ip_day = now.date()
    submission.status_nonce = secrets.token_urlsafe(24)
    submission.created_at = now
    submission.measured_at = data.measured_at(now)
    moderation.transition(session, submission, State.QUEUED, actor=moderation.SUBMITTER,
                          now=now)
    return submission


def create_fresh(session: Session, data: schemas.FreshSubmission, refs: References, *,
                 ip_hash: str | None, now: datetime) -> Submission:
    """A queued fresh row (never public until a reviewer approves it)."""
    submission = Submission(
        kind=Kind.FRESH,
        model=refs["models"][data.model],
        hardware=refs["hardware"][data.hardware],
        hardware_count=data.hardware_count,
        quant=refs["quants"][data.quant],
        runtime=refs["runtimes"][data.runtime],
        other_model=data.other_model,
        other_hardware=data.other_hardware,
        other_quant=data.other_quant,
        other_runtime=data.other_runtime,
        cpu_family=data.cpu_family,
        **_measurement_columns(data),
    )
    return _arrive(session, submission, data, ip_hash=ip_hash, now=now)


def create_reproduction(session: Session, hub: Submission, data: schemas.ReproductionSubmission,
                        runtime: Runtime, *, ip_hash: str | None, now: datetime) -> Submission:
    """A queued reproduction of `hub`; the matching set is the hub's (the runtime may be
    another of its engine family). Refuses a run outside the reproduce flow's bands."""
    summary = divergence.summarise_runs(data.run_tuples())
    comparison = divergence.compare(hub.ttft_ms, hub.decode_tps,
                                    summary.ttft_median, summary.decode_median)
    if not comparison.band.allows_reproduce_flow:
        raise SubmissionError(comparison.band.explanation)
    if comparison.band.needs_note and not data.notes:
        raise SubmissionError("A reproduction in the related band needs a note.")
    if runtime.engine_family != hub.runtime.engine_family or (
        hub.runtime.is_other and runtime.id != hub.runtime_id
    ):
        raise SubmissionError("A reproduction must use the original's runtime engine family.")
    submission = Submission(
        kind=Kind.REPRODUCTION,
        hub_id=hub.id,
        model=hub.model,
        hardware=hub.hardware,
        hardware_count=hub.hardware_count,
        quant=hub.quant,
        runtime=runtime,
        other_model=hub.other_model,
        other_hardware=hub.other_hardware,
        other_quant=hub.other_quant,
        other_runtime=hub.other_runtime if runtime.id == hub.runtime_id else None,
        cpu_family=hub.cpu_family,
        worst_divergence=comparison.worst,
        band=comparison.band.value,
        **_measurement_columns(data),
    )
    return _arrive(session, submission, data, ip_hash=ip_hash, now=now)


def withdraw(session: Session, submission: Submission, *, now: datetime) -> None:
    """The submitter takes back a queued submission (moderation refuses any other state)."""
    if submission.state != State.QUEUED:
        raise SubmissionError(
            f"Only a queued submission can be withdrawn; this one is "
            f"{State(submission.state).label.lower()}."
        )
    moderation.transition(session, submission, State.WITHDRAWN, actor=moderation.SUBMITTER,
                          now=now)


def create_feedback(session: Session, row: Submission, data: schemas.FeedbackSubmission, *,
                    ip_hash: str | None, now: datetime) -> FeedbackNote:
    note = FeedbackNote(submission_id=row.id, kind=data.kind, message=data.message,
                        ip_hash=ip_hash, created_at=now)
    session.add(note)
    session.flush()
    return note


# --- finding rows --------------------------------------------------------------------


# Submission ids are INTEGER columns; a hand-typed id beyond them names nothing.
ID_MAX = 2**31 - 1


def reproducible_hub(session: Session, benchmark_id: int) -> Submission | None:
    """A hub that may be reproduced: a public catalog row (approved-public)."""
    if not 0 < benchmark_id <= ID_MAX:
        return None
    return session.scalars(
        select(Submission).where(Submission.id == benchmark_id,
                                 Submission.state == State.APPROVED)
    ).unique().one_or_none()


def feedback_target(session: Session, benchmark_id: int) -> Submission | None:
    """A public row or public piece of evidence that feedback may be sent against."""
    if not 0 < benchmark_id <= ID_MAX:
        return None
    return session.scalars(
        select(Submission).where(Submission.id == benchmark_id,
                                 Submission.state.in_([s.value for s in PUBLIC_STATES]))
    ).unique().one_or_none()
