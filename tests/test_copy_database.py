"""Moving a site from SQLite to PostgreSQL (`flask copy-database`): everything comes
along with its ids, the site serves the same pages from the copy, new rows take new ids,
and a copy that cannot be made says why and writes nothing. The target is PostgreSQL
when TEST_DATABASE_URL names one (a schema of its own), else another SQLite file."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from tests.conftest import database_of_its_own
from tests.test_submit_support import fresh_form
from webapp import create_app
from webapp.extensions import db
from webapp.models import AuditEvent, Reviewer, RunSample, Submission
from webapp.services.reference import load_reference

SCHEMA = "copy_check"


def _app(url: str):
    return create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url,
                       "PAGE_CACHE_SECONDS": 0, "WTF_CSRF_ENABLED": False,
                       "RATE_LIMITS_ENABLED": False})


@pytest.fixture
def target_url(tmp_path):
    with database_of_its_own(tmp_path, SCHEMA) as url:
        yield url


@pytest.fixture
def make_app(target_url):
    """An app on a URL; their connections closed before the target's schema is dropped."""
    made = []

    def build(url: str):
        made.append(_app(url))
        return made[-1]

    yield build
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def source(tmp_path, make_app):
    """An SQLite site as make run leaves it: migrated, reference data, a demo catalog and
    a reviewer."""
    url = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    app = make_app(url)
    with app.app_context():
        upgrade()
    for command in (["seed-reference"], ["seed-demo", "--rows", "40", "--seed", "3"]):
        result = run(app, *command)
        assert result.exit_code == 0, result.output
    result = run(app, "reviewer", "add", "marta", input="a long passphrase\n")
    assert result.exit_code == 0, result.output
    return app, url


def run(app, *args: str, input: str | None = None):  # noqa: A002 - click's own name
    """`flask <args>` against `app`, in its application context as the flask command is."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args), input=input)


@pytest.fixture
def migrated(make_app, target_url):
    def build(*, reference: bool = False):
        app = make_app(target_url)
        with app.app_context():
            upgrade()
            if reference:  # as a self-hoster following the deployment guide may have done
                load_reference(db.session)
                db.session.commit()
        return app
    return build


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return {table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables}


def test_a_site_moves_with_its_rows_ids_and_pages(source, migrated):
    source_app, source_url = source
    target_app = migrated(reference=True)
    result = run(target_app, "copy-database", source_url)
    assert result.exit_code == 0, result.output
    assert "submissions:" in result.output and "the source is unchanged" in result.output

    assert _counts(target_app) == _counts(source_app)
    with source_app.app_context():
        hub = db.session.scalars(select(Submission).where(Submission.state == "approved-public")
                                 .order_by(Submission.derived_repro_count.desc())).first()
        hub_id, largest = hub.id, db.session.scalar(select(func.max(Submission.id)))
        expected = {path: source_app.test_client().get(path).get_data()
                    for path in ("/", f"/benchmarks/{hub_id}", "/operators",
                                 f"/api/v1/benchmarks/{hub_id}")}
    target = target_app.test_client()
    for path, body in expected.items():
        response = target.get(path)
        assert response.status_code == 200, path
        assert response.get_data() == body, f"{path} reads otherwise on the copy"

    # the reviewer signs in with the same passphrase; a new row takes a new id
    with target_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reviewer)) == 1
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) > 0
        assert db.session.scalar(select(func.count()).select_from(RunSample)) > 0
    response = target.post("/submit/benchmark", data=fresh_form())
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    with target_app.app_context():
        assert db.session.scalar(select(func.max(Submission.id))) == largest + 1
    signed_in = target_app.test_client()
    response = signed_in.post("/review/login", data={"name": "marta",
                                                     "password": "a long passphrase"})
    assert response.status_code == 303


def test_a_target_that_holds_rows_is_refused_and_left_as_it_was(source, migrated):
    _source_app, source_url = source
    target_app = migrated()
    assert run(target_app, "copy-database", source_url).exit_code == 0
    before = _counts(target_app)
    result = run(target_app, "copy-database", source_url)
    assert result.exit_code == 1
    assert "already holds rows (" in result.output and "submissions" in result.output
    assert _counts(target_app) == before


def test_a_source_at_another_revision_or_no_schema_is_refused(source, migrated, target_url,
                                                             tmp_path):
    source_app, source_url = source
    target_app = migrated()
    with source_app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = 'older'"))
        db.session.commit()
    result = run(target_app, "copy-database", source_url)
    assert result.exit_code == 1 and "revision older" in result.output
    empty = f"sqlite:///{tmp_path / 'nothing.sqlite3'}"
    result = run(target_app, "copy-database", empty)
    assert result.exit_code == 1 and "no Trustbench schema" in result.output
    result = run(target_app, "copy-database", "not a url")
    assert result.exit_code == 1 and "Not a database address" in result.output
    result = run(target_app, "copy-database", target_url)
    assert result.exit_code == 1 and "name the other one" in result.output
    assert sum(_counts(target_app).values()) == 1  # site_state's row, as migrated
