"""`flask refresh`: the catalog index of a database written before its columns existed."""

from __future__ import annotations

from webapp.extensions import db
from webapp.services import evidence
from webapp.services.rules import Kind, Tier


def test_refresh_fills_an_index_that_predates_its_columns_and_then_has_nothing_to_do(
        app, session, make_row):
    # An editorial row measured 400 days ago: its lift to high ended 35 days ago.
    row = make_row(kind=Kind.EDITORIAL, age_days=400, handle=None)
    session.commit()
    assert row.derived_tier_lifted_off is None  # as an older version left it
    runner = app.test_cli_runner()

    result = runner.invoke(args=["refresh", "--if-needed"])
    assert result.exit_code == 0, result.output
    assert "1 public rows refreshed" in result.output
    db.session.expire_all()
    stored = db.session.get(type(row), row.id)
    expected = evidence.derived_values(stored, [])
    assert stored.derived_lift_until == expected["derived_lift_until"] is not None
    assert stored.derived_tier_lifted_off == expected["derived_tier_lifted_off"]
    assert Tier(stored.derived_tier_aged) is Tier(expected["derived_tier_aged"])

    again = runner.invoke(args=["refresh", "--if-needed"])
    assert again.exit_code == 0 and "up to date" in again.output
    forced = runner.invoke(args=["refresh"])
    assert forced.exit_code == 0 and "1 public rows refreshed" in forced.output
