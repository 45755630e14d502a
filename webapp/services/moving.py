"""Moving a site to another database: every row of an SQLite instance copied into an
empty PostgreSQL one (`flask copy-database`), for the self-hoster who outgrows one
process on SQLite and keeps their catalog, reviewers and audit log.

The target is migrated first (`flask db upgrade`), so both hold the schema of the same
revision; the copy refuses otherwise, and refuses a target that already holds rows other
than the reference data and the site state a fresh database is made with (those two are
replaced by the source's: the rows refer to reference entries by id). Tables are copied
parents first, each in primary-key order, in batches, in one transaction on the target:
a failure leaves it as it was. Ids are kept, and PostgreSQL's id sequences are moved past
the largest copied id, so the next submission does not collide with a copied one. Every
table's row count is compared after the copy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, func, inspect, select, text
from sqlalchemy.engine import make_url

from webapp.models import Hardware, ModelVariant, Quant, Runtime, SiteState

BATCH = 2_000
# What a fresh, migrated database may already hold: seed-reference's entries and the one
# site_state row a migration writes. The source's replace them.
REPLACED = frozenset({Hardware.__tablename__, ModelVariant.__tablename__,
                      Quant.__tablename__, Runtime.__tablename__, SiteState.__tablename__})


class MoveError(Exception):
    """Why the copy cannot start (nothing was written)."""


@dataclass(frozen=True)
class Copied:
    tables: dict[str, int]  # table -> rows copied, parents first

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def revision(connection: Connection) -> str | None:
    """The schema's migration revision (alembic_version), None when there is none."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def copy_database(source: Engine, target: Engine, metadata: MetaData, *,
                  progress: Callable[[str, int], None] = lambda _table, _rows: None) -> Copied:
    """Copy every row of `metadata`'s tables from `source` into `target` (see the module)."""
    if _same_database(source, target):
        raise MoveError("The source is the database this site is configured to use "
                        "(DATABASE_URL): name the other one.")
    with source.connect() as reading, target.begin() as writing:
        _check(reading, writing, metadata)
        tables = list(metadata.sorted_tables)  # parents before the tables referring to them
        for table in reversed(tables):
            if table.name in REPLACED:
                writing.execute(table.delete())
        copied: dict[str, int] = {}
        for table in tables:
            count = 0
            for rows in _batches(reading, table):
                writing.execute(table.insert(), rows)
                count += len(rows)
                progress(table.name, count)
            copied[table.name] = count
        _compare(writing, tables, copied)
        if writing.dialect.name == "postgresql":
            _move_sequences(writing, tables)
    return Copied(copied)


def _same_database(source: Engine, target: Engine) -> bool:
    a, b = make_url(str(source.url)), make_url(str(target.url))
    return (a.get_backend_name(), a.host, a.port, a.database) == (
        b.get_backend_name(), b.host, b.port, b.database)


def _check(reading: Connection, writing: Connection, metadata: MetaData) -> None:
    source_revision, target_revision = revision(reading), revision(writing)
    if source_revision is None:
        raise MoveError("The source has no Trustbench schema (no alembic_version table): "
                        "check its address.")
    if target_revision is None:
        raise MoveError("The target has no schema yet: run `flask db upgrade` on it first.")
    if source_revision != target_revision:
        raise MoveError(
            f"The source's schema is at revision {source_revision} and the target's at "
            f"{target_revision}: run `flask db upgrade` on both with this version first.")
    held = [table.name for table in metadata.sorted_tables
            if table.name not in REPLACED
            and writing.execute(select(func.count()).select_from(table)).scalar()]
    if held:
        raise MoveError("The target already holds rows (" + ", ".join(held) + "): copy "
                        "into an empty database, migrated and nothing else.")


def _batches(reading: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    """The table's rows as dicts, in primary-key order, BATCH at a time."""
    result = reading.execution_options(yield_per=BATCH).execute(
        select(table).order_by(*table.primary_key.columns))
    for part in result.mappings().partitions(BATCH):
        yield [dict(row) for row in part]


def _compare(writing: Connection, tables: list[Table], copied: dict[str, int]) -> None:
    for table in tables:
        held = writing.execute(select(func.count()).select_from(table)).scalar()
        if held != copied[table.name]:
            raise MoveError(f"{table.name}: {copied[table.name]} rows read, {held} in the "
                            "target; nothing was kept.")


def _move_sequences(writing: Connection, tables: list[Table]) -> None:
    """Past each copied id, so the next row inserted takes a new one (PostgreSQL)."""
    for table in tables:
        columns = list(table.primary_key.columns)
        if len(columns) != 1 or columns[0].name != "id":
            continue
        largest = select(func.max(columns[0])).scalar_subquery()
        writing.execute(select(func.setval(
            func.pg_get_serial_sequence(table.name, "id"),
            func.coalesce(largest, 1), largest.is_not(None))))
