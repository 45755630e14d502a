"""Writing the demo rows: precomputed ids, row buffers, Core bulk inserts in committed
batches, then PostgreSQL's id sequences and the planner's statistics (and, on
PostgreSQL, the visibility map)."""

from __future__ import annotations

import operator
from collections import Counter

from sqlalchemy import Table, func, insert, inspect, select, text
from sqlalchemy.orm import Session

from webapp.models import (
    AuditEvent,
    ChartSummary,
    FeedbackNote,
    OperatorSummary,
    PublicRowCount,
    RunSample,
    Submission,
)

BATCH = 5_000
# Batches per commit: each SQLite commit of random index pages costs a WAL checkpoint,
# so a commit every 50 000 submissions keeps both the WAL and the checkpoints few.
COMMIT_EVERY = 10
TABLES = (Submission, RunSample, AuditEvent, FeedbackNote)  # in the order they are written
SUMMARIES = (OperatorSummary, PublicRowCount, ChartSummary)  # rebuilt after the rows


class Writer:
    """Row dicts with ids taken past the table's highest, written BATCH submissions at a time.

    The one exception to "services never commit": a catalog of 100 000 rows is too large
    for one flush, so batches are committed as they go.
    """

    def __init__(self, session: Session):
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.next_id = {
            table: (session.scalar(select(func.max(table.id))) or 0) + 1 for table in TABLES
        }
        self.submissions: list[dict] = []
        self.runs: list[dict] = []
        self.events: list[dict] = []
        self.notes: list[dict] = []
        self.written: Counter[str] = Counter()  # rows per table name
        self.flushes = 0

    def new_id(self, table) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def flush(self, final: bool = False) -> None:
        """Write the buffers once a batch is full (or at the end); commit every few batches."""
        if len(self.submissions) < BATCH and not final:
            return
        if self.dialect == "sqlite":
            # Index pages stay in memory between batches (the default cache is 2 MiB).
            self.session.execute(text("PRAGMA cache_size=-262144"))
        buffers = (self.submissions, self.runs, self.events, self.notes)
        for model, rows in zip(TABLES, buffers, strict=True):
            table = model.__table__
            for start in range(0, len(rows), BATCH * 2):
                self._insert(table, rows[start:start + BATCH * 2])
            self.written[table.name] += len(rows)
            rows.clear()
        self.flushes += 1
        if final or self.flushes % COMMIT_EVERY == 0:
            self.session.commit()

    def _insert(self, table: Table, rows: list[dict]) -> None:
        """Bulk-insert row dicts the fastest way the driver offers.

        SQLite: the driver's executemany over positional rows; PostgreSQL with psycopg:
        COPY. Each value still goes through its column type's bind processor (UTC
        datetimes, booleans); what is skipped is Core's per-row parameter handling, a
        third of the seeding time. Any other driver gets a Core executemany.
        """
        if not rows:
            return
        dialect = self.session.get_bind().dialect
        fast = dialect.name == "sqlite" or (
            dialect.name == "postgresql" and dialect.driver == "psycopg"
        )
        if not fast:
            self.session.execute(insert(table), rows)
            return
        columns = list(table.columns)
        getter = operator.itemgetter(*(c.key for c in columns))
        converters = [
            (position, processor)
            for position, column in enumerate(columns)
            if (processor := column.type.dialect_impl(dialect).bind_processor(dialect))
        ]
        params = []
        for row in rows:
            values = list(getter(row))
            for position, processor in converters:
                values[position] = processor(values[position])
            params.append(tuple(values))
        # Identifiers come from our own metadata, quoted; values travel separately.
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(c.name) for c in columns)
        connection = self.session.connection()
        if dialect.name == "sqlite":
            # Core writes the statement (qmark style, columns in table order).
            statement = str(insert(table).compile(
                dialect=dialect, column_keys=[c.key for c in columns]))
            connection.exec_driver_sql(statement, params)
            return
        driver_connection = connection.connection.driver_connection
        with driver_connection.cursor() as cursor, cursor.copy(
            f"COPY {quote(table.name)} ({names}) FROM STDIN"
        ) as copy:
            for values in params:
                copy.write_row(values)

    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load (and commit what is pending).

        Without them SQLite picks the catalog's indexes blind: at 100 000 rows it walks
        the "newest" index and sorts every public row for the first page (seconds per
        request) where the sort index answers in milliseconds.

        PostgreSQL gets VACUUM (ANALYZE) of the rows' tables and of the summaries rebuilt
        from them, what autovacuum does to a table after this many inserts: besides the
        statistics, it sets the visibility map, without which an index-only scan still
        reads the table for every entry, and the planner, knowing as much, reads and
        sorts the whole table instead (at 100 000 rows the catalog's count took 223 ms,
        41 ms after it; page 2,000's OFFSET 354 ms, 27 ms).
        VACUUM cannot run inside a transaction: it gets a connection of its own.
        """
        if self.dialect == "sqlite":
            self.session.execute(text("ANALYZE"))
        self.session.commit()
        if self.dialect == "postgresql":
            engine = self.session.get_bind()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                present = inspect(conn)
                tables = ", ".join(table.__tablename__ for table in (*TABLES, *SUMMARIES)
                                   if present.has_table(table.__tablename__))
                conn.execute(text(f"VACUUM (ANALYZE) {tables}"))

    def fix_sequences(self) -> None:
        """PostgreSQL's id sequences do not see explicit ids; move them past the demo rows."""
        if self.dialect != "postgresql":
            return
        for table in TABLES:
            highest = select(func.coalesce(func.max(table.id), 1)).scalar_subquery()
            self.session.execute(select(func.setval(
                func.pg_get_serial_sequence(table.__tablename__, "id"), highest)))
        self.session.commit()
