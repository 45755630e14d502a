"""The public SQLite snapshot: only public data, in a file anyone may download and query.

Tables: `about` (licence CC-BY-4.0, source, export time, data version), the four reference
tables, `benchmarks` (the public rows, with the same fields as the CSV export, stale rows
included), `reproductions` (clean reproductions of public rows), `runs` (the timed runs of
both) and `badge_changes`. Nothing private is ever read into it: no queued, rejected or
withdrawn row, no operator key, address hash, nonce, reviewer, audit event, feedback note,
rate counter or daily key.

The file is written under a temporary name and renamed into place, so a reader sees a whole
file or none. The site keeps one per data version and day (`served`): the first request
after public data changed builds it, under a lock file, so several workers build it once.
"""

from __future__ import annotations

import fcntl
import hashlib
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from webapp.models import (
    BadgeChange,
    Hardware,
    ModelVariant,
    Quant,
    RunSample,
    Runtime,
    Submission,
)
from webapp.services import exports
from webapp.services.catalog import parse_catalog_query, select_rows
from webapp.services.divergence import measured
from webapp.services.labels import safe_url
from webapp.services.rules import RULE_SET_VERSION, Kind, State

LICENCE = "CC-BY-4.0"
LICENCE_NAME = "Creative Commons Attribution 4.0 International"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
FOLDER = "open-data"
PREFIX = "trustbench-public-"
BATCH = 2_000

_INTEGER = {"id", "related_to", "hardware_count", "concurrent_users", "prompt_tokens",
            "max_tokens", "seed", "tokens_generated", "independent_reproductions",
            "speculative", "batch_gt1", "tensor_parallel", "stale", "demo"}
_REAL = {"ttft_ms", "decode_tps", "ttft_spread", "decode_spread", "vram_peak_mib",
         "prefill_tps"}


def _type(name: str) -> str:
    return "INTEGER" if name in _INTEGER else "REAL" if name in _REAL else "TEXT"


REFERENCE = {
    "hardware": (Hardware, ("slug", "name", "vendor", "kind", "memory_gib", "bandwidth_gb_s",
                            "note")),
    "models": (ModelVariant, ("slug", "family", "name", "variant", "params_b",
                              "active_params_b")),
    "quants": (Quant, ("slug", "family", "name", "bits_per_weight", "source")),
    "runtimes": (Runtime, ("slug", "name", "engine_family", "version_example")),
}
REPRODUCTION_FIELDS = ("id", "benchmark_id", "runtime_version", "driver_version", "os_label",
                       "ttft_ms", "decode_tps", "tokens_generated", "vram_peak_mib",
                       "divergence", "band", "operator", "operator_url", "measured_at",
                       "accepted_at")

SCHEMA = (
    "CREATE TABLE about (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    *(f"CREATE TABLE {table} (" + ", ".join(
        f"{column} TEXT PRIMARY KEY" if column == "slug" else column
        for column in columns) + ")" for table, (_model, columns) in REFERENCE.items()),
    "CREATE TABLE benchmarks (" + ", ".join(
        f"{name} {_type(name)}" + (" PRIMARY KEY" if name == "id" else "")
        for name in exports.FIELDS) + ")",
    "CREATE TABLE reproductions (id INTEGER PRIMARY KEY, benchmark_id INTEGER NOT NULL "
    "REFERENCES benchmarks(id), runtime_version TEXT, driver_version TEXT, os_label TEXT, "
    "ttft_ms REAL, decode_tps REAL, tokens_generated INTEGER, vram_peak_mib REAL, "
    "divergence REAL, band TEXT, operator TEXT, operator_url TEXT, measured_at TEXT, "
    "accepted_at TEXT)",
    "CREATE TABLE runs (row_id INTEGER NOT NULL, position INTEGER NOT NULL, ttft_ms REAL, "
    "tokens_generated INTEGER, decode_tps REAL, PRIMARY KEY (row_id, position))",
    "CREATE TABLE badge_changes (id INTEGER PRIMARY KEY, benchmark_id INTEGER NOT NULL "
    "REFERENCES benchmarks(id), old_badge TEXT, new_badge TEXT, changed_at TEXT)",
    "CREATE INDEX reproductions_benchmark ON reproductions (benchmark_id)",
    "CREATE INDEX badge_changes_benchmark ON badge_changes (benchmark_id)",
)


