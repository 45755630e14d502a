"""The pictures of one row's evidence, from plain values (no Flask, no session):

- `strip`: the divergence strip of a row's accepted reproductions (TTFT and decode);
- `ladder`: the confidence tier's reproduction rungs, for the reproduction network page.

Scales and shapes come from services/charts.py, so every chart draws rings and badges
the same way; coordinates are in the SVG's own units (its viewBox).
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from webapp.services.charts import LEGEND, RING_SHAPES, LinearScale, Tick, shape_path
from webapp.services.rules import (
    HIGH_OPERATORS,
    MODERATE_OPERATORS,
    NOTED_LABEL,
    RELATED_LIMIT,
    TOLERANCE,
    VERY_HIGH_OPERATORS,
    Ring,
    Tier,
)

# --- the detail page's divergence strip ------------------------------------------------------

STRIP_WIDTH = 560
STRIP_PAD = (10, 20, 10, 20)  # top, right, bottom, left
STRIP_AXIS = 86  # height of one metric's band: lanes of dots, the axis and its labels
STRIP_R = 6.0
STRIP_LANES = 3


@dataclass(frozen=True)
class StripInput:
    repro_id: int
    operator: str
    ring: Ring | None  # None: accepted with a note (outside tolerance)
    ttft: float  # signed divergence from the hub: (repro - hub) / hub
    decode: float

    @property
    def ttft_label(self) -> str:
        """The signed divergence in the strip's data table: "+1.2%", "-0.4%"."""
        return f"{self.ttft * 100:+.1f}%"

    @property
    def decode_label(self) -> str:
        return f"{self.decode * 100:+.1f}%"

    @property
    def ring_label(self) -> str:
        return ring_label(self.ring)


@dataclass(frozen=True)
class StripDot:
    repro_id: int
    x: float
    y: float
    path: str
    ring: Ring | None
    shape: str
    value: float
    title: str
    css: str  # ring_css(ring)


@dataclass(frozen=True)
class StripBand:
    x: float
    width: float
    css: str


@dataclass(frozen=True)
class StripAxis:
    metric: str  # "Time to first token"
    hint_low: str  # what a negative divergence means
    hint_high: str
    top: float
    axis_y: float
    dots: list[StripDot]
    bands: list[StripBand] = field(default_factory=list)


@dataclass(frozen=True)
class Strip:
    width: int
    height: int
    left: float
    right: float
    zero_x: float
    ticks: list[Tick]
    axes: list[StripAxis]
    extent: float  # the axis runs from -extent to +extent (fractions)
    rows: list[StripInput]  # the ones drawn
    counts: dict[Ring | None, int]  # of every reproduction, drawn or not

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def partial(self) -> bool:
        return len(self.rows) < self.total

    @cached_property
    def legend(self) -> list[tuple[str, str, str, int]]:
        """(label, css class, swatch, how many) of each kind of reproduction present."""
        counts = self.counts
        return [(ring_label(ring), ring_css(ring), LEGEND[RING_SHAPES[ring]], counts[ring])
                for ring in (Ring.INNER, Ring.OUTER, None) if ring in counts]


def ring_label(ring: Ring | None) -> str:
    return ring.label if ring is not None else NOTED_LABEL


def ring_css(ring: Ring | None) -> str:
    return ring.css if ring is not None else "ring-noted"


def signed(value: float, original: float) -> float:
    """(value − original) ÷ original: the divergence with its direction kept."""
    return (value - original) / original


def _percent_label(value: float) -> str:
    text = f"{abs(value) * 100:.0f}%"
    return "0" if abs(value) < 1e-9 else (f"+{text}" if value > 0 else f"−{text}")


def _lanes(xs: list[float], gap: float) -> list[int]:
    """A lane per dot so that dots closer than `gap` stack rather than hide each other:
    the first lane with no earlier dot that close, else the next lane in turn."""
    in_lane: list[list[float]] = [[] for _ in range(STRIP_LANES)]  # each kept sorted
    lanes = []
    for x in xs:
        lane = len(lanes) % STRIP_LANES
        for number, others in enumerate(in_lane):
            # the nearest earlier dots in this lane are the neighbours of x's place
            at = bisect_left(others, x)
            if ((at == len(others) or others[at] - x >= gap)
                    and (at == 0 or x - others[at - 1] >= gap)):
                lane = number
                break
        insort(in_lane[lane], x)
        lanes.append(lane)
    return lanes


