"""What the hardware and model charts draw, aggregated from an entry's public rows.

The hardware page's scatter merges thousands of rows into a few hundred dots, and the
model page's bars are one median per hardware and device count: both read every public
row of the entry. So they are computed when those rows change, not per request:
services.summaries keeps one ChartSummary per entry (JSON, in the shapes below) and
calls `hardware_data` / `model_data` whenever a commit changes a public row of it;
services.reference_pages reads them back with `hardware_chart` / `model_chart`.

The stored values are plain, and drawn: the scatter's dots (at most
scatter_chart.MAX_DOTS: positions, sizes, paths, titles, merged counts), its ticks and
ceiling lines, and the model's bars (at most charts.MAX_BARS), so a page only writes them
out. Each summary is two JSON documents, one line each: first what the hardware or model
page shows (the drawn chart and the first CONFIGURATIONS_SHOWN lines of its data table,
bounded whatever the catalog holds), then the whole data table, which only its own
paginated page reads (`decode_head` parses the first alone). Labels and ceilings come
from the reference tables as they stood at that moment, like the ceiling share the
catalog sorts on; `flask refresh` recomputes them after the reference data changes.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from webapp.models import Hardware, ModelVariant, Quant, Submission
from webapp.services import charts, plausibility, scatter_chart
from webapp.services.rules import CEILING_MARGIN, Badge, Kind, State

# Lines of a chart's data table on the hardware or model page itself; the rest are on the
# table's own paginated page.
CONFIGURATIONS_SHOWN = 25

_PUBLIC = Submission.state == State.APPROVED


def _badge_of(stored: str | None, kind: str) -> Badge:
    """The stored badge; a row whose index was never refreshed reads as its kind's first rung."""
    try:
        return Badge(stored)
    except ValueError:
        return Badge.EDITORIAL if kind == Kind.EDITORIAL else Badge.COMMUNITY


def _by_id(session: Session, entity: Any, ids: Iterable[int]) -> dict[int, Any]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {item.id: item for item in session.scalars(select(entity).where(entity.id.in_(wanted)))}


def _devices(count: int, tensor_parallel: bool) -> str:
    if plausibility.tensor_parallel_counts(count, tensor_parallel):
        return f"{count}×, tensor parallel"
    return f"{count}×" if count == 1 else f"{count}×, layer split"


# What each chart reads of a row, also its ORDER BY: the rows come in one order on every
# database and every rebuild, so the merged dots (float sums) and their order never depend
# on how the database happened to return them.
_HARDWARE_COLUMNS = (Submission.model_id, Submission.quant_id, Submission.hardware_count,
                     Submission.tensor_parallel, Submission.derived_badge, Submission.kind,
                     Submission.speculative, Submission.batch_gt1, Submission.decode_tps)
_MODEL_COLUMNS = (Submission.hardware_id, Submission.hardware_count,
                  Submission.tensor_parallel, Submission.quant_id, Submission.speculative,
                  Submission.batch_gt1, Submission.decode_tps)


def _declared(count: int, parallel: Any, speculative: Any, batch_gt1: Any) -> bool:
    """What exempts a row from the ceiling flag, as plausibility decides it: speculative
    decoding, batches, or tensor parallelism on two devices or more (SPEC §7)."""
    return bool(speculative or batch_gt1
                or plausibility.tensor_parallel_counts(count, bool(parallel)))


def _plain_rows(session: Session, statement: Select[Any]) -> list[Sequence[Any]]:
    """The statement's rows as the database driver returns them. A chart reads a few
    numbers from every public row of an entry (23,000 at 100,000 rows); building
    SQLAlchemy Row objects for them cost ten times the query itself. No column read this
    way needs a conversion beyond bool(), which the callers apply."""
    result = session.connection().execute(statement)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


# --- the hardware page's scatter ----------------------------------------------------------------


class Configuration(NamedTuple):
    """One configuration of the hardware chart's data table (a tuple: the template
    unpacks a few hundred of them)."""

    label: str
    rows: int
    gigabytes: float
    ceiling_tps: float | None
    median_tps: float
    fastest_tps: float
    above: int


