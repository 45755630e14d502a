"""The plan of a demo row: what a hub and its reproductions will be, before any number is
drawn, and how the random rows that fill the catalog are planned."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from webapp.services.demo.configs import Config
from webapp.services.demo.world import FRESH_REJECTIONS
from webapp.services.rules import AGE_LOWER_DAYS, REASON_MISSING_METADATA, Band, Kind, State

# Clean reproductions of a random hub: most rows are never reproduced.
CLEAN_REPRODUCTIONS = (0, 1, 2, 3, 4, 5, 6, 9, 14)
CLEAN_REPRODUCTIONS_CUM = (64, 82, 90, 94, 96.5, 98, 99, 99.7, 100)


@dataclass
class ReproPlan:
    """One reproduction of a hub, before numbers are drawn."""

    state: State
    ring: str = "inner"  # inner | outer | newer-runtime
    band: Band = Band.WITHIN
    operator: str | None = None  # a handle, "hub" (the hub's own), or None (draw one)
    revised_from: State | None = None  # e.g. REPRODUCED for a revoked reproduction
    divergence: float | None = None  # forced worst divergence
    sign: int = 0  # +1 faster, -1 slower than the hub; 0 draws it


@dataclass
class HubPlan:
    """One fresh or editorial row and its reproductions, before numbers are drawn."""

    kind: Kind = Kind.FRESH
    state: State = State.APPROVED
    complete: bool = True
    handle: bool = False
    newest_age: float = 30.0  # days since the newest accepted measurement
    noisy: bool = False
    repros: list[ReproPlan] = field(default_factory=list)
    config: Config | None = None
    rejection: str | None = None
    exceeds_ceiling: bool = False
    revised_from: State | None = None
    share: float | None = None  # forced share of the bandwidth ceiling


def random_plan(rng: random.Random, handles: Sequence[str]) -> HubPlan:
    """A public hub: mostly young and unreproduced, some aged, stale, revised or drifting."""
    roll = rng.random()
    if roll < 0.83:
        age = rng.uniform(1, AGE_LOWER_DAYS - 5)
    elif roll < 0.965:
        age = rng.uniform(AGE_LOWER_DAYS + 2, 546)
    else:
        age = rng.uniform(551, 900)
    kind = Kind.EDITORIAL if rng.random() < 0.06 else Kind.FRESH
    clean = rng.choices(CLEAN_REPRODUCTIONS, cum_weights=CLEAN_REPRODUCTIONS_CUM)[0]
    repros = []
    for _ in range(clean):
        ring = "outer" if rng.random() < 0.4 else "inner"
        band = Band.RELATED if rng.random() < 0.04 else Band.WITHIN
        repros.append(ReproPlan(State.REPRODUCED, ring=ring, band=band))
    for state, chance in ((State.QUEUED, 0.04), (State.REJECTED, 0.05),
                          (State.WITHDRAWN, 0.025)):
        if rng.random() < chance:
            repros.append(ReproPlan(state, ring=rng.choice(("inner", "outer"))))
    if rng.random() < 0.03:
        ring = "newer-runtime" if rng.random() < 0.5 else "outer"
        repros.append(ReproPlan(State.APPROVED, ring=ring, band=Band.RELATED))
    if clean and rng.random() < 0.01:
        repros.append(ReproPlan(State.REJECTED, revised_from=State.REPRODUCED))
    plan = HubPlan(
        kind=kind,
        complete=rng.random() < 0.7,
        handle=rng.random() < 0.35,
        newest_age=age,
        noisy=rng.random() < 0.04,
        repros=repros,
    )
    _draw_operators(rng, handles, plan)
    return plan


def _draw_operators(rng: random.Random, handles: Sequence[str], plan: HubPlan) -> None:
    """Handles for some of a hub's reproductions: distinct, none the hub's own."""
    used: set[str] = set()
    for repro in plan.repros:
        if repro.operator is None and rng.random() < 0.45:
            handle = rng.choice(handles)
            repro.operator = handle if handle not in used else None
        if repro.operator not in (None, "hub"):
            used.add(repro.operator)


def hidden_plan(rng: random.Random) -> HubPlan:
    """A fresh row the public never sees: queued, rejected (with its reason) or withdrawn."""
    state = rng.choices((State.QUEUED, State.REJECTED, State.WITHDRAWN), (4, 4, 2))[0]
    plan = HubPlan(state=state, handle=rng.random() < 0.3, complete=rng.random() < 0.6,
                   newest_age=rng.uniform(0.5, 20) if state != State.REJECTED
                   else rng.uniform(2, 500))
    if state == State.REJECTED:
        if rng.random() < 0.35:
            plan.exceeds_ceiling = True
        else:
            plan.rejection = rng.choice(FRESH_REJECTIONS)
            if plan.rejection == REASON_MISSING_METADATA:
                plan.complete = False
    elif state == State.QUEUED and rng.random() < 0.15:
        plan.exceeds_ceiling = True
    return plan
