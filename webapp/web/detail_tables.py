"""The charts' and the detail page's long repeated parts, written in one pass: the lines
of a row's reproduction tables, the rings' dots, the divergence strip's dots and data
rows, the hardware page's scatter dots (up to 200) and the model page's bars (up to 20).
In Jinja each value costs a lookup, an escape and a yield; the most reproduced row's page
has about 900 of them.

The markup stays as public/detail.html, public/_rings.svg and
charts/_divergence_strip.html describe it: tests/test_public_pages.py,
test_detail_paging.py, test_catalog.py and test_charts.py read it. Every text value goes
through `escape` (an operator's handle, note and environment are what they typed); ids
are ints, and numbers are formatted here from floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Flask
from markupsafe import Markup, escape

from webapp.services.labels import number
from webapp.services.rules import percent

_DEMO = ('<span class="marker marker-demo" title="Generated demo data, not a real '
         'measurement.">Demo</span>')
_NO_NOTE = '<span class="not-given">no note</span>'


def init_app(app: Flask) -> None:
    app.add_template_global(repro_rows, "repro_rows")
    app.add_template_global(ring_dots, "ring_dots")
    app.add_template_global(strip_axes, "strip_axes")
    app.add_template_global(strip_rows, "strip_rows")
    app.add_template_global(scatter_dots, "scatter_dots")
    app.add_template_global(bar_rows, "bar_rows")


def _number(value: Any) -> str:
    """labels.number of a stored number: digits, separators, a sign or an em dash."""
    return number(value if value is None else float(value))


def repro_rows(views: Sequence[Any], noted: bool) -> Markup:
    """The <tr>s of one table of reproductions (services.detail.ReproductionView), with
    the operator's note last in the table of those accepted with a note."""
    out = []
    for view in views:
        repro = view.row
        repro_id = int(repro.id)
        url, name = view.operator_url, escape(view.operator)
        who = (f'<a href="{escape(url)}" rel="nofollow noopener ugc">{name}</a>' if url
               else name)
        measured, received = view.days
        comparison = view.comparison
        band = comparison.band
        decode, ttft = view.differences
        line = (
            f'<tr id="repro-{repro_id}">\n'
            f'<td>{repro_id} {_DEMO if repro.is_demo else ""}</td>\n'
            f"<td>{who}</td>\n"
            f'<td class="repro-dates"><time>{escape(measured)}</time><br><span '
            f'class="muted">received <time>{escape(received)}</time></span></td>\n'
            f"<td>{escape(view.environment)}</td>\n"
            f'<td class="num">{_number(repro.decode_tps)}</td>\n'
            f'<td class="num">{_number(repro.ttft_ms)}</td>\n'
            f'<td class="repro-differences"><ul class="differences">'
            f'<li class="difference difference-{escape(decode.word)}">'
            f"{escape(decode.metric)} {escape(decode.label)}</li>"
            f'<li class="difference difference-{escape(ttft.word)}">'
            f"{escape(ttft.metric)} {escape(ttft.label)}</li></ul></td>\n"
            f'<td><span class="band {escape(band.css)}">{escape(band.label)}</span> '
            f'<span class="muted">(larger: {escape(percent(comparison.worst))})</span></td>')
        if noted:
            note = repro.notes
            line += (f"\n<td>{escape(note)}</td>" if note and note.strip()
                     else f"\n<td>{_NO_NOTE}</td>")
        out.append(line + "\n</tr>")
    # Every interpolated value above is an int, a formatted float or went through escape().
    return Markup("\n".join(out))  # noqa: S704  # nosec B704


def ring_dots(dots: Sequence[Any], radius: int) -> Markup:
    """The reproduction rings' dots (services.detail.RingDot), each linking its line in
    the reproduction tables and titled; x and y are the coordinates ring_picture wrote."""
    out = [
        f'<a href="#repro-{int(dot.repro_id)}"><circle class="ring-dot {escape(dot.css)}" '
        f'cx="{escape(dot.x)}" cy="{escape(dot.y)}" r="{int(radius)}">'
        f"<title>{escape(dot.title)}</title></circle></a>"
        for dot in dots
    ]
    return Markup("\n  ".join(out))  # noqa: S704  # nosec B704


def strip_axes(strip: Any) -> Markup:
    """The divergence strip's two axes (services.evidence_charts.Strip): per axis its
    bands, metric and hints, the axis and zero lines, the ticks and the dots. Every
    number is the strip's own (float or int); every text goes through escape()."""
    left, right, zero_x = strip.left, strip.right, strip.zero_x
    out = []
    for axis in strip.axes:
        top, axis_y = axis.top, axis.axis_y
        bands = "".join(
            f'<rect class="{escape(band.css)}" x="{band.x}" y="{top + 16}" '
            f'width="{band.width}" height="{axis_y - top - 16}"/>' for band in axis.bands)
        ticks = "".join(
            f'<text class="tick-label" x="{tick.pos}" y="{axis_y + 16}" '
            f'text-anchor="middle">{escape(tick.label)}</text>' for tick in strip.ticks)
        metric = escape(axis.metric)
        out.append(
            f'\n      <g class="strip-axis" data-metric="{metric}">\n        {bands}\n'
            f'        <text class="strip-metric" x="{left}" y="{top + 12}">{metric}</text>\n'
            f'        <text class="tick-label" x="{right}" y="{top + 12}" text-anchor="end">'
            f"← {escape(axis.hint_low)} · {escape(axis.hint_high)} →</text>\n"
            f'        <line class="chart-axis" x1="{left}" x2="{right}" y1="{axis_y}" '
            f'y2="{axis_y}"/>\n'
            f'        <line class="strip-zero" x1="{zero_x}" x2="{zero_x}" y1="{top + 16}" '
            f'y2="{axis_y + 4}"><title>This row’s median (0)</title></line>\n'
            f"        {ticks}\n"
            f"        {strip_dots(axis.dots)}\n      </g>\n      ")
    return Markup("".join(out))  # noqa: S704  # nosec B704


