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
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Submission
from webapp.services import confidence, trust
from webapp.services.rules import AGE_LOWER_DAYS, Badge, Kind, Ring, State

# Reproductions that speak about their hub: clean ones (evidence) and fragments
# (their own rows, still telling of drift).
EVIDENCE_STATES = (State.REPRODUCED, State.APPROVED)


@dataclass(frozen=True)
class Assessment:
    badge: Badge
    confidence: confidence.Confidence
    independent_operators: frozenset[str]
    rings: dict[int, Ring]  # reproduction id -> ring, for reproductions in EVIDENCE_STATES


def environment_of(row: Any) -> trust.Environment:
    return trust.Environment(
        os_label=row.os_label, driver_version=row.driver_version,
        runtime_version=row.runtime_version,
    )


def hub_facts(row: Any) -> trust.HubFacts:
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


def repro_facts(row: Any) -> trust.ReproFacts:
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


def derived_values(hub: Any, reproductions: Sequence[Any]) -> dict[str, Any]:
    """The hub's filter/sort index columns from its evidence-state reproductions.

    `hub` and `reproductions` are Submission rows, or anything with their attributes
    (the demo seeder's planned rows). derived_tier is the tier while the row is under
    AGE_LOWER_DAYS old, derived_tier_aged the tier after; the catalog picks one by
    derived_newest_at.
    """
    facts = hub_facts(hub)
    repros = [repro_facts(row) for row in reproductions]
    newest = confidence.newest_accepted_at(facts, repros)
    fresh = confidence.assess(facts, repros, newest)
    aged = confidence.assess(facts, repros, newest + timedelta(days=AGE_LOWER_DAYS + 1))
    return {
        "derived_badge": trust.badge(facts, repros).value,
        "derived_tier": fresh.tier.value,
        "derived_tier_aged": aged.tier.value,
        "derived_newest_at": newest,
        "derived_repro_count": len(trust.independent_operators(facts, repros)),
    }


def refresh_derived(session: Session, hub: Submission) -> None:
    """Recompute the hub's filter/sort index from its evidence. Adds; never commits."""
    reproductions = load_reproductions(session, [hub.id]).get(hub.id, [])
    for name, value in derived_values(hub, reproductions).items():
        setattr(hub, name, value)
