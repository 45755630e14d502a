"""What the hardware and model charts draw, aggregated from an entry's public rows.

The hardware page's scatter merges thousands of rows into a few hundred dots, and the
model page's bars are one median per hardware and device count: both read every public
row of the entry. So they are computed when those rows change, not per request:
services.summaries keeps one ChartSummary per entry (JSON, in the shapes below) and
calls `hardware_data` / `model_data` whenever a commit changes a public row of it;
services.reference_pages reads them back with `hardware_chart` / `model_chart`.

The stored values are plain: the scatter's spots with the value ranges its axes span
(services.charts.merge), its configurations table, its bars' inputs. Labels and ceilings
come from the reference tables as they stood at that moment, like the ceiling share the
catalog sorts on; `flask refresh` recomputes them after the reference data changes.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from webapp.models import Hardware, ModelVariant, Quant, Submission
from webapp.services import charts, plausibility
from webapp.services.rules import Badge, Kind, State

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
                     Submission.decode_tps)
_MODEL_COLUMNS = (Submission.hardware_id, Submission.hardware_count,
                  Submission.tensor_parallel, Submission.quant_id, Submission.decode_tps)


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
    scatter: charts.Scatter | None
    configurations: list[Configuration]
    undrawn: int  # public rows whose model or quant has no reference numbers
    bandwidth_gb_s: float | None


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

    # One list of decode speeds per configuration and badge, in one pass over the rows.
    speeds: dict[tuple[int, int, int, bool, str | None, str], list[float]] = defaultdict(list)
    for model_id, quant_id, count, parallel, stored, kind, decode in found:
        speeds[(model_id, quant_id, count, bool(parallel), stored, kind)].append(decode)

    # per configuration: (label, gigabytes, ceiling), or None when it cannot be placed
    configs: dict[tuple[int, int, int, bool], tuple[str, float, float | None] | None] = {}
    by_config: dict[tuple[int, int, int, bool], list[float]] = defaultdict(list)
    series, undrawn = [], 0
    for (model_id, quant_id, count, parallel, stored, kind), decodes in speeds.items():
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
        series.append(charts.Series(gigabytes, _badge_of(stored, kind), ceiling, decodes, label))

    table = []
    for key, values in by_config.items():
        label, gigabytes, ceiling = configs[key]  # type: ignore[misc]
        above = 0 if ceiling is None else sum(1 for value in values if value > ceiling)
        table.append(Configuration(label, len(values), gigabytes, ceiling,
                                   statistics.median(values), max(values), above))
    table.sort(key=lambda c: (c.gigabytes, c.label))
    merged = charts.merge(series, bandwidth, (key[2] for key in by_config))
    return {
        "merged": None if merged is None else {**asdict(merged), "spots": merged.spots},
        "configurations": [list(config) for config in table],
        "undrawn": undrawn,
    }


def hardware_chart(stored: dict[str, Any] | None, bandwidth_gb_s: float | None
                   ) -> HardwareChart:
    """The hardware page's chart from its stored summary (None: no public rows)."""
    if stored is None:
        return HardwareChart(None, [], 0, bandwidth_gb_s)
    merged = stored["merged"]
    scatter = None
    if merged is not None:
        scatter = charts.draw(charts.Merged(**merged))  # spots as stored, in Spot's order
    table = [Configuration(*values) for values in stored["configurations"]]
    return HardwareChart(scatter, table, stored["undrawn"], bandwidth_gb_s)


# --- the model page's bars ----------------------------------------------------------------------


class _BarRow(NamedTuple):
    tensor_parallel: bool
    quant_id: int
    decode_tps: float


@dataclass(frozen=True)
class ModelChart:
    bars: charts.Bars | None


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
    for hardware_id, count, parallel, quant_id, decode in found:
        groups[(hardware_id, count)].append(_BarRow(bool(parallel), quant_id, decode))

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
        items.append(charts.BarInput(
            label=f"{count}× {entry.name}",
            median_tps=statistics.median(r.decode_tps for r in rows),
            rows=len(rows), ceiling_tps=ceiling, ceiling_label=f"{quant.label}{split}",
        ))
    return {"bars": [list(asdict(item).values()) for item in items]}


def model_chart(stored: dict[str, Any] | None) -> ModelChart:
    """The model page's chart from its stored summary (None: no public rows)."""
    if stored is None:
        return ModelChart(None)
    return ModelChart(charts.bars([charts.BarInput(*values) for values in stored["bars"]]))


# --- stored -------------------------------------------------------------------------------------

HARDWARE, MODEL = "hardware", "model"
DATA_OF = {HARDWARE: hardware_data, MODEL: model_data}
CHARTED_BY = {HARDWARE: Submission.hardware_id, MODEL: Submission.model_id}


def encode(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def decode(text: str | None) -> dict[str, Any] | None:
    return None if text is None else json.loads(text)
