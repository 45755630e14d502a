"""Chart geometry in Python: shapes, scales and ticks, and the model page's bars; the
templates only draw.

The shared vocabulary of every chart: a shape per badge and per ring (`shape_path`, the
legend's swatches), log and linear scales with their ticks. And one chart of many rows,
from plain values (no Flask, no session):

- `bars`: decode by hardware, the median of each group, the ceiling marked on each bar
  (at most MAX_BARS of them: the groups with the most rows).

The hardware page's scatter (decode against the bytes each token reads, dots merged down
to MAX_DOTS, ceiling lines) is in services/scatter_chart.py; the pictures of one row's
evidence (the divergence strip, the tier ladder) are in services/evidence_charts.py. Both
draw with the scales and shapes defined here.

The bars, like the scatter, are drawn when an entry's rows change
(services.chart_summaries keeps the drawn geometry), so a page's share of this work is
bounded whatever the catalog holds.

Every coordinate is in the SVG's own units (its viewBox); CSS scales the picture to the
page. Shapes tell badges and rings apart as well as colours do, so no chart relies on
colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from webapp.services.rules import (
    CEILING_MARGIN,
    Badge,
    Ring,
)

# --- shapes ------------------------------------------------------------------------------

# A shape per badge and per ring: told apart without colour.
BADGE_SHAPES = {
    Badge.COMMUNITY: "circle",
    Badge.EDITORIAL: "square",
    Badge.REPRODUCED: "triangle",
    Badge.INDEPENDENT: "diamond",
}
RING_SHAPES = {Ring.INNER: "circle", Ring.OUTER: "square", None: "triangle"}


def shape_path(shape: str, x: float, y: float, r: float) -> str:
    """An SVG path of `shape` centred on (x, y), about 2r across."""
    if shape == "square":
        s = r * 0.9
        return f"M{x - s:.1f} {y - s:.1f}h{2 * s:.1f}v{2 * s:.1f}h{-2 * s:.1f}z"
    if shape == "triangle":
        h = r * 1.15
        return f"M{x:.1f} {y - h:.1f}L{x + h:.1f} {y + h * 0.8:.1f}L{x - h:.1f} {y + h * 0.8:.1f}z"
    if shape == "diamond":
        d = r * 1.25
        return f"M{x:.1f} {y - d:.1f}L{x + d:.1f} {y:.1f}L{x:.1f} {y + d:.1f}L{x - d:.1f} {y:.1f}z"
    # circle, as two arcs
    return (f"M{x - r:.1f} {y:.1f}a{r:.1f} {r:.1f} 0 1 0 {2 * r:.1f} 0"
            f"a{r:.1f} {r:.1f} 0 1 0 {-2 * r:.1f} 0z")


# Legend swatches: each shape in a 16-unit square.
LEGEND = {shape: shape_path(shape, 8, 8, 5) for shape in ("circle", "square", "triangle",
                                                          "diamond")}


# --- scales and ticks ----------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


def _short(value: float) -> str:
    """A tick label: 0.5, 2, 40, 1.2k, 15k."""
    if value >= 10_000:
        return f"{value / 1000:,.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}".removesuffix(".0") + "k"
    if value >= 10:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.1f}".removesuffix(".0")
    return f"{value:.2g}"


@dataclass(frozen=True)
class LogScale:
    lo: float
    hi: float
    start: float  # pixel of lo
    end: float  # pixel of hi

    def __call__(self, value: float) -> float:
        a, b = math.log10(self.lo), math.log10(self.hi)
        return self.start + (math.log10(value) - a) / (b - a) * (self.end - self.start)

    def ticks(self) -> list[Tick]:
        low, high = math.floor(math.log10(self.lo)), math.ceil(math.log10(self.hi))
        for steps in ((1,), (1, 3), (1, 2, 5)):
            values = [m * 10.0**e for e in range(low, high + 1) for m in steps
                      if self.lo <= m * 10.0**e <= self.hi]
            if len(values) >= 3:
                break
        else:  # a narrow range (less than a decade): evenly spaced round numbers instead
            linear = LinearScale(self.lo, self.hi, self.start, self.end)
            values = [v for v in linear.tick_values(5) if v > 0]
        return [Tick(round(self(v), 1), _short(v)) for v in values]


def _nice_step(span: float, count: int) -> float:
    raw = span / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * power >= raw:
            return multiple * power
    return 10 * power


@dataclass(frozen=True)
class LinearScale:
    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        return self.start + (value - self.lo) / (self.hi - self.lo) * (self.end - self.start)

    def tick_values(self, count: int = 5) -> list[float]:
        step = _nice_step(self.hi - self.lo, count)
        first = math.ceil(self.lo / step - 1e-9) * step
        values, value = [], first
        while value <= self.hi + 1e-9:
            values.append(round(value, 10))
            value += step
        return values

    def ticks(self, count: int = 5) -> list[Tick]:
        return [Tick(round(self(v), 1), _short(v)) for v in self.tick_values(count)]


# --- the model page's bars ------------------------------------------------------------------

BAR_WIDTH = 440  # narrower than the others: its labels stay legible on a phone
BAR_ROW = 40
BAR_PAD = (8, 16, 34, 8)  # top, right, bottom, left
BAR_HEIGHT = 14
# Never more bars than this (the groups with the most rows): the picture stays a phone's
# few screens, and the page's size bounded; the table linked beside it lists every group.
MAX_BARS = 20


@dataclass(frozen=True)
class BarInput:
    label: str  # "2× RTX 4090"
    median_tps: float
    rows: int
    ceiling_tps: float | None
    ceiling_label: str  # how the ceiling was chosen ("GGUF Q4_K_M, layer split")
    # The median of the rows that declare no speculative decoding, batching or tensor
    # parallelism (None: every row declares one); the bar is above the ceiling by it.
    undeclared_median_tps: float | None = None


def bar_above(item: BarInput) -> bool:
    """A bar is marked above its ceiling when its rows that could be flagged (declaring
    nothing that lifts a single stream's ceiling, SPEC §7) have a median over
    CEILING_MARGIN times it, as each of those rows' own pages would flag them."""
    return bool(item.ceiling_tps and item.undeclared_median_tps is not None
                and item.undeclared_median_tps > item.ceiling_tps * CEILING_MARGIN)


class Bar(NamedTuple):
    """One bar (a tuple: the template unpacks up to a hundred of them)."""

    label: str
    label_y: float
    y: float
    width: float
    value_x: float
    value_y: float
    median_tps: float
    rows: int
    ceiling_x: float | None
    ceiling_tps: float | None
    ceiling_label: str
    share: float | None
    above: bool
    value_inside: bool  # a long bar carries its value inside its end


@dataclass(frozen=True)
class Bars:
    width: int
    height: int
    left: float
    right: float
    axis_y: float
    ticks: list[Tick]
    bars: list[Bar]
    groups: int = 0  # the groups there are; only the MAX_BARS with most rows are drawn

    @property
    def above(self) -> int:
        return sum(bar.above for bar in self.bars)

    @property
    def capped(self) -> bool:
        return self.groups > len(self.bars)


def drawn_bars(items: Sequence[BarInput], limit: int = MAX_BARS) -> list[BarInput]:
    """The items a bar chart draws: the `limit` with the most rows (a tie: by label)."""
    return sorted(items, key=lambda i: (-i.rows, i.label))[:limit]


def bars(items: Sequence[BarInput], limit: int = MAX_BARS) -> Bars | None:
    """One horizontal bar per item (fastest first), with its ceiling marked, for the
    `limit` items with the most rows; None when there is nothing to draw."""
    if not items:
        return None
    groups = len(items)
    items = drawn_bars(items, limit)
    top, right, bottom, left = BAR_PAD
    x_end = BAR_WIDTH - right
    highest = max(max(i.median_tps, i.ceiling_tps or 0.0) for i in items)
    xs = LinearScale(0.0, highest * 1.08, left, x_end)
    drawn = []
    for index, item in enumerate(sorted(items, key=lambda i: (-i.median_tps, i.label))):
        row_top = top + index * BAR_ROW
        bar_y = row_top + 18
        width = xs(item.median_tps) - left
        ceiling_x = None if item.ceiling_tps is None else round(xs(item.ceiling_tps), 1)
        share = None if not item.ceiling_tps else item.median_tps / item.ceiling_tps
        above = bar_above(item)
        inside = left + width + (150 if above else 50) > x_end
        drawn.append(Bar(
            label=item.label, label_y=row_top + 13, y=bar_y, width=round(max(width, 1.0), 1),
            value_x=round(left + width - 4 if inside else left + width + 4, 1),
            value_y=bar_y + 11, value_inside=inside,
            median_tps=item.median_tps, rows=item.rows, ceiling_x=ceiling_x,
            ceiling_tps=item.ceiling_tps, ceiling_label=item.ceiling_label, share=share,
            above=above,
        ))
    axis_y = top + len(items) * BAR_ROW + 4
    return Bars(BAR_WIDTH, int(axis_y + bottom), left, x_end, axis_y, xs.ticks(), drawn,
                groups)
