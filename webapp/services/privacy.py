"""Client addresses, their daily HMAC hashes and rate-limit counters (SPEC §8).

This is the only module that reads a request's address. What leaves it is
HMAC-SHA256(daily key, network) in hex: raw addresses are never stored and never
logged. Daily keys are random, live in the database (so every worker agrees) and are
deleted after 48 hours. Rate-limit counters live in the database too: per-process
memory would let each worker grant its own allowance. Flask is imported because this
module is the one place a request's address is read (and the log filter that keeps
addresses out of every log is installed); the limits are the app's configuration.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
import secrets
from datetime import UTC, date, datetime, timedelta

from flask import Flask, Request, current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from webapp.models import DailyKey, RateCounter
from webapp.services.rules import RATE_LIMITS, RateLimit

KEY_BYTES = 32
KEY_LIFETIME = timedelta(hours=48)
IPV6_PREFIX = 64
UNKNOWN_ADDRESS = "unknown"
BUCKET_MAX = 120  # RateCounter.bucket's length


# --- addresses ---------------------------------------------------------------------


def client_address(request: Request) -> str:
    """The client's address; X-Forwarded-For counts only behind configured proxies.

    With TRUSTED_PROXY_COUNT = n > 0 this follows werkzeug's ProxyFix: the n-th value
    from the right of X-Forwarded-For is the client (each trusted proxy appended one).
    A header with fewer values than that, or a value that is not an address, is
    ignored and the socket's peer address is used.
    """
    trusted = int(current_app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if trusted > 0:
        forwarded = _forwarded_client(request.headers.get("X-Forwarded-For", ""), trusted)
        if forwarded:
            return forwarded
    return _valid_address(request.remote_addr) or UNKNOWN_ADDRESS


def _forwarded_client(header: str, trusted: int) -> str | None:
    values = [value.strip() for value in header.split(",")]
    if not header.strip() or len(values) < trusted:
        return None
    return _valid_address(values[-trusted])


def _valid_address(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def network_of(address: str) -> str:
    """What identifies a client: an IPv6 address is cut to its /64, IPv4 is kept.

    One IPv6 host usually owns a whole /64, so hashing the full address would let it
    rotate identities at will.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        network = ipaddress.IPv6Network((parsed, IPV6_PREFIX), strict=False)
        return str(network)
    return str(parsed)


# --- daily keys ----------------------------------------------------------------------


def _insert(session: Session, table):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"privacy counters need SQLite or PostgreSQL, not {dialect}")


def daily_key(session: Session, day: date, now: datetime | None = None) -> bytes:
    """The random key of one UTC day, created on first use by whichever worker is first.

    Insert-or-read: concurrent workers may each try to insert a key; ON CONFLICT DO
    NOTHING keeps the first, and everyone reads back the one that won.
    """
    key = session.scalar(select(DailyKey.key).where(DailyKey.day == day))
    if key is not None:
        return bytes(key)
    created_at = now or datetime.now(UTC)
    statement = (
        _insert(session, DailyKey.__table__)
        .values(day=day, key=secrets.token_bytes(KEY_BYTES), created_at=created_at)
        .on_conflict_do_nothing(index_elements=["day"])
    )
    inserted = session.execute(statement).rowcount
    if inserted:
        # A new day began: a good moment to forget what is past its lifetime.
        purge_keys(session, created_at)
        purge_counters(session, created_at)
    return bytes(session.scalar(select(DailyKey.key).where(DailyKey.day == day)))


def ip_hash(session: Session, address: str, now: datetime) -> str:
    """HMAC-SHA256 (hex) of the address's network under the key of `now`'s UTC day."""
    key = daily_key(session, _utc_day(now), now)
    return hmac.new(key, network_of(address).encode(), hashlib.sha256).hexdigest()


def purge_keys(session: Session, now: datetime) -> int:
    """Delete daily keys older than 48 hours; their hashes can no longer be recomputed."""
    result = session.execute(
        delete(DailyKey.__table__).where(DailyKey.__table__.c.created_at < now - KEY_LIFETIME)
    )
    return result.rowcount or 0


def _utc_day(now: datetime) -> date:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware (UTC), got {now!r}")
    return now.astimezone(UTC).date()


# --- rate limits -----------------------------------------------------------------------


def _limit(action: str) -> RateLimit:
    limits = current_app.config.get("RATE_LIMITS") or RATE_LIMITS
    return RateLimit(*limits[action])


def limit_label(action: str) -> str:
    """'10 per hour': for pages that explain a refusal."""
    return _limit(action).label


def _bucket(action: str, key: str) -> str:
    bucket = f"{action}:{key}"
    if len(bucket) > BUCKET_MAX:
        bucket = f"{action}:{hashlib.sha256(key.encode()).hexdigest()}"
    return bucket


def hit(session: Session, action: str, key: str, now: datetime) -> bool:
    """Count one attempt of `action` by `key`; True when it is over the limit.

    A fixed window counter in the database, incremented atomically by an upsert, so
    every worker process shares it. Disabled (never over) when RATE_LIMITS_ENABLED is
    False.
    """
    if not current_app.config.get("RATE_LIMITS_ENABLED", True):
        return False
    limit = _limit(action)
    window_start = int(now.timestamp()) // limit.window_seconds * limit.window_seconds
    table = RateCounter.__table__
    insert = _insert(session, table)
    statement = (
        insert.values(bucket=_bucket(action, key), window_start=window_start, count=1)
        .on_conflict_do_update(
            index_elements=["bucket", "window_start"], set_={"count": table.c.count + 1}
        )
        .returning(table.c.count)
    )
    count = session.execute(statement).scalar_one()
    return count > limit.limit


def purge_counters(session: Session, now: datetime) -> int:
    """Delete counters whose window ended, whatever the action's window length."""
    limits = current_app.config.get("RATE_LIMITS") or RATE_LIMITS
    longest = max((RateLimit(*value).window_seconds for value in limits.values()), default=0)
    cutoff = int(now.timestamp()) - longest
    table = RateCounter.__table__
    return session.execute(delete(table).where(table.c.window_start < cutoff)).rowcount or 0


# --- logs ----------------------------------------------------------------------------

# Werkzeug's development server starts each access line with the client's address:
# '203.0.113.9 - - [01/Jan/2026 10:00:00] "GET / HTTP/1.1" 200 -'
_ACCESS_LINE = re.compile(r"^\S+( - - \[)")
REDACTED = "-"
# A private status link is a capability: whoever holds it can withdraw the submission.
# Access logs keep the route, never the token.
_STATUS_TOKEN = re.compile(r"(/submissions/)[^/\s?\"]+")


def redact_path(text: str) -> str:
    """`text` with every status-link token replaced by a placeholder."""
    return _STATUS_TOKEN.sub(r"\1[token]", text)


class _RedactClientAddress(logging.Filter):
    """Rewrites the client address and status tokens out of werkzeug's access lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        if _ACCESS_LINE.match(message):
            record.msg = redact_path(_ACCESS_LINE.sub(REDACTED + r"\1", message, count=1))
            record.args = ()
        return True


def install_log_filter(app: Flask) -> None:
    """Keep raw addresses out of the served access log (idempotent)."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(existing, _RedactClientAddress) for existing in logger.filters):
        logger.addFilter(_RedactClientAddress())
