"""Privacy and abuse controls: addresses, daily keys, hashes, rate limits shared by
worker processes, and no raw address in the database or the served access log."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import request
from sqlalchemy import LargeBinary, String, Text, func, select
from werkzeug.serving import make_server

from tests.test_submit_support import fresh_form, lock_token_of, repro_form
from webapp.extensions import db
from webapp.models import DailyKey, FeedbackNote, RateCounter, Submission
from webapp.services import privacy

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


# --- addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "network"), [
    ("203.0.113.9", "203.0.113.9"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.1", "192.0.2.1"),
    ("unknown", "unknown"),
])
def test_network_of(address, network):
    assert privacy.network_of(address) == network


def address_for(app, environ: dict, headers: dict | None = None) -> str:
    with app.test_request_context("/", environ_base=environ, headers=headers or {}):
        return privacy.client_address(request)


def test_forwarded_headers_are_ignored_unless_proxies_are_trusted(app):
    headers = {"X-Forwarded-For": "198.51.100.7, 10.0.0.2"}
    environ = {"REMOTE_ADDR": "10.0.0.1"}
    assert address_for(app, environ, headers) == "10.0.0.1"
    app.config["TRUSTED_PROXY_COUNT"] = 1
    assert address_for(app, environ, headers) == "10.0.0.2"
    app.config["TRUSTED_PROXY_COUNT"] = 2
    assert address_for(app, environ, headers) == "198.51.100.7"
    app.config["TRUSTED_PROXY_COUNT"] = 3  # fewer values than proxies: not trusted
    assert address_for(app, environ, headers) == "10.0.0.1"
    app.config["TRUSTED_PROXY_COUNT"] = 1
    assert address_for(app, environ, {"X-Forwarded-For": "not-an-ip"}) == "10.0.0.1"
    assert address_for(app, {"REMOTE_ADDR": ""}) == "unknown"


# --- daily keys and hashes -----------------------------------------------------------------


def test_daily_key_is_created_once_per_day_and_read_back(session):
    first = privacy.daily_key(session, NOW.date(), NOW)
    again = privacy.daily_key(session, NOW.date(), NOW + timedelta(hours=1))
    assert first == again and len(first) == 32
    assert privacy.daily_key(session, NOW.date() + timedelta(days=1), NOW) != first
    assert session.scalar(select(func.count()).select_from(DailyKey)) == 2


def test_insert_or_read_survives_a_key_inserted_by_another_worker(app, session):
    # Another worker committed a key between our read and our insert: ON CONFLICT DO
    # NOTHING keeps theirs and we read theirs back.
    session.add(DailyKey(day=NOW.date(), key=b"k" * 32, created_at=NOW))
    session.commit()
    assert privacy.daily_key(session, NOW.date(), NOW) == b"k" * 32


def test_ip_hash_is_hmac_per_day_and_per_network(session):
    one = privacy.ip_hash(session, "2001:db8:1:2::1", NOW)
    same_net = privacy.ip_hash(session, "2001:db8:1:2::99", NOW)
    other_net = privacy.ip_hash(session, "2001:db8:1:3::1", NOW)
    tomorrow = privacy.ip_hash(session, "2001:db8:1:2::1", NOW + timedelta(days=1))
    assert one == same_net and one != other_net and one != tomorrow
    # 64 hex digits, so never the address's spelling (its colons). The test asserted
    # "2001" not in it, which one random hash in about a thousand holds (a CI run drew one).
    assert re.fullmatch(r"[0-9a-f]{64}", one)


def test_keys_older_than_48_hours_are_purged_when_a_new_day_begins(session):
    for days in (3, 2, 1):
        day = NOW - timedelta(days=days)
        privacy.daily_key(session, day.date(), day)
    privacy.daily_key(session, NOW.date(), NOW)  # a new day: purge runs
    days = sorted(session.scalars(select(DailyKey.day)))
    assert days == [(NOW - timedelta(days=n)).date() for n in (2, 1, 0)]
    assert privacy.purge_keys(session, NOW + timedelta(days=3)) == 3


def test_the_purge_command_forgets_old_keys_on_a_quiet_site(app, session):
    """No request comes in for days: `flask purge` (cron) still deletes old keys."""
    now = datetime.now(UTC)
    for days in (5, 3, 1):  # keys written long ago, and nothing since
        then = now - timedelta(days=days)
        session.add(DailyKey(day=then.date(), key=bytes(32), created_at=then))
    session.commit()
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "purged 2 daily keys" in result.output
    session.expire_all()
    assert list(session.scalars(select(DailyKey.day))) == [(now - timedelta(days=1)).date()]


# --- rate limits ------------------------------------------------------------------------------


def test_hit_counts_per_key_over_a_sliding_window(app, session):
    app.config["RATE_LIMITS"] = {"submissions": (3, 3600)}
    results = [privacy.hit(session, "submissions", "abc", NOW) for _ in range(5)]
    assert results == [False, False, False, True, True]
    assert privacy.hit(session, "submissions", "other", NOW) is False
    # A refused attempt is not counted: retrying while refused never pushes the moment the
    # next attempt fits further out (an audit saw each retry add minutes to Retry-After).
    counted = select(RateCounter.count).where(RateCounter.bucket == "submissions:abc")
    assert session.scalar(counted) == 3
    # Issue 10, item 15: the attempts keep counting for the whole hour after them (this
    # used to pass at 13:05: the window reset on the hour), and a slot (4 minutes of an
    # hour) at most beyond it: at 13:05 and at 13:30 still refused, at 13:35 free again.
    assert privacy.hit(session, "submissions", "abc", NOW + timedelta(minutes=35)) is True
    assert privacy.hit(session, "submissions", "abc", NOW + timedelta(hours=1)) is True
    assert privacy.hit(session, "submissions", "abc", NOW + timedelta(minutes=65)) is False
    assert privacy.hit(session, "submissions", "abc", NOW + timedelta(hours=2)) is False
    assert privacy.limit_label("submissions") == "3 per hour"


def test_hit_uses_the_rules_shape_and_login_limit(app, session):
    limit = app.config["RATE_LIMITS"]["login"]
    results = [privacy.hit(session, "login", "h", NOW) for _ in range(limit.limit + 1)]
    assert results[-1] is True and not any(results[:-1])


def test_hit_is_skipped_when_disabled(app, session):
    app.config["RATE_LIMITS_ENABLED"] = False
    assert not any(privacy.hit(session, "login", "h", NOW) for _ in range(50))
    assert session.scalar(select(func.count()).select_from(RateCounter)) == 0


def test_old_counters_are_purged(app, session):
    privacy.hit(session, "submissions", "a", NOW - timedelta(hours=3))
    privacy.hit(session, "submissions", "a", NOW)
    assert privacy.purge_counters(session, NOW) == 1
    assert session.scalar(select(func.count()).select_from(RateCounter)) == 1


WORKER = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from webapp import create_app

config, go = json.loads(sys.argv[2]), Path(sys.argv[3])
attempts, form = int(sys.argv[4]), json.loads(sys.argv[5])
app = create_app(config, instance_path=sys.argv[6])
client = app.test_client()
client.get("/healthz")
print("ready", flush=True)
while not go.exists():
    time.sleep(0.005)
codes = [client.post("/submit/benchmark", data=form).status_code for _ in range(attempts)]
print(json.dumps(codes), flush=True)
"""


