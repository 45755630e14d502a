"""From stored rows to the rules engine's plain facts, for a page of hubs at a time.

Badge and tier are always recomputed from the evidence. The derived_* columns are
an index for filtering and sorting many rows, refreshed from the same functions
whenever a decision touches a hub.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Submission
from webapp.services import confidence, trust
from webapp.services.rules import AGE_LOWER_DAYS, Badge, Kind, Ring, State, Tier

# Reproductions that speak about their hub: clean ones (evidence) and fragments
# (their own rows, still telling of drift).
EVIDENCE_STATES = (State.REPRODUCED, State.APPROVED)


@dataclass(frozen=True)
class Assessment:
    badge: Badge
    confidence: confidence.Confidence
    independent_operators: frozenset[str]
    rings: dict[int, Ring]  # reproduction id -> ring, for reproductions in EVIDENCE_STATES


def environment_of(row: Submission) -> trust.Environment:
    return trust.Environment(
        os_label=row.os_label, driver_version=row.driver_version,
        runtime_version=row.runtime_version,
    )


def hub_facts(row: Submission) -> trust.HubFacts:
    return trust.HubFacts(
        kind=Kind.EDITORIAL if row.kind == Kind.EDITORIAL else Kind.FRESH,
        operator=row.operator_key,
        environment=environment_of(row),
        ttft_ms=row.ttft_ms,
        decode_tps=row.decode_tps,
        ttft_spread=row.ttft_spread,
        decode_spread=row.decode_spread,
        spread_explained=bool((row.notes or "").strip()),
        metadata={
            "runtime_version": row.runtime_version,
            "driver_version": row.driver_version,
            "os_label": row.os_label,
            "prompt_tokens": row.prompt_tokens,
            "max_tokens": row.max_tokens,
            "quant_provider": row.quant_provider,
        },
        measured_at=row.measured_at,
    )


def repro_facts(row: Submission) -> trust.ReproFacts:
    return trust.ReproFacts(
        operator=row.operator_key,
        state=State(row.state),
        environment=environment_of(row),
        ttft_ms=row.ttft_ms,
        decode_tps=row.decode_tps,
        measured_at=row.measured_at,
    )


def load_reproductions(session: Session, hub_ids: Iterable[int]) -> dict[int, list[Submission]]:
    """Every evidence-state reproduction of the given hubs, in one query."""
    ids = list(set(hub_ids))
    grouped: dict[int, list[Submission]] = defaultdict(list)
    if not ids:
        return grouped
    rows = session.scalars(
        select(Submission)
        .where(
            Submission.hub_id.in_(ids),
            Submission.kind == Kind.REPRODUCTION,
            Submission.state.in_(EVIDENCE_STATES),
        )
        .order_by(Submission.created_at)
    )
    for row in rows:
        grouped[row.hub_id].append(row)
    return grouped


def assess(hub: Submission, reproductions: Sequence[Submission], now: datetime) -> Assessment:
    facts = hub_facts(hub)
    repros = [repro_facts(r) for r in reproductions]
    return Assessment(
        badge=trust.badge(facts, repros),
        confidence=confidence.assess(facts, repros, now),
        independent_operators=trust.independent_operators(facts, repros),
        rings={r.id: trust.ring(facts.environment, f.environment)
               for r, f in zip(reproductions, repros, strict=True)},
    )


def assess_hubs(
    session: Session, hubs: Sequence[Submission], now: datetime
) -> dict[int, Assessment]:
    """Badge and tier for a page of hubs from one query for their reproductions."""
    reproductions = load_reproductions(session, (hub.id for hub in hubs))
    return {hub.id: assess(hub, reproductions.get(hub.id, []), now) for hub in hubs}


def newest_accepted_at(hub: Submission, reproductions: Sequence[Submission]) -> datetime:
    times = [hub.measured_at] + [
        r.measured_at for r in reproductions if r.state == State.REPRODUCED
    ]
    return max(times)


def refresh_derived(session: Session, hub: Submission) -> None:
    """Recompute the hub's filter/sort index from its evidence. Adds; never commits.

    derived_tier is the tier while the row is under AGE_LOWER_DAYS old, derived_tier_aged
    the tier after; the catalog picks one by derived_newest_at.
    """
    reproductions = load_reproductions(session, [hub.id]).get(hub.id, [])
    newest = newest_accepted_at(hub, reproductions)
    fresh = assess(hub, reproductions, newest)
    aged = assess(hub, reproductions, newest + timedelta(days=AGE_LOWER_DAYS + 1))
    hub.derived_badge = fresh.badge.value
    hub.derived_tier = fresh.confidence.tier.value
    hub.derived_tier_aged = aged.confidence.tier.value
    hub.derived_newest_at = newest
    hub.derived_repro_count = len(fresh.independent_operators)


def tier_at(derived_tier: str, derived_tier_aged: str, newest: datetime, now: datetime) -> Tier:
    """The tier the catalog index implies at `now` (mirrors the SQL filter).

    Age counts in whole days, as confidence.age_days does: lowered from day 366 on.
    """
    if confidence.age_days(newest, now) > AGE_LOWER_DAYS:
        return Tier(derived_tier_aged)
    return Tier(derived_tier)
