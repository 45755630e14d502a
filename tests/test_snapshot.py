"""The public SQLite snapshot: `flask export-public PATH` and the site's download."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tests.factories import publish
from webapp.models import utcnow
from webapp.services import moderation, provenance, snapshot
from webapp.services.rules import Kind, State

# Words of private things: no table or column name of the snapshot may hold one.
PRIVATE_WORDS = {"ip", "hash", "address", "nonce", "token", "reviewer", "reviewers", "rate",
                 "counter", "counters", "daily", "key", "keys", "audit", "feedback",
                 "rejection", "password", "session", "actor", "status"}


@pytest.fixture
def world(session, make_row):
    hub = publish(session, make_row, handle="hub-owner", notes="quiet room")
    hidden = {state: make_row(state=state, handle=f"hidden-{state}")
              for state in (State.QUEUED, State.REJECTED, State.WITHDRAWN)}
    repro = make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub, handle="second")
    moderation.mark_reproduced(session, repro, actor="reviewer:1", now=utcnow())
    refused = make_row(kind=Kind.REPRODUCTION, state=State.REJECTED, hub=hub, handle="refused")
    session.commit()
    return {"hub": hub, "repro": repro, "hidden": hidden, "refused": refused}


@pytest.fixture(autouse=True)
def own_instance_folder(app, tmp_path):
    """The site's snapshot goes to this test's instance folder, not the repository's."""
    app.instance_path = str(tmp_path / "instance")


def open_snapshot(path):
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    return connection


def schema(connection) -> dict[str, list[str]]:
    tables = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {table: [column[1] for column in connection.execute(f"PRAGMA table_info({table})")]
            for table in tables}


def test_cli_writes_only_public_data(app, world, tmp_path):
    path = tmp_path / "public.sqlite3"
    result = app.test_cli_runner().invoke(
        args=["export-public", str(path), "--source-url", "https://bench.example.org/"])
    assert result.exit_code == 0, result.output
    assert "1 benchmarks, 1 reproductions" in result.output
    with open_snapshot(path) as connection:
        found = schema(connection)
        assert set(found) == {"about", "hardware", "models", "quants", "runtimes",
                              "benchmarks", "reproductions", "runs", "badge_changes"}
        for table, columns in found.items():
            for name in (table, *columns):
                assert not set(name.split("_")) & PRIVATE_WORDS, (table, name)
        about = dict(connection.execute("SELECT name, value FROM about").fetchall())
        assert about["licence"] == "CC-BY-4.0"
        assert about["licence_url"] == snapshot.LICENCE_URL
        assert about["source_url"] == "https://bench.example.org/"
        assert about["exported_at"].endswith("Z")
        ids = [row["id"] for row in connection.execute("SELECT id FROM benchmarks")]
        assert ids == [world["hub"].id]
        repros = connection.execute("SELECT * FROM reproductions").fetchall()
        assert [(r["id"], r["benchmark_id"], r["operator"]) for r in repros] == [
            (world["repro"].id, world["hub"].id, "second")]
        run_owners = {row[0] for row in connection.execute("SELECT row_id FROM runs")}
        assert run_owners == {world["hub"].id, world["repro"].id}
        changes = connection.execute(
            "SELECT benchmark_id, old_badge, new_badge FROM badge_changes").fetchall()
        assert [tuple(c) for c in changes] == [
            (world["hub"].id, "community-submitted", "reproduced")]
        assert connection.execute("SELECT COUNT(*) FROM hardware").fetchone()[0] > 10
        dumped = "\n".join(connection.iterdump())
    for row in (*world["hidden"].values(), world["refused"]):
        assert row.status_nonce not in dumped
        assert (row.handle or "") not in dumped
    assert world["hub"].operator_key not in dumped or world["hub"].operator_key == "hub-owner"


def test_medians_are_written_without_float_noise(app, session, make_row, tmp_path):
    # As rows stored an even number of runs' median before it was rounded.
    noisy = (54.6 + 54.7) / 2
    assert repr(noisy) == "54.650000000000006"
    hub = publish(session, make_row, ttft_ms=noisy, decode_tps=noisy)
    repro = make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub, ttft_ms=noisy,
                     decode_tps=noisy, handle="second")
    moderation.mark_reproduced(session, repro, actor="reviewer:1", now=utcnow())
    session.commit()
    path = tmp_path / "public.sqlite3"
    snapshot.write(session, path, now=utcnow(), source_url="", version=1)
    with open_snapshot(path) as connection:
        for table in ("benchmarks", "reproductions"):
            (row,) = connection.execute(f"SELECT ttft_ms, decode_tps FROM {table}")  # noqa: S608
            assert tuple(row) == (54.65, 54.65), table


