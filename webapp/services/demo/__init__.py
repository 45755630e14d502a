"""The demo catalog behind `flask --app webapp seed-demo [--rows N]`.

Everything it writes is marked is_demo. The package's parts:

- world: the constant tables (runtime versions, drivers, OS labels, providers, notes…);
- configs: every plausible configuration of the reference data, with its ceiling;
- plan: what a hub and its reproductions will be, and the random plans;
- showcase: the fixed hubs that come first, so that even a small catalog has every
  badge, every tier, every submission state, both rings, drift, aged and stale rows;
- draw: each row's configuration, moments, build context and numbers, from one seed;
- rows: plans turned into row dicts (runs, audit trails, index columns, feedback);
- writer: Core bulk inserts in committed batches with precomputed ids.

Random rows fill up to `rows` public rows after the showcase. 100 000 public rows (with
their reproductions, runs and audit events, about 1.5 million rows in all) take well
under two minutes on SQLite.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import Hardware, Submission, utcnow
from webapp.services import summaries
from webapp.services.demo.plan import hidden_plan, random_plan
from webapp.services.demo.rows import REVIEWERS, Seeder
from webapp.services.demo.showcase import showcase
from webapp.services.reference import load_reference
from webapp.services.rules import Kind, State

__all__ = ["REVIEWERS", "catalog_has_rows", "seed"]


def catalog_has_rows(session: Session) -> bool:
    """True when any submission exists (demo or real): seed-demo --if-empty then stays out."""
    return session.scalar(select(Submission.id).limit(1)) is not None


def seed(session: Session, rows: int, random_seed: int, now: datetime | None = None) -> str:
    """Create a demo catalog of about `rows` public rows; return a one-line report.

    The one exception to "services never commit": rows are written in committed
    batches of writer.BATCH submissions (with their runs and audit events), because a catalog
    of 100 000 rows is too large for one flush. Hubs are written before their
    reproductions, so every committed batch is consistent on its own.

    The same `random_seed` (and `now`) gives the same catalog, except each row's
    private status nonce, which is always random.
    """
    started = time.perf_counter()
    if rows < 0:
        raise ValueError("rows must not be negative")
    if session.scalar(select(func.count()).select_from(Hardware)) == 0:
        load_reference(session)
    session.commit()
    seeder = Seeder(session, rows, random_seed, now or utcnow())
    writer = seeder.writer
    if rows > 0:
        rng, handles = seeder.rng, seeder.draw.handles
        for plan in showcase(rng, handles):
            seeder.hub(plan)
        while seeder.public_count() < rows:
            seeder.hub(random_plan(rng, handles))
            if rng.random() < 0.07:
                seeder.hub(hidden_plan(rng))
            writer.flush()
        seeder.feedback(max(3, min(2000, rows // 60)))
    writer.flush(final=True)
    # The bulk load bypasses the decisions that keep the summaries (the operators page,
    # the public row counts the /hardware and /models pages and the API's total read).
    summaries.rebuild_all(session)
    writer.fix_sequences()
    writer.analyze()
    return _report(seeder, time.perf_counter() - started)


def _report(seeder: Seeder, seconds: float) -> str:
    s, written = seeder.stats, seeder.writer.written
    fresh = s[f"{Kind.FRESH.value} {State.APPROVED.value}"]
    editorial = s[f"{Kind.EDITORIAL.value} {State.APPROVED.value}"]
    fragments = s[f"reproduction {State.APPROVED.value}"]
    hidden = sum(s[f"{Kind.FRESH.value} {state.value}"]
                 for state in (State.QUEUED, State.REJECTED, State.WITHDRAWN))
    repro_states = ", ".join(
        f"{s[f'reproduction {state.value}']} {state.value}"
        for state in (State.REPRODUCED, State.QUEUED, State.REJECTED, State.WITHDRAWN)
    )
    return (
        f"demo catalog: {fresh + editorial + fragments} public rows ({editorial} editorial, "
        f"{fresh} community, {fragments} fragmented reproductions); reproductions: "
        f"{repro_states} ({s['inner ring']} inner ring, {s['outer ring']} outer ring); "
        f"{hidden} hidden fresh rows; {written['run_samples']} runs, "
        f"{written['audit_events']} audit events, {s['feedback notes']} feedback notes; "
        f"{seconds:.1f} s"
    )
