"""Rendered public pages shared by the workers of one server: a second level behind each
worker's own store (web/page_cache), so a page one worker rendered is served by every
other until the data version moves or the entry's lifetime ends.

With two workers or more, each kept its own pages: a URL was rendered once per worker
before every worker could serve it, and a site scaled out to more workers rendered more.
Here a worker that misses its own store asks this one (one primary-key read) before
rendering, and a page it renders is written here as well as in its own store.

The store is an SQLite file in a folder the server made for itself when it started
(gunicorn.conf.py's on_starting: a fresh temporary folder, removed on exit), so it
never outlives the server and never mixes two databases' pages. Entries are the same
gzip-compressed bodies the worker's store keeps, tagged with the data version and an
expiry (wall clock, which every worker shares); a read asks for the current version
and an unexpired entry. It is a cache: written without syncing to disk, trimmed now and
then (expired and superseded entries, then the oldest past MAX_ENTRIES), and any trouble
with the file makes a read a miss and a write a no-op, logged once per worker; a page is
then rendered as if the store were not there.

A hand-written table rather than a cache library: diskcache (the maintained one) keeps
size and count metadata in the same transaction as each write, where this store needs
one statement per read and one per write (and a trim every TRIM_EVERY writes).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

logger = logging.getLogger(__name__)

FILENAME = "pages.sqlite3"
MAX_ENTRIES = 20_000  # about 200 MiB of disk at the 10 KiB a compressed page takes
TRIM_EVERY = 500  # writes per worker between two trims
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS pages (key TEXT PRIMARY KEY, version INTEGER NOT NULL, "
    "expires REAL NOT NULL, mimetype TEXT NOT NULL, body BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS pages_expires ON pages (expires)",
)
_READ = ("SELECT body, mimetype, expires FROM pages "
         "WHERE key = ? AND version = ? AND expires > ?")
_WRITE = ("INSERT OR REPLACE INTO pages (key, version, expires, mimetype, body) "
          "VALUES (?, ?, ?, ?, ?)")
_TRIM_OLD = "DELETE FROM pages WHERE expires <= ? OR version < ?"
_TRIM_OVER = ("DELETE FROM pages WHERE key IN (SELECT key FROM pages ORDER BY expires "
              "LIMIT max(0, (SELECT count(*) FROM pages) - ?))")


class SharedPages:
    """The shared store in `folder`: get and put never raise."""

    def __init__(self, folder: str | os.PathLike[str], max_entries: int = MAX_ENTRIES):
        self.path = Path(folder) / FILENAME
        self.max_entries = max_entries
        self._local = threading.local()  # the development server is threaded
        self._writes = 0
        self._warned = False

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        # A connection is not carried across a fork: each worker opens its own.
        if getattr(local, "pid", None) != os.getpid():
            connection = sqlite3.connect(self.path, timeout=1.0, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")  # a cache: nothing to lose
            for statement in _SCHEMA:
                connection.execute(statement)
            local.connection, local.pid = connection, os.getpid()
        return local.connection

    def _trouble(self, error: Exception) -> None:
        if not self._warned:
            self._warned = True
            logger.warning("shared page store unusable (%s); pages are rendered per worker",
                           type(error).__name__)

    def get(self, key: str, version: int) -> tuple[bytes, str, float] | None:
        """(gzip body, mimetype, expiry as time.time()) of `key` under `version`, or None."""
        try:
            found = self._connection().execute(_READ, (key, version, time.time())).fetchone()
        except sqlite3.Error as error:
            self._trouble(error)
            return None
        return None if found is None else (bytes(found[0]), found[1], found[2])

    def put(self, key: str, version: int, lifetime: float, body: bytes, mimetype: str) -> None:
        now = time.time()
        try:
            connection = self._connection()
            connection.execute(_WRITE, (key, version, now + lifetime, mimetype, body))
            self._writes += 1
            if self._writes % TRIM_EVERY == 0:
                connection.execute(_TRIM_OLD, (now, version))
                connection.execute(_TRIM_OVER, (self.max_entries,))
        except sqlite3.Error as error:
            self._trouble(error)

    def count(self) -> int:
        """Entries held (expired ones included until the next trim); 0 on trouble."""
        try:
            return self._connection().execute("SELECT count(*) FROM pages").fetchone()[0]
        except sqlite3.Error as error:
            self._trouble(error)
            return 0
