"""evidence.tier_at: the tier the catalog index implies, on the same whole-day edge as
the tier shown on the page (confidence.age_days)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from webapp.services.evidence import tier_at
from webapp.services.rules import AGE_LOWER_DAYS, Tier

NEWEST = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def test_day_365_and_a_few_hours_is_still_not_lowered():
    now = NEWEST + timedelta(days=AGE_LOWER_DAYS, hours=23)
    assert tier_at(Tier.HIGH.value, Tier.MODERATE.value, NEWEST, now) == Tier.HIGH


def test_day_366_is_lowered():
    now = NEWEST + timedelta(days=AGE_LOWER_DAYS + 1)
    assert tier_at(Tier.HIGH.value, Tier.MODERATE.value, NEWEST, now) == Tier.MODERATE


def test_a_measurement_dated_in_the_future_counts_as_today():
    now = NEWEST - timedelta(days=3)
    assert tier_at(Tier.HIGH.value, Tier.MODERATE.value, NEWEST, now) == Tier.HIGH
