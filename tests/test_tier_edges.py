"""The catalog's tier and stale filters equal what the detail page shows on every day,
including the days on which only time passed (SPEC §6, §11 "Stored derived values").

The tier moves with time alone at three moments: an editorial row's lift to high ends
(365 days after the editors' own measurement), the row turns 12 months old, and it turns
stale at 18 months. The stored index was written at the last decision and must still pick
the tier the page shows on the first day after each of them, with no decision in between.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from webapp.blueprints import public
from webapp.services import confidence, evidence
from webapp.services.rules import (
    AGE_LOWER_DAYS,
    EDITORIAL_FRESH_DAYS,
    STALE_DAYS,
    Kind,
    State,
    Tier,
)

HUB_MEASURED = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
REPRO_LATER_DAYS = 100  # the newest accepted measurement is a reproduction, 100 days on
NEWEST = HUB_MEASURED + timedelta(days=REPRO_LATER_DAYS)
SECOND = timedelta(seconds=1)


def _day(start: datetime, day: int) -> list[datetime]:
    """The first and the last moment of the UTC calendar day `day` days after `start`'s
    (age counts calendar days: measured at 09:30, a row is a day old from midnight)."""
    first = confidence.day_start(start) + timedelta(days=day)
    return [first, first + timedelta(days=1) - SECOND]


BOUNDARIES = {
    "lift, day 365": _day(HUB_MEASURED, EDITORIAL_FRESH_DAYS),
    "lift, day 366": _day(HUB_MEASURED, EDITORIAL_FRESH_DAYS + 1),
    "age, day 365": _day(NEWEST, AGE_LOWER_DAYS),
    "age, day 366": _day(NEWEST, AGE_LOWER_DAYS + 1),
    "stale, day 548": _day(NEWEST, STALE_DAYS),
    "stale, day 549": _day(NEWEST, STALE_DAYS + 1),
}
SHOWN_TIER = re.compile(r'<p class="markers">.*?class="tier tier-([a-z-]+)"', re.S)


@pytest.fixture
def editorial_hub(app, session, make_row):
    """An editorial row with one clean reproduction measured 100 days after it, its index
    written by the decision that accepted the reproduction (and never again)."""
    app.config["PAGE_CACHE_SECONDS"] = 0  # every request renders for its own "now"
    hub = make_row(kind=Kind.EDITORIAL, handle=None, operator_key="editorial",
                   created_at=HUB_MEASURED, measured_at=HUB_MEASURED)
    make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="someone",
             created_at=NEWEST, measured_at=NEWEST)
    evidence.refresh_derived(session, hub)
    session.commit()
    return hub


def _shown(client, hub_id: int) -> tuple[Tier, bool]:
    body = client.get(f"/benchmarks/{hub_id}").get_data(as_text=True)
    found = SHOWN_TIER.search(body)
    assert found, "the detail page shows no tier"
    markers = body[found.start():body.index("</p>", found.start())]
    return Tier(found.group(1)), "marker-stale" in markers


def _listed(client, hub_id: int, query: str) -> bool:
    return f'href="/benchmarks/{hub_id}"' in client.get(f"/?{query}").get_data(as_text=True)


@pytest.mark.parametrize("edge", BOUNDARIES)
def test_catalog_filters_equal_the_page_on_every_boundary_day(client, editorial_hub,
                                                              monkeypatch, edge):
    for now in BOUNDARIES[edge]:
        monkeypatch.setattr(public, "utcnow", lambda now=now: now)
        tier, stale = _shown(client, editorial_hub.id)
        for candidate in Tier:
            assert _listed(client, editorial_hub.id, f"tier={candidate.value}&stale=1") == (
                candidate is tier), (edge, now, candidate, tier)
        assert _listed(client, editorial_hub.id, "") == (not stale), (edge, now)


def test_the_boundary_days_really_move_the_tier(editorial_hub, session):
    """The test above means something: each edge changes what the page shows."""
    def tier_at(now: datetime) -> tuple[Tier, bool]:
        shown = evidence.assess_hubs(session, [editorial_hub], now)[editorial_hub.id]
        return shown.confidence.tier, shown.confidence.stale

    assert tier_at(BOUNDARIES["lift, day 365"][1]) == (Tier.HIGH, False)
    assert tier_at(BOUNDARIES["lift, day 366"][0]) == (Tier.MODERATE, False)
    assert tier_at(BOUNDARIES["age, day 365"][1]) == (Tier.MODERATE, False)
    assert tier_at(BOUNDARIES["age, day 366"][0]) == (Tier.LOW, False)
    assert tier_at(BOUNDARIES["stale, day 548"][1]) == (Tier.LOW, False)
    assert tier_at(BOUNDARIES["stale, day 549"][0]) == (Tier.LOW, True)


def test_age_counts_calendar_days_whatever_the_hour(editorial_hub, session):
    """Measured at 09:30 UTC: at 08:00 UTC 366 days on, 365 whole 24-hour days have
    passed, but the row was measured 366 calendar days before and is over 12 months old
    (the morning read a day younger than the afternoon)."""
    newest_day = NEWEST.date()
    morning = datetime.combine(newest_day + timedelta(days=AGE_LOWER_DAYS + 1),
                               datetime.min.time(), tzinfo=UTC) + timedelta(hours=8)
    assert (morning - NEWEST).days == AGE_LOWER_DAYS  # 365 whole 24-hour days
    assert confidence.age_days(NEWEST, morning) == AGE_LOWER_DAYS + 1
    shown = evidence.assess_hubs(session, [editorial_hub], morning)[editorial_hub.id]
    assert shown.confidence.tier is Tier.LOW and shown.confidence.age_days == 366


@pytest.mark.parametrize("repro_later_days", [0, 1, 100, 365, 366, 400])
@pytest.mark.parametrize("hub_hour", [0, 13, 23])
def test_the_index_picks_the_assessed_tier_on_every_day(session, make_row, repro_later_days,
                                                        hub_hour):
    """Day by day around every edge, the index's pick (services.listing) is the tier
    confidence.assess gives, for editorial and community rows alike."""
    from sqlalchemy import select

    from webapp.models import Submission
    from webapp.services.listing import effective_tier, not_stale

    measured = datetime(2024, 1, 1, hub_hour, 17, tzinfo=UTC)
    newest = measured + timedelta(days=repro_later_days, hours=5)
    hubs = []
    for kind in (Kind.EDITORIAL, Kind.FRESH):
        hub = make_row(kind=kind, created_at=measured, measured_at=measured)
        make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="other",
                 created_at=newest, measured_at=newest)
        evidence.refresh_derived(session, hub)
        hubs.append(hub)
    session.flush()
    edges = [measured + timedelta(days=EDITORIAL_FRESH_DAYS + 1),
             newest + timedelta(days=AGE_LOWER_DAYS + 1),
             newest + timedelta(days=STALE_DAYS + 1)]
    # Measurements are never dated in the future, so every moment asked about is after
    # the newest one.
    moments = [edge + delta for edge in edges
               for delta in (-timedelta(days=1), -SECOND, timedelta(0), SECOND,
                             timedelta(days=1))
               if edge + delta >= newest]
    for now in moments:
        picked = dict(session.execute(
            select(Submission.id, effective_tier(now)).where(
                Submission.id.in_([hub.id for hub in hubs]))).all())
        fresh = set(session.scalars(select(Submission.id).where(
            Submission.id.in_([hub.id for hub in hubs]), not_stale(now))))
        shown = evidence.assess_hubs(session, hubs, now)
        for hub in hubs:
            assessed = shown[hub.id].confidence
            assert picked[hub.id] == assessed.tier.value, (hub.kind, now)
            assert (hub.id in fresh) == (not assessed.stale), (hub.kind, now)
            assert confidence.age_days(newest, now) == assessed.age_days


DERIVED = ("derived_badge", "derived_tier", "derived_tier_lifted_off", "derived_lift_until",
           "derived_tier_aged", "derived_newest_at", "derived_repro_count")


def test_refresh_all_backfills_every_public_hub_in_batches(session, make_row):
    from sqlalchemy import update

    from webapp.models import Submission

    hubs = [make_row(kind=kind, age_days=age)
            for kind in (Kind.EDITORIAL, Kind.FRESH) for age in (3, 200, 400, 600)]
    for i, hub in enumerate(hubs):
        for j in range(i % 3):
            make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub,
                     handle=f"op{j}", age_days=j)
    queued = make_row(state=State.QUEUED)
    for hub in hubs:
        evidence.refresh_derived(session, hub)
    session.flush()
    expected = {hub.id: tuple(getattr(hub, name) for name in DERIVED) for hub in hubs}
    # A database from before the index columns: nothing stored.
    session.execute(update(Submission).values(
        {name: (0 if name == "derived_repro_count" else None) for name in DERIVED}))
    session.expire_all()

    assert evidence.refresh_all(session, batch=3) == len(hubs)
    session.expire_all()
    for hub in hubs:
        assert tuple(getattr(hub, name) for name in DERIVED) == expected[hub.id], hub.id
    assert session.get(Submission, queued.id).derived_tier is None