@dataclass(frozen=True)
class HardwareChart:
    scatter: scatter_chart.Scatter | None
    configurations: list[Configuration]  # the first lines of the table (most rows first)
    undrawn: int  # public rows whose model or quant has no reference numbers
    bandwidth_gb_s: float | None
    configurations_total: int = 0  # lines in the whole table

    @property
    def configurations_more(self) -> bool:
        return self.configurations_total > len(self.configurations)


def _by_rows(table: list[Configuration]) -> list[Configuration]:
    """Most rows first; a tie by bytes per token, then by label."""
    return sorted(table, key=lambda c: (-c.rows, c.gigabytes, c.label))


def _plain_scatter(scatter: scatter_chart.Scatter) -> dict[str, Any]:
    return {
        "width": scatter.width, "height": scatter.height, "left": scatter.left,
        "right": scatter.right, "top": scatter.top, "bottom": scatter.bottom,
        "x_ticks": [[tick.pos, tick.label] for tick in scatter.x_ticks],
        "y_ticks": [[tick.pos, tick.label] for tick in scatter.y_ticks],
        "dots": [list(dot) for dot in scatter.dots],
        "lines": [list(asdict(line).values()) for line in scatter.lines],
        "rows": scatter.rows, "above": scatter.above,
        "merged_further": scatter.merged_further,
    }


def _scatter_of(plain: dict[str, Any]) -> scatter_chart.Scatter:
    return scatter_chart.Scatter(
        plain["width"], plain["height"], plain["left"], plain["right"], plain["top"],
        plain["bottom"], [charts.Tick(*tick) for tick in plain["x_ticks"]],
        [charts.Tick(*tick) for tick in plain["y_ticks"]],
        plain["dots"],  # the template unpacks each in Dot's order
        [scatter_chart.Line(*line) for line in plain["lines"]], plain["rows"], plain["above"],
        plain["merged_further"])


def hardware_data(session: Session, hardware_id: int) -> dict[str, Any] | None:
    """Every public row of the hardware as a dot (merged per spot), bytes per token against
    decode speed, and its configurations; None when it has no public rows."""
    found = _plain_rows(session, (
        select(*_HARDWARE_COLUMNS)
        .where(_PUBLIC, Submission.hardware_id == hardware_id)
        .order_by(*_HARDWARE_COLUMNS)
    ))
    if not found:
        return None
    hardware = session.get(Hardware, hardware_id)
    models = _by_id(session, ModelVariant, {r[0] for r in found})
    quants = _by_id(session, Quant, {r[1] for r in found})
    bandwidth = None if hardware is None else hardware.bandwidth_gb_s

    # One list of decode speeds per configuration, badge and exemption, in one pass.
    speeds: dict[tuple[int, int, int, bool, str | None, str, bool], list[float]] = (
        defaultdict(list))
    for model_id, quant_id, count, parallel, stored, kind, speculative, batch, decode in found:
        declared = _declared(count, parallel, speculative, batch)
        speeds[(model_id, quant_id, count, bool(parallel), stored, kind, declared)].append(
            decode)

    # per configuration: (label, gigabytes, ceiling), or None when it cannot be placed
    configs: dict[tuple[int, int, int, bool], tuple[str, float, float | None] | None] = {}
    by_config: dict[tuple[int, int, int, bool], list[float]] = defaultdict(list)
    flagged: Counter[tuple[int, int, int, bool]] = Counter()
    series, undrawn = [], 0
    for (model_id, quant_id, count, parallel, stored, kind, declared), decodes in (
            speeds.items()):
        key = (model_id, quant_id, count, parallel)
        if key not in configs:
            model, quant = models[model_id], quants[quant_id]
            if model.active_params_b is None or quant.bits_per_weight is None:
                configs[key] = None
            else:
                gigabytes = plausibility.model_bytes(
                    model.active_params_b, quant.bits_per_weight) / plausibility.BYTES_PER_GB
                ceiling = None if bandwidth is None else plausibility.ceiling_tps(
                    bandwidth, count, parallel, model.active_params_b, quant.bits_per_weight)
                label = f"{model.name} · {quant.label} · {_devices(count, parallel)}"
                configs[key] = (label, gigabytes, ceiling)
        config = configs[key]
        if config is None:
            undrawn += len(decodes)
            continue
        label, gigabytes, ceiling = config
        by_config[key].extend(decodes)
        if ceiling is not None and not declared:
            flagged[key] += sum(1 for value in decodes if value > ceiling * CEILING_MARGIN)
        series.append(scatter_chart.Series(gigabytes, _badge_of(stored, kind), ceiling,
                                           decodes, label, declared))

    table = []
    for key, values in by_config.items():
        label, gigabytes, ceiling = configs[key]  # type: ignore[misc]
        table.append(Configuration(label, len(values), gigabytes, ceiling,
                                   statistics.median(values), max(values), flagged[key]))
    table = _by_rows(table)
    merged = scatter_chart.merge(series, bandwidth, (key[2] for key in by_config))
    lines = [list(config) for config in table]
    return {
        "scatter": None if merged is None else _plain_scatter(scatter_chart.draw(merged)),
        "configurations": lines[:CONFIGURATIONS_SHOWN],
        "configurations_total": len(lines),
        "undrawn": undrawn,
        "table": lines,
    }


