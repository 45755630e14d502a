"""Reviewer accounts: argon2id password hashes, session tokens, enabling and disabling.

Adds and flushes; the caller commits. Flask is imported for one reason: the argon2
cost settings are the app's configuration (tests lower them), read where hashing happens.
"""

from __future__ import annotations

import hmac
import re
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import Reviewer

NAME_PATTERN = re.compile(r"[a-z0-9_-]{2,40}")
NAME_RULE = "2 to 40 characters: letters a–z, digits, '_' or '-'"
PASSWORD_MIN = 12
# argon2 copes with long input, but nobody types a kilobyte of password; refusing more
# keeps a login form from being used to make the server hash megabytes.
PASSWORD_MAX = 1024
SESSION_TOKEN_BYTES = 32  # 43 URL-safe characters, the column's width

# The default cost (argon2-cffi's RFC 9106 "low memory" profile). Tests and small
# machines may lower it with ARGON2_TIME_COST / ARGON2_MEMORY_COST / ARGON2_PARALLELISM;
# hashes made with other parameters are upgraded at the next successful login.
_default_hasher = PasswordHasher()


class AccountError(ValueError):
    """An account operation the rules refuse; the message is for the user."""


@lru_cache(maxsize=8)
def _hasher_with(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hasher() -> PasswordHasher:
    """The hasher the running app is configured for (the default outside an app)."""
    if not has_app_context():
        return _default_hasher
    config = current_app.config
    time_cost = config.get("ARGON2_TIME_COST", _default_hasher.time_cost)
    memory_cost = config.get("ARGON2_MEMORY_COST", _default_hasher.memory_cost)
    parallelism = config.get("ARGON2_PARALLELISM", _default_hasher.parallelism)
    if (time_cost, memory_cost, parallelism) == (
        _default_hasher.time_cost, _default_hasher.memory_cost, _default_hasher.parallelism
    ):
        return _default_hasher
    return _hasher_with(int(time_cost), int(memory_cost), int(parallelism))


@lru_cache(maxsize=8)
def _dummy_hash(current: PasswordHasher) -> str:
    # Verified against when the name is unknown, so an unknown name costs as much time
    # as a wrong password and the response time does not tell which names exist.
    return current.hash(secrets.token_urlsafe(16))


def normalise_name(name: str | None) -> str:
    return (name or "").strip().lower()


def new_session_token() -> str:
    return secrets.token_urlsafe(SESSION_TOKEN_BYTES)


def find_reviewer(session: Session, name: str | None) -> Reviewer | None:
    key = normalise_name(name)
    if not key:
        return None
    return session.scalars(select(Reviewer).where(func.lower(Reviewer.name) == key)).first()


def _check_password(password: str | None) -> str:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise AccountError(f"The password must be at least {PASSWORD_MIN} characters long.")
    if len(password) > PASSWORD_MAX:
        raise AccountError(f"The password must be at most {PASSWORD_MAX} characters long.")
    if not password.strip():
        raise AccountError("The password cannot be only spaces.")
    return password


def add_reviewer(session: Session, name: str, password: str) -> Reviewer:
    key = normalise_name(name)
    if not NAME_PATTERN.fullmatch(key):
        raise AccountError(f"A reviewer name must be {NAME_RULE}; got {name!r}.")
    _check_password(password)
    if find_reviewer(session, key) is not None:
        raise AccountError(f"A reviewer named {key!r} already exists.")
    reviewer = Reviewer(
        name=key,
        password_hash=hasher().hash(password),
        active=True,
        session_token=new_session_token(),
    )
    session.add(reviewer)
    session.flush()
    return reviewer


def disable_reviewer(session: Session, name: str) -> Reviewer:
    reviewer = find_reviewer(session, name)
    if reviewer is None:
        raise AccountError(f"There is no reviewer named {normalise_name(name)!r}.")
    reviewer.active = False
    rotate_session(reviewer)  # every open session of theirs ends now
    session.flush()
    return reviewer


def rotate_session(reviewer: Reviewer) -> str:
    """A new session token: every cookie carrying the old one stops working."""
    reviewer.session_token = new_session_token()
    return reviewer.session_token


def authenticate(session: Session, name: str | None, password: str | None) -> Reviewer | None:
    """The active reviewer with this name and password, or None.

    Unknown and disabled names are checked against a dummy hash so they take as long as
    a wrong password. A hash made with other parameters than today's is upgraded.
    """
    current = hasher()
    reviewer = find_reviewer(session, name)
    candidate = password if isinstance(password, str) else ""
    if len(candidate) > PASSWORD_MAX:
        candidate = ""
    if reviewer is None or not reviewer.active or not candidate:
        _verify(current, _dummy_hash(current), candidate or "-")
        return None
    if not _verify(current, reviewer.password_hash, candidate):
        return None
    if current.check_needs_rehash(reviewer.password_hash):
        reviewer.password_hash = current.hash(candidate)
        session.flush()
    return reviewer


def _verify(current: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return current.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def login_delay(recent_failures: float, *, allowance: int, base: float, longest: float
                ) -> float:
    """Seconds a login attempt on an account waits before its password is checked.

    Nothing while the account's recent failed (or pending) attempts stay within the
    allowance; past it `base`, doubling with each further failure, at most `longest`.
    The right password waits like a wrong one (the wait must not tell them apart), but
    is never refused: the address limit refuses, the account only slows.
    """
    beyond = int(recent_failures) - allowance
    if beyond < 0:
        return 0.0
    return min(longest, base * 2 ** min(beyond, 32))


def token_matches(reviewer: Reviewer, token: str) -> bool:
    return hmac.compare_digest(reviewer.session_token.encode(), token.encode())


def load_session_user(session: Session, user_id: str) -> Reviewer | None:
    """Flask-Login's user loader: 'id:session_token' for an active reviewer, else None."""
    raw_id, sep, token = (user_id or "").partition(":")
    if not sep or not token or not raw_id.isdigit():
        return None
    reviewer = session.get(Reviewer, int(raw_id))
    if reviewer is None or not reviewer.active or not token_matches(reviewer, token):
        return None
    return reviewer
