"""Medians, spreads and the divergence band of a reproduction (SPEC §2, §3).

The live warning on the reproduce form and the server-side check on POST both call
`compare`, so they can never disagree.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from numbers import Real

from webapp.services.rules import (
    RATIO_DECIMALS,
    RELATED_LIMIT,
    SPREAD_LIMIT,
    TOLERANCE,
    Band,
    percent,
)


@dataclass(frozen=True)
class Comparison:
    ttft_divergence: float
    decode_divergence: float
    worst: float
    band: Band


@dataclass(frozen=True)
class RunSummary:
    ttft_median: float
    decode_median: float
    tokens_median: float
    ttft_spread: float
    decode_spread: float
    needs_note: bool
    run_count: int


# Timings, speeds and memory peaks are kept and published to a thousandth of their unit
# (the smallest reading taken, fields.MEASURE_MIN). A median of an even number of runs is
# the mean of the middle two, whose float noise (54.650000000000006) would otherwise be
# stored and exported as if it were a digit of the measurement.
MEASURE_DECIMALS = 3


def ratio(value: float) -> float:
    """A ratio as compared with thresholds: float noise below 1e-9 rounded away."""
    return round(value, RATIO_DECIMALS)


def measured(value: float | None) -> float | None:
    """A timing, speed or memory figure to MEASURE_DECIMALS, as rows store and exports
    publish it (None stays None: an optional figure left out)."""
    return None if value is None else round(float(value), MEASURE_DECIMALS)


def _is_number(value: object) -> bool:
    # bool is an int to Python, never a measurement; Decimal comes from NUMERIC columns.
    # Floats and ints (the common case, hundreds of times on a busy detail page) first.
    kind = type(value)
    if kind is float or kind is int:
        return True
    return isinstance(value, Real | Decimal) and not isinstance(value, bool)


def positive(name: str, value: object) -> float:
    """`value` as a finite positive float, or ValueError naming the quantity."""
    if not _is_number(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    return number


def _finite_values(values: Iterable[float], name: str) -> list[float]:
    numbers = list(values)
    if not numbers:
        raise ValueError(f"{name} needs at least one value")
    for number in numbers:
        if not _is_number(number):
            raise ValueError(f"{name} must be numbers, got {number!r}")
        if not math.isfinite(number):
            raise ValueError(f"{name} must be finite, got {number!r}")
    return [float(n) for n in numbers]


def spread_exceeds(value: float) -> bool:
    """A run spread above SPREAD_LIMIT: it needs the operator's note explaining it."""
    return ratio(value) > SPREAD_LIMIT


@dataclass(frozen=True)
class SpreadCheck:
    metric: str
    value: float
    flagged: bool  # above SPREAD_LIMIT

    @property
    def label(self) -> str:
        return percent(self.value)


def spread_checks(ttft_spread: float, decode_spread: float) -> tuple[SpreadCheck, SpreadCheck]:
    """A row's two spreads as pages show them, each flagged when above the limit."""
    return (
        SpreadCheck("Time to first token", ttft_spread, spread_exceeds(ttft_spread)),
        SpreadCheck("Decode speed", decode_spread, spread_exceeds(decode_spread)),
    )


def median(values: Iterable[float]) -> float:
    return statistics.median(_finite_values(values, "median"))


def spread(values: Iterable[float]) -> float:
    """(max − min) / median, rounded like every ratio."""
    numbers = _finite_values(values, "spread")
    middle = statistics.median(numbers)
    if middle <= 0:
        raise ValueError(f"spread needs a positive median, got {middle!r}")
    return ratio((max(numbers) - min(numbers)) / middle)


def divergence(repro: float, hub: float) -> float:
    """|repro − hub| / hub, rounded like every ratio."""
    hub_value = positive("hub value", hub)
    repro_value = positive("reproduction value", repro)
    return ratio(abs(repro_value - hub_value) / hub_value)


def band_of(worst_divergence: float) -> Band:
    if not _is_number(worst_divergence):
        raise ValueError(f"divergence must be a number, got {worst_divergence!r}")
    value = float(worst_divergence)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"divergence must be finite and not negative, got {worst_divergence!r}")
    rounded = ratio(value)
    if rounded <= TOLERANCE:
        return Band.WITHIN
    if rounded <= RELATED_LIMIT:
        return Band.RELATED
    return Band.NOT_REPRODUCTION


# A pure function of four numbers, asked for the same pair several times a request (the
# rings' placement, the badge, the tier and the page's tables each compare a reproduction
# with its original) and again on the next view of the same row: answers are kept,
# typed, so that True never stands for 1 (a bool is refused as a measurement).
@lru_cache(maxsize=8_192, typed=True)
def compare(
    hub_ttft_ms: float, hub_decode_tps: float, repro_ttft_ms: float, repro_decode_tps: float
) -> Comparison:
    ttft = divergence(repro_ttft_ms, hub_ttft_ms)
    decode = divergence(repro_decode_tps, hub_decode_tps)
    worst = max(ttft, decode)
    return Comparison(ttft_divergence=ttft, decode_divergence=decode, worst=worst,
                      band=band_of(worst))


def summarise_runs(runs: Sequence[tuple[float, int, float]]) -> RunSummary:
    """Headline medians and spreads of timed runs given as (ttft_ms, tokens, decode_tps).

    The run-count bounds (MIN_RUNS..MAX_RUNS) are the form's to enforce: the live
    spread warning must work while the operator is still typing the third run.
    """
    if not runs:
        raise ValueError("at least one run is needed")
    ttfts: list[float] = []
    tokens: list[float] = []
    decodes: list[float] = []
    for number, run in enumerate(runs, start=1):
        if len(run) != 3:
            raise ValueError(f"run {number} must be (ttft_ms, tokens_generated, decode_tps)")
        ttft_ms, tokens_generated, decode_tps = run
        ttfts.append(positive(f"run {number} TTFT", ttft_ms))
        tokens.append(positive(f"run {number} tokens generated", tokens_generated))
        decodes.append(positive(f"run {number} decode speed", decode_tps))
    ttft_spread = spread(ttfts)
    decode_spread = spread(decodes)
    return RunSummary(
        ttft_median=round(statistics.median(ttfts), MEASURE_DECIMALS),
        decode_median=round(statistics.median(decodes), MEASURE_DECIMALS),
        tokens_median=statistics.median(tokens),
        ttft_spread=ttft_spread,
        decode_spread=decode_spread,
        needs_note=spread_exceeds(ttft_spread) or spread_exceeds(decode_spread),
        run_count=len(runs),
    )
