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

With several workers, each also asks the server's shared store (web/shared_pages)
before rendering, and writes what it renders there: a page one worker rendered is
served by all of them, under the same version and lifetime rules.

Keys are canonical: each view declares the query parameters its page depends on
(`@shared_page(params=("page",))`; default none). A request is stored under its known
parameters in the declared order, empty ones dropped; a request carrying anything else
(an unknown parameter, one given twice, an over-long or malformed value) is served
rendered anew and never stored, so a client flooding junk query strings cannot evict
the pages real visitors ask for.

Every shared page also carries a weak ETag derived, before anything is rendered, from
the data version, the canonical URL, the fragment flag and the time bucket its ages
belong to; a matching If-None-Match is answered 304 at the cost of one version read.
The ETag is weak because the same page is sent gzip- or brotli-encoded (Flask-Compress
leaves weak validators alone). Shared pages say `no-cache` (keep it, ask again); a
visitor's own page (flashes, a signed-in reviewer) says `private, no-store`.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, request, session

from webapp.extensions import db
from webapp.services import data_version
from webapp.web.htmx import FRAGMENT_HEADERS, wants_fragment
from webapp.web.shared_pages import SharedPages
from webapp.web.vary import add_vary


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
    folder = app.config.get("SHARED_PAGE_STORE")
    if folder:  # the server's workers share their pages (web/shared_pages)
        app.extensions["shared_pages"] = SharedPages(folder)


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

# Values a stored key may hold: short, and a page number made of digits.
MAX_VALUE_LENGTH = 100
_DIGITS = frozenset("0123456789")
SHARED_CACHE_CONTROL = "no-cache"
PRIVATE_CACHE_CONTROL = "private, no-store"
# gzip level for stored pages, compressed on the render that stores them (a cost every
# first view pays) and sent as they are to every later one. bench/compression_levels.py
# on the 100,000-row demo: level 3 takes 0.07 ms on a catalog page and 0.41 ms on the
# largest hardware page, level 6 0.25 and 1.19 ms, for 6-12% fewer bytes.
STORED_LEVEL = 3


def _shareable() -> bool:
    """An anonymous GET whose page holds nothing of the visitor's own."""
    return (
        request.method == "GET"
        and "_flashes" not in session
        and "_user_id" not in session
    )


def canonical_query(params: tuple[str, ...]) -> str | None:
    """The query string as the store keys it, or None when the request carries anything
    the view did not declare (or a value no page of it could hold), or is not spelt as
    the view spells it: an empty parameter, or the parameters in another order. Such a
    request goes to the view every time (which redirects it to its spelling, or renders
    it unstored), so the same address never gets a 301 once and the stored page later."""
    args = request.args
    parts = []
    at = -1
    for name, value in args.items(multi=True):
        if name not in params or not value or params.index(name) <= at:
            return None
        at = params.index(name)
    for name in params:
        values = args.getlist(name)
        if len(values) > 1:
            return None
        value = values[0] if values else ""
        if not value:
            continue  # an empty parameter is the same page as none
        if len(value) > MAX_VALUE_LENGTH or (name == "page" and not set(value) <= _DIGITS):
            return None
        parts.append(urlencode({name: value}))
    return "&".join(parts)


def _time_bucket() -> int:
    """Which slice of time the page's ages belong to: a page's ETag changes with it."""
    seconds = max(1, int(current_app.config["PAGE_ETAG_SECONDS"]))
    return int(time.time()) // seconds


def page_etag(version: int, key: tuple) -> str:
    digest = hashlib.blake2b(repr((version, _time_bucket(), key)).encode(), digest_size=12)
    return digest.hexdigest()


def _conditional_headers(response: Response, etag: str) -> Response:
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = SHARED_CACHE_CONTROL
    add_vary(response, *FRAGMENT_HEADERS, "Cookie", "Accept-Encoding")  # a 304's as its 200's
    return response