@pytest.mark.slow
def test_rate_limit_is_shared_by_two_worker_processes(app, session, tmp_path):
    """Two separate Python processes against one database: the limit holds in total."""
    limit, attempts = 4, 4
    config = {
        "TESTING": True,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SERVER_NAME": "localhost",
        "WTF_CSRF_ENABLED": False,
        "RATE_LIMITS_ENABLED": True,
        # one window for the whole test run, so no window boundary can split the count
        "RATE_LIMITS": {"submissions": [limit, 10**9], "feedback": [20, 3600],
                        "login": [10, 900]},
    }
    session.commit()
    go = tmp_path / "go"
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    workers = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(script), str(ROOT), json.dumps(config), str(go),
             str(attempts), json.dumps(fresh_form()), str(tmp_path / f"instance{n}")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for n in range(2)
    ]
    try:
        for worker in workers:
            line = worker.stdout.readline()
            assert line.strip() == "ready", worker.stderr.read()
        go.touch()
        results = []
        for worker in workers:
            out, err = worker.communicate(timeout=120)
            assert worker.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    codes = results[0] + results[1]
    assert all(results), "each worker sent its attempts"
    assert codes.count(303) == limit and codes.count(429) == 2 * attempts - limit
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Submission)) == limit


# --- no raw address anywhere --------------------------------------------------------------

