"""Reviewer helpers for the whole suite (loaded as a pytest plugin): a reviewer account
with fast password hashing, a logged-in client, the login and CSRF helpers."""

from __future__ import annotations

import re

import pytest

from webapp.extensions import db
from webapp.services import accounts

PASSWORD = "correct horse battery"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def fast_hashing(app) -> None:
    # argon2id at its smallest cost: the tests are about the flow, not the hash's strength.
    app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8, ARGON2_PARALLELISM=1)


def csrf_token(client, path: str = "/review/login") -> str:
    response = client.get(path)
    match = CSRF_META.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1)


class ReviewerClient:
    """A test client logged in as a reviewer; post() adds the session's CSRF token."""

    def __init__(self, client, reviewer):
        self.client = client
        self.reviewer = reviewer
        self._token = None

    def get(self, *args, **kwargs):
        return self.client.get(*args, **kwargs)

    def token(self) -> str:
        if self._token is None:
            self._token = csrf_token(self.client, "/review/")
        return self._token

    def post(self, path, data=None, **kwargs):
        payload = {"csrf_token": self.token(), **(data or {})}
        return self.client.post(path, data=payload, **kwargs)

    def htmx_post(self, path, data=None):
        return self.post(path, data, headers={"HX-Request": "true"})


def login(client, name: str, password: str, **extra):
    token = csrf_token(client)
    return client.post("/review/login",
                       data={"csrf_token": token, "name": name, "password": password, **extra})


@pytest.fixture
def reviewer(app):
    fast_hashing(app)
    account = accounts.add_reviewer(db.session, "alice", PASSWORD)
    db.session.commit()
    return account


@pytest.fixture
def reviewer_client(client, reviewer):
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)
    return ReviewerClient(client, reviewer)
