"""Exports of a catalog view: every public row under the catalog's filters, as CSV or as
JSON Lines, and the one list of public fields a row leaves the site with (the SQLite
snapshot writes the same records).

Rows are read as plain columns from one table, in the catalog's order, `BATCH` at a
time (yield_per: a server-side cursor on PostgreSQL, SQLite's own step-by-step cursor),
and each batch is written out before the next is read, so neither the first byte nor
the worker's memory waits on the size of the catalog. Badge, tier and stale come from
the stored index the catalog filters on, which equals what the pages show on every day;
the plausibility flags are the ones the row's page lists (plausibility.of_row), worked
out from the row's columns and the reference rows kept per data version; how the numbers
got there (SPEC §11: the source's format and version, its file's sha256, the caveat) is
what the row's page and the API say (provenance.of_row).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from webapp.models import Submission
from webapp.services import catalog_rows, plausibility, provenance
from webapp.services.catalog import CatalogQuery, Selection
from webapp.services.divergence import measured
from webapp.services.labels import (
    hardware_label,
    model_label,
    quant_label,
    runtime_label,
    safe_url,
)
from webapp.services.listing import effective_tier, not_stale
from webapp.services.rules import State
from webapp.services.sorting import at_or_after, order, sort_terms

BATCH = 1_000
# The first batch is small and each next one twice the last, up to BATCH: the first rows
# leave at once, and a client that has gone (one that wanted the first bytes only) is
# noticed at the next write or two, after a few dozen rows rather than thousands.
FIRST_BATCH = 16

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
    "vram_peak_mib", "prefill_tps", "flags",
    "badge", "tier", "stale", "independent_reproductions",
    "operator", "operator_url", "notes",
    "measured_at", "published_at", "submitted_on", "source_format", "source_version",
    "source_sha256", "source_caveat", "demo",
)

# `flags` holds the codes of the row's plausibility flags (rules.FlagCode) separated by
# this, "" when it has none: one text value, as the snapshot's column stores it.
FLAG_SEPARATOR = " "

# Cells a spreadsheet would read as a formula (OWASP's list): such a cell gets a leading
# apostrophe, which spreadsheets show as text and hide.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Core columns of the table, not the ORM's attributes: a statement built per request from
# the very column objects its cached compiled form holds is matched to it by identity,
# where the ORM's annotated copies were compared one by one (an SQL expression built for
# each of these columns on every request).
_ROWS = Submission.__table__
_HUB = _ROWS.alias("submissions_1")
_COLUMNS = (
    _ROWS.c.id, _ROWS.c.kind, _HUB.c.id.label("related_to"),
    _ROWS.c.model_id, _ROWS.c.hardware_id, _ROWS.c.hardware_count,
    _ROWS.c.quant_id, _ROWS.c.runtime_id,
    _ROWS.c.other_model, _ROWS.c.other_hardware, _ROWS.c.other_quant,
    _ROWS.c.other_runtime, _ROWS.c.cpu_family,
    _ROWS.c.runtime_version, _ROWS.c.driver_version, _ROWS.c.os_label,
    _ROWS.c.concurrent_users, _ROWS.c.prompt_tokens, _ROWS.c.max_tokens,
    _ROWS.c.seed, _ROWS.c.quant_provider, _ROWS.c.model_sha256_prefix,
    _ROWS.c.speculative, _ROWS.c.batch_gt1, _ROWS.c.tensor_parallel,
    _ROWS.c.ttft_ms, _ROWS.c.decode_tps, _ROWS.c.tokens_generated,
    _ROWS.c.ttft_spread, _ROWS.c.decode_spread, _ROWS.c.vram_peak_mib,
    _ROWS.c.prefill_tps, _ROWS.c.derived_badge, _ROWS.c.derived_repro_count,
    _ROWS.c.handle, _ROWS.c.url, _ROWS.c.notes,
    _ROWS.c.measured_at, _ROWS.c.decided_at, _ROWS.c.created_at,
    _ROWS.c.source_format, _ROWS.c.source_version, _ROWS.c.source_sha256,
    _ROWS.c.source_doubts, _ROWS.c.is_demo,
)
# A fragmented reproduction names its hub only while the hub is public.
_HUB_PUBLIC = and_(_HUB.c.id == _ROWS.c.hub_id, _HUB.c.state == State.APPROVED)


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    mimetype: str


CSV = Format("csv", "csv", "text/csv")
JSONL = Format("jsonl", "jsonl", "application/jsonl")


# Labels are cached per dimension while a cache holds fewer entries than this: a catalog
# repeats a few hundred configurations, but typed "other" names may all differ.
CACHE_LIMIT = 4_096


class _Reference:
    """The four reference tables by id (a few hundred plain entries with the numbers the
    ceiling reads, kept per data version: catalog_rows.references), and each dimension's
    label computed once per distinct value (bounded, so memory stays flat on any
    catalog)."""

    def __init__(self, session: Session):
        entries = catalog_rows.references(session)
        self.models, self.hardware = entries.models, entries.hardware
        self.quants, self.runtimes = entries.quants, entries.runtimes
        self._caches: dict[str, dict[tuple[Any, ...], Any]] = {
            name: {} for name in ("model", "hardware", "quant", "runtime", "url", "source")}

    def _cached(self, name: str, key: tuple[Any, ...], compute: Any) -> Any:
        cache = self._caches[name]
        found = cache.get(key)
        if found is None:
            found = compute()
            if len(cache) < CACHE_LIMIT:
                cache[key] = found
        return found

    def labels(self, key: tuple[Any, ...], view: _RowView
               ) -> tuple[str, str, str, str, str, str, str, str]:
        """(model, its label, hardware, its label, quant, its label, runtime, its label) of
        the row `view`, whose configuration's columns `key` holds."""
        (model_id, hardware_id, count, quant_id, runtime_id, other_model, other_hardware,
         other_quant, other_runtime, cpu_family, runtime_version) = key
        model = self._cached("model", (model_id, other_model),
                             lambda: (view.model.slug, model_label(view)))
        hardware = self._cached("hardware", (hardware_id, other_hardware, cpu_family, count),
                                lambda: (view.hardware.slug, hardware_label(view)))
        quant = self._cached("quant", (quant_id, other_quant),
                             lambda: (view.quant.slug, quant_label(view)))
        runtime = self._cached("runtime", (runtime_id, other_runtime, runtime_version),
                               lambda: (view.runtime.slug, runtime_label(view)))
        return (*model, *hardware, *quant, *runtime)

    def url(self, url: str | None) -> str | None:
        if not url:
            return None
        return self._cached("url", (url,), lambda: safe_url(url) or "") or None

    def source(self, view: _SourceView) -> tuple[str | None, str | None]:
        """(sha256, caveat) of the row's provenance, as its page and the API give them
        (provenance.of_row). Its wording depends on the source's format, version and
        doubts, so it is worked out once per kind of source; whether a file's sha256 is
        published is of_row's to say, and the digest is the row's own."""
        made = self._cached("source", view.kind(), lambda: provenance.of_row(view))
        return (view.source_sha256 if made.sha256 is not None else None), made.caveat


