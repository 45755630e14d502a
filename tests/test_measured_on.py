"""The measurement date (SPEC §11): both public forms carry "measured on" (default today,
never in the future, a reproduction never before its original's date), the row is dated
by it, age counts from it, and the live check says what the POST decides."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.test_submit_support import (
    assert_values_kept,
    field_error,
    form_values,
    fresh_form,
    lock_token_of,
    repro_form,
)
from webapp.models import Submission
from webapp.services import evidence
from webapp.services.rules import Kind, State


def today():
    return datetime.now(UTC).date()


def stored(session) -> list[Submission]:
    session.expire_all()
    return session.scalars(select(Submission).where(Submission.state == State.QUEUED)).all()


def test_both_forms_offer_the_date_defaulting_to_today(client, session, make_row):
    hub = make_row()
    session.commit()
    for path in ("/submit/benchmark", f"/benchmarks/{hub.id}/reproduce"):
        assert form_values(client.get(path).text)["measured_on"] == today().isoformat(), path


def test_a_fresh_run_is_dated_by_its_measurement_date_and_ages_from_it(client, session,
                                                                        no_csrf):
    day = today() - timedelta(days=400)
    response = client.post("/submit/benchmark", data=fresh_form(measured_on=day.isoformat()))
    assert response.status_code == 303
    [row] = stored(session)
    assert row.measured_at.date() == day
    assert row.created_at.date() == today()
    row.state = State.APPROVED
    evidence.refresh_derived(session, row)
    session.flush()
    shown = evidence.assess_hubs(session, [row], datetime.now(UTC))[row.id].confidence
    assert shown.age_days in (399, 400)  # from the measurement, not from the arrival


def test_a_blank_date_means_today(client, session, no_csrf):
    before = datetime.now(UTC)
    assert client.post("/submit/benchmark", data=fresh_form(measured_on="")).status_code == 303
    [row] = stored(session)
    # A day's runs are stored at its noon (UTC), or at the moment they arrived when that
    # is earlier: never in the future, and on today's date (the test before noon and after).
    noon = datetime.combine(before.date(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    assert row.measured_at == min(noon, row.measured_at)
    assert row.measured_at.date() == before.date()
    assert row.measured_at <= datetime.now(UTC)
    assert row.measured_at >= min(before, noon)


@pytest.mark.parametrize(("typed", "message"), [
    ("tomorrow", "YYYY-MM-DD"),
    ("15/01/2025", "YYYY-MM-DD"),
    ("2025-02-30", "YYYY-MM-DD"),
    ("future", "cannot be in the future"),
    ("0001-01-01", "cannot be before 2023-01-01"),
    ("1999-12-31", "cannot be before 2023-01-01"),
    ("2022-12-31", "cannot be before 2023-01-01"),
])
def test_bad_dates_are_refused_beside_the_field(client, session, no_csrf, typed, message):
    if typed == "future":
        typed = (today() + timedelta(days=1)).isoformat()
    sent = fresh_form(measured_on=typed)
    response = client.post("/submit/benchmark", data=sent)
    assert response.status_code == 422
    assert message in field_error(response.text, "measured_on")
    assert_values_kept(response.text, sent)
    assert stored(session) == []


def test_the_earliest_measurement_date_is_accepted(client, session, no_csrf):
    response = client.post("/submit/benchmark", data=fresh_form(measured_on="2023-01-01"))
    assert response.status_code == 303
    [row] = stored(session)
    assert row.measured_at.date().isoformat() == "2023-01-01"


def test_a_reproduction_is_never_dated_before_its_original(client, session, make_row,
                                                           no_csrf):
    hub = make_row(age_days=10)
    session.commit()
    hub_day = hub.measured_at.date()
    early = repro_form(lock_token_of(client, hub.id),
                       measured_on=(hub_day - timedelta(days=1)).isoformat())
    response = client.post(f"/benchmarks/{hub.id}/reproduce", data=early)
    assert response.status_code == 422
    assert hub_day.isoformat() in field_error(response.text, "measured_on")
    assert stored(session) == []
    same_day = repro_form(lock_token_of(client, hub.id), measured_on=hub_day.isoformat())
    assert client.post(f"/benchmarks/{hub.id}/reproduce", data=same_day).status_code == 303
    [row] = stored(session)
    assert row.kind == Kind.REPRODUCTION and row.measured_at.date() == hub_day


def test_the_live_check_says_what_the_post_decides(client, session, make_row, no_csrf):
    hub = make_row(age_days=10)
    session.commit()
    cases = [
        ("/submit/benchmark/check", "/submit/benchmark",
         fresh_form(measured_on=(today() + timedelta(days=3)).isoformat())),
        (f"/benchmarks/{hub.id}/reproduce/check", f"/benchmarks/{hub.id}/reproduce",
         repro_form(lock_token_of(client, hub.id),
                    measured_on=(hub.measured_at.date() - timedelta(days=2)).isoformat())),
    ]
    for live, post, form in cases:
        verdict = field_error(client.post(post, data=form).text, "measured_on")
        assert verdict
        fragment = client.post(live, data=form, headers={"HX-Request": "true"}).text
        assert verdict in fragment.replace("&#39;", "'"), live
        fine = {**form, "measured_on": today().isoformat()}
        fragment = client.post(live, data=fine, headers={"HX-Request": "true"}).text
        assert "warn-date" not in fragment


def test_the_error_summary_names_the_date_and_a_refused_run_keeps_it(client, session,
                                                                      make_row, no_csrf):
    sent = fresh_form(measured_on="yesterday")
    response = client.post("/submit/benchmark", data=sent)
    assert response.status_code == 422
    assert "Measured on:" in response.text  # the summary's link says which field
    hub = make_row(age_days=30)
    session.commit()
    day = (today() - timedelta(days=3)).isoformat()
    # 50% slower than the original: refused, with a link to a pre-filled fresh form
    far = repro_form(lock_token_of(client, hub.id), measured_on=day,
                     runs=((500.0, 512, 50.0), (505.0, 512, 50.5), (495.0, 512, 49.5)))
    refused = client.post(f"/benchmarks/{hub.id}/reproduce", data=far)
    assert refused.status_code == 422
    assert f"measured_on={day}" in refused.text


def test_the_date_fields_tell_the_browser_the_earliest_day(client, session, make_row,
                                                           reviewer_client):
    """The date picker cannot offer a day the server refuses: the fresh form's and the
    editorial form's earliest is 2023-01-01, a reproduction's is its original's day."""
    hub = make_row(age_days=10)
    session.commit()

    def earliest(html: str) -> str:
        field = re.search(r'<input type="date"[^>]*>|<input[^>]*type="date"[^>]*>', html)
        return re.search(r'\bmin="([^"]+)"', field.group(0)).group(1)

    assert earliest(client.get("/submit/benchmark").text) == "2023-01-01"
    assert earliest(client.get(f"/benchmarks/{hub.id}/reproduce").text) == (
        hub.measured_at.date().isoformat())
    assert earliest(reviewer_client.get("/review/editorial").text) == "2023-01-01"
