"""Medians, spreads and divergence bands (SPEC §2, §3), without an app or database."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.services.divergence import (
    Comparison,
    band_of,
    compare,
    divergence,
    median,
    spread,
    summarise_runs,
)
from webapp.services.rules import RELATED_LIMIT, SPREAD_LIMIT, TOLERANCE, Band

# --- median and spread -------------------------------------------------------------


def test_median_of_odd_and_even_counts():
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5
    assert median([7.5]) == 7.5


def test_median_accepts_any_iterable():
    assert median(x for x in (10, 30, 20)) == 20


@pytest.mark.parametrize("values", [[], (), iter(())])
def test_median_of_nothing_is_an_error(values):
    with pytest.raises(ValueError):
        median(values)


@pytest.mark.parametrize("bad", [math.nan, math.inf, None, "3", True])
def test_median_rejects_non_numbers(bad):
    with pytest.raises(ValueError):
        median([1.0, bad, 2.0])


def test_spread_is_range_over_median():
    assert spread([90, 100, 110]) == pytest.approx(0.2)
    assert spread([50, 50, 50]) == 0


def test_spread_of_exactly_ten_percent_is_not_rounded_above_it():
    assert spread([95, 100, 105]) == TOLERANCE
    assert spread([0.95, 1.0, 1.05]) == SPREAD_LIMIT


@pytest.mark.parametrize("values", [[], [0, 0, 0], [-3, -2, -1], [-1, 0, 5]])
def test_spread_needs_values_and_a_positive_median(values):
    with pytest.raises(ValueError):
        spread(values)


# --- divergence ----------------------------------------------------------------------


def test_divergence_is_relative_to_the_hub():
    assert divergence(110, 100) == 0.1
    assert divergence(90, 100) == 0.1
    assert divergence(150, 100) == 0.5
    assert divergence(100, 100) == 0


def test_divergence_is_not_symmetric():
    assert divergence(100, 80) == 0.25
    assert divergence(80, 100) == pytest.approx(0.2)


@pytest.mark.parametrize("hub", [0, -1, -100.0, None, math.nan, math.inf, "100"])
def test_divergence_needs_a_positive_hub(hub):
    with pytest.raises(ValueError):
        divergence(100, hub)


@pytest.mark.parametrize("repro", [0, -5, None, math.nan, math.inf])
def test_divergence_needs_a_positive_reproduction(repro):
    with pytest.raises(ValueError):
        divergence(repro, 100)


def test_divergence_accepts_decimals_from_numeric_columns():
    assert divergence(Decimal("110"), Decimal("100")) == 0.1


@pytest.mark.parametrize(
    ("hub", "repro"),
    [(100, 110), (100, 90), (0.3, 0.33), (0.7, 0.77), (55.1, 60.61), (1.1, 1.21), (3.3, 2.97)],
)
def test_float_noise_never_pushes_exactly_ten_percent_out_of_tolerance(hub, repro):
    assert band_of(divergence(repro, hub)) is Band.WITHIN
    # The same ratios without rounding are what the rounding protects against.
    assert band_of(abs(repro - hub) / hub) is Band.WITHIN


@pytest.mark.parametrize(
    ("hub", "repro"), [(100, 125), (100, 75), (0.3, 0.375), (1.1, 1.375), (7.7, 9.625)]
)
def test_float_noise_never_pushes_exactly_twenty_five_percent_out_of_related(hub, repro):
    assert band_of(divergence(repro, hub)) is Band.RELATED


def test_the_raw_float_ratio_really_is_noisy():
    # Guards the test above: without rounding, 0.33 vs 0.3 lands above 10%.
    assert abs(0.33 - 0.3) / 0.3 > TOLERANCE


# --- bands ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("worst", "band"),
    [
        (0, Band.WITHIN),
        (0.05, Band.WITHIN),
        (TOLERANCE, Band.WITHIN),
        (0.1000000001, Band.WITHIN),  # below 1e-9: float noise
        (0.100000001, Band.RELATED),
        (0.15, Band.RELATED),
        (RELATED_LIMIT, Band.RELATED),
        (0.2500000001, Band.RELATED),  # below 1e-9: float noise
        (0.250000001, Band.NOT_REPRODUCTION),
        (0.5, Band.NOT_REPRODUCTION),
        (3.0, Band.NOT_REPRODUCTION),
    ],
)
def test_band_edges(worst, band):
    assert band_of(worst) is band


@pytest.mark.parametrize("bad", [-0.01, math.nan, math.inf, None, "0.1"])
def test_band_of_rejects_impossible_divergences(bad):
    with pytest.raises(ValueError):
        band_of(bad)


def test_band_properties_follow_the_spec_table():
    assert Band.WITHIN.allows_reproduce_flow and not Band.WITHIN.needs_note
    assert Band.RELATED.allows_reproduce_flow and Band.RELATED.needs_note
    assert not Band.NOT_REPRODUCTION.allows_reproduce_flow
    assert not Band.NOT_REPRODUCTION.needs_note
    assert Band.WITHIN.css == "band-within"
    assert Band.NOT_REPRODUCTION.css == "band-not-reproduction"
    assert "10%" in Band.WITHIN.explanation
    assert "25%" in Band.RELATED.explanation
    assert "fresh" in Band.NOT_REPRODUCTION.explanation
    assert "feedback" in Band.NOT_REPRODUCTION.explanation


# --- compare -------------------------------------------------------------------------


def test_compare_reports_both_metrics_and_the_worst():
    result = compare(hub_ttft_ms=200, hub_decode_tps=100, repro_ttft_ms=210,
                     repro_decode_tps=88)
    assert result == Comparison(ttft_divergence=0.05, decode_divergence=0.12, worst=0.12,
                                band=Band.RELATED)


@pytest.mark.parametrize(
    ("repro_ttft", "repro_decode", "band"),
    [
        (220, 100, Band.WITHIN),  # TTFT exactly 10%
        (200, 110, Band.WITHIN),  # decode exactly 10%
        (220, 90, Band.WITHIN),  # both exactly 10%
        (250, 100, Band.RELATED),  # TTFT exactly 25%
        (200, 75, Band.RELATED),  # decode exactly 25%
        (250, 125, Band.RELATED),  # both exactly 25%
        (222, 100, Band.RELATED),  # TTFT just over, decode perfect
        (200, 111, Band.RELATED),  # decode just over, TTFT perfect
        (251, 100, Band.NOT_REPRODUCTION),  # TTFT just over 25% alone decides
        (200, 126, Band.NOT_REPRODUCTION),  # decode just over 25% alone decides
        (200, 100, Band.WITHIN),
    ],
)
def test_the_worse_of_the_two_metrics_decides(repro_ttft, repro_decode, band):
    assert compare(200, 100, repro_ttft, repro_decode).band is band


def test_one_metric_far_off_cannot_be_averaged_away():
    result = compare(200, 100, 200, 160)
    assert result.ttft_divergence == 0
    assert result.band is Band.NOT_REPRODUCTION


@pytest.mark.parametrize(
    "args",
    [
        (0, 100, 200, 100),
        (200, 0, 200, 100),
        (200, 100, 0, 100),
        (200, 100, 200, -1),
        (None, 100, 200, 100),
        (200, 100, None, 100),
    ],
)
def test_compare_rejects_zero_negative_and_missing_values(args):
    with pytest.raises(ValueError):
        compare(*args)


@given(
    hub=st.floats(min_value=0.01, max_value=1e5),
    factor=st.floats(min_value=0.0, max_value=3.0),
)
def test_band_agrees_with_divergence_thresholds(hub, factor):
    repro = hub * factor
    if repro <= 0:
        return
    worst = divergence(repro, hub)
    band = compare(hub, hub, repro, hub).band
    if worst <= TOLERANCE:
        assert band is Band.WITHIN
    elif worst <= RELATED_LIMIT:
        assert band is Band.RELATED
    else:
        assert band is Band.NOT_REPRODUCTION


# --- runs ----------------------------------------------------------------------------


def test_summarise_runs_takes_medians_and_spreads():
    summary = summarise_runs([(210, 512, 98.0), (200, 512, 100.0), (205, 500, 101.0)])
    assert summary.ttft_median == 205
    assert summary.decode_median == 100
    assert summary.tokens_median == 512
    assert summary.ttft_spread == pytest.approx(10 / 205)
    assert summary.decode_spread == pytest.approx(0.03)
    assert summary.needs_note is False
    assert summary.run_count == 3


def test_spread_of_exactly_ten_percent_needs_no_note():
    summary = summarise_runs([(95, 512, 100), (100, 512, 100), (105, 512, 100)])
    assert summary.ttft_spread == 0.1
    assert summary.needs_note is False


def test_ttft_spread_over_ten_percent_needs_a_note():
    summary = summarise_runs([(90, 512, 100), (100, 512, 100), (111, 512, 100)])
    assert summary.ttft_spread > SPREAD_LIMIT
    assert summary.needs_note is True


def test_decode_spread_over_ten_percent_needs_a_note():
    summary = summarise_runs([(100, 512, 80), (100, 512, 100), (100, 512, 101)])
    assert summary.decode_spread == pytest.approx(0.21)
    assert summary.needs_note is True


def test_even_run_count_uses_the_middle_pair():
    summary = summarise_runs([(100, 500, 90), (110, 510, 100), (120, 520, 110), (130, 530, 120)])
    assert summary.ttft_median == 115
    assert summary.tokens_median == 515
    assert summary.decode_median == 105


def test_a_median_of_an_even_run_count_is_kept_without_float_noise():
    runs = [(54.6, 512, 85.9), (54.7, 512, 86.2), (54.5, 512, 85.8), (54.8, 512, 86.3)]
    assert repr((54.6 + 54.7) / 2) == "54.650000000000006"
    assert repr((85.9 + 86.2) / 2) == "86.05000000000001"
    summary = summarise_runs(runs)
    assert repr(summary.ttft_median) == "54.65"
    assert repr(summary.decode_median) == "86.05"


def test_a_single_run_still_summarises_for_the_live_warning():
    summary = summarise_runs([(100, 512, 50)])
    assert summary.ttft_spread == 0 and summary.decode_spread == 0


def test_empty_run_list_is_an_error():
    with pytest.raises(ValueError):
        summarise_runs([])


@pytest.mark.parametrize(
    "bad_run",
    [(0, 512, 100), (100, 0, 100), (100, 512, 0), (-1, 512, 100), (100, 512, None),
     (100, 512, math.nan), (100, 512), (100, 512, 100, 1)],
)
def test_summarise_runs_rejects_bad_runs(bad_run):
    with pytest.raises(ValueError):
        summarise_runs([(100, 512, 100), bad_run, (100, 512, 100)])


def test_a_kept_comparison_never_answers_for_a_flag_or_a_bad_number():
    """compare keeps its answers (a pure function asked again and again): a flag that
    equals a number already compared (True == 1) is still refused, and so is a NaN."""
    assert compare(1, 100.0, 1, 100.0).band is Band.WITHIN
    with pytest.raises(ValueError):
        compare(True, 100.0, 1, 100.0)
    with pytest.raises(ValueError):
        compare(1.0, 100.0, math.nan, 100.0)
    assert compare(1000.0, 50.0, 1150.0, 50.0) is compare(1000.0, 50.0, 1150.0, 50.0)
