"""The demo catalog (seed-demo): coverage of every rule outcome, correct index columns,
plausible numbers, hidden states kept hidden, and determinism."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import AuditEvent, FeedbackNote, RunSample, Submission
from webapp.services import demo, evidence, plausibility
from webapp.services.rules import (
    AGE_LOWER_DAYS,
    MAX_RUNS,
    MIN_RUNS,
    REJECTION_REASON_MAX,
    SPREAD_LIMIT,
    STALE_DAYS,
    Badge,
    Kind,
    Ring,
    State,
    Tier,
)

ROWS = 150
HIDDEN = (State.QUEUED, State.REJECTED, State.WITHDRAWN)
DERIVED = ("derived_badge", "derived_tier", "derived_tier_lifted_off", "derived_lift_until",
           "derived_tier_aged", "derived_newest_at",
           "derived_repro_count", "derived_trust_rank", "derived_ceiling_share")


@pytest.fixture
def catalog(session):
    """A seeded demo catalog; returns the moment it was generated at."""
    now = datetime.now(UTC)
    report = demo.seed(session, rows=ROWS, random_seed=11, now=now)
    assert report.startswith("demo catalog:")
    return now


def _public(session) -> list[Submission]:
    return list(session.scalars(
        select(Submission).where(Submission.state == State.APPROVED).order_by(Submission.id)
    ))


def test_catalog_has_rows_is_false_on_an_empty_catalog_and_true_after_seeding(session):
    assert demo.catalog_has_rows(session) is False
    assert demo.catalog_has_rows(session) is False
    demo.seed(session, rows=30, random_seed=1)
    assert demo.catalog_has_rows(session) is True
    assert demo.catalog_has_rows(session) is True


def test_seed_demo_if_empty_does_nothing_the_second_time(app, session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--rows", "30", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "demo catalog:" in first.output
    count = session.scalar(select(func.count()).select_from(Submission))
    second = runner.invoke(args=["seed-demo", "--rows", "30", "--if-empty"])
    assert second.exit_code == 0, second.output
    assert "not loaded" in second.output
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Submission)) == count


def test_rows_is_the_number_of_public_rows(session, catalog):
    public = _public(session)
    assert ROWS <= len(public) <= ROWS + 3


def test_every_badge_and_every_tier_is_shown_among_public_rows(session, catalog):
    assessments = evidence.assess_hubs(session, _public(session), catalog)
    assert {a.badge for a in assessments.values()} == set(Badge)
    assert {a.confidence.tier for a in assessments.values()} == set(Tier)
    assert any(not a.confidence.consistent for a in assessments.values())
    assert any(a.confidence.drift for a in assessments.values())


def test_stale_and_aged_rows_exist(session, catalog):
    assessments = evidence.assess_hubs(session, _public(session), catalog)
    ages = [a.confidence.age_days for a in assessments.values()]
    assert any(a.confidence.stale for a in assessments.values())
    assert any(age > STALE_DAYS for age in ages)
    assert any(AGE_LOWER_DAYS < age <= STALE_DAYS for age in ages)
    assert any(age <= AGE_LOWER_DAYS for age in ages)


def test_derived_columns_are_what_refresh_derived_computes(session, catalog):
    public = _public(session)
    sample = public[:30] + public[30::5]
    stored = {row.id: tuple(getattr(row, name) for name in DERIVED) for row in sample}
    for row in sample:
        evidence.refresh_derived(session, row)
    recomputed = {row.id: tuple(getattr(row, name) for name in DERIVED) for row in sample}
    assert recomputed == stored
    session.rollback()


def test_rows_not_in_catalog_carry_no_index_columns(session, catalog):
    never_public = session.scalars(
        select(Submission).where(Submission.state.in_(HIDDEN + (State.REPRODUCED,)))
    ).all()
    revised_out = {
        event.submission_id
        for event in session.scalars(
            select(AuditEvent).where(AuditEvent.to_state == State.APPROVED)
        )
    }
    for row in never_public:
        if row.id not in revised_out:
            assert row.derived_badge is None, row


def test_hidden_states_are_in_the_database_but_never_public(session, catalog):
    states = Counter(
        (kind, state) for kind, state in session.execute(
            select(Submission.kind, Submission.state)
        )
    )
    for state in HIDDEN:
        assert states[(Kind.FRESH, state)] > 0, state
        assert states[(Kind.REPRODUCTION, state)] > 0, state
    assert states[(Kind.REPRODUCTION, State.REPRODUCED)] > 0
    assert states[(Kind.REPRODUCTION, State.APPROVED)] > 0  # fragments
    public_ids = {row.id for row in _public(session)}
    hidden = session.scalars(select(Submission).where(Submission.state.in_(HIDDEN))).all()
    assert hidden
    for row in hidden:
        assert row.id not in public_ids
        assert not State(row.state).is_public
    for row in session.scalars(select(Submission).where(Submission.state == State.REJECTED)):
        assert row.rejection_reason
        assert len(row.rejection_reason) <= REJECTION_REASON_MAX
    # Evidence loaded for public hubs never includes a hidden reproduction.
    loaded = evidence.load_reproductions(session, public_ids)
    for reproductions in loaded.values():
        assert all(r.state in evidence.EVIDENCE_STATES for r in reproductions)


def test_reproductions_sit_in_both_rings(session, catalog):
    assessments = evidence.assess_hubs(session, _public(session), catalog)
    rings = Counter(ring for a in assessments.values() for ring in a.rings.values())
    assert rings[Ring.INNER] > 0
    assert rings[Ring.OUTER] > 0
    most = max(a.confidence.independent_operators for a in assessments.values())
    assert most >= 20  # the detail page with many reproductions


def test_every_row_and_note_is_demo_data(session, catalog):
    assert session.scalar(select(func.count()).select_from(Submission).where(
        Submission.is_demo.is_(False))) == 0
    notes = session.scalars(select(FeedbackNote)).all()
    assert notes
    assert all(note.is_demo for note in notes)


def test_numbers_are_plausible(session, catalog):
    for row in _public(session):
        ceiling = plausibility.ceiling_tps(
            row.hardware.bandwidth_gb_s, row.hardware_count, row.tensor_parallel,
            row.model.active_params_b, row.quant.bits_per_weight,
        )
        share = row.decode_tps / ceiling
        assert 0.40 <= share <= 0.70, (row.id, share)
        memory_mib = row.hardware.memory_gib * 1024 * row.hardware_count
        assert row.vram_peak_mib <= memory_mib
        assert 10 < row.ttft_ms < 180_000
        assert MIN_RUNS <= len(row.runs) <= MAX_RUNS
        if max(row.ttft_spread, row.decode_spread) > SPREAD_LIMIT:
            assert row.notes.strip()
    spreads = [max(r.ttft_spread, r.decode_spread) for r in _public(session)]
    assert any(spread > SPREAD_LIMIT for spread in spreads)


def test_every_transition_has_its_audit_event(session, catalog):
    events: dict[int, list[AuditEvent]] = {}
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        events.setdefault(event.submission_id, []).append(event)
    for row in session.scalars(select(Submission)):
        trail = events[row.id]
        assert trail[0].from_state is None
        if row.kind == Kind.EDITORIAL:
            assert trail[0].to_state == State.APPROVED
        else:
            assert (trail[0].actor, trail[0].to_state) == ("submitter", State.QUEUED)
        assert trail[-1].to_state == row.state
        for before, after in zip(trail, trail[1:], strict=False):
            assert after.from_state == before.to_state
            assert after.created_at >= before.created_at
            if after.to_state == State.WITHDRAWN:
                assert after.actor == "submitter"
            else:
                assert after.actor in demo.REVIEWERS
            if after.to_state == State.REJECTED or before.to_state in (
                State.APPROVED, State.REPRODUCED, State.REJECTED
            ):
                assert after.reason
        assert trail[-1].created_at <= catalog
    revised = [trail for trail in events.values() if len(trail) > 2]
    assert revised


def test_the_same_seed_gives_the_same_catalog(session):
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    demo.seed(session, rows=40, random_seed=5, now=now)
    middle = session.scalar(select(func.max(Submission.id)))
    demo.seed(session, rows=40, random_seed=5, now=now)
    demo.seed(session, rows=40, random_seed=6, now=now)
    last = session.scalar(select(func.max(Submission.id)))
    first_start = session.scalar(select(func.min(Submission.id)))

    def snapshot(low: int, high: int) -> list[tuple]:
        rows = session.scalars(
            select(Submission).where(Submission.id.between(low, high)).order_by(Submission.id)
        ).all()
        return [
            (r.kind, r.state, r.hub_id - low if r.hub_id else None, r.model_id, r.hardware_id,
             r.quant_id, r.runtime_id, r.hardware_count, r.ttft_ms, r.decode_tps, r.handle,
             r.runtime_version, r.measured_at, r.derived_badge, r.derived_tier,
             [(s.ttft_ms, s.decode_tps) for s in r.runs])
            for r in rows
        ]

    first = snapshot(first_start, middle)
    second_start = middle + 1
    second_end = second_start + (middle - first_start)
    assert snapshot(second_start, second_end) == first
    third = snapshot(second_end + 1, last)
    assert third != first[: len(third)]
    nonces = session.scalars(select(Submission.status_nonce)).all()
    assert len(set(nonces)) == len(nonces)


def test_runs_are_stored_for_every_submission(session, catalog):
    counts = dict(session.execute(
        select(RunSample.submission_id, func.count()).group_by(RunSample.submission_id)
    ).all())
    for row_id in session.scalars(select(Submission.id)):
        assert MIN_RUNS <= counts.get(row_id, 0) <= MAX_RUNS


def test_measurements_are_never_in_the_future(session, catalog):
    future = catalog + timedelta(seconds=1)
    for column in (Submission.measured_at, Submission.created_at, Submission.decided_at):
        assert session.scalar(select(func.count()).where(column > future)) == 0


def test_hidden_rows_have_no_public_page_and_public_ones_are_labelled_demo(client, session,
                                                                          catalog):
    hidden = session.scalars(
        select(Submission.id).where(Submission.state.in_(HIDDEN + (State.REPRODUCED,)))
    ).all()
    for row_id in hidden[:25]:
        assert client.get(f"/benchmarks/{row_id}").status_code == 404
    page = client.get("/")
    assert page.status_code == 200
    assert "Demo data" in page.get_data(as_text=True)