ADDRESSES = ("203.0.113.77", "198.51.100.23", "2001:db8:abcd:12::1")


def test_no_raw_ip_in_the_database_after_submissions(app, client, session, make_row):
    app.config["WTF_CSRF_ENABLED"] = False
    hub = make_row()
    session.commit()
    v4, forwarded, v6 = ADDRESSES
    plain = {"REMOTE_ADDR": v4}
    assert client.post("/submit/benchmark", data=fresh_form(),
                       environ_base=plain).status_code == 303
    token = lock_token_of(client, hub.id)
    assert client.post(f"/benchmarks/{hub.id}/reproduce", data=repro_form(token),
                       environ_base={"REMOTE_ADDR": v6}).status_code == 303
    app.config["TRUSTED_PROXY_COUNT"] = 1
    assert client.post(f"/submit/feedback?benchmark={hub.id}",
                       data={"kind": "stale", "message": "old"}, environ_base=plain,
                       headers={"X-Forwarded-For": forwarded}).status_code == 303

    hashes = set(session.scalars(select(Submission.ip_hash).where(Submission.ip_hash.is_not(None))))
    hashes |= set(session.scalars(select(FeedbackNote.ip_hash)))
    assert len(hashes) == 3 and all(len(h) == 64 for h in hashes)

    needles = [*ADDRESSES, "2001:db8:abcd:12::", "203.0.113", "198.51.100"]
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns
                   if isinstance(c.type, String | Text) and not isinstance(c.type, LargeBinary)]
        if not columns:
            continue
        for row in session.execute(select(*columns)):
            for value in row:
                if value:
                    assert not any(needle in value for needle in needles), (table.name, value)


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_werkzeug_access_log_never_shows_the_client_address(app):
    privacy.install_log_filter(app)
    privacy.install_log_filter(app)  # idempotent
    logger = logging.getLogger("werkzeug")
    assert sum(isinstance(f, privacy.LogRedactor) for f in logger.filters) == 1
    # Another test's logging.config (alembic's) may have disabled the logger; a served
    # app logs through it all the same, so this test looks at it enabled.
    collect, was_disabled, old_level = _Collect(), logger.disabled, logger.level
    logger.disabled = False
    logger.setLevel(logging.INFO)
    logger.addHandler(collect)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/healthz"
        with urllib.request.urlopen(url) as response:  # noqa: S310 - local test server
            assert response.status == 200
        logger.info('%s - - [%s] "%s" %s -', "2001:db8::5", "date", "GET / HTTP/1.1", 200)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        logger.removeHandler(collect)
        logger.disabled = was_disabled
        logger.setLevel(old_level)
    access = [line for line in collect.lines if "/healthz" in line]
    assert access, collect.lines
    assert all("127.0.0.1" not in line and "2001:db8" not in line for line in collect.lines)
    assert access[0].startswith("- - - [")