class SnapshotError(RuntimeError):
    """Why the snapshot could not be written; the message is for the operator."""


@dataclass(frozen=True)
class Written:
    path: Path
    benchmarks: int
    reproductions: int
    runs: int
    size: int


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _insert(connection: sqlite3.Connection, table: str, columns: tuple[str, ...],
            rows: list[tuple[Any, ...]]) -> int:
    if rows:
        # Table and column names are this module's constants; values are bound.
        names, marks = ", ".join(columns), ", ".join("?" * len(columns))
        statement = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608  # nosec B608
        connection.executemany(statement, rows)
    return len(rows)


def _benchmarks(session: Session, connection: sqlite3.Connection, now: datetime) -> int:
    query, notices = parse_catalog_query({"stale": "1"})
    selection = select_rows(session, query, notices, now=now)
    count = 0
    for batch in exports.batches(session, selection, now=now, batch=BATCH):
        count += _insert(connection, "benchmarks", exports.FIELDS, batch)
    return count


_HUB = aliased(Submission)
_PUBLIC_REPRODUCTIONS = (
    select(Submission.id, Submission.hub_id, Submission.runtime_version,
           Submission.driver_version, Submission.os_label, Submission.ttft_ms,
           Submission.decode_tps, Submission.tokens_generated, Submission.vram_peak_mib,
           Submission.worst_divergence, Submission.band, Submission.handle, Submission.url,
           Submission.measured_at, Submission.decided_at)
    .join(_HUB, _HUB.id == Submission.hub_id)
    .where(Submission.kind == Kind.REPRODUCTION, Submission.state == State.REPRODUCED,
           _HUB.state == State.APPROVED)
    .order_by(Submission.id)
)


def _reproductions(session: Session, connection: sqlite3.Connection) -> int:
    count = 0
    result = session.execute(_PUBLIC_REPRODUCTIONS, execution_options={"yield_per": BATCH})
    for rows in result.partitions():
        count += _insert(connection, "reproductions", REPRODUCTION_FIELDS, [
            (row.id, row.hub_id, row.runtime_version, row.driver_version, row.os_label,
             measured(row.ttft_ms), measured(row.decode_tps), row.tokens_generated,
             measured(row.vram_peak_mib),
             row.worst_divergence, row.band, (row.handle or "").strip() or None,
             safe_url(row.url), _time(row.measured_at), _time(row.decided_at))
            for row in rows])
    return count


def _runs(session: Session, connection: sqlite3.Connection) -> int:
    """The timed runs of every row the file holds (public rows and their reproductions)."""
    count = 0
    for_rows = select(RunSample.submission_id, RunSample.position, RunSample.ttft_ms,
                      RunSample.tokens_generated, RunSample.decode_tps)
    statements = (
        for_rows.join(Submission, Submission.id == RunSample.submission_id)
        .where(Submission.state == State.APPROVED),
        for_rows.join(Submission, Submission.id == RunSample.submission_id)
        .where(Submission.id.in_(_PUBLIC_REPRODUCTIONS.with_only_columns(Submission.id)
                                 .order_by(None))),
    )
    for statement in statements:
        result = session.execute(statement, execution_options={"yield_per": BATCH})
        for rows in result.partitions():
            count += _insert(connection, "runs", ("row_id", "position", "ttft_ms",
                                                  "tokens_generated", "decode_tps"),
                             [tuple(row) for row in rows])
    return count


def _badge_changes(session: Session, connection: sqlite3.Connection) -> None:
    rows = session.execute(
        select(BadgeChange.id, BadgeChange.submission_id, BadgeChange.old_badge,
               BadgeChange.new_badge, BadgeChange.changed_at)
        .join(Submission, Submission.id == BadgeChange.submission_id)
        .where(Submission.state == State.APPROVED)
        .order_by(BadgeChange.id)
    )
    _insert(connection, "badge_changes", ("id", "benchmark_id", "old_badge", "new_badge",
                                          "changed_at"),
            [(r.id, r.submission_id, r.old_badge, r.new_badge, _time(r.changed_at))
             for r in rows])


def _reference(session: Session, connection: sqlite3.Connection) -> None:
    for table, (model, columns) in REFERENCE.items():
        rows = session.execute(select(*(getattr(model, c) for c in columns)))
        _insert(connection, table, columns, [tuple(row) for row in rows])


