"""Exports of a catalog view: every public row under the catalog's filters, as CSV or as
JSON Lines, and the one list of public fields a row leaves the site with (the SQLite
snapshot writes the same records).

Rows are read as plain columns from one table, in the catalog's order, `BATCH` at a
time (yield_per: a server-side cursor on PostgreSQL, SQLite's own step-by-step cursor),
and each batch is written out before the next is read, so neither the first byte nor
the worker's memory waits on the size of the catalog. Badge, tier and stale come from
the stored index the catalog filters on, which equals what the pages show on every day.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from webapp.models import Hardware, ModelVariant, Quant, Runtime, Submission
from webapp.services.catalog import CatalogQuery, Selection
from webapp.services.labels import (
    hardware_label,
    model_label,
    quant_label,
    runtime_label,
    safe_url,
)
from webapp.services.listing import effective_tier, not_stale, order
from webapp.services.rules import State

BATCH = 1_000

# Every field a public row is exported with, in column order. Nothing here is private:
# no operator key, address hash, nonce, rejection reason or reviewer.
FIELDS: tuple[str, ...] = (
    "id", "kind", "related_to",
    "model", "model_label", "hardware", "hardware_count", "hardware_label",
    "quant", "quant_label", "runtime", "runtime_label",
    "runtime_version", "driver_version", "os_label", "cpu_family", "concurrent_users",
    "prompt_tokens", "max_tokens", "seed", "quant_provider", "model_sha256_prefix",
    "speculative", "batch_gt1", "tensor_parallel",
    "ttft_ms", "decode_tps", "tokens_generated", "ttft_spread", "decode_spread",
    "vram_peak_mib", "prefill_tps",
    "badge", "tier", "stale", "independent_reproductions",
    "operator", "operator_url", "notes",
    "measured_at", "published_at", "source_format", "source_version", "demo",
)

# Cells a spreadsheet would read as a formula (OWASP's list): such a cell gets a leading
# apostrophe, which spreadsheets show as text and hide.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_HUB = aliased(Submission)
_COLUMNS = (
    Submission.id, Submission.kind, _HUB.id.label("related_to"),
    Submission.model_id, Submission.hardware_id, Submission.hardware_count,
    Submission.quant_id, Submission.runtime_id,
    Submission.other_model, Submission.other_hardware, Submission.other_quant,
    Submission.other_runtime, Submission.cpu_family,
    Submission.runtime_version, Submission.driver_version, Submission.os_label,
    Submission.concurrent_users, Submission.prompt_tokens, Submission.max_tokens,
    Submission.seed, Submission.quant_provider, Submission.model_sha256_prefix,
    Submission.speculative, Submission.batch_gt1, Submission.tensor_parallel,
    Submission.ttft_ms, Submission.decode_tps, Submission.tokens_generated,
    Submission.ttft_spread, Submission.decode_spread, Submission.vram_peak_mib,
    Submission.prefill_tps, Submission.derived_badge, Submission.derived_repro_count,
    Submission.handle, Submission.url, Submission.notes,
    Submission.measured_at, Submission.decided_at,
    Submission.source_format, Submission.source_version, Submission.is_demo,
)


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    mimetype: str


CSV = Format("csv", "csv", "text/csv")
JSONL = Format("jsonl", "jsonl", "application/jsonl")


class _Reference:
    """The four reference tables by id, loaded once per export (a few hundred rows)."""

    def __init__(self, session: Session):
        self.models = {row.id: row for row in session.scalars(select(ModelVariant))}
        self.hardware = {row.id: row for row in session.scalars(select(Hardware))}
        self.quants = {row.id: row for row in session.scalars(select(Quant))}
        self.runtimes = {row.id: row for row in session.scalars(select(Runtime))}


class _RowView:
    """What labels.* read from a row, built from selected columns and the reference."""

    __slots__ = ("model", "hardware", "hardware_count", "quant", "runtime", "runtime_version",
                 "other_model", "other_hardware", "other_quant", "other_runtime", "cpu_family")

    def __init__(self, row: Any, reference: _Reference):
        self.model = reference.models[row.model_id]
        self.hardware = reference.hardware[row.hardware_id]
        self.quant = reference.quants[row.quant_id]
        self.runtime = reference.runtimes[row.runtime_id]
        for name in ("hardware_count", "runtime_version", "other_model", "other_hardware",
                     "other_quant", "other_runtime", "cpu_family"):
            setattr(self, name, getattr(row, name))


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _record(row: Any, reference: _Reference) -> dict[str, Any]:
    view = _RowView(row, reference)
    return {
        "id": row.id,
        "kind": row.kind,
        "related_to": row.related_to,
        "model": view.model.slug,
        "model_label": model_label(view),
        "hardware": view.hardware.slug,
        "hardware_count": row.hardware_count,
        "hardware_label": hardware_label(view),
        "quant": view.quant.slug,
        "quant_label": quant_label(view),
        "runtime": view.runtime.slug,
        "runtime_label": runtime_label(view),
        "runtime_version": row.runtime_version,
        "driver_version": row.driver_version,
        "os_label": row.os_label,
        "cpu_family": row.cpu_family,
        "concurrent_users": row.concurrent_users,
        "prompt_tokens": row.prompt_tokens,
        "max_tokens": row.max_tokens,
        "seed": row.seed,
        "quant_provider": row.quant_provider,
        "model_sha256_prefix": row.model_sha256_prefix,
        "speculative": bool(row.speculative),
        "batch_gt1": bool(row.batch_gt1),
        "tensor_parallel": bool(row.tensor_parallel),
        "ttft_ms": row.ttft_ms,
        "decode_tps": row.decode_tps,
        "tokens_generated": row.tokens_generated,
        "ttft_spread": row.ttft_spread,
        "decode_spread": row.decode_spread,
        "vram_peak_mib": row.vram_peak_mib,
        "prefill_tps": row.prefill_tps,
        "badge": row.derived_badge,
        "tier": row.tier,
        "stale": not row.fresh,
        "independent_reproductions": row.derived_repro_count,
        "operator": (row.handle or "").strip() or None,
        "operator_url": safe_url(row.url),
        "notes": (row.notes or "").strip() or None,
        "measured_at": _time(row.measured_at),
        "published_at": _time(row.decided_at),
        "source_format": row.source_format,
        "source_version": row.source_version,
        "demo": bool(row.is_demo),
    }


def batches(
    session: Session, selection: Selection, *, now: datetime, batch: int = BATCH
) -> Iterator[list[dict[str, Any]]]:
    """The public records of `selection`, in the catalog's order, `batch` at a time."""
    reference = _Reference(session)
    statement = (
        select(*_COLUMNS, effective_tier(now).label("tier"), not_stale(now).label("fresh"))
        # A fragmented reproduction names its hub only while the hub is public.
        .outerjoin(_HUB, and_(_HUB.id == Submission.hub_id, _HUB.state == State.APPROVED))
        .where(*selection.conditions)
        .order_by(*order(selection.query.sort))
    )
    result = session.execute(statement, execution_options={"yield_per": batch})
    try:
        for rows in result.partitions():
            yield [_record(row, reference) for row in rows]
    finally:
        result.close()


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def csv_chunks(records: Iterable[list[dict[str, Any]]]) -> Iterator[str]:
    """A header line, then one chunk of CSV lines per batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FIELDS)
    yield buffer.getvalue()
    for batch in records:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_cell(record[name]) for name in FIELDS] for record in batch)
        yield buffer.getvalue()


def jsonl_chunks(records: Iterable[list[dict[str, Any]]]) -> Iterator[str]:
    """One JSON object per line, one chunk per batch."""
    for batch in records:
        yield "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in batch)


CHUNKS = {CSV: csv_chunks, JSONL: jsonl_chunks}


def filename(query: CatalogQuery, fmt: Format, now: datetime) -> str:
    """trustbench-benchmarks[-<filter>-<value>…]-<date>.<ext>; slugs are [a-z0-9._-]."""
    parts = ["trustbench-benchmarks"]
    for name, value in query.args(page=None).items():
        parts.append(f"{name}-{value}")
    parts.append(now.strftime("%Y-%m-%d"))
    return "-".join(parts) + "." + fmt.extension


def etag(query: CatalogQuery, fmt: Format, version: int, now: datetime) -> str:
    """Same filters, same data version, same day (tiers and stale move with the day)."""
    key = json.dumps([fmt.name, sorted(query.args(page=None).items()), version,
                      now.strftime("%Y-%m-%d")])
    return hashlib.sha256(key.encode()).hexdigest()[:32]
