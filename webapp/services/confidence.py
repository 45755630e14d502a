"""The confidence tier of a hub row and the reasons it was derived from (SPEC §6).

Every one of the six factors yields a reason sentence, whether or not it moved the
tier, so a reader sees everything that was looked at.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from webapp.services.divergence import Comparison, compare, ratio, spread_exceeds
from webapp.services.rules import (
    AGE_LOWER_DAYS,
    CV_LIMIT,
    DRIFT_STATES,
    EDITORIAL_FRESH_DAYS,
    EVIDENCE_STATES,
    HIGH_OPERATORS,
    METADATA_FIELDS,
    MODERATE_OPERATORS,
    SPREAD_LIMIT,
    STALE_DAYS,
    TOLERANCE,
    VERY_HIGH_OPERATORS,
    Kind,
    Ring,
    Tier,
    percent,
)
from webapp.services.trust import (
    HubFacts,
    ReproFacts,
    independent_operators,
    placement,
    same_operator,
)
from webapp.services.versions import compare_versions


@dataclass(frozen=True)
class Confidence:
    tier: Tier
    reasons: tuple[str, ...]
    stale: bool
    age_days: int
    base_tier: Tier
    independent_operators: int
    outer_ring_operators: int
    metadata_complete: bool
    consistent: bool
    drift: bool

    @property
    def path(self) -> str:
        """How this row got its tier, in one sentence: the starting tier and what lowered
        it (the reasons give the detail)."""
        start, end = self.base_tier.label.lower(), self.tier.label.lower()
        lowered_by = [name for name, applies in (
            ("inconsistent numbers", not self.consistent
             and self.base_tier.rank > Tier.MODERATE.rank),
            ("runtime drift", self.drift),
            ("age", self.age_days > AGE_LOWER_DAYS),
        ) if applies]
        if self.tier is not self.base_tier:
            return f"This row started at {start} and was lowered to {end} by {_and(lowered_by)}."
        if lowered_by:
            return (f"This row started at {start}, the lowest tier: {_and(lowered_by)} cannot "
                    "lower it further.")
        return f"This row started at {start} and nothing lowered it."


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# --- factors -----------------------------------------------------------------------


def day_start(moment: datetime) -> datetime:
    """The first moment of `moment`'s UTC day."""
    return datetime.combine(moment.astimezone(UTC).date(), time(), tzinfo=UTC)


def age_days(newest: datetime, now: datetime) -> int:
    """Calendar days (UTC) from the newest measurement's day to `now`'s: a row measured
    on 2025-12-04 is 366 days old all day on 2026-12-05, whatever the hour (a measured-on
    date is stored at noon; whole 24-hour days read a day younger every morning). A
    measurement dated in the future counts as today's."""
    return max(0, (now.astimezone(UTC).date() - newest.astimezone(UTC).date()).days)


def older_than_from(moment: datetime, days: int) -> datetime:
    """The first moment at which something measured at `moment` is more than `days`
    days old (age_days): the start of the UTC day `days` + 1 days after its day."""
    return day_start(moment) + timedelta(days=days + 1)


def is_stale(age_days: int) -> bool:
    return age_days > STALE_DAYS


def age_lowering(tier: Tier, age_days: int) -> Tier:
    return tier.lowered() if age_days > AGE_LOWER_DAYS else tier


def missing_metadata(metadata: Mapping[str, object]) -> tuple[str, ...]:
    """The METADATA_FIELDS that are absent, None or blank, in their canonical order."""
    missing = []
    for field in METADATA_FIELDS:
        value = metadata.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append(field)
    return tuple(missing)


def base_tier(operators: int, editorial_fresh: bool, metadata_complete: bool) -> Tier:
    if operators >= VERY_HIGH_OPERATORS:
        return Tier.VERY_HIGH
    if operators >= HIGH_OPERATORS or editorial_fresh:
        return Tier.HIGH
    if operators >= MODERATE_OPERATORS or metadata_complete:
        return Tier.MODERATE
    return Tier.LOW


def coefficient_of_variation(values: Sequence[float]) -> float:
    """Population standard deviation over mean; 0 for fewer than two values."""
    if len(values) < 2:
        return 0.0
    floats = [float(value) for value in values]
    mean = math.fsum(floats) / len(floats)  # statistics.fmean, without its checks
    if not math.isfinite(mean) or mean <= 0:
        raise ValueError(f"coefficient of variation needs a positive mean, got {mean!r}")
    # Two passes over floats with an exact sum (statistics.pstdev computes in fractions,
    # a tenth of the detail page's assessment); ratio() rounds the float noise away.
    deviation = math.sqrt(math.fsum((value - mean) ** 2 for value in floats) / len(floats))
    return ratio(deviation / mean)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _metadata_names(fields: Iterable[str]) -> str:
    return ", ".join(METADATA_FIELDS[field] for field in fields)


@dataclass(frozen=True)
class _Drift:
    runtime_version: str
    comparison: Comparison


