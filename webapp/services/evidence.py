"""From stored rows to the rules engine's plain facts, for a page of hubs at a time.

The detail page, comparisons' evidence and badge SVGs recompute badge and tier from the
evidence (assess_hubs). The derived_* columns are the index for filtering and sorting
many rows, refreshed from the same functions whenever a decision touches a hub; list
pages also show badge, tier and stale from them (listing.shown_marks picks the stretch
`now` falls in), so a list never loads every reproduction of its page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.models import BadgeChange, Hardware, ModelVariant, Quant, Submission
from webapp.services import confidence, plausibility, summaries, trust
from webapp.services.rules import (
    AGE_LOWER_DAYS,
    EDITORIAL_FRESH_DAYS,
    Badge,
    Kind,
    Ring,
    State,
    Tier,
)

# Reproductions that speak about their hub: clean ones (evidence) and fragments
# (their own rows, still telling of drift).
EVIDENCE_STATES = (State.REPRODUCED, State.APPROVED)


@dataclass(frozen=True)
class Assessment:
    badge: Badge
    confidence: confidence.Confidence
    independent_operators: frozenset[str]
    # reproduction id -> ring, for the reproductions in EVIDENCE_STATES that landed within
    # tolerance; one outside it has no ring (trust.placement: "accepted with a note"), nor
    # has one by the hub's own operator (below)
    rings: dict[int, Ring]
    # ids of the reproductions by the hub's own operator (trust.same_operator): re-runs,
    # which count for neither badge nor tier and are never drawn as ring evidence
    own: frozenset[int] = frozenset()


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
    placements = [trust.placement(facts, f) for f in repros]
    own = frozenset(r.id for r, f in zip(reproductions, repros, strict=True)
                    if trust.same_operator(f.operator, facts.operator))
    return Assessment(
        badge=trust.badge(facts, repros),
        confidence=confidence.assess(facts, repros, now, placements=placements),
        independent_operators=trust.independent_operators(facts, repros),
        rings={r.id: placed for r, placed in zip(reproductions, placements, strict=True)
               if placed is not None and r.id not in own},
        own=own,
    )


def assess_hubs(
    session: Session, hubs: Sequence[Submission], now: datetime
) -> dict[int, Assessment]:
    """Badge and tier for a page of hubs from one query for their reproductions."""
    reproductions = load_reproductions(session, (hub.id for hub in hubs))
    return {hub.id: assess(hub, reproductions.get(hub.id, []), now) for hub in hubs}


def tier_edges(hub: Any, reproductions: Sequence[Any]) -> tuple[datetime | None, datetime]:
    """The two moments at which the hub's tier moves with time alone: the end of an
    editorial lift (None for a community row) and the 12-month edge of its age.

    Both are the start of a UTC day, the boundary confidence.age_days counts in: a row
    is "more than N days old" from the start of the day N + 1 days after its measurement's
    (confidence.older_than_from). The lift counts from the editors' own measurement and
    the age from the newest accepted one, so the lift never ends after the age edge.
    """
    facts = hub_facts(hub)
    newest = confidence.newest_accepted_at(facts, [repro_facts(row) for row in reproductions])
    lift_until = None
    if facts.kind == Kind.EDITORIAL:
        lift_until = confidence.older_than_from(facts.measured_at, EDITORIAL_FRESH_DAYS)
    return lift_until, confidence.older_than_from(newest, AGE_LOWER_DAYS)


def derived_values(hub: Any, reproductions: Sequence[Any]) -> dict[str, Any]:
    """The hub's filter/sort index columns from its evidence-state reproductions.

    `hub` and `reproductions` are Submission rows, or anything with their attributes
    (the demo seeder's planned rows, refresh_all's selected columns). The tier moves with
    time alone at the moments tier_edges gives, so the index keeps the tier in each
    stretch between them: derived_tier before any edge, derived_tier_lifted_off once an
    editorial lift has ended (derived_lift_until) and before the 12-month edge,
    derived_tier_aged after it. listing.effective_tier picks one by comparing `now` with
    those moments; the stale marker reads derived_newest_at the same way.
    """
    facts = hub_facts(hub)
    repros = [repro_facts(row) for row in reproductions]
    newest = confidence.newest_accepted_at(facts, repros)
    lift_until, aged_at = tier_edges(hub, reproductions)

    def tier_at(now: datetime) -> str:
        return confidence.assess(facts, repros, now).tier.value

    fresh = tier_at(newest)
    return {
        "derived_badge": trust.badge(facts, repros).value,
        "derived_tier": fresh,
        # At the lift's end the row is still under 12 months old (the lift never ends
        # after the age edge); when the lift had ended by the newest measurement, the
        # tier then is the tier without it.
        "derived_tier_lifted_off": tier_at(max(newest, lift_until)) if lift_until else fresh,
        "derived_lift_until": lift_until,
        "derived_tier_aged": tier_at(aged_at),
        "derived_newest_at": newest,
        "derived_repro_count": len(trust.independent_operators(facts, repros)),
        "derived_trust_rank": trust_rank(trust.badge(facts, repros), fresh),
        # refresh_derived and refresh_all give the share (they hold the reference rows);
        # the demo seeder sets it from the reference rows it holds (demo/rows._share).
        "derived_ceiling_share": (ceiling_share(hub, hub.decode_tps)
                                  if getattr(hub, "hardware", None) is not None else 0.0),
    }


def trust_rank(badge: Badge, tier: str) -> int:
    """The catalog's trust sort: the badge's rung first, then the tier it earned (before
    time lowers it; sorting.order breaks ties by the newest measurement, so rows whose
    tier has aged follow the rest of their rank)."""
    return badge.rank * 4 + Tier(tier).rank


def ceiling_share(setup: Any, decode_tps: float) -> float:
    """The catalog's share-of-ceiling sort: decode speed over the bandwidth ceiling of
    `setup` (a row, or a plausibility.Setup), 0 when no ceiling is known."""
    share = plausibility.assess(setup, decode_tps=decode_tps,
                                vram_peak_mib=None).share_of_ceiling
    return share or 0.0


def refresh_derived(session: Session, hub: Submission) -> None:
    """Recompute the hub's filter/sort index from its evidence. Adds; never commits."""
    reproductions = load_reproductions(session, [hub.id]).get(hub.id, [])
    values = derived_values(hub, reproductions)
    if hub.derived_badge is not None and hub.derived_badge != values["derived_badge"]:
        # The feed's "badge changed" entries (a first badge is the row going public).
        session.add(BadgeChange(submission_id=hub.id, old_badge=hub.derived_badge,
                                new_badge=values["derived_badge"]))
    for name, value in values.items():
        setattr(hub, name, value)
    # The operators page and the /hardware and /models counts follow the same decisions.
    summaries.refresh_for(session, hub)


