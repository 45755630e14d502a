"""The hardware page's scatter, in Python: decode speed against the bytes each token must
read, from plain values (no Flask, no session); the templates only draw.

- `scatter` (`merge`, then `draw`): one dot per row, dots on the same spot merged, then
  nearest neighbours merged until at most MAX_DOTS are left (`cap_spots`), with the
  bandwidth-ceiling line of each device count (`line_y_at` reads one back).

It is drawn when an entry's rows change (services.chart_summaries keeps the drawn
geometry), so a page's share of this work is bounded whatever the catalog holds.

Scales, ticks and shapes come from services/charts.py, so every chart draws badges the
same way; coordinates are in the SVG's own units (its viewBox).
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from webapp.services.charts import BADGE_SHAPES, LEGEND, LogScale, Tick, shape_path
from webapp.services.rules import CEILING_MARGIN, Badge

# --- the hardware page's scatter ------------------------------------------------------------

SCATTER_WIDTH, SCATTER_HEIGHT = 560, 340
SCATTER_PAD = (14, 18, 46, 58)  # top, right, bottom, left
# Dots whose centres fall in one cell are drawn as one (a page of thousands of rows stays a
# few hundred dots); the dot grows with the rows it holds.
MERGE_CELL = 6.0
# Never more dots than this: past it, the nearest dots of one column (same badge, same
# side of the ceiling) merge first, then neighbours across columns, so a page's size is
# bounded whatever the catalog holds.
MAX_DOTS = 200


@dataclass(frozen=True)
class Series:
    """The public rows of one configuration and badge on the scatter: the bytes each token
    reads (GB), the ceiling that applies to them (None: unknown), their decode speeds."""

    gigabytes: float
    badge: Badge
    ceiling_tps: float | None
    decodes: Sequence[float]
    group: str = ""  # the configuration's name, for a dot's tooltip
    # They declare speculative decoding, batching or tensor parallelism: never flagged
    # above the ceiling (SPEC §7), whatever their speed.
    declared: bool = False


class Dot(NamedTuple):
    """One dot of the scatter (a tuple: a page draws hundreds of them per request)."""

    x: float
    y: float
    r: float
    path: str
    badge: str  # the badge's value (a CSS class: dot-<badge>)
    shape: str
    above: bool
    count: int
    title: str


@dataclass(frozen=True)
class Line:
    """A ceiling line, already clipped to the plot; label placed at its right end."""

    devices: int
    label: str
    x1: float
    y1: float
    x2: float
    y2: float
    label_x: float
    label_y: float


@dataclass(frozen=True)
class Scatter:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    dots: Sequence[Sequence[Any]]  # Dot, or its values in its order (as a summary keeps them)
    lines: list[Line]
    rows: int
    above: int
    merged_further: bool = False  # nearby dots merged to stay within MAX_DOTS

    @property
    def summary(self) -> str:
        rows, dots = self.rows, len(self.dots)
        drawn = (f"{rows:,} row{'s' if rows != 1 else ''} drawn as {dots:,} "
                 f"dot{'s' if dots != 1 else ''}")
        if self.merged_further:
            drawn += (f" (at most {MAX_DOTS:,}: rows on the same spot or near one another "
                      "share one dot, whose title gives how many rows and their range)")
        elif dots < rows:
            drawn += " (rows that fall on the same spot share one dot)"
        return (f"{drawn}; {self.above:,} flagged above the ceiling that applies to them "
                f"(over {CEILING_MARGIN:.2f}× it, declaring no speculative decoding, batching "
                "or tensor parallelism).")

    @property
    def badges(self) -> list[tuple[Badge, str]]:
        """The badges present, with their legend swatch, lowest rung first."""
        present = {dot[4] for dot in self.dots}  # the badge's value
        return [(badge, LEGEND[BADGE_SHAPES[badge]]) for badge in Badge
                if badge.value in present]


class _Cell:
    """The rows that fall on one spot: how many, where on average, which speeds."""

    __slots__ = ("count", "x", "y", "low", "high", "gb_low", "gb_high", "group")

    def __init__(self, x: float, y: float, decode: float, series: Series):
        self.count, self.x, self.y = 1, x, y
        self.low = self.high = decode
        self.gb_low = self.gb_high = series.gigabytes
        self.group = series.group

    def add(self, x: float, y: float, decode: float, series: Series) -> None:
        self.count += 1
        self.x += x
        self.y += y
        self.low, self.high = min(self.low, decode), max(self.high, decode)
        self.gb_low = min(self.gb_low, series.gigabytes)
        self.gb_high = max(self.gb_high, series.gigabytes)
        if series.group != self.group:
            self.group = ""  # configurations mixed: the tooltip names none


@dataclass(frozen=True)
class Merged:
    """A scatter's rows merged per spot (at most MAX_DOTS spots), in plain values: the
    value ranges the axes span, the ceiling lines' device counts, and one `Spot` per dot
    (or a plain sequence in its order). `draw` turns it into the Scatter that
    services.chart_summaries keeps."""

    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float
    bandwidth_gb_s: float | None
    counts: list[int]
    spots: Sequence[Sequence[Any]]  # Spot
    rows: int
    above: int
    capped: bool = False  # spots merged further to stay within MAX_DOTS


class Spot(NamedTuple):
    """The rows on one spot: mean position, how many, their badge and flag, their speeds,
    the range of bytes per token they read, and their configuration (none when mixed)."""

    x: float
    y: float
    count: int
    badge: str
    above: bool
    low: float
    high: float
    gb_low: float
    gb_high: float
    group: str

    def joined(self, other: Spot) -> Spot:
        """One spot holding the rows of both (same badge and flag), at their mean position."""
        count = self.count + other.count
        return Spot((self.x * self.count + other.x * other.count) / count,
                    (self.y * self.count + other.y * other.count) / count,
                    count, self.badge, self.above, min(self.low, other.low),
                    max(self.high, other.high), min(self.gb_low, other.gb_low),
                    max(self.gb_high, other.gb_high),
                    self.group if self.group == other.group else "")


def _merge_neighbours(chains: list[list[Spot]], distance: Any, excess: int) -> list[Spot]:
    """Merge the closest neighbouring pair of any chain (spots in order along it), again and
    again, `excess` times at most or until every chain is one spot; the spots left, in
    their chains' order. A pair's distance is `distance(spot, spot)`; ties go to the pair
    met first, so the result never depends on anything but the spots."""
    spots: list[Spot | None] = []
    after: list[int] = []
    before: list[int] = []
    version: list[int] = []
    heap: list[tuple[float, int, int, int, int]] = []
    for chain in chains:
        start = len(spots)
        for i, spot in enumerate(chain):
            spots.append(spot)
            before.append(start + i - 1 if i else -1)
            after.append(start + i + 1 if i < len(chain) - 1 else -1)
            version.append(0)
        for i in range(start, start + len(chain) - 1):
            heap.append((distance(chain[i - start], chain[i - start + 1]), i, i + 1, 0, 0))
    heapq.heapify(heap)
    merges = 0
    while heap and merges < excess:
        _d, a, b, va, vb = heapq.heappop(heap)
        first, second = spots[a], spots[b]
        if first is None or second is None or version[a] != va or version[b] != vb:
            continue  # one of them merged since: a fresher pair is in the heap
        spots[a], spots[b] = first.joined(second), None
        version[a] += 1
        merges += 1
        after[a] = after[b]
        if after[a] != -1:
            before[after[a]] = a
        for left, right in ((before[a], a), (a, after[a])):
            if left != -1 and right != -1:
                heapq.heappush(heap, (distance(spots[left], spots[right]), left, right,
                                      version[left], version[right]))
    return [spot for spot in spots if spot is not None]


def cap_spots(spots: list[Spot], limit: int = MAX_DOTS) -> tuple[list[Spot], bool]:
    """At most `limit` spots: the nearest spots of one column (same badge, same side of the
    ceiling) merged first, then neighbours across columns (nearest first); whether any
    were merged. Never more than eight spots are left unmerged (one per badge and flag)."""
    if len(spots) <= limit:
        return spots, False
    columns: dict[tuple[int, str, bool], list[Spot]] = defaultdict(list)
    for spot in spots:
        columns[(int(spot.x // MERGE_CELL), spot.badge, spot.above)].append(spot)
    chains = [sorted(chain, key=lambda s: (s.y, s.x)) for _key, chain in sorted(columns.items())]
    spots = _merge_neighbours(chains, lambda p, q: abs(p.y - q.y), len(spots) - limit)
    if len(spots) > limit:
        groups: dict[tuple[str, bool], list[Spot]] = defaultdict(list)
        for spot in spots:
            groups[(spot.badge, spot.above)].append(spot)
        chains = [sorted(chain, key=lambda s: (s.x, s.y)) for _key, chain in sorted(groups.items())]
        spots = _merge_neighbours(
            chains, lambda p, q: math.hypot(p.x - q.x, p.y - q.y), len(spots) - limit)
    return spots, True


def scatter(series: Sequence[Series], bandwidth_gb_s: float | None,
            device_counts: Iterable[int]) -> Scatter | None:
    """The decode-against-bytes scatter of `series`, with the ceiling line of each count in
    `device_counts` (bandwidth × count ÷ bytes, bandwidths summed); None without rows."""
    merged = merge(series, bandwidth_gb_s, device_counts)
    return None if merged is None else draw(merged)


def _scales(lo_hi: tuple[float, float, float, float]) -> tuple[LogScale, LogScale]:
    top, right, bottom, left = SCATTER_PAD
    x_lo, x_hi, y_lo, y_hi = lo_hi
    return (LogScale(x_lo, x_hi, left, SCATTER_WIDTH - right),
            LogScale(y_lo, y_hi, SCATTER_HEIGHT - bottom, top))


def merge(series: Sequence[Series], bandwidth_gb_s: float | None,
          device_counts: Iterable[int]) -> Merged | None:
    """The rows of `series` merged per spot under the scale they span; None without rows.

    Thousands of rows go through one tight loop: a row is a pixel cell, counted."""
    series = [item for item in series if item.decodes]
    if not series:
        return None
    counts = sorted({max(1, int(c)) for c in device_counts} | {1}) if bandwidth_gb_s else []

    x_lo = min(item.gigabytes for item in series) / 1.6
    x_hi = max(item.gigabytes for item in series) * 1.6
    y_lo = min(min(item.decodes) for item in series) / 1.6
    y_hi = max(max(item.decodes) for item in series) * 1.4
    if counts:
        y_hi = max(y_hi, bandwidth_gb_s * counts[-1] / x_hi * 1.4)  # the lines show
    xs, ys = _scales((x_lo, x_hi, y_lo, y_hi))

    # ys(v), unrolled for the loop: y = base + log10(v) * slope
    slope = (ys.end - ys.start) / (math.log10(ys.hi) - math.log10(ys.lo))
    base = ys.start - math.log10(ys.lo) * slope
    log10 = math.log10
    cells: dict[tuple[int, int, Badge, bool], _Cell] = {}
    rows = above_count = 0
    for item in series:
        x = xs(item.gigabytes)
        column = int(x // MERGE_CELL)
        # Above: flagged as the row's own page flags it (plausibility), over the margin
        # and declaring nothing that lifts a single stream's ceiling.
        flagged_over = (None if item.ceiling_tps is None or item.declared
                        else item.ceiling_tps * CEILING_MARGIN)
        for decode in item.decodes:
            y = base + log10(decode) * slope
            above = flagged_over is not None and decode > flagged_over
            key = (column, int(y // MERGE_CELL), item.badge, above)
            cell = cells.get(key)
            if cell is None:
                cells[key] = _Cell(x, y, decode, item)
            else:
                cell.add(x, y, decode, item)
            above_count += above
        rows += len(item.decodes)

    spots = [Spot(cell.x / cell.count, cell.y / cell.count, cell.count, badge.value, above,
                  cell.low, cell.high, cell.gb_low, cell.gb_high, cell.group)
             for (_column, _row, badge, above), cell in cells.items()]
    spots, capped = cap_spots(spots)
    spots.sort(key=lambda s: (s.above, Badge(s.badge).rank))  # flagged dots drawn last, on top
    return Merged(x_lo, x_hi, y_lo, y_hi, bandwidth_gb_s, counts, spots, rows, above_count,
                  capped)


def draw(merged: Merged) -> Scatter:
    """The scatter's geometry: axes, ticks, ceiling lines and a dot per spot."""
    xs, ys = _scales((merged.x_lo, merged.x_hi, merged.y_lo, merged.y_hi))
    dots = []
    log2, badges, shapes, labels = math.log2, _BADGES, BADGE_SHAPES, _BADGE_LABELS
    for x, y, count, value, above, low, high, gb_low, gb_high, group in merged.spots:
        badge = badges[value]
        r = 3.5 + min(3.0, log2(count))
        shape = shapes[badge]
        head = f"{group}: " if group else ""
        speed = (f"{low:,.1f} tok/s" if count == 1 else
                 f"{count:,} rows, {low:,.1f}–{high:,.1f} tok/s")
        read = f"{gb_low:,.2f}"
        if f"{gb_high:,.2f}" != read:
            read += f"–{gb_high:,.2f}"
        mark = f", flagged: over {CEILING_MARGIN:.2f}× its ceiling" if above else ""
        title = f"{head}{speed} at {read} GB per token, {labels[badge]}{mark}"
        dots.append(Dot(round(x, 1), round(y, 1), round(r, 1), shape_path(shape, x, y, r),
                        value, shape, above, count, title))

    lines = []
    if merged.bandwidth_gb_s:
        for devices in merged.counts:
            line = _ceiling_line(merged.bandwidth_gb_s * devices, xs, ys, devices)
            if line is not None:
                lines.append(line)
    lines = _labels_apart(lines)
    return Scatter(SCATTER_WIDTH, SCATTER_HEIGHT, xs.start, xs.end, ys.end, ys.start,
                   xs.ticks(), ys.ticks(), dots, lines, merged.rows, merged.above,
                   merged.capped)