def hardware_chart(stored: dict[str, Any] | None, bandwidth_gb_s: float | None
                   ) -> HardwareChart:
    """The hardware page's chart from its stored summary (None: no public rows): the drawn
    scatter and the first lines of its data table, as stored."""
    if stored is None:
        return HardwareChart(None, [], 0, bandwidth_gb_s)
    plain = stored["scatter"]
    table = [Configuration(*values) for values in stored["configurations"]]
    return HardwareChart(None if plain is None else _scatter_of(plain), table,
                         stored["undrawn"], bandwidth_gb_s, stored["configurations_total"])


def hardware_table(stored: dict[str, Any] | None) -> list[Configuration]:
    """Every line of the hardware chart's data table, most rows first (the full summary,
    `decode`; None: no public rows)."""
    return [] if stored is None else [Configuration(*values) for values in stored["table"]]


# --- the model page's bars ----------------------------------------------------------------------


class _BarRow(NamedTuple):
    tensor_parallel: bool
    quant_id: int
    decode_tps: float
    declared: bool  # exempt from the ceiling flag (_declared)


class BarLine(NamedTuple):
    """One line of the model chart's data table: a hardware and device count."""

    label: str
    rows: int
    median_tps: float
    ceiling_label: str
    ceiling_tps: float | None
    share: float | None
    above: bool

    @classmethod
    def of(cls, item: charts.BarInput) -> BarLine:
        share = None if not item.ceiling_tps else item.median_tps / item.ceiling_tps
        return cls(item.label, item.rows, item.median_tps, item.ceiling_label,
                   item.ceiling_tps, share, charts.bar_above(item))


@dataclass(frozen=True)
class ModelChart:
    bars: charts.Bars | None
    lines: list[BarLine] = field(default_factory=list)  # the drawn bars' table lines

    max_bars: int = charts.MAX_BARS

    @property
    def groups(self) -> int:
        return 0 if self.bars is None else self.bars.groups


def _plain_bars(drawn: charts.Bars) -> dict[str, Any]:
    return {"width": drawn.width, "height": drawn.height, "left": drawn.left,
            "right": drawn.right, "axis_y": drawn.axis_y,
            "ticks": [[tick.pos, tick.label] for tick in drawn.ticks],
            "bars": [list(bar) for bar in drawn.bars], "groups": drawn.groups}


def _bars_of(plain: dict[str, Any]) -> charts.Bars:
    return charts.Bars(plain["width"], plain["height"], plain["left"], plain["right"],
                       plain["axis_y"], [charts.Tick(*tick) for tick in plain["ticks"]],
                       [charts.Bar(*bar) for bar in plain["bars"]], plain["groups"])