# What hub_facts and repro_facts read, selected as columns so refresh_all holds no rows.
_FACT_COLUMNS = (
    Submission.id, Submission.hub_id, Submission.kind, Submission.state,
    Submission.operator_key, Submission.os_label, Submission.driver_version,
    Submission.runtime_version, Submission.ttft_ms, Submission.decode_tps,
    Submission.ttft_spread, Submission.decode_spread, Submission.notes,
    Submission.prompt_tokens, Submission.max_tokens, Submission.quant_provider,
    Submission.measured_at,
    # and what the ceiling share reads (ceiling_share)
    Submission.model_id, Submission.hardware_id, Submission.quant_id,
    Submission.hardware_count, Submission.tensor_parallel, Submission.speculative,
    Submission.batch_gt1, Submission.other_quant,
)
REFRESH_BATCH = 500


def refresh_all_on(connection: Any) -> int:
    """refresh_all in a session of its own on `connection` (a data migration's, which
    recomputes the index when the rules change), flushed and closed."""
    session = Session(bind=connection)
    try:
        done = refresh_all(session)
        session.flush()
        return done
    finally:
        session.close()


def refresh_all(session: Session, *, batch: int = REFRESH_BATCH) -> int:
    """Recompute the index of every public hub, `batch` hubs at a time; returns how many.

    For databases written before an index column existed (or by hand). The rows are read
    as columns and written back with one UPDATE per batch, so a large catalog never sits in
    the session. Executes and flushes; never commits.
    """
    done, after = 0, 0
    refs = {(kind, row.id): row for kind in (Hardware, ModelVariant, Quant)
            for row in session.scalars(select(kind))}

    def setup_of(hub: Any) -> plausibility.Setup:
        return plausibility.Setup(
            model=refs.get((ModelVariant, hub.model_id)),
            hardware=refs.get((Hardware, hub.hardware_id)), hardware_count=hub.hardware_count,
            quant=refs.get((Quant, hub.quant_id)), other_quant=hub.other_quant,
            speculative=hub.speculative, batch_gt1=hub.batch_gt1,
            tensor_parallel=hub.tensor_parallel)

    while True:
        hubs = session.execute(
            select(*_FACT_COLUMNS)
            .where(Submission.state == State.APPROVED, Submission.id > after)
            .order_by(Submission.id).limit(batch)
        ).all()
        if not hubs:
            return done
        reproductions: dict[int, list[Any]] = defaultdict(list)
        for row in session.execute(
            select(*_FACT_COLUMNS)
            .where(Submission.hub_id.in_([hub.id for hub in hubs]),
                   Submission.kind == Kind.REPRODUCTION,
                   Submission.state.in_(EVIDENCE_STATES))
            .order_by(Submission.created_at)
        ):
            reproductions[row.hub_id].append(row)
        session.execute(update(Submission), [
            {"id": hub.id, **derived_values(hub, reproductions.get(hub.id, [])),
             "derived_ceiling_share": ceiling_share(setup_of(hub), hub.decode_tps)}
            for hub in hubs
        ])
        session.flush()
        done += len(hubs)
        after = hubs[-1].id
