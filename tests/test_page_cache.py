"""Shared public pages: served from a worker's store, never stale after a change.

"Served from the store" is observed by changing the database behind the app's back
(a Core UPDATE, which bumps no version): a stored page keeps showing the old value.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, delete, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests.test_submit_support import fresh_form
from webapp.models import SiteState, Submission, utcnow
from webapp.services import data_version, moderation
from webapp.services.rules import State
from webapp.web import page_cache


@pytest.fixture
def hub(make_row, session):
    row = make_row(os_label="Ubuntu 24.04 before")
    session.commit()
    return row


def change_behind_the_apps_back(session, row_id: int, os_label: str) -> None:
    session.execute(update(Submission).where(Submission.id == row_id).values(os_label=os_label))
    session.commit()


def test_a_shared_page_is_served_from_the_store_until_public_data_changes(
    client, session, hub, make_row
):
    url = f"/benchmarks/{hub.id}"
    assert "Ubuntu 24.04 before" in client.get(url).text
    change_behind_the_apps_back(session, hub.id, "Ubuntu 24.04 behind")
    assert "Ubuntu 24.04 before" in client.get(url).text, "the second view is the stored page"

    # Any ORM change to public data moves the version: the next view is rendered anew.
    queued = make_row(state=State.QUEUED)
    session.commit()
    moderation.approve_public(session, queued, actor="reviewer:test", now=utcnow())
    session.commit()
    assert "Ubuntu 24.04 behind" in client.get(url).text


def test_a_decision_in_another_worker_shows_on_the_next_view(app, client, session, make_row):
    """Another engine and session on the same database stand for another worker."""
    queued = make_row(state=State.QUEUED)
    session.commit()
    # Read the id now: touching the row later would open a read transaction in the
    # test's session, whose snapshot would hide the other worker's commit from it.
    queued_id = queued.id
    link = f'href="/benchmarks/{queued_id}"'
    assert link not in client.get("/").text  # rendered and stored by this worker

    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with Session(engine) as other:
            row = other.get(Submission, queued_id)
            moderation.approve_public(other, row, actor="reviewer:other", now=utcnow())
            other.commit()
    finally:
        engine.dispose()

    assert link in client.get("/").text, "the other worker's decision shows at once"


def test_a_refused_decision_moves_no_version(session, make_row):
    row = make_row(state=State.QUEUED)
    session.commit()
    before = data_version.current(session)
    with pytest.raises(moderation.TransitionError):
        moderation.reject(session, row, actor="reviewer:test", now=utcnow(), reason="")
    session.rollback()
    assert data_version.current(session) == before


def test_fragment_and_page_are_stored_apart(client, hub):
    fragment = client.get("/", headers={"HX-Request": "true"}).text
    page = client.get("/").text
    assert "<html" not in fragment and "<html" in page
    assert "<html" not in client.get("/", headers={"HX-Request": "true"}).text
    history = client.get("/", headers={"HX-Request": "true",
                                       "HX-History-Restore-Request": "true"}).text
    assert "<html" in history


def test_entries_expire_so_ages_and_tiers_follow_the_clock(
    client, session, hub, monkeypatch
):
    url = f"/benchmarks/{hub.id}"
    client.get(url)
    change_behind_the_apps_back(session, hub.id, "Ubuntu 24.04 later")
    clock = page_cache.time.monotonic() + 61
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: clock)
    assert "Ubuntu 24.04 later" in client.get(url).text


def test_the_cache_can_be_switched_off(app, client, session, hub):
    app.config["PAGE_CACHE_SECONDS"] = 0
    url = f"/benchmarks/{hub.id}"
    client.get(url)
    change_behind_the_apps_back(session, hub.id, "Ubuntu 24.04 uncached")
    assert "Ubuntu 24.04 uncached" in client.get(url).text


def test_shared_pages_carry_no_token_and_set_no_cookie_but_forms_do(client, hub):
    for url in ("/", f"/benchmarks/{hub.id}", "/operators", "/hardware/rtx-4090",
                "/resources/verification-policy"):
        response = client.get(url)
        assert response.status_code == 200
        assert 'name="csrf-token"' not in response.text, url
        assert not response.headers.getlist("Set-Cookie"), url
    form = client.get("/submit/benchmark")
    assert 'name="csrf-token"' in form.text and form.headers.getlist("Set-Cookie")
    # htmx on a shared page still posts with a token: every form page carries its own.
    assert 'name="csrf-token"' in client.get(f"/benchmarks/{hub.id}/reproduce").text


def test_a_visitor_with_a_flash_message_gets_their_own_page(client, session, hub):
    url = f"/benchmarks/{hub.id}"
    client.get(url)  # stored
    with client.session_transaction() as visitor:
        visitor["_flashes"] = [("success", "Your feedback was sent.")]
    page = client.get(url).text
    assert "Your feedback was sent." in page
    assert "Your feedback was sent." not in client.get(url).text  # shown once, never shared


def test_a_logged_in_reviewer_is_never_served_a_shared_page(client, session, hub):
    url = f"/benchmarks/{hub.id}"
    client.get(url)
    change_behind_the_apps_back(session, hub.id, "Ubuntu 24.04 reviewer")
    with client.session_transaction() as visitor:
        visitor["_user_id"] = "1:whatever"
    assert "Ubuntu 24.04 reviewer" in client.get(url).text


def test_a_database_without_the_version_row_gets_one_on_the_first_change(session, make_row):
    """create_all builds no row (the migration inserts it); the first change adds it."""
    session.execute(delete(SiteState))
    session.commit()
    assert data_version.current(session) == 0
    make_row()
    session.commit()
    assert data_version.current(session) == 1
    make_row()
    session.commit()
    assert data_version.current(session) == 2


def test_a_failed_version_bump_never_turns_a_stored_change_into_an_error(
    session, make_row, monkeypatch, caplog
):
    """The decision is committed before the bump: the reviewer must not see an error."""
    def locked(_engine):
        raise OperationalError("UPDATE site_state", {}, Exception("database is locked"))

    monkeypatch.setattr(data_version, "bump", locked)
    # alembic's logging setup (the migration tests) disables loggers that exist by then
    monkeypatch.setattr(data_version.logger, "disabled", False)
    row = make_row(state=State.QUEUED)
    session.commit()
    moderation.approve_public(session, row, actor="reviewer:test", now=utcnow())
    session.commit()  # does not raise
    session.expire_all()
    assert session.get(Submission, row.id).state == State.APPROVED
    assert "could not move the data version on" in caplog.text


def test_queued_submissions_and_withdrawals_leave_stored_pages_alone(client, session, app):
    """The commonest writes are not public: they must not empty every worker's store."""
    app.config["WTF_CSRF_ENABLED"] = False
    before = data_version.current(session)
    response = client.post("/submit/benchmark", data=fresh_form())
    assert response.status_code == 303
    status = response.headers["Location"]
    assert client.post(status.split("?")[0] + "/withdraw").status_code == 303
    session.rollback()
    assert data_version.current(session) == before


def test_rejecting_from_the_queue_keeps_pages_and_revising_a_public_row_drops_them(
    client, session, make_row
):
    queued = make_row(state=State.QUEUED)
    public = make_row()
    session.commit()
    before = data_version.current(session)
    moderation.reject(session, queued, actor="reviewer:test", now=utcnow(), reason="duplicate")
    session.commit()
    assert data_version.current(session) == before

    url = f"/benchmarks/{public.id}"
    assert client.get(url).status_code == 200  # stored
    moderation.revise(session, public, State.REJECTED, actor="reviewer:test", now=utcnow(),
                      reason="numbers were wrong")
    session.commit()
    assert data_version.current(session) == before + 1
    assert client.get(url).status_code == 404, "a rejected row vanishes at once"


def test_a_savepoint_rolled_back_keeps_the_outer_change_counted(session, make_row):
    before = data_version.current(session)
    make_row()
    session.flush()
    with pytest.raises(RuntimeError), session.begin_nested():
        make_row(state=State.QUEUED)
        session.flush()
        raise RuntimeError("a step that failed inside a savepoint")
    session.commit()
    assert data_version.current(session) == before + 1
