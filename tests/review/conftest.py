"""The reviewer tests: every one runs with fast password hashing. The helpers and the
reviewer fixtures live in tests/reviewers.py, loaded for the whole suite."""

from __future__ import annotations

import pytest

from tests.reviewers import (  # noqa: F401  (re-exported for the review tests)
    CSRF_META,
    PASSWORD,
    ReviewerClient,
    csrf_token,
    fast_hashing,
    login,
)


@pytest.fixture(autouse=True)
def review_app(app):
    fast_hashing(app)
    return app