class _RowView:
    """What labels.* and plausibility.of_row read from a row: the configuration's columns
    and reference rows, and the numbers checked against the ceiling and the memory."""

    __slots__ = ("model", "hardware", "hardware_count", "quant", "runtime", "runtime_version",
                 "other_model", "other_hardware", "other_quant", "other_runtime", "cpu_family",
                 "speculative", "batch_gt1", "tensor_parallel", "decode_tps", "vram_peak_mib")

    def __init__(self, reference: _Reference, model_id: int, hardware_id: int,
                 hardware_count: int, quant_id: int, runtime_id: int, other_model: str | None,
                 other_hardware: str | None, other_quant: str | None,
                 other_runtime: str | None, cpu_family: str | None,
                 runtime_version: str | None, speculative: bool, batch_gt1: bool,
                 tensor_parallel: bool, decode_tps: float, vram_peak_mib: float):
        self.model = reference.models[model_id]
        self.hardware = reference.hardware[hardware_id]
        self.quant = reference.quants[quant_id]
        self.runtime = reference.runtimes[runtime_id]
        self.hardware_count, self.runtime_version = hardware_count, runtime_version
        self.other_model, self.other_hardware = other_model, other_hardware
        self.other_quant, self.other_runtime = other_quant, other_runtime
        self.cpu_family = cpu_family
        self.speculative, self.batch_gt1 = bool(speculative), bool(batch_gt1)
        self.tensor_parallel = bool(tensor_parallel)
        self.decode_tps, self.vram_peak_mib = decode_tps, vram_peak_mib


class _SourceView:
    """What provenance.of_row reads of a row: its source columns. (A column of_row comes
    to read that is missing here fails loudly, as an AttributeError, not silently.)"""

    __slots__ = ("source_format", "source_version", "source_sha256", "source_doubts")

    def __init__(self, source_format: str | None, source_version: str | None,
                 source_sha256: str | None, source_doubts: str | None):
        self.source_format, self.source_version = source_format, source_version
        self.source_sha256, self.source_doubts = source_sha256, source_doubts

    def kind(self) -> tuple[str | None, ...]:
        """Every column but the file's digest: what the provenance's wording depends on."""
        return tuple(getattr(self, name) for name in self.__slots__ if name != "source_sha256")


