"""Client addresses, their daily HMAC hashes, rate-limit counters and the log filter
(SPEC §8, §11).

This is the only module that reads a request's address. What leaves it is
HMAC-SHA256(daily key, network) in hex: raw addresses are never stored and never
logged. Daily keys are random, live in the database (so every worker agrees) and are
deleted after 48 hours. Rate-limit counters live in the database too: per-process
memory would let each worker grant its own allowance. The log filter (LogRedactor)
keeps addresses, status tokens and control characters out of every log line: the
app's, the development server's and gunicorn's. Flask is imported because this
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
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import unquote

from flask import Flask, Request, current_app
from flask.logging import default_handler
from sqlalchemy import delete, select, update
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


def limit_of(action: str) -> RateLimit:
    """The configured limit of an action (RATE_LIMITS, else the rules' defaults)."""
    limits = current_app.config.get("RATE_LIMITS") or RATE_LIMITS
    return RateLimit(*limits[action])


def limit_label(action: str) -> str:
    """'10 per hour': for pages that explain a refusal."""
    return limit_of(action).label


def _bucket(action: str, key: str) -> str:
    bucket = f"{action}:{key}"
    if len(bucket) > BUCKET_MAX:
        bucket = f"{action}:{hashlib.sha256(key.encode()).hexdigest()}"
    return bucket


# How finely a limit's window is counted: in SLOTS slots (a 15-minute window in minutes,
# an hour in four-minute slots). A limit holds over the current slot and the slots that
# cover the window before it, so no stretch of the window's length ever holds more
# attempts than the limit; an attempt counts for up to one slot longer than the window
# (a refusal may come a slot early, never an attempt too many). The counters before this
# were two fixed windows, the previous one weighted as it slid out: an estimate that let
# through 19 logins in 15 minutes of a 10 per 15 minutes limit, or made a client wait
# nearly two windows, depending on where in a window the attempts fell (a black-box
# audit, and a test that failed a third of the time).
SLOTS = 15


@dataclass(frozen=True)
class _Slots:
    length: int  # seconds in one slot
    span: int  # slots before the current one that the count reaches back over
    start: int  # the start of `now`'s slot (epoch seconds)

    @property
    def since(self) -> int:
        """The start of the oldest slot the count reads."""
        return self.start - self.span * self.length

    @property
    def kept(self) -> int:
        """How long after its start a slot stops counting."""
        return (self.span + 1) * self.length


def _slots(limit: RateLimit, now: datetime) -> _Slots:
    window = limit.window_seconds
    length = max(1, -(-window // SLOTS))
    moment = int(now.timestamp())
    return _Slots(length, -(-window // length), moment // length * length)


def _add(session: Session, bucket: str, slot_start: int, delta: int) -> int:
    """Add `delta` to one slot's counter atomically (an upsert); its new count."""
    table = RateCounter.__table__
    statement = (
        _insert(session, table)
        .values(bucket=bucket, window_start=slot_start, count=max(delta, 0))
        .on_conflict_do_update(
            index_elements=["bucket", "window_start"], set_={"count": table.c.count + delta}
        )
        .returning(table.c.count)
    )
    return session.execute(statement).scalar_one()


def _counted(session: Session, bucket: str, slots: _Slots) -> list[tuple[int, int]]:
    """(slot start, count) of every slot the count at `slots` reads, oldest first."""
    table = RateCounter.__table__
    return [(start, count) for start, count in session.execute(
        select(table.c.window_start, table.c.count)
        .where(table.c.bucket == bucket, table.c.window_start >= slots.since,
               table.c.window_start <= slots.start, table.c.count > 0)
        .order_by(table.c.window_start))]


def hit(session: Session, action: str, key: str, now: datetime, *,
        keep_over: bool = False) -> bool:
    """Count one attempt of `action` by `key`; True when it is over the limit, and then
    it is not counted (unless `keep_over`: a count that measures effort rather than
    refuses, as the login's per-account slowdown, keeps every attempt).

    The limit holds over the window's length, slot by slot (SLOTS above). The counters
    live in the database and are incremented atomically by an upsert, so every worker
    process shares them; an attempt over the limit is taken back the same way, so a
    refused attempt never counts: retrying while refused does not push the moment the
    next attempt fits further out. Disabled (never over) when RATE_LIMITS_ENABLED is False.
    """
    if not current_app.config.get("RATE_LIMITS_ENABLED", True):
        return False
    limit = limit_of(action)
    slots = _slots(limit, now)
    bucket = _bucket(action, key)
    _add(session, bucket, slots.start, 1)
    if sum(count for _start, count in _counted(session, bucket, slots)) <= limit.limit:
        return False
    if not keep_over:
        _add(session, bucket, slots.start, -1)
    return True


def attempts(session: Session, action: str, key: str, now: datetime) -> int:
    """The attempts of `action` by `key` the limit counts at `now`, counting nothing."""
    if not current_app.config.get("RATE_LIMITS_ENABLED", True):
        return 0
    slots = _slots(limit_of(action), now)
    return sum(count for _start, count in _counted(session, _bucket(action, key), slots))


def expiring(session: Session, action: str, key: str,
             now: datetime) -> list[tuple[int, int]]:
    """(the moment it stops counting, its attempts) of each slot the count at `now`
    reads, soonest first: when the count will fall, if nothing more is attempted."""
    if not current_app.config.get("RATE_LIMITS_ENABLED", True):
        return []
    slots = _slots(limit_of(action), now)
    return [(start + slots.kept, count)
            for start, count in _counted(session, _bucket(action, key), slots)]


def refund(session: Session, action: str, key: str, now: datetime) -> None:
    """Take back one attempt that `hit` counted at `now`: it turned out not to count."""
    if not current_app.config.get("RATE_LIMITS_ENABLED", True):
        return
    start = _slots(limit_of(action), now).start
    table = RateCounter.__table__
    session.execute(
        update(table)
        .where(table.c.bucket == _bucket(action, key), table.c.window_start == start,
               table.c.count > 0)
        .values(count=table.c.count - 1)
    )


def purge_counters(session: Session, now: datetime) -> int:
    """Delete counters no count reaches any more (older than two of the longest window)."""
    limits = current_app.config.get("RATE_LIMITS") or RATE_LIMITS
    longest = max((RateLimit(*value).window_seconds for value in limits.values()), default=0)
    cutoff = int(now.timestamp()) - 2 * longest
    table = RateCounter.__table__
    return session.execute(delete(table).where(table.c.window_start < cutoff)).rowcount or 0


# --- logs ----------------------------------------------------------------------------

REDACTED = "-"
# Werkzeug's development server starts each access line with the client's address:
# '203.0.113.9 - - [01/Jan/2026 10:00:00] "GET / HTTP/1.1" 200 -'
_ACCESS_LINE = re.compile(r"^\S+( - - \[)")
# gunicorn names the client of a malformed request: 'Invalid request from ip=::1: ...'
_CLIENT_IP = re.compile(r"(\bip=)[0-9A-Za-z:.%\[\]-]*?(?=:\s|\s|$)")
# A private status link is a capability: whoever holds it can withdraw the submission.
# Logs keep the route, never the token: a path segment after /submissions/, however the
# path is spelled ("//", "/./", "%2e", any case), dotted or not. A segment of digits
# alone is a submission's id on the reviewers' pages (/review/submissions/851), never a
# token (a signed token is base64url text with a dot): it stays, so the log says which
# submission a reviewer's request was about.
_STATUS_TOKEN = re.compile(
    r"(/submissions(?:/|%2f)+(?:(?:\.|%2e){1,2}(?:/|%2f)+)*)(?![0-9]+(?:[/\s?\"]|$))"
    r"[^/\s?\"]+", re.IGNORECASE)
# The same token pasted anywhere else (a search, another route, a referer, a query
# parameter) is cut by its shape: itsdangerous writes base64url parts joined by dots, the
# payload first (a JSON object: dozens of characters) and the signature after it (27 for
# HMAC-SHA1, more for longer digests). Ordinary text has no such pair of long parts:
# versions, dates, addresses and hashed static names (site.<12 hex>.css) have short ones.
# The API's cursors have this shape too and are cut as well: they are signed, not secret,
# and a log loses nothing without them.
PAYLOAD_MIN = 16
SIGNATURE_MIN = 27
CUT_OUT = "[token]"  # what a log shows in a token's place
# A run of base64url characters, dots and percent-escapes (a token may be written with
# %2E for its dots, or any character escaped), long enough to hold a token. It starts
# only where a run starts, so a long line is read once.
_TOKEN_RUN = re.compile(
    r"(?<![A-Za-z0-9_.%-])[A-Za-z0-9_.%-]{" + str(PAYLOAD_MIN + 1 + SIGNATURE_MIN) + ",}")
_NOT_BASE64URL_OR_DOT = re.compile(r"[^A-Za-z0-9_.-]")
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]")
SCRUBBED = "trustbench_scrubbed"


def _looks_signed(text: str) -> bool:
    """Whether `text` holds a payload-sized base64url part and, after it in the same
    dotted chain, a signature-sized one."""
    for chain in _NOT_BASE64URL_OR_DOT.split(text):
        payload = False
        for part in chain.split("."):
            if payload and len(part) >= SIGNATURE_MIN:
                return True
            payload = payload or len(part) >= PAYLOAD_MIN
    return False


def _signed_token(match: re.Match) -> str:
    run = match.group()
    return CUT_OUT if _looks_signed(unquote(run)) else run


def redact_path(text: str) -> str:
    """`text` with every status-link token, and anything shaped like a signed token,
    replaced by a placeholder: in a path, a query string or a referer alike."""
    text = _TOKEN_RUN.sub(_signed_token, text)
    return _STATUS_TOKEN.sub(r"\1" + CUT_OUT, text)


def _escape(match: re.Match) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def scrub(text: str) -> str:
    """`text` fit for one log line: status tokens and client addresses cut out, and every
    character outside printable ASCII escaped (\\n, \\x1b, \\u202e...), so a value can
    neither forge a line of its own nor steer the terminal that shows the log."""
    text = _CLIENT_IP.sub(r"\1" + REDACTED, redact_path(text))
    return _NOT_PRINTABLE_ASCII.sub(_escape, text)


def _scrub_block(text: str) -> str:
    """A traceback keeps its lines, each scrubbed and indented: no line of it can pass
    for a log record of its own."""
    return "\n".join("  " + scrub(line) for line in text.splitlines())


class LogRedactor(logging.Filter):
    """Scrubs every record it sees: the message with its arguments, the traceback and
    the stack. Werkzeug's access lines also lose the leading client address."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, SCRUBBED, False):
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            message = f"{record.msg} {record.args!r}"
        if record.name == "werkzeug":
            message = _ACCESS_LINE.sub(REDACTED + r"\1", message, count=1)
        record.msg, record.args = scrub(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _scrub_block(record.exc_text)
        if record.stack_info:
            record.stack_info = _scrub_block(record.stack_info)
        setattr(record, SCRUBBED, True)
        return True


# Every logger a request's path or a typed value can reach: the app's, the development
# server's, and gunicorn's (gunicorn.conf.py installs it there too, for the master).
LOGGERS = ("werkzeug", "gunicorn.error", "gunicorn.access")


def add_redactor(target: logging.Logger | logging.Handler) -> None:
    """Install the one LogRedactor on a logger or handler (idempotent)."""
    if not any(isinstance(existing, LogRedactor) for existing in target.filters):
        target.addFilter(LogRedactor())


def install_log_filter(app: Flask) -> None:
    """Keep raw addresses, status tokens and control characters out of every log."""
    # A logger's filters see only the records logged on it, so the app's module loggers
    # (webapp.services..., made at import, before the factory runs) get their own, and
    # so does Flask's handler that their records reach.
    modules = [name for name in logging.root.manager.loggerDict
               if name.startswith(f"{app.logger.name}.")]
    for name in (app.logger.name, *modules, *LOGGERS):
        add_redactor(logging.getLogger(name))
    add_redactor(default_handler)
