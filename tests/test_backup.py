"""flask backup PATH: a consistent copy of a live SQLite database, and its restore."""

from __future__ import annotations

import shutil
import threading

import pytest
from sqlalchemy import create_engine, func, select, text

from tests.conftest import POSTGRES_URL
from webapp import create_app
from webapp.extensions import db
from webapp.models import Submission

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="backup copies SQLite files only")


def test_backup_round_trip_while_writing(app, make_row, tmp_path):
    for _ in range(5):
        make_row()
    db.session.commit()
    live_path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")

    stop = threading.Event()

    def keep_writing():
        engine = create_engine(f"sqlite:///{live_path}", connect_args={"timeout": 30})
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS churn (n INTEGER)"))
        while not stop.is_set():
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO churn (n) VALUES (1)"))
        engine.dispose()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        target = tmp_path / "copy.sqlite3"
        result = app.test_cli_runner().invoke(args=["backup", str(target)])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output

    # Restore: stop the app, put the copy in place of the database file, start again.
    restored = tmp_path / "restored.sqlite3"
    shutil.copyfile(target, restored)
    restored_app = create_app({
        "TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{restored}",
    })
    with restored_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 5
        assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        db.engine.dispose()


def test_backup_refuses_to_overwrite(app, tmp_path):
    target = tmp_path / "exists.sqlite3"
    target.write_text("precious")
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code != 0
    assert "exists already" in result.output
    assert target.read_text() == "precious"
