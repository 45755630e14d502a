"""Only public data leaves through the API: every endpoint walked (every page of every
list, every row, the OpenAPI paths, the /api page), and nothing private found in it."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from tests.api.conftest import PRIVATE_HANDLE, REVIEWER_NAME
from webapp.extensions import db
from webapp.models import Reviewer, Submission
from webapp.services import demo
from webapp.services.rules import PUBLIC_STATES, State

PRIVATE_FIELDS = {"ip_hash", "ip_day", "status_nonce", "nonce", "operator_key", "token",
                  "session_token", "password_hash", "rejection_reason", "reviewer", "actor",
                  "state", "source_sha256_private"}
ROW_URL = re.compile(r"/benchmarks/(\d+)")


def _ids_and_keys(value, ids: set[int], keys: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            keys.add(key)
            if key == "id" and isinstance(item, int):
                ids.add(item)
            _ids_and_keys(item, ids, keys)
    elif isinstance(value, list):
        for item in value:
            _ids_and_keys(item, ids, keys)
    elif isinstance(value, str):
        ids.update(int(found) for found in ROW_URL.findall(value))


def _answers(client, catalog) -> list[tuple[str, str]]:
    """(url, body) of every page of every endpoint the document lists."""
    document = client.get("/api/v1/openapi.json").get_json()
    every_row = db.session.scalars(select(Submission.id)).all()
    answers: list[tuple[str, str]] = []
    for path, described in document["paths"].items():
        names = {p["name"] for p in described["get"]["parameters"]}
        if "{benchmark_id}" in path:
            urls = [path.replace("{benchmark_id}", str(row_id)) for row_id in every_row]
        elif "sort" in names:
            urls = [f"{path}?limit=1&stale=true&sort={sort}"
                    for sort in next(p for p in described["get"]["parameters"]
                                     if p["name"] == "sort")["schema"]["enum"]]
        elif "limit" in names:
            urls = [f"{path}?limit=1"]
        else:
            urls = [path]
        for url in urls:
            while url:
                response = client.get(url)
                text = response.get_data(as_text=True)
                answers.append((url, text))
                url = (response.get_json(silent=True) or {}).get("next") \
                    if response.status_code == 200 else None
    page = client.get("/api")
    answers.append(("/api", page.get_data(as_text=True)))
    return answers


def test_no_private_row_or_field_leaves_through_the_api(client, catalog):
    answers = _answers(client, catalog)
    public_ids = {row.id for row in catalog.public}
    clean_ids = {row.id for row in catalog.clean_reproductions}
    private_ids = {row.id for row in catalog.private}
    secrets = [PRIVATE_HANDLE, REVIEWER_NAME, "rejected-rex", "withdrawn-wanda",
               "queued-quentin", "rejected-repro-ralph", "withdrawn-repro-wes", "a" * 64]
    rows = db.session.scalars(select(Submission)).all()
    secrets += [row.status_nonce for row in rows]
    secrets += [row.operator_key for row in rows if row.operator_key.startswith("anon:")]
    reviewer = db.session.scalars(select(Reviewer)).one()
    secrets += [reviewer.session_token, reviewer.password_hash]

    seen_ids: set[int] = set()
    for url, text in answers:
        for secret in secrets:
            assert secret not in text, (url, secret)
        if url == "/api":
            continue
        body = json.loads(text)
        ids: set[int] = set()
        keys: set[str] = set()
        _ids_and_keys(body, ids, keys)
        if "/openapi.json" not in url:  # the document names schemas' fields, not values
            assert not keys & PRIVATE_FIELDS, (url, keys & PRIVATE_FIELDS)
        asked = ROW_URL.search(url)
        if asked and int(asked.group(1)) in private_ids | clean_ids:
            assert body["status"] == 404  # its own address is all the problem names
            continue
        seen_ids |= ids
    assert not seen_ids & private_ids
    # the walk did reach the public rows and their clean reproductions
    assert public_ids <= seen_ids and clean_ids <= seen_ids


def test_the_schemas_have_no_private_field(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for name, schema in document["components"]["schemas"].items():
        assert not set(schema.get("properties", {})) & PRIVATE_FIELDS, name


def test_anonymous_reproductions_stay_anonymous(client, catalog):
    body = client.get(f"/api/v1/benchmarks/{catalog.hub.id}").get_json()
    anonymous = [r for r in body["reproductions"] if r["operator"] is None]
    assert len(anonymous) == 1 and anonymous[0]["operator_url"] is None
    operators = client.get("/api/v1/operators").get_json()["items"]
    assert {item["handle"] for item in operators} == {"ringo", "paula"}


def test_the_demo_catalogs_private_rows_stay_private(client, app):
    """The seeded demo has every state, hidden fresh rows, reviewers' audit trails and
    feedback: walked end to end, only approved-public rows and clean reproductions show."""
    demo.seed(db.session, rows=40, random_seed=3)
    db.session.commit()
    rows = db.session.scalars(select(Submission)).all()
    listed = {row.id for row in rows if row.state == State.APPROVED}
    shown = listed | {row.id for row in rows if row.state == State.REPRODUCED}
    private = {row.id for row in rows if State(row.state) not in PUBLIC_STATES}
    assert private and listed
    secrets = [*demo.REVIEWERS, *(name.split(":", 1)[1] for name in demo.REVIEWERS)]
    secrets += [row.status_nonce for row in rows]
    secrets += [row.ip_hash for row in rows if row.ip_hash]
    secrets += [row.operator_key for row in rows if row.operator_key.startswith("anon:")]
    secrets += [row.handle for row in rows if row.handle and row.id in private
                and not any(other.handle == row.handle for other in rows if other.id in shown)]
    seen: set[int] = set()
    for url, text in _answers(client, None):
        for secret in secrets:
            assert secret not in text, (url, secret)
        if url == "/api":
            continue
        asked = ROW_URL.search(url)
        if asked and int(asked.group(1)) not in listed:
            continue  # a 404 problem names only its own address
        ids: set[int] = set()
        _ids_and_keys(json.loads(text), ids, set())
        seen |= ids
    assert not seen & private
    assert listed <= seen
