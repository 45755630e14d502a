"""Anonymous submissions: fresh rows, reproductions, feedback, withdrawal, and the live
check that tells an operator while they type what the server will say on POST.

`check` is the one function that decides medians, spreads, divergence band and
plausibility for both the htmx fragment and the final POST. Services add and flush;
the view commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp import fields, schemas
from webapp.models import (
    FeedbackNote,
    Hardware,
    ModelVariant,
    Quant,
    Runtime,
    Submission,
)
from webapp.services import divergence, matching, measurements, moderation, plausibility, trust
from webapp.services.rules import (
    METADATA_FIELDS,
    MIN_RUNS,
    PUBLIC_STATES,
    RELATED_LIMIT,
    SPREAD_LIMIT,
    Band,
    Kind,
    State,
    percent,
)


class SubmissionError(ValueError):
    """A request the rules refuse; the message is for the operator."""


# --- reference data for the pick-lists ------------------------------------------------


@dataclass(frozen=True)
class Group:
    label: str
    options: tuple


# table ("models", "hardware", "quants", "runtimes") -> slug -> reference row; also the
# context the fresh schema validates its pick-lists against.
References = Mapping[str, Mapping[str, object]]
PICKED = (("model", "models", ModelVariant), ("hardware", "hardware", Hardware),
          ("quant", "quants", Quant), ("runtime", "runtimes", Runtime))


@dataclass(frozen=True)
class Choices:
    """The fresh form's pick-lists, grouped for reading, and each table by slug."""

    models: tuple[Group, ...]
    hardware: tuple[Group, ...]
    quants: tuple[Group, ...]
    runtimes: tuple[Group, ...]
    by_slug: References


OTHER_GROUP = "Not in the list"


def _groups(rows: Iterable, key: Callable[[object], str]) -> tuple[Group, ...]:
    """Rows grouped by `key` in the order the reference data lists them; the "other"
    entry last, in a group of its own."""
    groups: dict[str, list] = {}
    others = []
    for row in rows:
        if row.is_other:
            others.append(row)
        else:
            groups.setdefault(key(row), []).append(row)
    return (*(Group(label, tuple(members)) for label, members in groups.items()),
            Group(OTHER_GROUP, tuple(others)))


def _hardware_group(row: Hardware) -> str:
    return "CPU only (by memory tier)" if row.kind == "cpu" else row.vendor


def reference_choices(session: Session) -> Choices:
    models = session.scalars(
        select(ModelVariant).order_by(ModelVariant.family, ModelVariant.params_b,
                                      ModelVariant.name)
    ).all()
    hardware = session.scalars(select(Hardware).order_by(Hardware.id)).all()
    quants = session.scalars(select(Quant).order_by(Quant.id)).all()
    runtimes = session.scalars(select(Runtime).order_by(Runtime.id)).all()
    return Choices(
        models=_groups(models, lambda row: row.family),
        hardware=_groups(hardware, _hardware_group),
        quants=_groups(quants, lambda row: row.family),
        runtimes=_groups(runtimes, lambda row: f"{row.engine_family} engine family"),
        by_slug={
            table: {row.slug: row for row in rows}
            for table, rows in (("models", models), ("hardware", hardware),
                                ("quants", quants), ("runtimes", runtimes))
        },
    )


def picked_references(session: Session, values: Mapping[str, str]) -> References:
    """Only the reference rows a form picked: all the live check needs, cheaply."""
    picked: dict[str, dict[str, object]] = {}
    for field_name, table, model in PICKED:
        slug = values.get(field_name)
        row = session.scalar(select(model).where(model.slug == slug)) if slug else None
        picked[table] = {slug: row} if row is not None else {}
    return picked


def family_runtimes(session: Session, runtime: Runtime) -> dict[str, Runtime]:
    """The runtimes a reproduction may use: the hub's engine family (only itself when
    the hub's runtime is "other", whose family says nothing)."""
    if runtime.is_other:
        return {runtime.slug: runtime}
    rows = session.scalars(
        select(Runtime).where(Runtime.engine_family == runtime.engine_family)
        .order_by(Runtime.id)
    )
    return {row.slug: row for row in rows}


# --- the live check ---------------------------------------------------------------------


@dataclass(frozen=True)
class MetricView:
    label: str
    unit: str
    yours: float
    spread: float
    spread_too_wide: bool
    hub: float | None = None
    divergence: float | None = None

    @property
    def spread_label(self) -> str:
        return percent(self.spread)

    @property
    def divergence_label(self) -> str | None:
        return None if self.divergence is None else percent(self.divergence)


