"""Configuration: defaults, then instance/config.py, then the environment, then overrides."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from webapp.services.rules import RATE_LIMITS

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret  # nosec B105


class Defaults:
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # PostgreSQL: a pooled connection idle this long or longer is tested before a request
    # uses it (extensions._postgres_checkout); 0 tests every checkout.
    DATABASE_PING_IDLE_SECONDS = 1.0
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session; forms stay usable
    # Flask-WTF's HTTPS check demands a Referer that the status page's referrer policy
    # keeps back; security.py checks Origin (then Referer) instead.
    WTF_CSRF_SSL_STRICT = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PER_PAGE = 25
    # The largest form (ten runs and a 4 000-character note) is a few KiB; refuse bodies
    # far beyond that before they are read (413, with its error page).
    MAX_CONTENT_LENGTH = 256 * 1024
    # How many proxies sit in front of the app and set X-Forwarded-*; 0 trusts none.
    TRUSTED_PROXY_COUNT = 0
    # Show reviewer names on public audit trails (SPEC: not unless configured).
    PUBLIC_REVIEWER_NAMES = False
    RATE_LIMITS = dict(RATE_LIMITS)
    # Past the login allowance, failed attempts on one reviewer account make each further
    # attempt on it wait: this many seconds, doubling, at most LOGIN_SLOWDOWN_MAX
    # (review/auth.py). An account is slowed, never locked.
    LOGIN_SLOWDOWN_BASE = 0.5
    LOGIN_SLOWDOWN_MAX = 5.0
    RATE_LIMITS_ENABLED = True
    # Rendered public pages kept per worker (web/page_cache): dropped on any change
    # to public data, and after this many seconds at most (ages move with the clock).
    PAGE_CACHE_SECONDS = 60
    # Pages are kept gzip-compressed (about 10 KiB each), so 2 048 of them cost a worker
    # some 20 MiB: enough for the popular part of a large catalog's traffic.
    PAGE_CACHE_ENTRIES = 2048
    # A folder the server's workers share their rendered pages in (web/shared_pages);
    # gunicorn.conf.py makes a fresh one per server start (TRUSTBENCH_SHARED_PAGE_STORE).
    # None: each worker keeps its own pages only (the development server, the tests).
    SHARED_PAGE_STORE: str | None = None
    # A shared page's ETag changes with the data version and with this slice of time,
    # because the ages (and the 12- and 18-month tier edges) it shows move with the clock.
    PAGE_ETAG_SECONDS = 60
    # Compression (Flask-Compress): brotli, else gzip, for text bodies worth it. Streamed
    # exports are compressed chunk by chunk and keep streaming (COMPRESS_STREAMS), with
    # gzip only: brotli holds a large block of input before its first output byte (the
    # bench measured seconds to the first byte of /benchmarks.csv at 100,000 rows).
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_ALGORITHM_STREAMING = ["gzip", "deflate"]
    COMPRESS_MIMETYPES = [
        "text/html", "text/css", "text/plain", "text/csv", "text/javascript",
        "application/javascript", "application/json", "application/x-ndjson",
        "application/jsonl", "application/problem+json", "application/vnd.oai.openapi+json",
        "application/atom+xml", "application/xml", "image/svg+xml", "text/x-python",
    ]
    COMPRESS_MIN_SIZE = 1024
    # Level 1 of each: a page is compressed anew for every request that misses the page
    # store, so the level is paid per request. bench/compression_levels.py at 100,000 rows:
    # brotli 1 takes 0.09-0.21 ms on the catalog, detail and hardware pages against
    # 0.23-0.39 ms at 3, for 7-11% more bytes (7.3 against 6.6 KB on the catalog); gzip 1
    # takes 0.12-0.30 against 0.13-0.47 ms for 5-6% more.
    COMPRESS_LEVEL = 1
    COMPRESS_BR_LEVEL = 1
    COMPRESS_STREAMS = True
    # Static files: content-hashed URLs (web/static_files) are cached for a year.
    STATIC_HASHED_MAX_AGE = 31536000


def _secret_key(instance_path: Path) -> str:
    """Generate the key once and keep it, so every worker and restart agrees on it."""
    path = instance_path / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def load(app, overrides: dict | None = None) -> None:
    app.config.from_object(Defaults)
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)
    app.config.from_pyfile("config.py", silent=True)
    if os.environ.get("TRUSTBENCH_CONFIG"):
        app.config.from_pyfile(os.environ["TRUSTBENCH_CONFIG"])

    database_url = os.environ.get("DATABASE_URL")
    if database_url:
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    app.config.setdefault(
        "SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance_path / 'trustbench.sqlite3'}"
    )
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if os.environ.get("TRUSTED_PROXY_COUNT"):
        app.config["TRUSTED_PROXY_COUNT"] = int(os.environ["TRUSTED_PROXY_COUNT"])
    if os.environ.get("TRUSTBENCH_TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = [
            host.strip() for host in os.environ["TRUSTBENCH_TRUSTED_HOSTS"].split(",")
            if host.strip()]
    if os.environ.get("TRUSTBENCH_RATE_LIMITS_ENABLED"):
        app.config["RATE_LIMITS_ENABLED"] = os.environ["TRUSTBENCH_RATE_LIMITS_ENABLED"] != "0"
    if os.environ.get("TRUSTBENCH_DATABASE_PING_IDLE_SECONDS"):
        app.config["DATABASE_PING_IDLE_SECONDS"] = float(
            os.environ["TRUSTBENCH_DATABASE_PING_IDLE_SECONDS"])
    if os.environ.get("TRUSTBENCH_PAGE_CACHE_SECONDS"):
        app.config["PAGE_CACHE_SECONDS"] = int(os.environ["TRUSTBENCH_PAGE_CACHE_SECONDS"])
    if os.environ.get("TRUSTBENCH_SHARED_PAGE_STORE"):
        shared = os.environ["TRUSTBENCH_SHARED_PAGE_STORE"]
        app.config["SHARED_PAGE_STORE"] = None if shared == "0" else shared
    if overrides:
        app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance_path)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgres://"):]
    elif uri.startswith("postgresql://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgresql://"):]