def about(*, now: datetime, source_url: str, version: int) -> dict[str, str]:
    return {
        "title": "Trustbench public data",
        "licence": LICENCE,
        "licence_name": LICENCE_NAME,
        "licence_url": LICENCE_URL,
        "attribution": f"Trustbench ({source_url})" if source_url else "Trustbench",
        "source_url": source_url,
        "exported_at": _time(now) or "",
        "data_version": str(version),
        "rule_set": RULE_SET_VERSION,
        "contents": "Public rows only (state approved-public): benchmarks, their clean "
                    "reproductions and timed runs (runs.row_id is a benchmarks.id or a "
                    "reproductions.id), badge changes and the reference tables. Badge, tier "
                    "and stale are as of exported_at.",
    }


def write(session: Session, destination: str | Path, *, now: datetime, source_url: str,
          version: int) -> Written:
    """Write the snapshot to `destination` (replaced atomically). Reads only; never commits."""
    target = Path(destination)
    if not target.parent.is_dir():
        raise SnapshotError(f"the folder {target.parent} does not exist.")
    if target.is_dir():
        raise SnapshotError(f"{target} is a folder; give a file name.")
    partial = target.with_name(f".{target.name}.{secrets.token_hex(6)}.partial")
    try:
        connection = sqlite3.connect(partial)
        try:
            for statement in SCHEMA:
                connection.execute(statement)
            _insert(connection, "about", ("name", "value"),
                    list(about(now=now, source_url=source_url, version=version).items()))
            _reference(session, connection)
            benchmarks = _benchmarks(session, connection, now)
            reproductions = _reproductions(session, connection)
            runs = _runs(session, connection)
            _badge_changes(session, connection)
            connection.commit()
        finally:
            connection.close()
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return Written(path=target, benchmarks=benchmarks, reproductions=reproductions, runs=runs,
                   size=target.stat().st_size)


# --- the copy the site serves -------------------------------------------------------------


def database_key(session: Session) -> str:
    """Which database the site reads, as a served snapshot's name carries it: a digest of
    the database's URL, password left out. Data versions count per database, so without
    it a site moved from SQLite to PostgreSQL (or pointed at another file) whose version
    matched an earlier copy's would serve that other database's rows."""
    url = session.get_bind().url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode()).hexdigest()[:12]


def served_name(version: int, now: datetime, database: str) -> str:
    """One file per database, data version and UTC day (tiers and stale move with the
    day)."""
    return f"{PREFIX}{database}-v{version}-{now:%Y%m%d}.sqlite3"


def folder_of(instance_path: str | Path) -> Path:
    folder = Path(instance_path) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def current(instance_path: str | Path, *, now: datetime, version: int,
            database: str) -> Path | None:
    """The snapshot of this database, data version and day, when it has been built."""
    target = folder_of(instance_path) / served_name(version, now, database)
    return target if target.exists() else None


def latest(instance_path: str | Path, *, database: str) -> Path | None:
    """The newest snapshot of this database built so far (of an earlier version while
    the next is built); never another database's."""
    found = sorted(folder_of(instance_path).glob(f"{PREFIX}{database}-v*.sqlite3"),
                   key=lambda path: path.stat().st_mtime, reverse=True)
    return found[0] if found else None


@contextmanager
def _locked(folder: Path) -> Iterator[bool]:
    """The folder's build lock, if no other process or thread holds it (never waits)."""
    with (folder / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(session: Session, instance_path: str | Path, *, now: datetime, source_url: str,
          version: int) -> Path | None:
    """Build this version's snapshot unless it exists or another worker is building it
    (then None). Under the lock, leftovers of a build that died and older copies go
    (this database's, and those named before names carried the database); a worker
    still sending an older copy keeps its open file."""
    folder = folder_of(instance_path)
    database = database_key(session)
    target = folder / served_name(version, now, database)
    with _locked(folder) as mine:
        if not mine:
            return None
        if not target.exists():
            for leftover in folder.glob(f".{PREFIX}*.partial"):
                leftover.unlink(missing_ok=True)
            write(session, target, now=now, source_url=source_url, version=version)
        for pattern in (f"{PREFIX}{database}-v*.sqlite3", f"{PREFIX}v*.sqlite3"):
            for old in folder.glob(pattern):
                if old != target:
                    old.unlink(missing_ok=True)
    return target
