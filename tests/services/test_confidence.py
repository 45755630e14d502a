"""Confidence tiers with their reasons (SPEC §6), without an app or database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.services.confidence import (
    Confidence,
    age_days,
    age_lowering,
    assess,
    base_tier,
    coefficient_of_variation,
    is_stale,
    missing_metadata,
    newest_accepted_at,
)
from webapp.services.rules import (
    AGE_LOWER_DAYS,
    METADATA_FIELDS,
    STALE_DAYS,
    Kind,
    State,
    Tier,
)
from webapp.services.trust import Environment, HubFacts, ReproFacts, badge, placement
from webapp.services.versions import compare_versions

NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
HUB_ENV = Environment(os_label="Ubuntu 24.04", driver_version="550.54.14",
                      runtime_version="0.5.7")
OTHER_OS = replace(HUB_ENV, os_label="Fedora 41")
NEWER_RUNTIME = replace(HUB_ENV, runtime_version="0.6.4")
OLDER_RUNTIME = replace(HUB_ENV, runtime_version="0.5.1")
COMPLETE = {
    "runtime_version": "0.5.7",
    "driver_version": "550.54.14",
    "os_label": "Ubuntu 24.04",
    "prompt_tokens": 500,
    "max_tokens": 512,
    "quant_provider": "bartowski",
}
INCOMPLETE = {**COMPLETE, "quant_provider": None}


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def make_hub(**changes) -> HubFacts:
    facts = HubFacts(
        kind=Kind.FRESH, operator="alice", environment=HUB_ENV, ttft_ms=200.0,
        decode_tps=100.0, ttft_spread=0.03, decode_spread=0.03, spread_explained=False,
        metadata=INCOMPLETE, measured_at=days_ago(30),
    )
    return replace(facts, **changes)


def make_repro(operator: str, state: State = State.REPRODUCED, **changes) -> ReproFacts:
    facts = ReproFacts(operator=operator, state=state, environment=HUB_ENV, ttft_ms=200.0,
                       decode_tps=100.0, measured_at=days_ago(30))
    return replace(facts, **changes)


def operators(count: int, **changes) -> list[ReproFacts]:
    return [make_repro(f"op{n}", **changes) for n in range(count)]


def factor_line(result: Confidence, prefix: str) -> str:
    lines = [line for line in result.reasons if line.startswith(prefix)]
    assert len(lines) == 1, result.reasons
    return lines[0]


# --- versions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("0.5.7", "0.5.7", 0),
        ("0.6.4", "0.5.7", 1),
        ("0.5.7", "0.6.4", -1),
        ("v0.6.4", "0.6.4", 0),
        ("V0.6.5", "v0.6.4", 1),
        ("0.10.0", "0.9.9", 1),  # numeric, not lexical
        ("1.82", "1.9", 1),
        ("1.0", "1", 0),
        ("1.0.0", "1", 0),
        ("b4500", "b4600", -1),
        ("b4500", "B4500", 0),
        ("llama.cpp b4600 (cuda)", "b4500", 1),
        ("ollama 0.5.8", "v0.5.7", 1),
        (" 0.5.7 ", "0.5.7", 0),
        ("0.5.10", "0.5.9", 1),
        ("b1000", "b999", 1),
        ("0.6.1", "0.6.0-rc1", 1),
        ("0.6.0-rc1+cu121", "0.6.0-rc1", 0),  # build metadata / local label: no order
        ("b4600 (cuda)", "b4600", 0),
    ],
)
def test_compare_versions(a, b, expected):
    assert compare_versions(a, b) == expected


# (older, newer): pre-releases before their release, post-releases after it (PEP 440,
# SemVer), whichever separator joins the parts
@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("0.6.0-rc1", "0.6.0"),
        ("0.6.0-rc1", "0.6.0-rc2"),
        ("0.6.0rc1", "0.6.0"),
        ("0.6.0-rc.1", "0.6.0"),
        ("0.6.0_rc1", "0.6.0"),
        ("0.6.0.rc1", "0.6.0"),
        ("v0.6.0-RC1", "0.6.0"),
        ("0.6.4rc1", "0.6.4"),  # vLLM
        ("0.6.4", "0.6.4.post1"),
        ("0.6.4.post1", "0.6.4.post2"),
        ("0.6.4.post1", "0.6.5rc1"),
        ("1.0.dev1", "1.0a1"),
        ("1.0a1.dev1", "1.0a1"),
        ("1.0a1", "1.0a1.post1"),
        ("1.0a1", "1.0b1"),
        ("1.0b2", "1.0rc1"),
        ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("1.0.0-beta.2", "1.0.0-beta.11"),
        ("0.6.0-beta", "0.6.0-rc"),
        ("0.6.0-preview2", "0.6.0"),
        ("0.6.0-dev", "0.6.0-alpha"),
        ("1.0", "1.0.post1.dev1"),
    ],
)
def test_pre_releases_come_before_and_post_releases_after_their_release(older, newer):
    assert compare_versions(newer, older) == 1
    assert compare_versions(older, newer) == -1


@pytest.mark.parametrize(("a", "b"), [("0.6.0rc1", "0.6.0-rc.1"), ("0.6.0-c1", "0.6.0rc1"),
                                      ("0.6.0.post0", "0.6.0-post"), ("1.0", "1.0.0")])
def test_spellings_of_one_version_are_equal(a, b):
    assert compare_versions(a, b) == 0


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (None, "0.5.7"),
        ("0.5.7", None),
        ("", "0.5.7"),
        ("   ", "0.5.7"),
        ("latest", "0.5.7"),
        ("main", "nightly"),
        ("b4500", "0.5.7"),  # llama.cpp builds and release numbers are different schemes
        # a suffix not understood decides nothing between equal release numbers
        ("0.6.0-nightly", "0.6.0"),
        ("0.6.0-nightly", "0.6.0-rc1"),
        ("0.6.0-1", "0.6.0"),  # a packager's revision or a build number as much as a post
        ("1.1.1a", "1.1.1"),  # a later release (OpenSSL) or an alpha (PEP 440)
        ("0.6.0b", "0.6.0"),
        ("1.0.0-alpha.beta", "1.0.0-alpha.1"),
    ],
)
def test_unreadable_or_incomparable_versions_give_none(a, b):
    assert compare_versions(a, b) is None


# --- small factor functions ------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "lowered", "stale"),
    [(0, False, False), (364, False, False), (365, False, False), (366, True, False),
     (547, True, False), (548, True, False), (549, True, True), (2000, True, True)],
)
def test_age_lowering_and_staleness_edges(days, lowered, stale):
    assert (age_lowering(Tier.HIGH, days) is Tier.MODERATE) is lowered
    assert is_stale(days) is stale
    assert age_lowering(Tier.LOW, days) is Tier.LOW


def test_the_age_edges_are_twelve_and_eighteen_months():
    assert AGE_LOWER_DAYS == 365
    assert STALE_DAYS == 548


def test_age_days_counts_calendar_days_and_never_goes_negative():
    midnight = datetime(2026, 6, 1, tzinfo=UTC)
    assert age_days(midnight - timedelta(minutes=1), midnight) == 1  # yesterday's
    assert age_days(midnight, midnight + timedelta(hours=23, minutes=59)) == 0
    measured = datetime(2025, 5, 31, 12, tzinfo=UTC)  # a measured-on date, stored at noon
    assert age_days(measured, midnight + timedelta(hours=9)) == 366  # the morning too
    assert age_days(measured, midnight + timedelta(hours=15)) == 366
    assert age_days(NOW + timedelta(days=3), NOW) == 0


@pytest.mark.parametrize(
    ("ops", "editorial_fresh", "complete", "tier"),
    [
        (0, False, False, Tier.LOW),
        (0, False, True, Tier.MODERATE),
        (1, False, False, Tier.MODERATE),
        (1, False, True, Tier.MODERATE),
        (0, True, False, Tier.HIGH),
        (2, False, False, Tier.HIGH),
        (3, False, True, Tier.HIGH),
        (4, False, False, Tier.VERY_HIGH),
        (9, True, True, Tier.VERY_HIGH),
    ],
)
def test_base_tier(ops, editorial_fresh, complete, tier):
    assert base_tier(ops, editorial_fresh, complete) is tier


def test_metadata_complete():
    assert missing_metadata(COMPLETE) == ()


@pytest.mark.parametrize("field", list(METADATA_FIELDS))
@pytest.mark.parametrize("blank", [None, "", "   ", "absent"])
def test_any_missing_metadata_field_makes_it_incomplete(field, blank):
    metadata = dict(COMPLETE)
    if blank == "absent":
        del metadata[field]
    else:
        metadata[field] = blank
    assert missing_metadata(metadata) == (field,)


def test_coefficient_of_variation():
    assert coefficient_of_variation([100.0]) == 0
    assert coefficient_of_variation([]) == 0
    assert coefficient_of_variation([90, 110]) == 0.1
    assert coefficient_of_variation([100, 100, 100, 100, 130]) == pytest.approx(12 / 106)


# --- base tier through assess ----------------------------------------------------------


def test_single_source_with_incomplete_metadata_is_low():
    result = assess(make_hub(), [], NOW)
    assert result.tier is Tier.LOW and result.base_tier is Tier.LOW
    assert not result.metadata_complete


def test_complete_metadata_is_moderate():
    result = assess(make_hub(metadata=COMPLETE), [], NOW)
    assert result.tier is Tier.MODERATE
    assert result.metadata_complete


def test_one_independent_operator_is_moderate():
    assert assess(make_hub(), operators(1), NOW).tier is Tier.MODERATE


@pytest.mark.parametrize(("count", "tier"), [(2, Tier.HIGH), (3, Tier.HIGH),
                                             (4, Tier.VERY_HIGH), (7, Tier.VERY_HIGH)])
def test_distinct_independent_operators_raise_the_tier(count, tier):
    result = assess(make_hub(), operators(count), NOW)
    assert result.tier is tier
    assert result.independent_operators == count


def test_repeat_reproductions_by_one_operator_count_once():
    repros = [make_repro("bob") for _ in range(5)]
    assert assess(make_hub(), repros, NOW).tier is Tier.MODERATE


def test_the_hubs_own_operator_does_not_count():
    repros = [*operators(3), make_repro("alice")]
    result = assess(make_hub(), repros, NOW)
    assert result.independent_operators == 3
    assert result.tier is Tier.HIGH


def test_anonymous_operators_count_as_distinct():
    repros = [make_repro(f"anon:{n}") for n in range(4)]
    assert assess(make_hub(operator="anon:99"), repros, NOW).tier is Tier.VERY_HIGH


@pytest.mark.parametrize("state", [State.QUEUED, State.REJECTED, State.WITHDRAWN,
                                   State.APPROVED])
def test_other_states_never_count_as_reproductions(state):
    result = assess(make_hub(), operators(4, state=state), NOW)
    assert result.independent_operators == 0
    assert result.tier is Tier.LOW


def test_editorial_within_twelve_months_is_high():
    hub = make_hub(kind=Kind.EDITORIAL, measured_at=days_ago(200))
    result = assess(hub, [], NOW)
    assert result.tier is Tier.HIGH
    assert "editorial" in result.reasons[0]


def test_editorial_at_exactly_twelve_months_is_still_high():
    hub = make_hub(kind=Kind.EDITORIAL, measured_at=days_ago(365))
    assert assess(hub, [], NOW).tier is Tier.HIGH


def test_editorial_after_twelve_months_loses_its_lift_and_is_lowered():
    hub = make_hub(kind=Kind.EDITORIAL, measured_at=days_ago(366), metadata=COMPLETE)
    result = assess(hub, [], NOW)
    assert result.base_tier is Tier.MODERATE
    assert result.tier is Tier.LOW


def test_editorial_lift_is_from_the_hubs_own_measurement_not_its_reproductions():
    hub = make_hub(kind=Kind.EDITORIAL, measured_at=days_ago(400), metadata=COMPLETE)
    result = assess(hub, [make_repro("bob", measured_at=days_ago(10))], NOW)
    assert result.base_tier is Tier.MODERATE
    assert result.age_days == 10
    assert result.tier is Tier.MODERATE


def test_a_fresh_row_gets_no_editorial_lift():
    assert assess(make_hub(kind=Kind.FRESH, measured_at=days_ago(10)), [], NOW).tier is Tier.LOW


# --- consistency -------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["ttft_spread", "decode_spread"])
def test_unexplained_hub_spread_caps_at_moderate(metric):
    hub = make_hub(**{metric: 0.15})
    result = assess(hub, operators(4), NOW)
    assert result.base_tier is Tier.VERY_HIGH
    assert result.tier is Tier.MODERATE
    assert not result.consistent
    assert "capped at moderate" in factor_line(result, "Consistency")


def test_an_explained_spread_is_consistent():
    hub = make_hub(decode_spread=0.15, spread_explained=True)
    result = assess(hub, operators(4), NOW)
    assert result.consistent
    assert result.tier is Tier.VERY_HIGH
    assert "explained" in factor_line(result, "Consistency")


def test_spread_of_exactly_ten_percent_is_consistent():
    hub = make_hub(ttft_spread=0.1, decode_spread=0.1)
    assert assess(hub, operators(4), NOW).tier is Tier.VERY_HIGH


def test_a_spread_cap_does_not_raise_a_lower_tier():
    assert assess(make_hub(decode_spread=0.5), [], NOW).tier is Tier.LOW


def test_decode_variation_over_ten_percent_caps_at_moderate():
    repros = [*operators(3), make_repro("zed", decode_tps=130.0)]
    result = assess(make_hub(), repros, NOW)
    assert result.base_tier is Tier.VERY_HIGH
    assert result.tier is Tier.MODERATE
    assert "11.3%" in factor_line(result, "Consistency")


def test_decode_variation_of_exactly_ten_percent_is_consistent():
    hub = make_hub(decode_tps=90.0)
    repros = [make_repro("bob", decode_tps=110.0), make_repro("carol", decode_tps=110.0),
              make_repro("dave", decode_tps=90.0)]
    result = assess(hub, repros, NOW)
    assert result.consistent
    assert result.tier is Tier.HIGH


def test_decode_variation_just_over_ten_percent_fails():
    hub = make_hub(decode_tps=89.0)
    repros = [make_repro("bob", decode_tps=111.0), make_repro("carol", decode_tps=111.0),
              make_repro("dave", decode_tps=89.0)]
    result = assess(hub, repros, NOW)
    assert not result.consistent
    assert result.tier is Tier.MODERATE


def test_only_reproduced_runs_enter_the_variation():
    repros = [*operators(2), make_repro("x", State.REJECTED, decode_tps=300.0),
              make_repro("y", State.QUEUED, decode_tps=10.0)]
    result = assess(make_hub(), repros, NOW)
    assert result.consistent
    assert result.tier is Tier.HIGH


def test_a_lone_hub_is_consistent():
    result = assess(make_hub(metadata=COMPLETE), [], NOW)
    assert result.consistent
    assert "single decode measurement" in factor_line(result, "Consistency")


# --- runtime drift -----------------------------------------------------------------------


def test_a_fragment_on_a_newer_runtime_diverging_lowers_one_tier():
    fragment = make_repro("bob", State.APPROVED, environment=NEWER_RUNTIME, decode_tps=80.0)
    result = assess(make_hub(), [*operators(4), fragment], NOW)
    assert result.drift
    assert result.base_tier is Tier.VERY_HIGH
    assert result.tier is Tier.HIGH
    line = factor_line(result, "Runtime drift")
    assert "0.6.4" in line and "0.5.7" in line and "20%" in line


def test_a_reproduced_run_on_a_newer_runtime_diverging_lowers_one_tier():
    slower = make_repro("zed", environment=NEWER_RUNTIME, ttft_ms=250.0)
    result = assess(make_hub(), [*operators(1), slower], NOW)
    assert result.base_tier is Tier.HIGH
    assert result.drift
    assert result.tier is Tier.MODERATE


@pytest.mark.parametrize(
    ("env", "decode", "state"),
    [
        (OLDER_RUNTIME, 70.0, State.APPROVED),  # older runtime: not drift
        (HUB_ENV, 70.0, State.APPROVED),  # same runtime
        (NEWER_RUNTIME, 90.0, State.APPROVED),  # exactly 10%: within tolerance
        (NEWER_RUNTIME, 95.0, State.REPRODUCED),
        (NEWER_RUNTIME, 70.0, State.QUEUED),
        (NEWER_RUNTIME, 70.0, State.REJECTED),
        (NEWER_RUNTIME, 70.0, State.WITHDRAWN),
        (replace(HUB_ENV, runtime_version="b4500"), 70.0, State.APPROVED),  # incomparable
        (replace(HUB_ENV, runtime_version=None), 70.0, State.APPROVED),
    ],
)
def test_no_drift(env, decode, state):
    other = make_repro("bob", state, environment=env, decode_tps=decode)
    result = assess(make_hub(), [*operators(4), other], NOW)
    assert not result.drift
    assert result.tier is Tier.VERY_HIGH


def test_drift_cannot_be_checked_without_the_hubs_runtime():
    hub = make_hub(environment=replace(HUB_ENV, runtime_version=None))
    other = make_repro("bob", State.APPROVED, environment=NEWER_RUNTIME, decode_tps=50.0)
    result = assess(hub, [other], NOW)
    assert not result.drift
    assert "not recorded" in factor_line(result, "Runtime drift")


def test_drift_lowers_only_one_tier_however_many_runs_show_it():
    fragments = [make_repro(f"f{n}", State.APPROVED, environment=NEWER_RUNTIME,
                            decode_tps=60.0) for n in range(3)]
    assert assess(make_hub(), [*operators(4), *fragments], NOW).tier is Tier.HIGH


# --- age -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "tier", "stale"),
    [(365, Tier.VERY_HIGH, False), (366, Tier.HIGH, False), (548, Tier.HIGH, False),
     (549, Tier.HIGH, True)],
)
def test_age_edges_through_assess(days, tier, stale):
    measured = days_ago(days)
    hub = make_hub(measured_at=measured)
    result = assess(hub, operators(4, measured_at=measured), NOW)
    assert result.age_days == days
    assert result.tier is tier
    assert result.stale is stale


def test_stale_rows_say_so():
    result = assess(make_hub(measured_at=days_ago(600)), [], NOW)
    assert "stale" in factor_line(result, "Age")
    assert result.stale


def test_age_is_from_the_newest_reproduced_measurement():
    hub = make_hub(measured_at=days_ago(700))
    result = assess(hub, [make_repro("bob", measured_at=days_ago(20))], NOW)
    assert result.age_days == 20
    assert not result.stale
    assert result.tier is Tier.MODERATE


@pytest.mark.parametrize("state", [State.APPROVED, State.QUEUED, State.REJECTED])
def test_unaccepted_runs_do_not_refresh_the_age(state):
    hub = make_hub(measured_at=days_ago(700))
    result = assess(hub, [make_repro("bob", state, measured_at=days_ago(1))], NOW)
    assert result.age_days == 700
    assert result.stale


def test_now_must_be_aware():
    with pytest.raises(ValueError):
        assess(make_hub(), [], datetime(2026, 1, 1))


def test_newest_accepted_at_ignores_runs_not_reproduced():
    hub = make_hub(measured_at=days_ago(100))
    repros = [make_repro("bob", measured_at=days_ago(50)),
              make_repro("carol", State.APPROVED, measured_at=days_ago(5))]
    assert newest_accepted_at(hub, repros) == days_ago(50)


# --- combinations and the floor ---------------------------------------------------------


def test_never_below_low():
    hub = make_hub(decode_spread=0.4, measured_at=days_ago(900))
    fragment = make_repro("bob", State.APPROVED, environment=NEWER_RUNTIME, decode_tps=50.0,
                          measured_at=days_ago(900))
    result = assess(hub, [fragment], NOW)
    assert result.tier is Tier.LOW
    assert result.stale and result.drift and not result.consistent


def test_cap_applies_before_the_lowerings():
    hub = make_hub(decode_spread=0.2)
    fragment = make_repro("bob", State.APPROVED, environment=NEWER_RUNTIME, decode_tps=50.0)
    result = assess(hub, [*operators(4), fragment], NOW)
    # very-high, capped to moderate, then lowered once for drift.
    assert result.tier is Tier.LOW


def test_drift_and_age_each_lower_one_tier():
    measured = days_ago(400)
    fragment = make_repro("bob", State.APPROVED, environment=NEWER_RUNTIME, decode_tps=50.0)
    result = assess(make_hub(measured_at=measured),
                    [*operators(4, measured_at=measured), fragment], NOW)
    assert result.tier is Tier.MODERATE


# --- environment diversity and reasons --------------------------------------------------


def test_environment_diversity_counts_independent_operators_in_the_outer_ring():
    repros = [
        make_repro("bob", environment=OTHER_OS),
        make_repro("bob"),  # bob also ran it in the hub's environment
        make_repro("carol", environment=NEWER_RUNTIME),
        make_repro("dave"),
        make_repro("alice", environment=OTHER_OS),  # the hub's own operator
        make_repro("erin", State.APPROVED, environment=OTHER_OS),
    ]
    result = assess(make_hub(), repros, NOW)
    assert result.independent_operators == 3
    assert result.outer_ring_operators == 2
    assert "2 of 3" in factor_line(result, "Environment diversity")
    assert result.tier is Tier.HIGH  # diversity is reported, it does not move the tier


def test_environment_diversity_counts_only_ring_members():
    """A related-band reproduction a reviewer accepted (15% off, another OS) counts as an
    independent operator, never as outer-ring evidence."""
    related = make_repro("bob", environment=OTHER_OS, decode_tps=85.0)
    result = assess(make_hub(), [related], NOW)
    assert result.independent_operators == 1
    assert result.outer_ring_operators == 0
    line = factor_line(result, "Environment diversity")
    assert "accepted with a note" in line and "outer ring" not in line.split(";")[0]
    within = make_repro("carol", environment=OTHER_OS, decode_tps=95.0)
    both = assess(make_hub(), [related, within], NOW)
    assert both.outer_ring_operators == 1
    assert "1 of 2" in factor_line(both, "Environment diversity")


def test_every_factor_gives_a_reason_line():
    for result in (
        assess(make_hub(), [], NOW),
        assess(make_hub(metadata=COMPLETE, measured_at=days_ago(800)), operators(5), NOW),
        assess(make_hub(kind=Kind.EDITORIAL, decode_spread=0.3), [], NOW),
    ):
        assert result.reasons[0].startswith("Starting tier")
        for prefix in ("Reproductions", "Environment diversity", "Metadata", "Consistency",
                       "Runtime drift", "Age"):
            assert factor_line(result, prefix).endswith(".")


def test_reasons_name_missing_metadata():
    result = assess(make_hub(metadata={**COMPLETE, "os_label": "", "max_tokens": None}), [],
                    NOW)
    line = factor_line(result, "Metadata")
    assert "OS label" in line and "Max tokens" in line and "Runtime version" not in line


# --- tier enum ------------------------------------------------------------------------------


def test_tier_steps():
    assert [t.rank for t in Tier] == [0, 1, 2, 3]
    assert Tier.VERY_HIGH.lowered() is Tier.HIGH
    assert Tier.VERY_HIGH.lowered(2) is Tier.MODERATE
    assert Tier.MODERATE.lowered(5) is Tier.LOW
    assert Tier.LOW.lowered() is Tier.LOW
    assert Tier.HIGH.capped(Tier.MODERATE) is Tier.MODERATE
    assert Tier.LOW.capped(Tier.MODERATE) is Tier.LOW
    assert Tier.from_rank(2) is Tier.HIGH
    assert Tier.from_rank(-1) is Tier.LOW
    assert Tier.from_rank(9) is Tier.VERY_HIGH
    assert Tier.VERY_HIGH.css == "tier-very-high"
    assert Tier.VERY_HIGH.label == "Very high"


# --- monotonicity ---------------------------------------------------------------------------

ENVIRONMENTS = st.sampled_from([HUB_ENV, OTHER_OS, NEWER_RUNTIME, OLDER_RUNTIME,
                                Environment(None, None, None)])


@st.composite
def scenarios(draw):
    measured = draw(st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2025, 12, 31),
                                 timezones=st.just(UTC)))
    ttft = draw(st.floats(min_value=1, max_value=10_000))
    decode = draw(st.floats(min_value=0.5, max_value=5_000))
    hub = HubFacts(
        kind=draw(st.sampled_from([Kind.FRESH, Kind.EDITORIAL])),
        operator=draw(st.sampled_from(["alice", "anon:1"])),
        environment=draw(ENVIRONMENTS),
        ttft_ms=ttft,
        decode_tps=decode,
        ttft_spread=draw(st.floats(min_value=0, max_value=0.3)),
        decode_spread=draw(st.floats(min_value=0, max_value=0.3)),
        spread_explained=draw(st.booleans()),
        metadata=draw(st.sampled_from([COMPLETE, INCOMPLETE])),
        measured_at=measured,
    )
    repros = []
    for _ in range(draw(st.integers(min_value=0, max_value=7))):
        state = draw(st.sampled_from(list(State)))
        # Reproduced runs match the hub so consistency holds; the others may say anything,
        # including runtime drift.
        factor = 1.0 if state is State.REPRODUCED else draw(st.floats(0.3, 3.0))
        repros.append(ReproFacts(
            operator=draw(st.sampled_from(["alice", "anon:1", "anon:2", "bob", "carol",
                                           "dave", "erin"])),
            state=state,
            environment=draw(ENVIRONMENTS),
            ttft_ms=ttft * factor,
            decode_tps=decode * factor,
            measured_at=measured + timedelta(days=draw(st.integers(-100, 100))),
        ))
    now = measured + timedelta(days=draw(st.integers(0, 900)))
    newcomer = ReproFacts(operator="newcomer", state=State.REPRODUCED,
                          environment=draw(ENVIRONMENTS), ttft_ms=ttft, decode_tps=decode,
                          measured_at=measured)
    return hub, repros, newcomer, now


@settings(max_examples=300)
@given(scenarios())
def test_a_new_distinct_reproducing_operator_never_lowers_tier_or_badge(scenario):
    hub, repros, newcomer, now = scenario
    before = assess(hub, repros, now)
    after = assess(hub, [*repros, newcomer], now)
    assert after.tier.rank >= before.tier.rank
    assert after.independent_operators == before.independent_operators + 1
    assert badge(hub, [*repros, newcomer]).rank >= badge(hub, repros).rank
    assert len(after.reasons) == len(before.reasons) == 7


@settings(max_examples=300)
@given(scenarios())
def test_placements_handed_in_decide_as_those_assess_works_out(scenario):
    """evidence.assess places each reproduction once, for the rings, and hands the places
    to assess: tier, marker and every reason come out as when assess places them itself,
    whatever states the reproductions are in (only evidence counts for diversity)."""
    hub, repros, _newcomer, now = scenario
    handed = assess(hub, repros, now, placements=[placement(hub, r) for r in repros])
    assert handed == assess(hub, repros, now)


@pytest.mark.parametrize("state", [State.QUEUED, State.REJECTED, State.WITHDRAWN])
def test_a_handed_in_place_of_a_run_that_is_no_evidence_is_not_diversity(state):
    """bob reproduced the row in its own environment; a run of his on another OS, within
    tolerance but never accepted, would put him in the outer ring if it counted. Placed
    by the caller or by assess, it does not."""
    hub = make_hub(metadata=COMPLETE)
    repros = [make_repro("bob"), make_repro("bob", state, environment=OTHER_OS)]
    places = [placement(hub, repro) for repro in repros]
    assert places[1] is not None  # it landed: only its state keeps it out
    handed = assess(hub, repros, NOW, placements=places)
    assert handed == assess(hub, repros, NOW)
    assert handed == assess(hub, repros[:1], NOW)
