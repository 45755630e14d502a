"""SIGKILL in the middle of submissions, then a restart on the same database.

Clients keep submitting while the master and every worker are killed at once (no
shutdown code runs). After a restart the database must hold no half rows (each
submission has its runs and its arrival audit event, in one transaction) and no lost
rows (each submission that was answered 303 is there, and its status link works).
Requests cut off mid-flight may have landed or not, but only whole.
"""

from __future__ import annotations

import http.client
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.deploy.conftest import WebClient, unique_marker
from tests.deploy.test_workers import SERVER_ERRORS, fresh_form

pytestmark = pytest.mark.slow

CLIENTS = 8
ROUNDS = 2
ANSWERED_BEFORE_KILL = 10
GENEROUS_LIMITS = {"submissions": (100_000, 3600), "feedback": (100_000, 3600),
                   "login": (100, 900)}
CUT_OFF = "cut off"  # sent, but the connection died before an answer came
REFUSED = "refused"  # nobody was listening: never sent


def keep_submitting(client: WebClient, outcome: dict, links: dict, lock: threading.Lock,
                    stop: threading.Event, index: int) -> None:
    form = None
    while not stop.is_set():
        marker = unique_marker(f"fault{index}")
        try:
            if form is None:
                form = fresh_form(client, "placeholder")
            reply = client.post("/submit/benchmark", {**form, "notes": f"fault test {marker}"},
                                timeout=15)
            result = reply.status
        except ConnectionRefusedError:
            result = REFUSED
            form = None
            time.sleep(0.02)
        except (OSError, http.client.HTTPException, AssertionError):
            # Reset or cut mid-answer: unknown whether it committed.
            result = CUT_OFF
            form = None
            time.sleep(0.02)
        with lock:
            outcome[marker] = result
            if result == 303:
                links[marker] = reply.path()


def test_sigkill_mid_submissions_loses_nothing_and_leaves_no_half_rows(deployment,
                                                                        deploy_database):
    database = deploy_database
    server = deployment(workers=2, rate_limits=GENEROUS_LIMITS)
    outcome: dict[str, int | str] = {}
    links: dict[str, str] = {}
    lock = threading.Lock()
    kills = 0

    for _round in range(ROUNDS):
        stop = threading.Event()
        answered_before = sum(1 for r in outcome.values() if r == 303)
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            jobs = [pool.submit(keep_submitting, server.client(), outcome, links, lock, stop, i)
                    for i in range(CLIENTS)]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with lock:
                    answered = sum(1 for r in outcome.values() if r == 303) - answered_before
                if answered >= ANSWERED_BEFORE_KILL:
                    break
                time.sleep(0.01)
            server.kill()  # master and workers, mid-request
            kills += 1
            time.sleep(0.3)  # the clients see refused connections for a moment
            stop.set()
            for job in jobs:
                job.result(timeout=60)
        server.start()

    results = dict(outcome)
    committed = [m for m, r in results.items() if r == 303]
    cut_off = [m for m, r in results.items() if r == CUT_OFF]
    other = {m: r for m, r in results.items() if r not in (303, CUT_OFF, REFUSED)}
    assert other == {}, f"unexpected answers before the kill: {other}"
    assert len(committed) >= ROUNDS * ANSWERED_BEFORE_KILL

    # No lost rows: every 303 is stored exactly once, and its private link still works.
    stored = dict(database.rows(
        "SELECT notes, count(*) FROM submissions WHERE notes LIKE 'fault test %' GROUP BY notes"))
    for marker in committed:
        assert stored.get(f"fault test {marker}") == 1, f"committed {marker} lost or doubled"
    client = server.client()
    for marker, path in links.items():
        assert client.get(path).status == 200, f"status link of {marker} broken after restart"
    # Cut-off requests landed whole or not at all; nothing else appeared.
    landed_cut_off = [m for m in cut_off if f"fault test {m}" in stored]
    assert all(stored[f"fault test {m}"] == 1 for m in landed_cut_off)
    assert sum(stored.values()) == len(committed) + len(landed_cut_off)
    refused = [m for m, r in results.items() if r == REFUSED]
    assert not any(f"fault test {m}" in stored for m in refused)

    # No half rows anywhere in the database.
    half = database.rows(
        "SELECT s.id, "
        " (SELECT count(*) FROM run_samples r WHERE r.submission_id = s.id) AS runs, "
        " (SELECT count(*) FROM audit_events a WHERE a.submission_id = s.id "
        "    AND a.from_state IS NULL) AS arrivals "
        "FROM submissions s")
    problems = [row for row in half if row.runs < 3 or row.arrivals != 1]
    assert problems == [], f"half-written submissions: {problems}"
    assert database.scalar(
        "SELECT count(*) FROM run_samples r WHERE NOT EXISTS "
        "(SELECT 1 FROM submissions s WHERE s.id = r.submission_id)") == 0
    assert database.scalar(
        "SELECT count(*) FROM submissions WHERE notes LIKE 'fault test %' AND state <> 'queued'"
    ) == 0
    if database.backend == "sqlite":
        assert database.scalar("PRAGMA integrity_check") == "ok"
        assert database.rows("PRAGMA foreign_key_check") == []

    # The restarted server works: a new submission goes through.
    reply = client.post("/submit/benchmark", {**fresh_form(client, "x"),
                                              "notes": "fault test after restart"})
    assert reply.status == 303, reply.body[:2000]
    assert not SERVER_ERRORS.search(server.logs()), server.logs()[-5000:]

    print(f"figures: {kills} SIGKILLs of master+workers with {CLIENTS} clients submitting; "
          f"{len(committed)} answered 303, all present after restart; "
          f"{len(cut_off)} cut off mid-request, {len(landed_cut_off)} of them landed whole; "
          f"0 half rows")