def strip_dots(dots: Sequence[Any]) -> Markup:
    """One strip axis's dots (services.evidence_charts.StripDot), each titled."""
    # The coordinates and the path are floats and the path services.charts drew from them.
    out = [
        f'<path class="strip-dot {escape(dot.css)}" d="{escape(dot.path)}" '
        f'data-repro="{int(dot.repro_id)}" data-shape="{escape(dot.shape)}" '
        f'data-x="{float(dot.x)}"><title>{escape(dot.title)}</title></path>'
        for dot in dots
    ]
    return Markup("\n".join(out))  # noqa: S704  # nosec B704


def strip_rows(items: Sequence[Any]) -> Markup:
    """The strip's data table (services.evidence_charts.StripInput): a ringed run's number
    links its line in the reproduction tables."""
    out = []
    for item in items:
        repro_id = int(item.repro_id)
        ref = f'<a href="#repro-{repro_id}">{repro_id}</a>' if item.ring else str(repro_id)
        out.append(
            f"<tr><td>{ref}</td><td>{escape(item.operator)}</td>"
            f"<td>{escape(item.ring_label)}</td><td class=\"num\">{escape(item.ttft_label)}"
            f"</td><td class=\"num\">{escape(item.decode_label)}</td></tr>")
    return Markup("\n".join(out))  # noqa: S704  # nosec B704


def scatter_dots(dots: Sequence[Sequence[Any]]) -> Markup:
    """The hardware page's scatter dots (services.scatter_chart.Dot, or its values as the
    chart's summary keeps them), each titled, with a halo on a dot above its ceiling. The
    numbers, path, shape and badge value are the chart's own (services.scatter_chart);
    the title names what operators typed and is escaped."""
    out = []
    for x, y, r, path, badge, shape, above, count, title in dots:
        halo = (f'<circle class="chart-halo" cx="{x}" cy="{y}" r="{r + 4}" fill="none"/>'
                if above else "")
        out.append(
            f'{halo}<path class="chart-dot dot-{badge}{" is-above" if above else ""}" '
            f'd="{path}" data-shape="{shape}" data-x="{x}" data-y="{y}" data-count="{count}">'
            f"<title>{escape(title)}</title></path>")
    return Markup("\n".join(out))  # noqa: S704  # nosec B704


def _rows_word(rows: int) -> str:
    return f"{rows} row{'s' if rows != 1 else ''}"


def bar_rows(chart: Any) -> Markup:
    """The model page's bars (services.charts.Bars, or its values as the chart's summary
    keeps them), each with its label, title, ceiling notch and value. The numbers are
    the chart's own (services.charts); the labels (reference names: hardware, quant) are
    escaped all the same."""
    left = chart.left
    out = []
    for (label, label_y, y, width, value_x, value_y, median_tps, rows, ceiling_x,
         ceiling_tps, ceiling_label, _share, above, value_inside) in chart.bars:
        name, counted, median = escape(label), _rows_word(rows), _number(median_tps)
        is_above = " is-above" if above else ""
        ceiling = (f"; ceiling {_number(ceiling_tps)} tok/s ({escape(ceiling_label)})"
                   if ceiling_tps is not None else "")
        notch = (f'<path class="chart-ceiling-mark" d="M{ceiling_x} {y - 4}V{y + 18}" '
                 f'data-ceiling="{ceiling_tps}"/>' if ceiling_x is not None else "")
        inside = " is-inside" if value_inside else ""
        anchor = ' text-anchor="end"' if value_inside else ""
        out.append(
            f'<g class="chart-bar-row{is_above}">\n'
            f'<text class="bar-label" x="{left}" y="{label_y}">{name} '
            f'<tspan class="tick-label">({counted})</tspan></text>\n'
            f'<rect class="chart-bar{is_above}" x="{left}" y="{y}" width="{width}" '
            f'height="14" data-median="{median_tps}"><title>{name}: median {median} tok/s '
            f"over {counted}{ceiling}</title></rect>\n"
            f"{notch}\n"
            f'<text class="bar-value{inside}" x="{value_x}" y="{value_y}"{anchor}>{median}'
            f'{" · above the ceiling" if above else ""}</text>\n'
            "</g>")
    # Every interpolated value above is the chart's own number or went through escape().
    return Markup("\n".join(out))  # noqa: S704  # nosec B704
