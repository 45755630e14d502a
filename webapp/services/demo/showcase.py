"""The showcase: a fixed set of hubs that gives even a small catalog every badge, every
tier, every submission state, both rings, runtime drift, an inconsistent row, aged and
stale rows and a revised decision."""

from __future__ import annotations

import random
from collections.abc import Sequence

from webapp.services.demo.plan import HubPlan, ReproPlan
from webapp.services.rules import REASON_DUPLICATE, REASON_MISSING_METADATA, Band, Kind, State


def showcase(rng: random.Random, handles: Sequence[str]) -> list[HubPlan]:
    """The fixed hubs written first, with handles drawn for some of their reproductions."""
    inner, outer, newer = "inner", "outer", "newer-runtime"
    R, Q, J, W, A = (State.REPRODUCED, State.QUEUED, State.REJECTED, State.WITHDRAWN,
                     State.APPROVED)
    many = [ReproPlan(R, ring=inner if i % 3 else outer) for i in range(30)]
    many += [ReproPlan(Q), ReproPlan(Q, ring=outer), ReproPlan(Q),
             ReproPlan(J), ReproPlan(J, ring=outer), ReproPlan(J),
             ReproPlan(W), ReproPlan(W, ring=outer),
             ReproPlan(A, ring=outer, band=Band.RELATED),
             ReproPlan(J, revised_from=R)]
    plans = [
        # editorial, measured this year: editorial badge, high tier
        HubPlan(kind=Kind.EDITORIAL, newest_age=20),
        # one source, incomplete metadata: community, low
        HubPlan(complete=False, newest_age=30),
        # complete metadata: community, moderate
        HubPlan(handle=True, newest_age=12),
        # one clean reproduction (inner ring): reproduced, moderate; undecided ones beside it
        HubPlan(newest_age=45, repros=[ReproPlan(R), ReproPlan(Q), ReproPlan(W)]),
        # two operators, one in each ring: independently reproduced, high
        HubPlan(handle=True, newest_age=60,
                repros=[ReproPlan(R), ReproPlan(R, ring=outer), ReproPlan(J)]),
        # five operators, mostly outer ring: very high
        HubPlan(newest_age=25, repros=[ReproPlan(R, ring=outer) for _ in range(3)]
                + [ReproPlan(R) for _ in range(2)]),
        # the hub with many reproductions, in every state
        HubPlan(kind=Kind.EDITORIAL, newest_age=8, repros=many),
        # run spread over 10% with a note, one reproduction
        HubPlan(noisy=True, newest_age=90, repros=[ReproPlan(R, ring=outer)]),
        # four operators, two accepted from the related band: inconsistent, capped
        HubPlan(newest_age=40, share=0.55, repros=[
            ReproPlan(R, band=Band.RELATED, divergence=0.2, sign=1),
            ReproPlan(R, ring=outer, band=Band.RELATED, divergence=0.22, sign=-1),
            ReproPlan(R, divergence=0.03, sign=1),
            ReproPlan(R, ring=outer, divergence=0.05, sign=-1)]),
        # runtime drift: a fragment on a newer runtime diverges > 10%
        HubPlan(newest_age=70, repros=[
            ReproPlan(R), ReproPlan(R, ring=outer),
            ReproPlan(A, ring=newer, band=Band.RELATED, divergence=0.18)]),
        # aged 12–18 months
        HubPlan(newest_age=400, repros=[ReproPlan(R), ReproPlan(R, ring=outer)]),
        HubPlan(newest_age=470, handle=True),
        HubPlan(kind=Kind.EDITORIAL, newest_age=420),
        # stale: over 18 months
        HubPlan(newest_age=600, repros=[ReproPlan(R)]),
        HubPlan(newest_age=700, complete=False),
        # the hub's own operator reproducing does not count; a revoked one neither
        HubPlan(handle=True, newest_age=33, repros=[
            ReproPlan(R, operator="hub"), ReproPlan(R, ring=outer),
            ReproPlan(J, revised_from=R)]),
        # rejected, then reproduced on appeal
        HubPlan(newest_age=15, repros=[ReproPlan(R, revised_from=J)]),
        # never public: queued, rejected with reasons, withdrawn, revised out of public
        HubPlan(state=Q, newest_age=2),
        HubPlan(state=Q, newest_age=1, exceeds_ceiling=True, handle=True),
        HubPlan(state=J, newest_age=9, exceeds_ceiling=True),
        HubPlan(state=J, newest_age=14, rejection=REASON_MISSING_METADATA, complete=False),
        HubPlan(state=J, newest_age=50, rejection=REASON_DUPLICATE),
        HubPlan(state=W, newest_age=3),
        HubPlan(state=J, newest_age=120, revised_from=A,
                rejection="Revised: the operator says the numbers came from a batch-4 run."),
    ]
    # Handles on showcase reproductions make /operators worth a look.
    for plan in plans:
        for repro in plan.repros:
            if repro.operator is None and rng.random() < 0.6:
                repro.operator = rng.choice(handles)
    _distinct_operators(plans)
    return plans


def _distinct_operators(plans: list[HubPlan]) -> None:
    for plan in plans:
        used: set[str] = set()
        for repro in plan.repros:
            if repro.operator in used:
                repro.operator = None  # anonymous: a distinct operator of its own
            elif repro.operator not in (None, "hub"):
                used.add(repro.operator)
