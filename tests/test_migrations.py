"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from tests.conftest import database_of_its_own
from webapp import create_app
from webapp.extensions import db

SCHEMA = "migration_check"


@pytest.fixture
def migrated_url(tmp_path):
    with database_of_its_own(tmp_path, SCHEMA) as url:
        yield url


def _app(url):
    return create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})


def test_upgrade_matches_models_and_downgrade_empties(migrated_url):
    app = _app(migrated_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        tables = set(inspect(db.engine).get_table_names())
        assert {"submissions", "audit_events", "reviewers", "rate_counters"} <= tables

        downgrade(revision="base")
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        db.engine.dispose()


def test_migrated_database_refuses_to_change_audit_events(migrated_url):
    app = _app(migrated_url)
    with app.app_context():
        upgrade()
        from webapp.services.reference import load_reference

        load_reference(db.session)
        db.session.commit()
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO submissions (kind, state, model_id, hardware_id, hardware_count,"
                " quant_id, runtime_id, concurrent_users, speculative, batch_gt1, tensor_parallel,"
                " ttft_ms, decode_tps, tokens_generated, ttft_spread, decode_spread, vram_peak_mib,"
                " notes, operator_key, status_nonce, is_demo, created_at, measured_at,"
                " derived_repro_count) VALUES ('fresh', 'queued', 1, 1, 1, 1, 1, 1, false, false,"
                " false, 200, 100, 512, 0, 0, 6000, '', 'anon:x', 'nonce', false,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)"
            ))
            conn.execute(text(
                "INSERT INTO audit_events (submission_id, actor, from_state, to_state, reason,"
                " created_at) VALUES (1, 'submitter', NULL, 'queued', '', CURRENT_TIMESTAMP)"
            ))
        for statement in ("UPDATE audit_events SET reason = 'edited'", "DELETE FROM audit_events"):
            with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
                conn.execute(text(statement))
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT reason FROM audit_events")).scalar_one() == ""
        db.engine.dispose()
