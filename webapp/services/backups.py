"""Consistent copies of a live SQLite database, via SQLite's online backup API."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import Engine


class BackupError(RuntimeError):
    """Why a backup could not be made; the message is for the operator."""


def backup_sqlite(engine: Engine, destination: str | Path) -> int:
    """Copy the live database to `destination` while other processes keep writing.

    The backup API copies pages under a read transaction, so the copy is one
    consistent snapshot even in WAL mode. Returns the size of the copy in bytes.
    """
    if engine.dialect.name != "sqlite":
        raise BackupError(
            "backup works on SQLite only; for PostgreSQL use pg_dump (see the README)."
        )
    source_path = engine.url.database
    if not source_path or source_path == ":memory:":
        raise BackupError("the database is in memory; there is nothing on disk to back up.")
    target = Path(destination)
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new path.")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist.")
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=1024)
            copy.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            problems = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
    finally:
        source.close()
    if problems != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {problems}")
    partial.replace(target)  # the copy appears whole or not at all
    return target.stat().st_size
