"""Extensions, created unbound; the app factory attaches them."""

from __future__ import annotations

import sqlite3

from flask import current_app, has_request_context, request
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
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


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # We issue BEGIN ourselves (see _sqlite_begin), so the driver must not.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # SQLite's advice for a new connection: refresh planner statistics that are missing
    # or out of date (bounded work), so the catalog keeps using its indexes as it grows.
    cursor.execute("PRAGMA optimize=0x10002")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if connection.dialect.name != "sqlite":
        return
    # A deferred transaction that later writes can fail with "database is locked"
    # without waiting (WAL snapshot upgrade); requests that may write take the
    # write lock up front, so busy_timeout queues them instead of failing them.
    writes = (
        has_request_context()
        and request.method not in SAFE_METHODS
        and not getattr(current_app.view_functions.get(request.endpoint), READ_ONLY, False)
    )
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


READ_ONLY = "trustbench_read_only"


def read_only(view):
    """Mark a POST view that never writes (the live checks): on SQLite it then reads in
    a plain deferred transaction instead of queueing behind writers for the write lock."""
    setattr(view, READ_ONLY, True)
    return view
