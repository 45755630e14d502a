"""Workers of one server share the pages they render (web/shared_pages), and a shared
page is as fresh as one a worker kept itself.

Two apps on one database and one shared folder stand for two gunicorn workers. "Served
from the shared store" is observed as in test_page_cache: the database is changed
behind the apps' backs (a Core UPDATE moves no version), so the second worker, which
never rendered the page, shows the old value only if it took the first worker's page.
"""

from __future__ import annotations

import logging
import os
import runpy
import stat
from pathlib import Path

import pytest

from tests.test_page_cache import change_behind_the_apps_back
from webapp import create_app
from webapp.models import utcnow
from webapp.services import moderation
from webapp.services.rules import State
from webapp.web import shared_pages

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def row(make_row, session):
    made = make_row(os_label="Ubuntu 24.04 before")
    session.commit()
    return made


@pytest.fixture
def workers(app, tmp_path):
    """Two workers of one server: the same database, the same shared folder."""
    folder = tmp_path / "shared-pages"
    folder.mkdir()
    config = {
        "TESTING": True,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SERVER_NAME": "localhost",
        "SHARED_PAGE_STORE": str(folder),
    }
    first, second = create_app(dict(config)), create_app(dict(config))
    yield first.test_client(), second.test_client(), folder
    for worker in (first, second):
        with worker.app_context():
            from webapp.extensions import db

            db.engine.dispose()


def test_a_page_one_worker_rendered_is_served_by_the_other(workers, session, row):
    first, second, _folder = workers
    url = f"/benchmarks/{row.id}"
    rendered = first.get(url)
    assert rendered.status_code == 200 and "Ubuntu 24.04 before" in rendered.text
    change_behind_the_apps_back(session, row.id, "Ubuntu 24.04 behind")

    served = second.get(url)
    assert served.status_code == 200
    assert "Ubuntu 24.04 before" in served.text, "the second worker served the first's page"
    assert served.data == rendered.data
    assert served.headers["ETag"] == rendered.headers["ETag"]
    # A client that takes gzip gets the stored bytes as they are.
    zipped = second.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"


def test_a_decision_moves_every_worker_on(workers, session, row, make_row):
    first, second, _folder = workers
    url = f"/benchmarks/{row.id}"
    assert "Ubuntu 24.04 before" in first.get(url).text
    change_behind_the_apps_back(session, row.id, "Ubuntu 24.04 behind")

    queued = make_row(state=State.QUEUED)
    session.commit()
    moderation.approve_public(session, queued, actor="reviewer:test", now=utcnow())
    session.commit()

    assert "Ubuntu 24.04 behind" in second.get(url).text, "rendered anew after the decision"
    assert "Ubuntu 24.04 behind" in first.get(url).text


def test_a_shared_page_expires_with_its_lifetime(workers, session, row, monkeypatch):
    first, second, _folder = workers
    url = f"/benchmarks/{row.id}"
    assert "Ubuntu 24.04 before" in first.get(url).text
    change_behind_the_apps_back(session, row.id, "Ubuntu 24.04 behind")

    lifetime = first.application.config["PAGE_CACHE_SECONDS"]
    later = shared_pages.time.time() + lifetime + 1
    monkeypatch.setattr(shared_pages.time, "time", lambda: later)
    assert "Ubuntu 24.04 behind" in second.get(url).text, "an expired page is not served"


def test_junk_query_strings_never_reach_the_shared_store(workers, row):
    first, _second, folder = workers
    store = shared_pages.SharedPages(folder)
    assert first.get(f"/benchmarks/{row.id}?utm_source=x").status_code == 200
    assert first.get("/?page=2&page=3").status_code in (200, 301, 404)
    assert store.count() == 0
    assert first.get(f"/benchmarks/{row.id}").status_code == 200
    assert store.count() == 1


def test_a_broken_store_costs_a_render_never_a_page(workers, session, row, caplog):
    first, second, folder = workers
    (folder / shared_pages.FILENAME).write_bytes(b"this is not an SQLite database" * 100)
    url = f"/benchmarks/{row.id}"
    with caplog.at_level(logging.WARNING, logger=shared_pages.__name__):
        assert "Ubuntu 24.04 before" in first.get(url).text
        assert "Ubuntu 24.04 before" in second.get(url).text
        assert first.get(url).status_code == 200
    warnings = [r for r in caplog.records if r.name == shared_pages.__name__]
    assert len(warnings) == 2, "one warning per worker, not one per request"
    assert all("127.0.0.1" not in r.getMessage() for r in warnings)


def test_a_worker_without_a_shared_folder_keeps_its_own_pages(app, client, row):
    assert app.config["SHARED_PAGE_STORE"] is None
    assert "shared_pages" not in app.extensions
    assert client.get(f"/benchmarks/{row.id}").status_code == 200


def test_the_server_makes_its_own_folder_and_removes_it(monkeypatch):
    # Set, then unset: the fixture then restores the variable's absence afterwards, after
    # on_starting sets it for the workers it expects to fork.
    monkeypatch.setenv("TRUSTBENCH_SHARED_PAGE_STORE", "placeholder")
    monkeypatch.delenv("TRUSTBENCH_SHARED_PAGE_STORE")
    settings = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    settings["on_starting"](None)
    folder = Path(os.environ["TRUSTBENCH_SHARED_PAGE_STORE"])
    assert folder.is_dir()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700, "only the server's user reads it"
    configured = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"},
                            instance_path=str(folder / "instance"))
    assert configured.config["SHARED_PAGE_STORE"] == str(folder)
    settings["on_exit"](None)
    assert not folder.exists()


def test_a_folder_the_operator_named_is_used_and_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("TRUSTBENCH_SHARED_PAGE_STORE", str(tmp_path))
    settings = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    settings["on_starting"](None)
    settings["on_exit"](None)
    assert tmp_path.is_dir()
    monkeypatch.setenv("TRUSTBENCH_SHARED_PAGE_STORE", "0")
    off = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"},
                     instance_path=str(tmp_path / "instance"))
    assert off.config["SHARED_PAGE_STORE"] is None
