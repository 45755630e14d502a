"""What a decision locks on PostgreSQL: its own submission row, nothing shared.

Under load on several workers a plain FOR UPDATE on the eagerly joined load locked the
model and hardware rows every decision shares and deadlocked against submissions that
referenced them (tests/deploy caught it). SQLite has no row locks: writers queue on
BEGIN IMMEDIATE instead.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from webapp.extensions import db
from webapp.models import Submission
from webapp.services import moderation
from webapp.services.rules import State


@pytest.fixture
def locked_row(app, session, make_row):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers with BEGIN IMMEDIATE")
    row = make_row(state=State.QUEUED)
    session.commit()
    ids = {"row": row.id, "model": row.model_id, "hardware": row.hardware_id}
    # as a decision does (review.submission_or_404(lock=True))
    session.get(Submission, ids["row"], with_for_update=moderation.ROW_LOCK,
                populate_existing=True)
    yield ids
    session.rollback()


def _try(connection, statement: str, **params) -> bool:
    """Whether the lock is granted at once."""
    try:
        with connection.begin():
            connection.execute(text(statement), params)
        return True
    except OperationalError:  # NOWAIT: "could not obtain lock"
        return False


def test_a_decision_locks_its_row_and_no_reference_row(locked_row):
    with db.engine.connect() as other:
        assert _try(other, "SELECT id FROM model_variants WHERE id = :id FOR UPDATE NOWAIT",
                    id=locked_row["model"])
        assert _try(other, "SELECT id FROM hardware WHERE id = :id FOR UPDATE NOWAIT",
                    id=locked_row["hardware"])
        # a new reproduction referencing the row (a foreign key's KEY SHARE) goes ahead
        assert _try(other, "SELECT id FROM submissions WHERE id = :id FOR KEY SHARE NOWAIT",
                    id=locked_row["row"])
        # a second decision on the same row waits for the first
        assert not _try(other, "SELECT id FROM submissions WHERE id = :id "
                               "FOR NO KEY UPDATE NOWAIT", id=locked_row["row"])