_BADGES = {badge.value: badge for badge in Badge}
_BADGE_LABELS = {badge: badge.label for badge in Badge}


def _ceiling_line(bandwidth: float, xs: LogScale, ys: LogScale, devices: int) -> Line | None:
    """y = bandwidth ÷ x is straight on log–log axes: clip it to the plot exactly."""
    x_from = max(xs.lo, bandwidth / ys.hi)
    x_to = min(xs.hi, bandwidth / ys.lo)
    if x_from >= x_to:
        return None
    x1, y1 = xs(x_from), ys(bandwidth / x_from)
    x2, y2 = xs(x_to), ys(bandwidth / x_to)
    label = "1 device" if devices == 1 else f"{devices} devices, tensor parallel"
    # the label sits near the line's upper end, inside the plot
    return Line(devices, label, round(x1, 1), round(y1, 1), round(x2, 1), round(y2, 1),
                round(min(x1 + 6, xs.end - 150), 1), round(max(y1 + 14, ys.end + 12), 1))


# How far apart two ceiling labels must sit not to overprint: a line of label text is
# 12 px high, and "ceiling, 2 devices, tensor parallel" about 150 px wide.
_LABEL_HEIGHT, _LABEL_WIDTH = 14.0, 160.0


def _labels_apart(lines: list[Line]) -> list[Line]:
    """The lines with each label moved down, below the one before it, where they would
    overprint: two lines leaving the plot's top edge near each other put their labels
    on one spot ("ceiling, 1 deviceceiling, 2 devices")."""
    placed: list[Line] = []
    for line in sorted(lines, key=lambda line: (line.label_y, line.label_x)):
        y = line.label_y
        for other in placed:
            if abs(other.label_x - line.label_x) < _LABEL_WIDTH and abs(other.label_y - y) < (
                    _LABEL_HEIGHT):
                y = other.label_y + _LABEL_HEIGHT
        placed.append(replace(line, label_y=round(y, 1)))
    return sorted(placed, key=lambda line: line.devices)


def line_y_at(line: Line, x: float) -> float:
    """The line's y at `x` (for tests and for telling above from below)."""
    if line.x2 == line.x1:
        return line.y1
    return line.y1 + (x - line.x1) * (line.y2 - line.y1) / (line.x2 - line.x1)