def _flags(view: _RowView) -> str:
    """The codes of the row's plausibility flags, FLAG_SEPARATOR between them."""
    flags = plausibility.of_row(view).flags
    return FLAG_SEPARATOR.join(flag.code.value for flag in flags) if flags else ""


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _record(row: tuple[Any, ...], reference: _Reference) -> tuple[Any, ...]:
    """One public row as a tuple in FIELDS order (positions follow _COLUMNS)."""
    (id_, kind, related_to, model_id, hardware_id, hardware_count, quant_id, runtime_id,
     other_model, other_hardware, other_quant, other_runtime, cpu_family,
     runtime_version, driver_version, os_label, concurrent_users, prompt_tokens, max_tokens,
     seed, quant_provider, sha256_prefix, speculative, batch_gt1, tensor_parallel,
     ttft_ms, decode_tps, tokens_generated, ttft_spread, decode_spread, vram_peak_mib,
     prefill_tps, badge, repro_count, handle, url, notes, measured_at, decided_at,
     created_at, source_format, source_version, source_sha256, source_doubts, is_demo, tier,
     fresh) = row
    key = (model_id, hardware_id, hardware_count, quant_id, runtime_id, other_model,
           other_hardware, other_quant, other_runtime, cpu_family, runtime_version)
    view = _RowView(reference, *key, speculative, batch_gt1, tensor_parallel, decode_tps,
                    vram_peak_mib)
    model, model_text, hardware, hardware_text, quant, quant_text, runtime, runtime_text = (
        reference.labels(key, view))
    sha256, caveat = reference.source(
        _SourceView(source_format, source_version, source_sha256, source_doubts))
    return (
        id_, kind, related_to,
        model, model_text, hardware, hardware_count, hardware_text,
        quant, quant_text, runtime, runtime_text,
        runtime_version, driver_version, os_label, cpu_family, concurrent_users,
        prompt_tokens, max_tokens, seed, quant_provider, sha256_prefix,
        bool(speculative), bool(batch_gt1), bool(tensor_parallel),
        measured(ttft_ms), measured(decode_tps), tokens_generated, ttft_spread, decode_spread,
        measured(vram_peak_mib), measured(prefill_tps),
        _flags(view),
        badge, tier, not fresh, repro_count,
        _text(handle), reference.url(url), _text(notes),
        _time(measured_at), _time(decided_at), created_at.date().isoformat(),
        source_format, source_version, sha256, caveat, bool(is_demo),
    )


def _open_bound(column: Any, descending: bool) -> ColumnElement[bool] | None:
    """A bound every row meets, as a plain range on the sort column: the first batch's, so
    the planner walks the sort's index from its start. None for a type without one."""
    # A TypeDecorator (UTCDateTime) names its Python type through the type it decorates.
    python_type = getattr(column.type, "impl_instance", column.type).python_type
    if python_type is float:
        return column <= math.inf if descending else column >= -math.inf
    if python_type is datetime:
        edge = (datetime.max if descending else datetime.min).replace(tzinfo=UTC)
        return column <= edge if descending else column >= edge
    return None


def batches(
    session: Session, selection: Selection, *, now: datetime, batch: int = BATCH,
) -> Iterator[list[tuple[Any, ...]]]:
    """The public records of `selection` (tuples in FIELDS order), in the catalog's order,
    `batch` at a time (from FIRST_BATCH up, doubling, so the first rows leave at once).

    Sorts on columns that are never NULL are read by keyset: each batch starts past the
    previous batch's last sort key, with a plain bound on the sort column, so the database
    walks the sort's index from where it stopped. (Without that bound SQLite would pick the
    stale filter's index and sort every matching row before the first left.) Other sorts
    are one streamed query. Core rows, not ORM ones: an export reads every matching row.
    The reference entries are the ones kept for the data version this transaction reads
    (catalog_rows.references).
    """
    reference = _Reference(session)
    sort = selection.query.sort
    terms = sort_terms(sort)
    statement = (
        select(*_COLUMNS, effective_tier(now).label("tier"), not_stale(now).label("fresh"),
               *(column for column, _ in terms))
        .outerjoin(_HUB, _HUB_PUBLIC)
        .where(*selection.conditions)
        .order_by(*order(sort))
    )
    width = len(_COLUMNS) + 2
    connection = session.connection()
    if any(column.expression.nullable for column, _ in terms) or _open_bound(*terms[0]) is None:
        result = connection.execute(statement, execution_options={
            "stream_results": True, "max_row_buffer": batch})
        try:
            size = min(batch, FIRST_BATCH)
            while rows := result.fetchmany(size):
                yield [_record(row[:width], reference) for row in rows]
                size = min(batch, size * 2)
        finally:
            result.close()
        return
    where = _open_bound(*terms[0])
    last_id, size = None, min(batch, FIRST_BATCH)
    # The first read holds the first two batches, which leave one after the other: a
    # client gone after the first bytes is noticed at the second write, one query in.
    shares = (size, min(batch, size * 2))
    while True:
        read = sum(shares)
        rows = connection.execute(statement.where(where).limit(read + 1)).all()
        if rows and last_id is not None and rows[0].id == last_id:
            rows = rows[1:]  # the previous batch's last row: the bound is "at or after"
        rows = rows[:read]
        if not rows:
            return
        start = 0
        for share in shares:
            if rows[start:start + share]:
                yield [_record(row[:width], reference) for row in rows[start:start + share]]
            start += share
        last_id = rows[-1].id
        where = at_or_after(sort, tuple(rows[-1][width:]))
        size = min(batch, shares[-1] * 2)
        shares = (size,)


