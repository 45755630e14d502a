"""Reviewer accounts: argon2id hashes, name and password rules, tokens, the CLI."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from tests.review.conftest import PASSWORD
from webapp.extensions import db
from webapp.models import Reviewer
from webapp.services import accounts


def test_add_reviewer_hashes_with_argon2id_and_normalises_the_name(session):
    reviewer = accounts.add_reviewer(session, "  Alice_01 ", PASSWORD)
    assert reviewer.name == "alice_01"
    assert reviewer.password_hash.startswith("$argon2id$")
    assert PASSWORD not in reviewer.password_hash
    assert reviewer.active and len(reviewer.session_token) == 43


@pytest.mark.parametrize("name", ["a", "x" * 41, "bob smith", "bøb", "eve@example", "", "  "])
def test_reviewer_names_follow_the_rule(session, name):
    with pytest.raises(accounts.AccountError, match="2 to 40 characters"):
        accounts.add_reviewer(session, name, PASSWORD)


def test_reviewer_names_are_unique_case_insensitively(session):
    accounts.add_reviewer(session, "carol", PASSWORD)
    with pytest.raises(accounts.AccountError, match="already exists"):
        accounts.add_reviewer(session, "CAROL", PASSWORD)


@pytest.mark.parametrize("password", ["short", "eleven char", " " * 12, "x" * 1025])
def test_passwords_need_twelve_characters(session, password):
    with pytest.raises(accounts.AccountError, match="password"):
        accounts.add_reviewer(session, "dave", password)


def test_authenticate(session):
    accounts.add_reviewer(session, "erin", PASSWORD)
    assert accounts.authenticate(session, "ERIN", PASSWORD).name == "erin"
    assert accounts.authenticate(session, "erin", PASSWORD + "x") is None
    assert accounts.authenticate(session, "erin", "") is None
    assert accounts.authenticate(session, "nobody", PASSWORD) is None


def test_unknown_names_are_checked_against_a_dummy_hash(session, monkeypatch):
    verified = []
    real = accounts._verify
    monkeypatch.setattr(accounts, "_verify", lambda h, stored, pw: verified.append(stored)
                        or real(h, stored, pw))
    assert accounts.authenticate(session, "ghost", PASSWORD) is None
    assert len(verified) == 1 and verified[0].startswith("$argon2id$")


def test_disable_ends_sessions_and_refuses_login(session):
    reviewer = accounts.add_reviewer(session, "frank", PASSWORD)
    old_id = reviewer.get_id()
    assert accounts.load_session_user(session, old_id) is reviewer
    accounts.disable_reviewer(session, "Frank")
    assert not reviewer.active
    assert reviewer.get_id() != old_id
    assert accounts.load_session_user(session, old_id) is None
    assert accounts.load_session_user(session, reviewer.get_id()) is None  # inactive
    assert accounts.authenticate(session, "frank", PASSWORD) is None
    with pytest.raises(accounts.AccountError, match="no reviewer"):
        accounts.disable_reviewer(session, "nobody")


@pytest.mark.parametrize("user_id", ["", "1", "1:", ":abc", "x:abc", "1:wrong-token"])
def test_user_loader_refuses_malformed_or_stale_ids(session, user_id):
    accounts.add_reviewer(session, "gina", PASSWORD)
    assert accounts.load_session_user(session, user_id) is None


def test_a_hash_with_old_parameters_is_upgraded_at_login(app, session):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    reviewer = Reviewer(name="hank", password_hash=weak.hash(PASSWORD),
                        session_token=accounts.new_session_token())
    session.add(reviewer)
    session.flush()
    app.config.update(ARGON2_TIME_COST=2, ARGON2_MEMORY_COST=16, ARGON2_PARALLELISM=1)
    assert accounts.authenticate(session, "hank", PASSWORD) is reviewer
    assert "$m=16,t=2,p=1$" in reviewer.password_hash
    assert accounts.authenticate(session, "hank", PASSWORD) is reviewer


def test_default_cost_outside_tests(app):
    for key in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM"):
        app.config.pop(key)
    assert accounts.hasher() is accounts._default_hasher
    assert accounts.hasher().time_cost >= 2 and accounts.hasher().memory_cost >= 19 * 1024


def test_cli_adds_and_disables_reviewers(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reviewer", "add", "ivy"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "reviewer ivy added" in result.output
    assert PASSWORD not in result.output
    result = runner.invoke(args=["reviewer", "add", "ivy"], input=PASSWORD + "\n")
    assert result.exit_code != 0 and "already exists" in result.output
    result = runner.invoke(args=["reviewer", "add", "jo"], input="short\n")
    assert result.exit_code != 0 and "at least 12" in result.output
    result = runner.invoke(args=["reviewer", "disable", "ivy"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    ivy = db.session.scalars(select(Reviewer).where(Reviewer.name == "ivy")).one()
    assert not ivy.active
    assert db.session.scalars(select(Reviewer).where(Reviewer.name == "jo")).first() is None