@dataclass(frozen=True)
class Check:
    runs_entered: int
    summary: divergence.RunSummary | None
    comparison: divergence.Comparison | None
    plausibility: plausibility.Plausibility | None
    note_given: bool
    reproduction: bool
    missing_metadata: tuple[str, ...] = ()
    metrics: tuple[MetricView, ...] = field(default=())

    @property
    def band(self) -> Band | None:
        return self.comparison.band if self.comparison else None

    @property
    def min_runs(self) -> int:
        return MIN_RUNS

    @property
    def enough_runs(self) -> bool:
        return self.runs_entered >= MIN_RUNS

    @property
    def spread_needs_note(self) -> bool:
        return bool(self.summary and self.summary.needs_note)

    @property
    def refused(self) -> bool:
        return self.band is not None and not self.band.allows_reproduce_flow

    @property
    def note_required(self) -> bool:
        return self.spread_needs_note or bool(self.band and self.band.needs_note)

    @property
    def note_missing(self) -> bool:
        return self.note_required and not self.note_given

    @property
    def flags(self) -> tuple[plausibility.Flag, ...]:
        return self.plausibility.flags if self.plausibility else ()

    def blocking(self) -> dict[str, str]:
        """What stops a POST: messages by form field (`band` for a refused reproduction)."""
        problems: dict[str, str] = {}
        if self.refused:
            problems["band"] = (
                f"Your runs diverge {percent(self.comparison.worst)} from the original, more "
                f"than {percent(RELATED_LIMIT)}: this is not a reproduction."
            )
        if self.note_missing and not self.refused:
            reasons = []
            if self.band is not None and self.band.needs_note:
                reasons.append(
                    f"your runs diverge {percent(self.comparison.worst)} from the original"
                )
            if self.spread_needs_note:
                reasons.append(f"the spread across your runs is above {percent(SPREAD_LIMIT)}")
            problems["notes"] = (
                "Explain in the notes why " + " and ".join(reasons) + " (a note is required)."
            )
        return problems


def check(
    *,
    runs: Sequence[tuple[float, int, float]],
    vram_peak_mib: float | None,
    note_given: bool,
    setup: plausibility.Setup,
    hub: Submission | None = None,
    metadata: Mapping[str, object] | None = None,
) -> Check:
    """Medians, spreads, divergence from the hub and plausibility of typed runs.

    `runs` holds only complete, valid rows; any number of them, so the warning can
    speak while the operator is still typing the third.
    """
    summary = divergence.summarise_runs(runs) if runs else None
    comparison = None
    if summary is not None and hub is not None:
        comparison = divergence.compare(hub.ttft_ms, hub.decode_tps,
                                        summary.ttft_median, summary.decode_median)
    result = plausibility.assess(setup, decode_tps=summary.decode_median if summary else None,
                                 vram_peak_mib=vram_peak_mib)
    metrics: tuple[MetricView, ...] = ()
    if summary is not None:
        metrics = (
            MetricView("Time to first token", "ms", summary.ttft_median, summary.ttft_spread,
                       divergence.spread_exceeds(summary.ttft_spread),
                       hub.ttft_ms if hub else None,
                       comparison.ttft_divergence if comparison else None),
            MetricView("Decode speed", "tok/s", summary.decode_median, summary.decode_spread,
                       divergence.spread_exceeds(summary.decode_spread),
                       hub.decode_tps if hub else None,
                       comparison.decode_divergence if comparison else None),
        )
    missing = ()
    if metadata is not None:
        missing = tuple(label for name, label in METADATA_FIELDS.items()
                        if fields.is_blank(metadata.get(name)))
    return Check(
        runs_entered=len(runs), summary=summary, comparison=comparison, plausibility=result,
        note_given=note_given, reproduction=hub is not None, missing_metadata=missing,
        metrics=metrics,
    )


def _flags(posted: schemas.FormInput) -> dict[str, bool]:
    return {name: bool(posted.data.get(name)) for name in fields.FLAG_FIELDS}


def _check_form(posted: schemas.FormInput, setup: plausibility.Setup, hub: Submission | None = None
                ) -> Check:
    # Only what already passes the schema's rules is read, so the same call serves a
    # form still being typed (the live warning) and a complete one (the POST).
    return check(
        runs=schemas.typed_runs(posted),
        vram_peak_mib=schemas.typed_value("vram_peak_mib", posted.values.get("vram_peak_mib")),
        note_given=bool((posted.values.get("notes") or "").strip()),
        setup=setup,
        hub=hub,
        metadata=posted.values,
    )


def check_fresh(refs: References, posted: schemas.FormInput) -> Check:
    """The fresh form's check, with the configuration as far as it is picked."""
    values = posted.values
    setup = plausibility.Setup(
        model=refs["models"].get(values.get("model")),
        hardware=refs["hardware"].get(values.get("hardware")),
        hardware_count=schemas.typed_value("hardware_count", values.get("hardware_count")),
        quant=refs["quants"].get(values.get("quant")),
        other_quant=(values.get("other_quant") or "").strip() or None,
        **_flags(posted),
    )
    return _check_form(posted, setup)


def check_reproduction(hub: Submission, posted: schemas.FormInput) -> Check:
    """The reproduce form's check against its hub: band, notes, plausibility."""
    setup = plausibility.Setup(model=hub.model, hardware=hub.hardware,
                               hardware_count=hub.hardware_count, quant=hub.quant,
                               other_quant=hub.other_quant, **_flags(posted))
    return _check_form(posted, setup, hub)


def typed_matching_set(refs: References, values: Mapping[str, str]
                       ) -> matching.MatchingKey | None:
    """The fresh form's matching set once all four dimensions are picked."""
    rows = {name: refs[table].get(values.get(name)) for name, table, _ in PICKED}
    count = schemas.typed_value("hardware_count", values.get("hardware_count"))
    if None in rows.values() or count is None:
        return None
    return matching.key(**rows, hardware_count=count,
                        **{name: values.get(name) for name in matching.NAME_FIELDS})


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


def _arrive(session: Session, submission: Submission, *, ip_hash: str | None,
            now: datetime) -> Submission:
    submission.ip_hash = ip_hash
    submission.ip_day = now.date()
    submission.status_nonce = secrets.token_urlsafe(24)
    submission.created_at = now
    submission.measured_at = now
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
    return _arrive(session, submission, ip_hash=ip_hash, now=now)


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
    return _arrive(session, submission, ip_hash=ip_hash, now=now)


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