_FORMULA_FIRST = frozenset(FORMULA_STARTS)  # each a single character


def _cells(record: tuple[Any, ...]) -> list[Any]:
    """A record's CSV cells: text a spreadsheet would read as a formula gets its
    apostrophe, flags read true/false (one expression per value: no call per cell)."""
    return [("'" + value if value[:1] in _FORMULA_FIRST else value)
            if isinstance(value, str)
            else "true" if value is True else "false" if value is False else value
            for value in record]


def csv_chunks(records: Iterable[list[tuple[Any, ...]]]) -> Iterator[str]:
    """A header line, then one chunk of CSV lines per batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FIELDS)
    yield buffer.getvalue()
    for batch in records:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(map(_cells, batch))
        yield buffer.getvalue()


def jsonl_chunks(records: Iterable[list[tuple[Any, ...]]]) -> Iterator[str]:
    """One JSON object per line, one chunk per batch."""
    encode = json.JSONEncoder(ensure_ascii=False).encode
    for batch in records:
        yield "".join(encode(dict(zip(FIELDS, record, strict=True))) + "\n"
                      for record in batch)


CHUNKS = {CSV: csv_chunks, JSONL: jsonl_chunks}


def gzipped(chunks: Iterable[str], level: int) -> Iterator[bytes]:
    """The chunks as one gzip stream, each flushed as soon as it is compressed (a sync
    flush): a batch leaves when it is written, not when the compressor's buffer fills,
    so the first rows arrive at once and a client that has gone is noticed at the next
    write, not thousands of rows later."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    yield compressor.flush(zlib.Z_SYNC_FLUSH)  # the gzip header: the download has begun
    for chunk in chunks:
        yield compressor.compress(chunk.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)
    yield compressor.flush()


# A download name is one plain ASCII token, whatever was typed into the search: it goes
# into Content-Disposition, where a quote or a semicolon would add parameters of its own
# (filename*=...) and a character outside Latin-1 makes the server refuse the response.
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._]+")
NAME_VALUE_MAX = 64  # a slug's own limit (catalog.SLUG_PATTERN): slugs keep their spelling


def _name_part(value: str) -> str:
    """`value` as [A-Za-z0-9._-] only: every other run (hyphens among it) one hyphen,
    no hyphen or dot at either end, at most NAME_VALUE_MAX characters."""
    return _UNSAFE_IN_NAME.sub("-", value).strip("-.")[:NAME_VALUE_MAX].rstrip("-.")


def filename(query: CatalogQuery, fmt: Format, now: datetime) -> str:
    """trustbench-benchmarks[-<filter>-<value>…]-<date>.<ext>, every character of it in
    [A-Za-z0-9._-]. A search with nothing of ASCII in it keeps its filter's name alone
    ("-q-"), so the file still says it is a search's."""
    parts = ["trustbench-benchmarks"]
    for name, value in query.args(page=None).items():
        parts.append("-".join(filter(None, (name, _name_part(value)))))
    parts.append(now.strftime("%Y-%m-%d"))
    return "-".join(parts) + "." + fmt.extension


def etag(query: CatalogQuery, fmt: Format, version: int, now: datetime) -> str:
    """Same filters, same data version, same day (tiers and stale move with the day)."""
    key = json.dumps([fmt.name, sorted(query.args(page=None).items()), version,
                      now.strftime("%Y-%m-%d")])
    return hashlib.sha256(key.encode()).hexdigest()[:32]
