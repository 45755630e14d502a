"""The database connection a request gets: on PostgreSQL, a connection the server dropped
while it sat idle in the pool (a restart, an idle timeout) is replaced before a request
uses it, and reading pages and writing forms both keep working after it; one dropped
under load costs one request a 503 page, not the worker."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, select, text

from tests.conftest import POSTGRES_URL
from tests.factories import listed_ids
from webapp.extensions import db
from webapp.models import FeedbackNote

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="SQLite opens a file: no server can drop the connection "
    "(set TEST_DATABASE_URL to run these on PostgreSQL)")


def _drop_the_apps_connections() -> int:
    """What a server restart does to the app's pooled connections: ends them all."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        ended = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'")).scalar_one()
    admin.dispose()
    return ended


@pytest.fixture
def row_id(make_row, session) -> int:
    hub = make_row()
    session.commit()
    return hub.id


def test_pages_answer_after_the_server_dropped_every_connection(app, client, row_id):
    app.config["DATABASE_PING_IDLE_SECONDS"] = 0.2
    listed = listed_ids(client.get("/?stale=1").data)
    assert row_id in listed
    assert client.get(f"/benchmarks/{row_id}").status_code == 200
    db.session.remove()  # the test's own session gives its connection back, as a request does

    assert _drop_the_apps_connections() >= 1
    time.sleep(0.3)  # idle long enough to be tested before use

    # Every connection the pool holds is dead; each request still gets a live one.
    for _ in range(3):
        page = client.get(f"/benchmarks/{row_id}")
        assert page.status_code == 200
        assert f'href="/benchmarks/{row_id}/reproduce"' in page.text
    assert listed_ids(client.get("/?stale=1").data) == listed
    health = client.get("/healthz")
    assert health.status_code == 200, health.text


def test_a_form_writes_after_the_server_dropped_every_connection(app, client, session,
                                                                 row_id, no_csrf):
    app.config["DATABASE_PING_IDLE_SECONDS"] = 0
    assert client.get(f"/submit/feedback?benchmark={row_id}").status_code == 200
    db.session.remove()
    assert _drop_the_apps_connections() >= 1

    sent = client.post(f"/submit/feedback?benchmark={row_id}",
                       data={"kind": "stale", "message": "Runtime is two years old."})
    assert sent.status_code == 303
    assert [note.message for note in session.scalars(select(FeedbackNote))] == [
        "Runtime is two years old."]


def test_a_drop_under_load_fails_one_request_with_a_page_and_the_next_ones_reconnect(
        client, row_id):
    """A connection returned a moment ago is not tested again (one round trip fewer per
    request under load): the request that finds it dead gets the database-unreachable
    page, and the pool connects anew for the next ones."""
    assert client.get(f"/benchmarks/{row_id}").status_code == 200
    db.session.remove()
    assert _drop_the_apps_connections() >= 1

    failed = client.get(f"/benchmarks/{row_id}")
    assert failed.status_code == 503
    assert "<!doctype html>" in failed.text.lower()
    db.session.remove()
    for _ in range(3):
        assert client.get(f"/benchmarks/{row_id}").status_code == 200
