"""The hardware and model charts' repeated marks and their data tables' lines, written in
one pass each (a Jinja loop ran Jinja's per-value machinery for up to 200 dots, 20 bars
and 25 table lines per page).

The geometry is the chart summary's own (services.charts, kept by
services.chart_summaries): numbers, SVG paths, badge values and shape names. Nothing
reaches the markup unchecked all the same: numbers are written as float() or int() writes
them (nothing there to escape), a badge or shape is looked up among the known ones (an
unknown one is an error), and every text goes through `escape`: paths, labels, and the
titles, which carry reference names (an "other" entry's name was typed by a user). The
markup must stay as charts/_scatter.html and charts/_bars.html describe it:
tests/test_charts.py, tests/test_chart_pages.py and the browser tests read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from webapp.services.charts import BADGE_SHAPES
from webapp.services.labels import number
from webapp.services.rules import Badge, percent

_UNKNOWN = '<span class="not-given">unknown</span>'
_END = ' text-anchor="end"'


# a dot's class by its badge's value and whether it is above its ceiling; the known shapes
_DOT_CLASS = {(badge.value, above): f"chart-dot dot-{badge.value}{' is-above' if above else ''}"
              for badge in Badge for above in (False, True)}
_SHAPES = {shape: shape for shape in BADGE_SHAPES.values()}


def _n(value: Any) -> int | float:
    """A number as the summary holds it (an int stays an int: 8, not 8.0); anything else
    is made a float, or fails."""
    return value if type(value) in (int, float) else float(value)


def _plural(count: int) -> str:
    return "s" if count != 1 else ""


def scatter_dots(dots: Sequence[Sequence[Any]]) -> Markup:
    """One <path> per dot (charts.Dot's values), a halo before each above its ceiling."""
    out = []
    for x, y, r, path, badge, shape, above, count, title in dots:
        x, y, above = _n(x), _n(y), bool(above)
        halo = (f'<circle class="chart-halo" cx="{x}" cy="{y}" r="{_n(r) + 4}" '
                'fill="none"/>' if above else "")
        out.append(
            f'{halo}<path class="{_DOT_CLASS[badge, above]}" d="{escape(path)}" '
            f'data-shape="{_SHAPES[shape]}" data-x="{x}" data-y="{y}" '
            f'data-count="{int(count)}"><title>{escape(title)}</title></path>')
    # every value is checked or escaped above
    return Markup("\n".join(out))  # noqa: S704  # nosec B704


def bar_rows(bars: Sequence[Sequence[Any]], left: float) -> Markup:
    """One <g> per bar (charts.Bar's values): its label, bar, ceiling notch and value."""
    left = _n(left)
    out = []
    for (label, label_y, y, width, value_x, value_y, median_tps, rows, ceiling_x, ceiling_tps,
         ceiling_label, _share, above, value_inside) in bars:
        name, rows, y, median_tps = escape(label), int(rows), _n(y), _n(median_tps)
        median = number(median_tps)
        flag = " is-above" if above else ""
        ceiling = notch = ""
        if ceiling_tps is not None:
            ceiling_tps = _n(ceiling_tps)
            ceiling = f"; ceiling {number(ceiling_tps)} tok/s ({escape(ceiling_label)})"
        if ceiling_x is not None:
            notch = (f'<path class="chart-ceiling-mark" d="M{_n(ceiling_x)} {y - 4}'
                     f'V{y + 18}" data-ceiling="{ceiling_tps}"/>')
        out.append(
            f'<g class="chart-bar-row{flag}">'
            f'<text class="bar-label" x="{left}" y="{_n(label_y)}">{name} '
            f'<tspan class="tick-label">({rows} row{_plural(rows)})</tspan></text>'
            f'<rect class="chart-bar{flag}" x="{left}" y="{y}" width="{_n(width)}" '
            f'height="14" data-median="{median_tps}"><title>{name}: median {median} '
            f'tok/s over {rows} row{_plural(rows)}{ceiling}</title></rect>{notch}'
            f'<text class="bar-value{" is-inside" if value_inside else ""}" '
            f'x="{_n(value_x)}" y="{_n(value_y)}"'
            f'{_END if value_inside else ""}>{median}'
            f'{" · above the ceiling" if above else ""}</text></g>')
    # every value is checked or escaped above
    return Markup("\n".join(out))  # noqa: S704  # nosec B704


def configuration_lines(lines: Sequence[Sequence[Any]]) -> Markup:
    """One <tr> per line of the hardware chart's data (chart_summaries.Configuration)."""
    out = []
    for label, rows, gigabytes, ceiling_tps, median_tps, fastest_tps, above in lines:
        ceiling = _UNKNOWN if ceiling_tps is None else number(float(ceiling_tps))
        flagged = (f'<span class="marker marker-warn">{number(int(above))}</span>'
                   if above else "0")
        out.append(
            f'<tr><td>{escape(label)}</td><td class="num">{number(int(rows))}</td>'
            f'<td class="num">{float(gigabytes):.2f}</td>'
            f'<td class="num">{ceiling}</td><td class="num">{number(float(median_tps))}</td>'
            f'<td class="num">{number(float(fastest_tps))}</td><td class="num">{flagged}</td>'
            '</tr>')
    # every value is checked or escaped above
    return Markup("\n".join(out))  # noqa: S704  # nosec B704


def bar_lines(lines: Sequence[Sequence[Any]]) -> Markup:
    """One <tr> per line of the model chart's data (chart_summaries.BarLine)."""
    out = []
    for label, rows, median_tps, ceiling_label, ceiling_tps, share, above in lines:
        ceiling = _UNKNOWN if ceiling_tps is None else number(float(ceiling_tps))
        if share is None:
            shared = _UNKNOWN
        else:
            shared = percent(float(share)) + (
                ' <span class="marker marker-warn">above the ceiling</span>' if above else "")
        out.append(
            f'<tr><td>{escape(label)}</td><td class="num">{number(int(rows))}</td>'
            f'<td class="num">{number(float(median_tps))}</td><td>{escape(ceiling_label)}</td>'
            f'<td class="num">{ceiling}</td><td class="num">{shared}</td></tr>')
    # every value is checked or escaped above
    return Markup("\n".join(out))  # noqa: S704  # nosec B704
