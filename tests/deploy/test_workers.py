"""Several gunicorn workers under concurrent load from many clients.

Sixteen visitors, each with its own cookie jar, CSRF token and address, fire fresh
submissions and feedback notes past their rate limits while three reviewers decide
the queue as it fills; then two reviewers race, deciding the same submission at the
same instant, again and again. Afterwards the
database holds every accepted submission and note exactly once and nothing refused,
every decision has its audit event and each submission's audit trail is one unbroken
chain, the limits held across worker processes, and no error reached a user.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from tests.deploy.conftest import TEST_RATE_LIMITS, Deployment, WebClient, csrf_from, unique_marker

pytestmark = pytest.mark.slow

SUBMITTERS = 16
SUBMISSIONS_EACH = TEST_RATE_LIMITS["submissions"][0] + 1
FEEDBACK_EACH = TEST_RATE_LIMITS["feedback"][0] + 1
REVIEWERS = ("ada", "grace", "edsger")
RACES = 8
REVIEWER_PASSWORD = "correct horse battery staple 42"  # noqa: S105 - a test account
# Server log lines that mean a request failed on the server's side.
SERVER_ERRORS = re.compile(r"Traceback|database is locked|unhandled error|\[CRITICAL\]|"
                           r"WORKER TIMEOUT|\" 5\d\d ")

FRESH_VALUES = {
    "model": "llama-3.1-8b-instruct",
    "hardware": "rtx-4090",
    "hardware_count": "1",
    "quant": "gguf-q4_k_m",
    "runtime": "llama-cpp",
    "runtime_version": "b4500",
    "driver_version": "NVIDIA 560.35.03 / CUDA 12.6",
    "os_label": "Ubuntu 24.04",
    "concurrent_users": "1",
    "prompt_tokens": "500",
    "max_tokens": "512",
    "seed": "42",
    "quant_provider": "bartowski",
    "vram_peak_mib": "6200",
    "runs-0-ttft_ms": "250", "runs-0-tokens_generated": "512", "runs-0-decode_tps": "100",
    "runs-1-ttft_ms": "252", "runs-1-tokens_generated": "512", "runs-1-decode_tps": "101",
    "runs-2-ttft_ms": "248", "runs-2-tokens_generated": "512", "runs-2-decode_tps": "99",
}


def fresh_form(client: WebClient, marker: str) -> dict[str, str]:
    """The fresh form as a browser would post it: its hidden fields kept, ours typed in."""
    _page, form = client.form("/submit/benchmark", action="/submit/benchmark")
    values = form.defaults()
    values.update(FRESH_VALUES)
    values["notes"] = f"load test {marker}"
    return values


def feedback_form(client: WebClient, hub_id: int, marker: str) -> tuple[str, dict[str, str]]:
    _page, form = client.form(f"/submit/feedback?benchmark={hub_id}")
    values = form.defaults()
    kind = form.field("kind")
    values["kind"] = next((o for o in kind.options if o), "other") if kind else "other"
    values["message"] = f"load test feedback {marker}"
    values.setdefault("benchmark", str(hub_id))
    return form.action or f"/submit/feedback?benchmark={hub_id}", values


@dataclass
class Outcome:
    submissions: dict[str, int] = field(default_factory=dict)  # marker -> status
    status_links: dict[str, str] = field(default_factory=dict)  # marker -> path
    feedback: dict[str, int] = field(default_factory=dict)
    decisions: list[tuple[int, str, int]] = field(default_factory=list)  # id, action, status
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, what: str, status: int, body: str = "") -> None:
        with self.lock:
            self.statuses[status] += 1
            if status >= 500:
                self.failures.append(f"{what} -> {status}: {body[:500]}")


def submitter(server: Deployment, hub_ids: list[int], index: int, outcome: Outcome,
              start: threading.Barrier) -> None:
    client = server.client()
    form = fresh_form(client, "")  # one page load; its CSRF token serves every post
    start.wait()
    for n in range(SUBMISSIONS_EACH):
        marker = unique_marker(f"s{index}n{n}")
        reply = client.post("/submit/benchmark", {**form, "notes": f"load test {marker}"})
        outcome.record(f"submission {marker}", reply.status, reply.body)
        with outcome.lock:
            outcome.submissions[marker] = reply.status
            if reply.status == 303:
                outcome.status_links[marker] = reply.path()
    hub = hub_ids[index % len(hub_ids)]
    action, values = feedback_form(client, hub, "")
    for n in range(FEEDBACK_EACH):
        marker = unique_marker(f"f{index}n{n}")
        reply = client.post(action, {**values, "message": f"load test feedback {marker}"})
        outcome.record(f"feedback {marker}", reply.status, reply.body)
        with outcome.lock:
            outcome.feedback[marker] = reply.status


def login(server: Deployment, name: str) -> tuple[WebClient, str]:
    client = server.client()
    _page, form = client.form("/review/login", action="/review/login")
    values = form.defaults()
    values.update(name=name, password=REVIEWER_PASSWORD)
    reply = client.post("/review/login", values)
    assert reply.status == 303, f"login of {name} -> {reply.status}\n{reply.body[:1000]}"
    queue = client.get("/review/")
    assert queue.status == 200, f"queue page -> {queue.status}"
    return client, csrf_from(queue.body)


RACE_EVERY = 4  # ids with id % RACE_EVERY == 1 are left for the race phase


def reviewer(server: Deployment, seat: int, outcome: Outcome, done: threading.Event,
             start: threading.Barrier, sessions: dict) -> None:
    """Decide queued submissions as they arrive, each reviewer their share of ids."""
    client, token = login(server, REVIEWERS[seat])
    sessions[seat] = (client, token)
    start.wait()
    decided: set[int] = set()
    seats = len(REVIEWERS)
    while True:
        finished = done.is_set()
        queued = server.database.rows(
            "SELECT id FROM submissions WHERE state = 'queued' ORDER BY id")
        mine = [row.id for row in queued if row.id not in decided
                and row.id % seats == seat and row.id % RACE_EVERY != 1]
        for submission_id in mine:
            decided.add(submission_id)
            decide(client, token, submission_id, outcome, REVIEWERS[seat])
        if finished and not mine:
            return
        time.sleep(0.05)


def decide(client: WebClient, token: str, submission_id: int, outcome: Outcome, who: str,
           together: threading.Barrier | None = None) -> int:
    if submission_id % 5 == 0:
        action, form = "reject", {"reason": "Duplicate"}
    else:
        action, form = "approve", {}
    if together is not None:
        together.wait()
    reply = client.post(f"/review/submissions/{submission_id}/{action}",
                        {"csrf_token": token, **form})
    outcome.record(f"{who} {action} #{submission_id}", reply.status, reply.body)
    with outcome.lock:
        outcome.decisions.append((submission_id, action, reply.status))
    return reply.status


def race(sessions: dict, submission_id: int, outcome: Outcome) -> list[int]:
    """Two reviewers send the same decision on one submission at the same instant."""
    together = threading.Barrier(2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(decide, *sessions[seat], submission_id, outcome, REVIEWERS[seat],
                            together) for seat in (0, 1)]
        return sorted(job.result(timeout=60) for job in jobs)


def test_concurrent_clients_across_workers(deployment, deploy_database, add_reviewer):
    for seat, name in enumerate(REVIEWERS):
        add_reviewer(name, REVIEWER_PASSWORD, cli=seat == 0)
    server = deployment()
    database = deploy_database
    outcome = Outcome()
    done = threading.Event()
    start = threading.Barrier(SUBMITTERS + len(REVIEWERS))
    window = TEST_RATE_LIMITS["submissions"][1]
    began = time.time()

    sessions: dict[int, tuple[WebClient, str]] = {}
    with ThreadPoolExecutor(max_workers=len(REVIEWERS)) as reviewers, \
            ThreadPoolExecutor(max_workers=SUBMITTERS) as submitters:
        review_jobs = [reviewers.submit(reviewer, server, seat, outcome, done, start, sessions)
                       for seat in range(len(REVIEWERS))]
        jobs = [submitters.submit(submitter, server, database.public_ids, i, outcome, start)
                for i in range(SUBMITTERS)]
        try:
            for job in jobs:
                job.result(timeout=120)
        finally:
            done.set()
        for job in review_jobs:
            job.result(timeout=120)
    # Races: two reviewers decide the same queued submission at the same instant.
    left = [row.id for row in database.rows(
        "SELECT id FROM submissions WHERE state = 'queued' ORDER BY id")][:RACES]
    assert len(left) >= RACES // 2, f"only {len(left)} submissions left to race on"
    races = {submission_id: race(sessions, submission_id, outcome) for submission_id in left}
    ended = time.time()
    logs = server.logs()

    # No error reached a user, and none happened behind their back either.
    assert outcome.failures == [], "\n".join(outcome.failures)
    assert not SERVER_ERRORS.search(logs), f"server errors in the logs:\n{logs[-5000:]}"

    # Rate limits held across the workers: each client got exactly its allowance
    # (twice that, at most, if the test straddled the start of a new window).
    windows = 1 if int(began) // window == int(ended) // window else 2
    for kind, sent, limit in (
        ("submissions", outcome.submissions, TEST_RATE_LIMITS["submissions"][0]),
        ("feedback", outcome.feedback, TEST_RATE_LIMITS["feedback"][0]),
    ):
        accepted_per_client = Counter(m.split("n")[0] for m, s in sent.items()
                                      if s in (200, 302, 303))
        refused = [m for m, s in sent.items() if s == 429]
        unexpected = {m: s for m, s in sent.items() if s not in (200, 302, 303, 429)}
        assert unexpected == {}, f"{kind}: unexpected statuses {unexpected}"
        for client, accepted in accepted_per_client.items():
            assert limit <= accepted <= limit * windows, (
                f"{kind}: client {client} had {accepted} accepted, limit {limit}")
        assert len(accepted_per_client) == SUBMITTERS
        assert len(refused) >= SUBMITTERS * (len(sent) // SUBMITTERS - limit * windows)

    # Every accepted submission is stored exactly once, every refused one not at all.
    for marker, status in outcome.submissions.items():
        stored = database.scalar("SELECT count(*) FROM submissions WHERE notes LIKE :m",
                                 m=f"%{marker}")
        assert stored == (1 if status == 303 else 0), f"{marker} ({status}) stored {stored}x"
    accepted = sum(1 for s in outcome.submissions.values() if s == 303)
    assert database.scalar("SELECT count(*) FROM submissions WHERE notes LIKE 'load test%'") \
        == accepted
    for marker, status in outcome.feedback.items():
        stored = database.scalar("SELECT count(*) FROM feedback_notes WHERE message LIKE :m",
                                 m=f"%{marker}")
        assert stored == (1 if status in (200, 302, 303) else 0), (
            f"feedback {marker} ({status}) stored {stored}x")

    # No half rows: three runs and an arrival event each.
    assert database.rows(
        "SELECT s.id FROM submissions s WHERE s.notes LIKE 'load test%' AND "
        "(SELECT count(*) FROM run_samples r WHERE r.submission_id = s.id) <> 3 OR "
        "s.notes LIKE 'load test%' AND (SELECT count(*) FROM audit_events a WHERE "
        "a.submission_id = s.id AND a.from_state IS NULL AND a.to_state = 'queued') <> 1"
    ) == []

    # Every decision that succeeded has its audit event, and no other decision does.
    succeeded = [d for d in outcome.decisions if d[2] == 303]
    refused = [d for d in outcome.decisions if d[2] != 303]
    # a decision on a submission another reviewer decided first: 409 (already decided)
    assert all(status == 409 for _id, _action, status in refused), refused
    reviewer_events = sum(
        database.scalar("SELECT count(*) FROM audit_events WHERE actor = :a", a=f"reviewer:{n}")
        for n in REVIEWERS)
    assert reviewer_events == len(succeeded), (
        f"{len(succeeded)} decisions succeeded, {reviewer_events} reviewer audit events")
    # Every status link works, whichever worker answers it.
    checker = server.client()
    for marker, path in outcome.status_links.items():
        assert checker.get(path).status == 200, f"status link of {marker}: {path}"
    # A status link is a capability: the access log keeps its route, never its token.
    served_logs = server.logs()
    assert "/submissions/[token]" in served_logs, "the status pages were requested"
    for path in outcome.status_links.values():
        token = path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        assert token not in served_logs, f"a status token reached the log: {path}"

    # No raw client address was kept or logged (every client claimed a 203.0.11x.x).
    assert "203.0.11" not in logs
    for table, column in (("submissions", "ip_hash"), ("feedback_notes", "ip_hash"),
                          ("rate_counters", "bucket"), ("audit_events", "reason")):
        assert database.scalar(
            f"SELECT count(*) FROM {table} WHERE {column} LIKE '%203.0.11%'") == 0

    print(f"figures: {SUBMITTERS} submitters + {len(REVIEWERS)} reviewers on "
          f"{server.workers} {database.backend} workers; {accepted} submissions, "
          f"{sum(1 for s in outcome.feedback.values() if s in (200, 302, 303))} feedback notes, "
          f"{len(succeeded)} decisions stored, {len(refused)} refused "
          f"({len(races)} simultaneous pairs); "
          f"statuses {dict(outcome.statuses)}")

    lost_races = {i: statuses for i, statuses in races.items() if statuses != [303, 409]}
    assert lost_races == {}, (
        f"simultaneous decisions on one submission must let exactly one through (303) and "
        f"refuse the other (409: already decided); got {lost_races}")

    # Each submission's trail is one chain: every event starts where the last ended.
    events = database.rows(
        "SELECT submission_id, from_state, to_state FROM audit_events ORDER BY id")
    last: dict[int, str | None] = {}
    for submission_id, from_state, to_state in events:
        assert from_state == last.get(submission_id), (
            f"#{submission_id}: event {from_state}->{to_state} after {last.get(submission_id)}"
            " (two decisions were taken on the same state)")
        last[submission_id] = to_state
    states = dict(database.rows("SELECT id, state FROM submissions"))
    for submission_id, state in last.items():
        assert states[submission_id] == state