def test_benchmarks_carry_how_their_numbers_got_there(app, session, make_row, tmp_path):
    row = publish(session, make_row, source_format="llama-bench-json", source_version="b5163",
                  source_sha256="ab" * 32)
    made = provenance.of_row(row)
    path = tmp_path / "public.sqlite3"
    snapshot.write(session, path, now=utcnow(), source_url="", version=1)
    with open_snapshot(path) as connection:
        (found,) = connection.execute(
            "SELECT source_format, source_sha256, source_caveat FROM benchmarks")
    assert tuple(found) == ("llama-bench-json", made.sha256, made.caveat)
    assert "TTFT was typed by hand" in found["source_caveat"]


def test_cli_refuses_a_missing_folder(app, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["export-public", str(tmp_path / "no-such" / "x.sqlite3")])
    assert result.exit_code != 0
    assert "does not exist" in result.output


def test_download_is_rebuilt_when_public_data_changes(client, session, make_row, world):
    first = client.get("/data/trustbench-public.sqlite3")
    assert first.status_code == 200
    assert first.mimetype == "application/vnd.sqlite3"
    assert "attachment" in first.headers["Content-Disposition"]
    assert ".sqlite3" in first.headers["Content-Disposition"]
    assert first.cache_control.public
    etag = first.headers["ETag"]
    first.close()
    again = client.get("/data/trustbench-public.sqlite3", headers={"If-None-Match": etag})
    assert again.status_code == 304
    again.close()

    added = publish(session, make_row, hardware="rtx-3090")
    second = client.get("/data/trustbench-public.sqlite3", headers={"If-None-Match": etag})
    assert second.status_code == 200
    path = client.application.instance_path
    (served,) = list((Path(path) / snapshot.FOLDER).glob("*.sqlite3"))
    second.close()
    with open_snapshot(served) as connection:
        ids = {row[0] for row in connection.execute("SELECT id FROM benchmarks")}
    assert ids == {world["hub"].id, added.id}


def test_concurrent_builds_leave_one_whole_file(app, world, tmp_path):
    from webapp.extensions import db

    folder = tmp_path / "instance"
    (folder / snapshot.FOLDER).mkdir(parents=True)
    (folder / snapshot.FOLDER / ".trustbench-public-v1.sqlite3.dead.partial").write_text("x")
    results, errors = [], []

    def build():
        with app.app_context():
            try:
                results.append(snapshot.build(db.session, folder, now=utcnow(), source_url="",
                                              version=7))
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=build) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert any(result is not None for result in results)  # the others found it busy or built
    files = sorted(p.name for p in (folder / snapshot.FOLDER).iterdir() if p.name != ".lock")
    with app.app_context():
        assert files == [snapshot.served_name(7, utcnow(), snapshot.database_key(db.session))]
    with open_snapshot(folder / snapshot.FOLDER / files[0]) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_copy_built_from_another_database_is_never_served(app, client, session, world):
    """Data versions count per database: a copy another database left in the instance
    folder (before a move from SQLite to PostgreSQL, or another file), with this
    database's version and day, is neither this version's copy nor the one served while
    this one is built."""
    from webapp.services import data_version

    folder = Path(app.instance_path) / snapshot.FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    version = data_version.current(session)
    other = folder / snapshot.served_name(version, utcnow(), "0123456789ab")
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE benchmarks (id INTEGER)")
        connection.execute("INSERT INTO benchmarks VALUES (999999)")
    assert snapshot.database_key(session) != "0123456789ab"

    app.config["SNAPSHOT_WAIT_SECONDS"] = 0  # the build not finished: nothing else to serve
    pending = client.get("/data/trustbench-public.sqlite3")
    assert pending.status_code == 503
    deadline = time.monotonic() + 60  # the first request's build, in the background
    while (served := client.get("/data/trustbench-public.sqlite3")).status_code == 503:
        served.close()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert served.status_code == 200
    built = folder / snapshot.served_name(version, utcnow(), snapshot.database_key(session))
    served.close()
    with open_snapshot(built) as connection:
        ids = {row[0] for row in connection.execute("SELECT id FROM benchmarks")}
    assert ids == {world["hub"].id}
    assert other.exists()  # another site's copy is not this one's to remove


def test_a_long_first_build_says_so_and_finishes_in_the_background(app, client, world):
    app.config["SNAPSHOT_WAIT_SECONDS"] = 0
    pending = client.get("/data/trustbench-public.sqlite3")
    assert pending.status_code == 503
    assert pending.headers["Retry-After"].isdigit()
    assert "being prepared" in pending.get_data(as_text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(
            (Path(app.instance_path) / snapshot.FOLDER).glob("*.sqlite3")):
        time.sleep(0.1)
    ready = client.get("/data/trustbench-public.sqlite3")
    assert ready.status_code == 200
    ready.close()


def test_data_page_states_the_licence_and_links_the_downloads(client):
    page = client.get("/data")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "CC-BY-4.0" in text and snapshot.LICENCE_URL in text
    for link in ("/benchmarks.csv", "/benchmarks.jsonl", "/feed.atom",
                 "/data/trustbench-public.sqlite3"):
        assert f'href="{link}"' in text
    assert 'href="/data"' in client.get("/").get_data(as_text=True)


def test_data_page_answers_304_to_its_etag(client):
    first = client.get("/data")
    again = client.get("/data", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
