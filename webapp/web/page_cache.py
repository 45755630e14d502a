"""Rendered public pages, kept per worker and dropped the moment public data changes.

The catalog, a row's detail and the other public pages are the same bytes for every
anonymous visitor until something public changes: a decision, an editorial row, linked
operators, a reference update (a new queued submission is not public, and changes
none). Each worker keeps what it rendered, keyed by the URL, and tags it with the
site's data version (services/data_version.py). Every request reads that version (one
primary-key read); a page rendered under an older version is never served again, so a
decision shows on the very next view in every worker, on SQLite and PostgreSQL alike.

Time also changes what a page says (ages, the 12- and 18-month edges), so an entry
lives at most PAGE_CACHE_SECONDS (60 by default; 0 switches the cache off). Only
anonymous views without pending flash messages are shared, and shared pages carry no
per-visitor CSRF token (they have no forms that POST).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, g, request, session

from webapp.extensions import db
from webapp.services import data_version
from webapp.web.htmx import wants_fragment


@dataclass(frozen=True, slots=True)
class Entry:
    version: int
    expires: float
    value: Any


class VersionedStore:
    """A bounded, least-recently-used store for one worker, each entry tagged with the
    data version it was built under and a time it expires."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._lock = threading.Lock()  # the development server is threaded

    def get(self, key: Hashable, version: int, now: float) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.version != version or entry.expires <= now:
                if entry is not None:
                    del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, entry: Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


def init_app(app: Flask) -> None:
    app.extensions["page_cache"] = VersionedStore(int(app.config["PAGE_CACHE_ENTRIES"]))
    app.extensions["hub_snapshots"] = VersionedStore(int(app.config["PAGE_CACHE_ENTRIES"]))


def _store(name: str) -> VersionedStore:
    return current_app.extensions[name]


def enabled() -> bool:
    return current_app.config["PAGE_CACHE_SECONDS"] > 0


def remember(name: str, key: Hashable, version: int, value: Any,
             lifetime: float | None = None) -> None:
    if lifetime is None:
        lifetime = current_app.config["PAGE_CACHE_SECONDS"]
    _store(name).put(key, Entry(version, time.monotonic() + lifetime, value))


def recall(name: str, key: Hashable, version: int) -> Any | None:
    entry = _store(name).get(key, version, time.monotonic())
    return None if entry is None else entry.value


# --- shared pages ------------------------------------------------------------------------


def _shareable() -> bool:
    """An anonymous GET whose page holds nothing of the visitor's own."""
    return (
        request.method == "GET"
        and enabled()
        and "_flashes" not in session
        and "_user_id" not in session
    )


def _key() -> tuple:
    return (request.host, request.full_path, wants_fragment())


def shared_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve the view's page from this worker's store while the data version holds."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _shareable():
            return view(*args, **kwargs)
        g.shared_page = True  # base.html leaves the per-visitor CSRF token out
        key = _key()
        version = data_version.current(db.session)
        stored = recall("page_cache", key, version)
        if stored is not None:
            body, mimetype = stored
            return Response(body, mimetype=mimetype)
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.direct_passthrough:
            remember("page_cache", key, version, (response.get_data(), response.mimetype))
        return response

    return wrapper