def strip(rows: Sequence[StripInput], others: Sequence[StripInput] = ()) -> Strip | None:
    """Both metrics' divergence from the hub on one axis each, the bands shaded: `rows`
    drawn, on an axis wide enough for `others` too (the reproductions on other pages),
    and the legend counting both."""
    if not rows and not others:
        return None
    counts: dict[Ring | None, int] = {}
    for row in (*rows, *others):
        counts[row.ring] = counts.get(row.ring, 0) + 1
    top, right, bottom, left = STRIP_PAD
    x_end = STRIP_WIDTH - right
    widest = max(max(abs(r.ttft), abs(r.decode)) for r in (*rows, *others))
    extent = max(0.3, math.ceil(widest * 1.1 * 10) / 10)
    xs = LinearScale(-extent, extent, left, x_end)
    bands = [
        StripBand(round(xs(-RELATED_LIMIT), 1), round(xs(RELATED_LIMIT) - xs(-RELATED_LIMIT), 1),
                  "strip-band-related"),
        StripBand(round(xs(-TOLERANCE), 1), round(xs(TOLERANCE) - xs(-TOLERANCE), 1),
                  "strip-band-within"),
    ]
    axes = []
    for index, (metric, attr, low, high) in enumerate((
        ("Time to first token", "ttft", "quicker first token", "slower first token"),
        ("Decode speed", "decode", "slower decode", "faster decode"),
    )):
        axis_top = top + index * STRIP_AXIS
        axis_y = axis_top + 14 + STRIP_LANES * (STRIP_R * 2 + 2) + 4
        values = [getattr(r, attr) for r in rows]
        positions = [xs(v) for v in values]
        lanes = _lanes(positions, STRIP_R * 2 + 1)
        named = metric.lower()
        dots = []
        for row, value, x, lane in zip(rows, values, positions, lanes, strict=True):
            y = axis_y - STRIP_R - 3 - lane * (STRIP_R * 2 + 2)
            shape = RING_SHAPES[row.ring]
            dots.append(StripDot(
                row.repro_id, round(x, 1), round(y, 1), shape_path(shape, x, y, STRIP_R),
                row.ring, shape, value,
                f"Reproduction #{row.repro_id} by {row.operator} ({ring_label(row.ring)}): "
                f"{named} {_percent_label(value)} against the original",
                ring_css(row.ring),
            ))
        axes.append(StripAxis(metric, low, high, axis_top, round(axis_y, 1), dots, bands))
    height = int(top + len(axes) * STRIP_AXIS + bottom)
    ticks = [Tick(round(xs(v), 1), _percent_label(v)) for v in xs.tick_values(6)]
    return Strip(STRIP_WIDTH, height, left, x_end, round(xs(0.0), 1), ticks, axes, extent,
                 list(rows), counts)


# --- the network page's tier ladder -----------------------------------------------------------

LADDER_WIDTH, LADDER_HEIGHT = 560, 150
LADDER_STEP_WIDTH = 118
LADDER_STEP_HEIGHT = 46


@dataclass(frozen=True)
class LadderStep:
    tier: Tier
    operators: int  # independent operators that start a row here
    x: float
    y: float
    reached: bool  # the hub's operators reach this step
    current: bool  # the highest step reached

    @property
    def centre(self) -> float:
        return round(self.x + LADDER_STEP_WIDTH / 2, 1)


@dataclass(frozen=True)
class Ladder:
    width: int
    height: int
    step_width: int
    step_height: int
    steps: list[LadderStep]
    arrow: str  # the upgrade path: a path rising through the steps, ending in an arrowhead
    arrow_head: str
    operators: int | None  # the hub's independent operators; None without a hub

    @property
    def current(self) -> LadderStep | None:
        return next((step for step in self.steps if step.current), None)


def ladder(operators: int | None) -> Ladder:
    """The reproduction rungs of the confidence tier, rising left to right, the hub's place
    marked when there is a hub (`operators` is how many independent operators it has)."""
    thresholds = ((Tier.LOW, 0), (Tier.MODERATE, MODERATE_OPERATORS),
                  (Tier.HIGH, HIGH_OPERATORS), (Tier.VERY_HIGH, VERY_HIGH_OPERATORS))
    gap = (LADDER_WIDTH - 16 - LADDER_STEP_WIDTH * len(thresholds)) / (len(thresholds) - 1)
    reached = [operators is not None and operators >= need for _tier, need in thresholds]
    highest = max((i for i, ok in enumerate(reached) if ok), default=None)
    steps = []
    for index, (tier, need) in enumerate(thresholds):
        x = 8 + index * (LADDER_STEP_WIDTH + gap)
        y = 70 - index * 18  # each rung a little higher
        steps.append(LadderStep(tier, need, round(x, 1), float(y), reached[index],
                                index == highest))
    points = [(step.centre, step.y + LADDER_STEP_HEIGHT + 14) for step in steps]
    # the path runs under the steps, rising with them, and ends in an arrowhead
    start_x, start_y = points[0]
    arrow = f"M{start_x - 40:.1f} {start_y:.1f}" + "".join(
        f"L{x:.1f} {y:.1f}" for x, y in points)
    end_x, end_y = points[-1]
    end_x += 30
    arrow += f"L{end_x:.1f} {end_y - 6:.1f}"
    head = f"M{end_x + 8:.1f} {end_y - 9:.1f}L{end_x - 4:.1f} {end_y - 12:.1f}" \
           f"L{end_x - 1:.1f} {end_y:.1f}z"
    return Ladder(LADDER_WIDTH, LADDER_HEIGHT, LADDER_STEP_WIDTH, LADDER_STEP_HEIGHT, steps,
                  arrow, head, operators)
