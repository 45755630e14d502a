"""Fixtures: one fresh database per test, on SQLite or PostgreSQL.

TEST_DATABASE_URL points the whole suite at PostgreSQL; without it the suite runs
on SQLite files in a temporary folder. The schema comes from the models here;
tests/test_migrations.py proves the migrations build the same schema.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import g
from sqlalchemy import create_engine, text

from webapp import create_app
from webapp.extensions import db
from webapp.services.reference import load_reference

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
pytest_plugins = ["tests.factories", "tests.reviewers"]


def _postgres_reachable(url: str) -> str | None:
    try:
        engine = create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(error).__name__}: {error}".splitlines()[0]
    return None


@contextmanager
def database_of_its_own(tmp_path, schema: str) -> Iterator[str]:
    """The URL of an empty database for a test that migrates one itself: a schema of its
    own in the PostgreSQL database TEST_DATABASE_URL names (dropped afterwards), else an
    SQLite file in `tmp_path`."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / f'{schema}.sqlite3'}"
        return
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def _base_config(tmp_path, database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SERVER_NAME": "localhost",
        "RATE_LIMITS_ENABLED": True,
        # Each test app keeps its own pages, whatever the shell says (a shared folder
        # would mix the pages of every test's database).
        "SHARED_PAGE_STORE": None,
    }


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Build the schema once per session: a template SQLite file, or the PostgreSQL schema."""
    if POSTGRES_URL:
        problem = _postgres_reachable(POSTGRES_URL)
        if problem:
            if os.environ.get("TRUSTBENCH_REQUIRE_POSTGRES"):
                pytest.fail(f"PostgreSQL required but not reachable at {POSTGRES_URL}: {problem}")
            pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {problem}")
        engine = create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        app = create_app(_base_config(None, POSTGRES_URL))
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        return POSTGRES_URL
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.sqlite3"
    app = create_app(_base_config(None, f"sqlite:///{path}"))
    with app.app_context():
        db.create_all()
        load_reference(db.session)
        db.session.commit()
        db.engine.dispose()
    return path


def _reset_postgres(app) -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        # TRUNCATE fires no row triggers, so the append-only audit log can be reset.
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    load_reference(db.session)
    db.session.commit()


@pytest.fixture
def app(database_template, tmp_path):
    if POSTGRES_URL:
        application = create_app(_base_config(tmp_path, POSTGRES_URL))
        with application.app_context():
            _reset_postgres(application)
    else:
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(database_template, path)
        application = create_app(_base_config(tmp_path, f"sqlite:///{path}"))
    application.config["TEST_DATABASE_PATH"] = str(tmp_path)
    # What the app writes into its instance folder at run time (the public snapshot) goes
    # to the test's own folder, never the checkout's instance/.
    application.instance_path = str(tmp_path / "instance")
    # Tests hold an app context so they can use the database between requests, and Flask
    # then reuses it for every test-client request: `g` (Flask-Login's cached user among
    # it) and the session's identity map would outlive the request, as they never do in
    # production. Start each request as production does: empty `g`, nothing cached.
    application.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_state)
    application.teardown_request(_end_request_transaction)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def _fresh_request_state() -> None:
    g.__dict__.clear()
    db.session.expire_all()


def _end_request_transaction(_error) -> None:
    # Production ends each request's transaction when its session is removed; here the
    # session outlives the request, and an open read transaction would pin a snapshot
    # that hides other connections' commits from the test and from the next request.
    db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(app):
    return db.session
