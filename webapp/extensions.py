"""Extensions, created unbound; the app factory attaches them. Beside them, what the
database connection needs: SQLite's connection settings and transactions, and whether
the database can be reached and written (what a failed statement says about it, and the
probe /healthz runs)."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import psycopg
from flask import current_app, has_app_context, has_request_context, request
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()
login_manager = LoginManager()

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BUSY_TIMEOUT_MS = 10000


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # We issue BEGIN ourselves (see _sqlite_begin), so the driver must not.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # SQLite's advice for a new connection: refresh planner statistics that are missing
    # or out of date (bounded work), so the catalog keeps using its indexes as it grows.
    cursor.execute("PRAGMA optimize=0x10002")
    cursor.close()


def _request_may_write() -> bool:
    """True outside a request (CLI, tests' own code) and in a request that may write:
    any method but GET, HEAD and OPTIONS, unless its view is marked `read_only`."""
    if not has_request_context():
        return True
    return request.method not in SAFE_METHODS and not getattr(
        current_app.view_functions.get(request.endpoint), READ_ONLY, False
    )


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if connection.dialect.name != "sqlite":
        return
    # A deferred transaction that later writes can fail with "database is locked"
    # without waiting (WAL snapshot upgrade); requests that may write take the
    # write lock up front, so busy_timeout queues them instead of failing them.
    writes = has_request_context() and _request_may_write()
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


_RETURNED_AT = "trustbench_returned_at"


@event.listens_for(Engine, "checkin")
def _postgres_checkin(dbapi_connection, record):
    if isinstance(dbapi_connection, psycopg.Connection):
        record.info[_RETURNED_AT] = time.monotonic()


@event.listens_for(Engine, "checkout")
def _postgres_checkout(dbapi_connection, record, _proxy):
    """A PostgreSQL connection leaving the pool: tested, and set for the request's work.

    A connection that sat in the pool for a second or more (DATABASE_PING_IDLE_SECONDS)
    is tested with one round trip (";", outside any transaction); one the server dropped
    (a restart, an idle timeout) raises DisconnectionError, and the pool throws it away
    and checks out a fresh one. This stands for SQLAlchemy's pool_pre_ping, which tests
    every checkout and with psycopg opens a transaction to do it (BEGIN, then the ping):
    under load, when a connection goes out again within milliseconds, that was a third
    of a page's round trips. A server that restarts under load fails the requests that
    were using a connection and those that take one returned within the last second
    (the database-unreachable page, 503); that error marks every pooled connection
    invalid, and the next requests connect anew.

    A request that only reads runs in autocommit: under READ COMMITTED every statement
    takes its own snapshot whether or not a transaction wraps them, so the wrapper buys
    nothing and costs a BEGIN and a ROLLBACK round trip per request. Everything that may
    write (POST views, the CLI, code outside a request) keeps its transaction.
    """
    if not isinstance(dbapi_connection, psycopg.Connection):
        return
    # config.DATABASE_PING_IDLE_SECONDS; outside the app (a bare engine) every checkout.
    idle_limit = current_app.config["DATABASE_PING_IDLE_SECONDS"] if has_app_context() else 0
    returned_at = record.info.get(_RETURNED_AT)
    try:
        if dbapi_connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            dbapi_connection.rollback()  # the pool resets on return; a new one may not be
        if not dbapi_connection.autocommit:
            dbapi_connection.autocommit = True
        if returned_at is None or time.monotonic() - returned_at >= idle_limit:
            dbapi_connection.execute(";")
        if _request_may_write():
            dbapi_connection.autocommit = False
    except psycopg.Error as error:
        raise DisconnectionError(f"database connection lost: {type(error).__name__}") from error


@event.listens_for(Engine, "before_cursor_execute")
def _postgres_streams_in_a_transaction(connection, _cursor, _statement, _parameters,
                                       context, _executemany):
    """A statement read through a server-side cursor (an export's or the snapshot's
    stream), which PostgreSQL keeps only inside a transaction: a reading request's
    autocommit connection opens one for it, ended like any other when the request ends."""
    if context is None or not context.execution_options.get("stream_results"):
        return
    dbapi_connection = connection.connection.dbapi_connection
    if getattr(dbapi_connection, "autocommit", False) and (
            dbapi_connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE):
        dbapi_connection.autocommit = False


READ_ONLY = "trustbench_read_only"


def read_only(view):
    """Mark a POST view that never writes (the live checks): on SQLite it then reads in
    a plain deferred transaction instead of queueing behind writers for the write lock."""
    setattr(view, READ_ONLY, True)
    return view


# --- whether the database can be reached and written ------------------------------------

# What a failed statement says about the database rather than about the statement:
# SQLite's primary result codes, PostgreSQL's SQLSTATEs. "busy" passes by itself.
_SQLITE_PROBLEMS = {
    3: "read-only",  # SQLITE_PERM
    5: "busy",  # SQLITE_BUSY: still locked after busy_timeout
    6: "busy",  # SQLITE_LOCKED
    8: "read-only",  # SQLITE_READONLY: a read-only file, folder or mount
    10: "unreachable",  # SQLITE_IOERR
    13: "full",  # SQLITE_FULL: the disk (or max_page_count) is full
    14: "unreachable",  # SQLITE_CANTOPEN
    26: "unreachable",  # SQLITE_NOTADB
}
_POSTGRES_PROBLEMS = {"25006": "read-only", "53100": "full"}
_POSTGRES_CLASSES = ("08", "53", "57P", "58")  # connection, resources, shutdown, I/O
# A write that changes nothing: enough for the database to say whether it takes writes.
WRITE_PROBE = "DELETE FROM rate_counters WHERE 1 = 0"
MIN_FREE_BYTES = 1024 * 1024


def database_problem_of(error: DBAPIError) -> str | None:
    """What `error` says is wrong with the database: "unreachable", "read-only", "full"
    or "busy"; None when it is about the statement (a bug, or bad data)."""
    original = error.orig
    code = getattr(original, "sqlite_errorcode", None)
    if code is not None:
        return _SQLITE_PROBLEMS.get(code & 0xFF)
    state = getattr(original, "sqlstate", None) or ""
    if state in _POSTGRES_PROBLEMS:
        return _POSTGRES_PROBLEMS[state]
    if state.startswith(_POSTGRES_CLASSES):
        return "unreachable"
    if not state and isinstance(error, OperationalError):
        return "unreachable"  # no server answered at all
    return None


def database_problem() -> str | None:
    """None when the database answers and would take a write; else what is wrong with
    it (as database_problem_of says, or "error"). Writes nothing: the probe's
    transaction is rolled back."""
    try:
        with db.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                if _sqlite_full(connection):
                    return "full"
                _probe_sqlite(connection)
            else:
                connection.exec_driver_sql(WRITE_PROBE)
            connection.rollback()
    except DBAPIError as error:
        problem = database_problem_of(error)
        return None if problem == "busy" else problem or "error"
    return None


def _probe_sqlite(connection: Connection) -> None:
    # Someone else writing holds the write lock: that answers "writable" at once, so the
    # probe does not queue behind them for busy_timeout.
    connection.exec_driver_sql("PRAGMA busy_timeout = 0")
    try:
        connection.exec_driver_sql(WRITE_PROBE)
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _sqlite_full(connection: Connection) -> bool:
    def pragma(name: str) -> int:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar_one()

    if pragma("freelist_count") == 0 and pragma("page_count") >= pragma("max_page_count"):
        return True
    path = connection.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return False
    return shutil.disk_usage(Path(path).resolve().parent).free < MIN_FREE_BYTES