def model_data(session: Session, model_id: int) -> dict[str, Any] | None:
    """One bar per hardware and device count: the median decode of its public rows, and the
    ceiling of the quant most of them use, split as most of them split; None when the
    model has no public rows."""
    found = _plain_rows(session, (
        select(*_MODEL_COLUMNS)
        .where(_PUBLIC, Submission.model_id == model_id)
        .order_by(*_MODEL_COLUMNS)
    ))
    if not found:
        return None
    model = session.get(ModelVariant, model_id)
    hardware = _by_id(session, Hardware, (r[0] for r in found))
    quants = _by_id(session, Quant, (r[3] for r in found))
    groups: dict[tuple[int, int], list[_BarRow]] = defaultdict(list)
    for hardware_id, count, parallel, quant_id, speculative, batch, decode in found:
        groups[(hardware_id, count)].append(_BarRow(
            bool(parallel), quant_id, decode, _declared(count, parallel, speculative, batch)))

    items = []
    for (hardware_id, count), rows in groups.items():
        entry = hardware[hardware_id]
        # the quant most rows use; a tie goes to the lower id, whatever order rows came in
        quant_id = min(Counter(r.quant_id for r in rows).items(),
                       key=lambda pair: (-pair[1], pair[0]))[0]
        quant = quants[quant_id]
        parallel = plausibility.tensor_parallel_counts(
            count, sum(r.tensor_parallel for r in rows) * 2 > len(rows))
        ceiling = None
        if model is not None and None not in (
                entry.bandwidth_gb_s, model.active_params_b, quant.bits_per_weight):
            ceiling = plausibility.ceiling_tps(entry.bandwidth_gb_s, count, parallel,
                                               model.active_params_b, quant.bits_per_weight)
        split = "" if count == 1 else (", tensor parallel" if parallel else ", layer split")
        undeclared = [r.decode_tps for r in rows if not r.declared]
        items.append(charts.BarInput(
            label=f"{count}× {entry.name}",
            median_tps=statistics.median(r.decode_tps for r in rows),
            rows=len(rows), ceiling_tps=ceiling, ceiling_label=f"{quant.label}{split}",
            undeclared_median_tps=statistics.median(undeclared) if undeclared else None,
        ))
    drawn = charts.bars(items)
    table = charts.drawn_bars(items, len(items))  # most rows first
    return {"bars": None if drawn is None else _plain_bars(drawn),
            "table": [list(asdict(item).values()) for item in table]}


def model_chart(stored: dict[str, Any] | None) -> ModelChart:
    """The model page's chart from its stored summary (None: no public rows): the drawn
    bars, and their lines of its data table."""
    if stored is None or stored["bars"] is None:
        return ModelChart(None, [])
    drawn = _bars_of(stored["bars"])
    lines = [BarLine(bar.label, bar.rows, bar.median_tps, bar.ceiling_label, bar.ceiling_tps,
                     bar.share, bar.above) for bar in drawn.bars]
    return ModelChart(drawn, lines)


def model_table(stored: dict[str, Any] | None) -> list[BarLine]:
    """Every line of the model chart's data table, most rows first (the full summary,
    `decode`; None: no public rows)."""
    if stored is None:
        return []
    return [BarLine.of(charts.BarInput(*values)) for values in stored["table"]]


# --- stored -------------------------------------------------------------------------------------

HARDWARE, MODEL = "hardware", "model"
DATA_OF = {HARDWARE: hardware_data, MODEL: model_data}
CHARTED_BY = {HARDWARE: Submission.hardware_id, MODEL: Submission.model_id}


FORMAT = 2  # the stored shape's version: 1 kept undrawn spots and one document


def encode(data: dict[str, Any]) -> str:
    """Two JSON documents, a line each: the page's part, then the whole table."""
    head = {key: value for key, value in data.items() if key != "table"}
    head["format"] = FORMAT
    return "\n".join((json.dumps(head, separators=(",", ":"), ensure_ascii=False),
                      json.dumps(data.get("table", []), separators=(",", ":"),
                                 ensure_ascii=False)))


_HEAD = json.JSONDecoder()


def decode_head(text: str | None) -> dict[str, Any] | None:
    """What a hardware or model page reads: the first document only, however long the
    table after it (None: no summary, or one in an older shape, read as none until
    `flask db upgrade` or `flask refresh` rebuilds it)."""
    if text is None:
        return None
    head, _end = _HEAD.raw_decode(text)
    return head if head.get("format") == FORMAT else None


def decode(text: str | None) -> dict[str, Any] | None:
    """The whole summary: the page's part, with the whole table as "table"."""
    head = decode_head(text)
    if head is None:
        return None
    _head, end = _HEAD.raw_decode(text)  # type: ignore[arg-type]
    head["table"] = json.loads(text[end:])  # type: ignore[index]
    return head
