"""The live check: what the server will say about typed runs, told while the operator
types (the htmx warning) and decided on POST — medians, spreads, the divergence band,
the note it needs, and plausibility. `check` is the one function both call, so the
warning and the verdict can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from pydantic_core import PydanticCustomError

from webapp import fields, measured_on, schemas
from webapp.models import Submission
from webapp.services import divergence, matching, plausibility
from webapp.services.pick_lists import PICKED, References
from webapp.services.rules import (
    METADATA_FIELDS,
    MIN_RUNS,
    RELATED_LIMIT,
    SPREAD_LIMIT,
    Band,
    percent,
)


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
    # what the POST will say about the measurement date (the schema calls the same parser)
    date_problem: str | None = None

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


def date_problem(typed: object, *, today: date | None, hub: Submission | None = None
                 ) -> str | None:
    """The message the POST gives for a typed measurement date, or None when it passes
    (or when no `today` is given: the date is then not checked)."""
    if today is None:
        return None
    try:
        measured_on.parse_measured_on(typed, today=today,
                                 not_before=hub.measured_at.date() if hub else None)
    except PydanticCustomError as problem:
        return problem.message()
    return None


def _check_form(posted: schemas.FormInput, setup: plausibility.Setup, hub: Submission | None = None,
                today: date | None = None) -> Check:
    # Only what already passes the schema's rules is read, so the same call serves a
    # form still being typed (the live warning) and a complete one (the POST).
    result = check(
        runs=schemas.typed_runs(posted),
        vram_peak_mib=schemas.typed_value("vram_peak_mib", posted.values.get("vram_peak_mib")),
        note_given=bool((posted.values.get("notes") or "").strip()),
        setup=setup,
        hub=hub,
        metadata=posted.values,
    )
    problem = date_problem(posted.values.get("measured_on"), today=today, hub=hub)
    return replace(result, date_problem=problem) if problem else result


def check_fresh(refs: References, posted: schemas.FormInput, *, today: date | None = None
                ) -> Check:
    """The fresh form's check, with the configuration as far as it is picked; with
    `today`, the measurement date too."""
    values = posted.values
    setup = plausibility.Setup(
        model=refs["models"].get(values.get("model")),
        hardware=refs["hardware"].get(values.get("hardware")),
        hardware_count=schemas.typed_value("hardware_count", values.get("hardware_count")),
        quant=refs["quants"].get(values.get("quant")),
        other_quant=(values.get("other_quant") or "").strip() or None,
        **_flags(posted),
    )
    return _check_form(posted, setup, today=today)


def check_reproduction(hub: Submission, posted: schemas.FormInput, *,
                       today: date | None = None) -> Check:
    """The reproduce form's check against its hub: band, notes, plausibility; with
    `today`, the measurement date too."""
    setup = plausibility.Setup(model=hub.model, hardware=hub.hardware,
                               hardware_count=hub.hardware_count, quant=hub.quant,
                               other_quant=hub.other_quant, **_flags(posted))
    return _check_form(posted, setup, hub, today)


def typed_matching_set(refs: References, values: Mapping[str, str]
                       ) -> matching.MatchingKey | None:
    """The fresh form's matching set once all four dimensions are picked."""
    rows = {name: refs[table].get(values.get(name)) for name, table, _ in PICKED}
    count = schemas.typed_value("hardware_count", values.get("hardware_count"))
    if None in rows.values() or count is None:
        return None
    return matching.key(**rows, hardware_count=count,
                        **{name: values.get(name) for name in matching.NAME_FIELDS})