def _from_store(packed: bytes, mimetype: str) -> Response:
    """A stored page is kept gzip-compressed (a tenth of the memory, so a worker keeps
    ten times the pages) and sent as it is to a client that takes gzip, which spares
    compressing it again; Flask-Compress leaves a body with a Content-Encoding alone."""
    if _takes_gzip():
        response = Response(packed, mimetype=mimetype)
        response.headers["Content-Encoding"] = "gzip"
        add_vary(response, "Accept-Encoding")
        return response
    return Response(gzip.decompress(packed), mimetype=mimetype)


def _shared() -> SharedPages | None:
    return current_app.extensions.get("shared_pages")


def _recall_shared(key: tuple, version: int) -> tuple[bytes, str] | None:
    """A page another worker of this server rendered under `version`, kept in this
    worker's store too for the rest of its lifetime."""
    shared = _shared()
    found = None if shared is None else shared.get(repr(key), version)
    if found is None:
        return None
    packed, mimetype, expires = found
    remember("page_cache", key, version, (packed, mimetype), lifetime=expires - time.time())
    return packed, mimetype


def _takes_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def _not_modified(etag: str) -> bool:
    # Weak comparison, as RFC 9110 asks for If-None-Match. "*" matches only a page that
    # exists, which the view decides (a 404 or a 400 is never "not modified"): it is
    # answered once the page is found (_star_matched).
    asked = request.if_none_match
    return not asked.star_tag and asked.contains_weak(etag)


def _star_matched(response: Response, etag: str) -> Response:
    """A found page (200) asked for with If-None-Match: *: 304, as any tag would be."""
    if request.if_none_match.star_tag and response.status_code == 200:
        return _conditional_headers(Response(status=304), etag)
    return response


def not_stored() -> None:
    """Serve this request's page but never store it: it answers an address that is not
    its page's own spelling (a page number past the last, shown as the last; a filter
    value dropped with a notice). Stored, each such address would take a place in the
    store, and a client asking for many of them would push out the pages visitors ask
    for, as unknown parameters could before they were left out of the keys."""
    g.page_not_stored = True


def shared_page(view: Callable[..., Any] | None = None, *,
                params: tuple[str, ...] = ()) -> Any:
    """Serve the view's page from this worker's store while the data version holds, and
    answer a matching If-None-Match with 304 before rendering.

    `params` names the query parameters the page depends on; a request with any other
    is rendered and served but never stored (and gets no ETag of the canonical page).
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not _shareable():
                response = current_app.make_response(view(*args, **kwargs))
                response.headers["Cache-Control"] = PRIVATE_CACHE_CONTROL
                return response
            g.shared_page = True  # base.html leaves the per-visitor CSRF token out
            query = canonical_query(params)
            version = data_version.current(db.session)
            if query is None:
                return view(*args, **kwargs)
            # The scheme too: a page's canonical and absolute links carry it (https behind a
            # proxy that says so), and one stored from a plain-HTTP request (a health check)
            # must not reach HTTPS visitors, nor its ETag validate their copy.
            key = (request.scheme, request.host, request.path, query, wants_fragment())
            etag = page_etag(version, key)
            if _not_modified(etag):
                return _conditional_headers(Response(status=304), etag)
            stored = None
            if enabled():
                stored = recall("page_cache", key, version) or _recall_shared(key, version)
            if stored is not None:
                return _star_matched(_conditional_headers(_from_store(*stored), etag), etag)
            response = current_app.make_response(view(*args, **kwargs))
            if (response.status_code != 200 or response.direct_passthrough
                    or g.get("page_not_stored")):
                return response
            if request.if_none_match.star_tag:
                return _star_matched(response, etag)
            if enabled():
                packed = gzip.compress(response.get_data(), STORED_LEVEL)
                remember("page_cache", key, version, (packed, response.mimetype))
                shared = _shared()
                if shared is not None:
                    shared.put(repr(key), version, current_app.config["PAGE_CACHE_SECONDS"],
                               packed, response.mimetype)
                if _takes_gzip():  # the same bytes the next visitor gets from the store
                    response.set_data(packed)
                    response.headers["Content-Encoding"] = "gzip"
                    add_vary(response, "Accept-Encoding")
            return _conditional_headers(response, etag)

        wrapper.shared_params = params  # type: ignore[attr-defined]
        return wrapper

    if view is not None:
        return decorate(view)
    return decorate