def _worst_drift(hub: HubFacts, repros: Iterable[ReproFacts]) -> _Drift | None:
    worst: _Drift | None = None
    for repro in repros:
        if repro.state not in DRIFT_STATES:
            continue
        newer = compare_versions(
            repro.environment.runtime_version, hub.environment.runtime_version
        )
        if newer != 1:
            continue
        comparison = compare(hub.ttft_ms, hub.decode_tps, repro.ttft_ms, repro.decode_tps)
        if comparison.worst > TOLERANCE and (
            worst is None or comparison.worst > worst.comparison.worst
        ):
            worst = _Drift(repro.environment.runtime_version or "", comparison)
    return worst


def newest_accepted_at(hub: HubFacts, repros: Iterable[ReproFacts]) -> datetime:
    """The moment the age factor counts from: the hub or its newest reproduced run by
    another operator (the row's own re-run reproduces nothing, SPEC §5)."""
    return max([hub.measured_at] + [r.measured_at for r in repros
                                    if r.state in EVIDENCE_STATES
                                    and not same_operator(r.operator, hub.operator)])


# --- the tier ----------------------------------------------------------------------


def assess(hub: HubFacts, repros: Sequence[ReproFacts], now: datetime, *,
           placements: Sequence[Ring | None] | None = None) -> Confidence:
    """The tier and its reasons. `placements`, when the caller already placed `repros`
    (trust.placement of each, in order), spares placing them again."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware (UTC), got {now!r}")
    repros = tuple(repros)
    # The row's own operator re-running it reproduces nothing (SPEC §5): no factor reads
    # it, so a re-run neither keeps a row from ageing nor moves its consistency or drift.
    others = [not same_operator(repro.operator, hub.operator) for repro in repros]
    evidence = [repro for repro, other in zip(repros, others, strict=True)
                if other and repro.state in EVIDENCE_STATES]

    # 1. reproductions
    operators = independent_operators(hub, repros)
    count = len(operators)
    # 2. environment diversity: ring members only, so a related-band run a reviewer
    # accepted (no ring: "accepted with a note") is no evidence of it
    if placements is None:
        placed = [(repro.operator, placement(hub, repro)) for repro in evidence
                  if repro.operator in operators]
    else:
        placed = [(repro.operator, ring_)
                  for repro, ring_ in zip(repros, placements, strict=True)
                  if repro.state in EVIDENCE_STATES and repro.operator in operators]
    outer = frozenset(operator for operator, ring_ in placed if ring_ is Ring.OUTER)
    ringed = frozenset(operator for operator, ring_ in placed if ring_ is not None)
    noted = frozenset(operator for operator, ring_ in placed if ring_ is None) - ringed
    # 3. metadata completeness
    missing = missing_metadata(hub.metadata)
    complete = not missing
    # 4. consistency
    unexplained = [
        (name, value)
        for name, value in (("TTFT", hub.ttft_spread), ("decode", hub.decode_spread))
        if spread_exceeds(value)
    ]
    decode_values = [hub.decode_tps] + [repro.decode_tps for repro in evidence]
    cv = coefficient_of_variation(decode_values)
    spread_ok = not unexplained or hub.spread_explained
    cv_ok = cv <= CV_LIMIT
    consistent = spread_ok and cv_ok
    # 5. runtime drift
    drift = _worst_drift(hub, [repro for repro, other in zip(repros, others, strict=True)
                               if other])
    # 6. age
    days = age_days(newest_accepted_at(hub, evidence), now)
    hub_days = age_days(hub.measured_at, now)
    editorial_fresh = hub.kind == Kind.EDITORIAL and hub_days <= EDITORIAL_FRESH_DAYS

    base = base_tier(count, editorial_fresh, complete)
    tier = base
    if not consistent:
        tier = tier.capped(Tier.MODERATE)
    before_drift = tier
    if drift is not None:
        tier = tier.lowered()
    before_age = tier
    tier = age_lowering(tier, days)
    stale = is_stale(days)

    reasons = (
        _base_reason(base, count, editorial_fresh, hub_days, complete),
        _reproductions_reason(count),
        _diversity_reason(count, len(outer), len(noted)),
        _metadata_reason(missing),
        _consistency_reason(unexplained, hub.spread_explained, cv, len(decode_values),
                            consistent),
        _drift_reason(drift, hub.environment.runtime_version, before_drift is Tier.LOW),
        _age_reason(days, stale, before_age is Tier.LOW),
    )
    return Confidence(
        tier=tier,
        reasons=reasons,
        stale=stale,
        age_days=days,
        base_tier=base,
        independent_operators=count,
        outer_ring_operators=len(outer),
        metadata_complete=complete,
        consistent=consistent,
        drift=drift is not None,
    )


# --- reasons -----------------------------------------------------------------------


def _base_reason(
    base: Tier, count: int, editorial_fresh: bool, hub_days: int, complete: bool
) -> str:
    if base is Tier.VERY_HIGH:
        why = f"at least {VERY_HIGH_OPERATORS} distinct independent operators reproduced it"
    elif base is Tier.HIGH and count >= HIGH_OPERATORS:
        why = f"at least {HIGH_OPERATORS} distinct independent operators reproduced it"
    elif base is Tier.HIGH:
        why = (
            f"an editorial measurement taken {_plural(hub_days, 'day')} ago, within "
            f"{EDITORIAL_FRESH_DAYS} days"
        )
    elif base is Tier.MODERATE and count >= MODERATE_OPERATORS:
        why = f"{_plural(count, 'independent operator')} reproduced it"
    elif base is Tier.MODERATE:
        why = "the build metadata is complete"
    else:
        why = "a single source with incomplete build metadata"
    return f"Starting tier {base.label.lower()}: {why}."


def _reproductions_reason(count: int) -> str:
    if count == 0:
        return (
            "Reproductions: no operator other than the original one has a clean "
            "reproduction yet."
        )
    return (
        f"Reproductions: {_plural(count, 'distinct independent operator')} reproduced "
        "this row."
    )


def _diversity_reason(count: int, outer: int, noted: int) -> str:
    if count == 0:
        return "Environment diversity: no independent reproduction from any environment yet."
    apart = ""
    if noted:
        apart = (
            f"; {_plural(noted, 'operator')} only reproduced it outside "
            f"{percent(TOLERANCE)}, accepted with a note, which is no ring evidence"
        )
    if outer == 0 and noted == count:
        return (
            "Environment diversity: no independent reproduction landed within "
            f"{percent(TOLERANCE)}, so none is ring evidence ({_plural(noted, 'operator')} "
            "accepted with a note)."
        )
    if outer == 0:
        return (
            "Environment diversity: every independent reproduction within tolerance ran in "
            f"the original's environment (inner ring){apart}."
        )
    return (
        f"Environment diversity: {outer} of {count} independent operators reproduced it "
        f"in a different OS, driver or runtime version (outer ring){apart}."
    )


def _metadata_reason(missing: Sequence[str]) -> str:
    if not missing:
        return f"Metadata: complete ({_metadata_names(METADATA_FIELDS)})."
    return f"Metadata: incomplete, missing {_metadata_names(missing)}."


def _consistency_reason(
    unexplained: Sequence[tuple[str, float]],
    explained: bool,
    cv: float,
    values: int,
    consistent: bool,
) -> str:
    if unexplained and explained:
        spread_text = (
            "run spread over " + percent(SPREAD_LIMIT) + " ("
            + ", ".join(f"{name} {percent(value)}" for name, value in unexplained)
            + ") is explained by the operator's note"
        )
    elif unexplained:
        spread_text = (
            "run spread over " + percent(SPREAD_LIMIT) + " ("
            + ", ".join(f"{name} {percent(value)}" for name, value in unexplained)
            + ") with no note explaining it"
        )
    else:
        spread_text = f"run spreads within {percent(SPREAD_LIMIT)}"
    if values < 2:
        cv_text = "a single decode measurement, nothing to compare across yet"
    else:
        cv_text = (
            f"decode speed varies {percent(cv)} across {values} measurements "
            f"(limit {percent(CV_LIMIT)})"
        )
    if consistent:
        return f"Consistency: {spread_text}; {cv_text}."
    return f"Consistency failed: {spread_text}; {cv_text}. Tier capped at moderate."


# What a lowering step says: it moved the tier, or the tier was already the lowest.
_LOWERED = "Tier lowered one step."
_ALREADY_LOW = "The tier is already low, the lowest, so it stays there."


def _drift_reason(drift: _Drift | None, hub_runtime: str | None, already_low: bool) -> str:
    if drift is not None:
        return (
            f"Runtime drift: a reproduction on the newer runtime {drift.runtime_version} "
            f"(original: {hub_runtime}) diverges by {percent(drift.comparison.worst)}, "
            f"more than {percent(TOLERANCE)}; the numbers may be stale for current "
            f"runtimes. {_ALREADY_LOW if already_low else _LOWERED}"
        )
    if not hub_runtime or not hub_runtime.strip():
        return (
            "Runtime drift: cannot be checked, the original's runtime version is not "
            "recorded."
        )
    return (
        f"Runtime drift: no reproduction on a runtime newer than {hub_runtime} diverges by "
        f"more than {percent(TOLERANCE)}."
    )


def _age_reason(days: int, stale: bool, already_low: bool) -> str:
    text = f"Age: the newest accepted measurement is {_plural(days, 'day')} old"
    step = _ALREADY_LOW if already_low else _LOWERED
    if stale:
        return (
            f"{text}, over 18 months ({STALE_DAYS} days): the row is stale and hidden from "
            f"default catalog views. {step}"
        )
    if days > AGE_LOWER_DAYS:
        return f"{text}, over 12 months ({AGE_LOWER_DAYS} days). {step}"
    return f"{text}, within 12 months ({AGE_LOWER_DAYS} days)."
