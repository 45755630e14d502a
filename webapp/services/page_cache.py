"""Rendered public pages, kept per worker and dropped the moment public data changes.

The catalog, a row's detail and the other public pages are the same bytes for every
anonymous visitor until something public changes: a decision, an editorial row, linked
operators, a reference update (a new queued submission is not public, and changes
none). Each worker keeps what it rendered, keyed by the URL, and tags it with the
site's data version (SiteState, one row). Every request reads that version (one
primary-key read); a page rendered under an older version is never served again, so a
decision shows on the very next view in every worker, on SQLite and PostgreSQL alike.

The version moves after every commit whose flush touched public data (any ORM change
but those _touches_public_data rules out), in a short transaction of its own, so no
request holds a lock on the shared row while it works. Code that writes with Core statements
(seed-demo's bulk load) calls bump() itself.

Time also changes what a page says (ages, the 12- and 18-month edges), so an entry
lives at most PAGE_CACHE_SECONDS (60 by default; 0 switches the cache off). Only
anonymous views without pending flash messages are shared, and shared pages carry no
per-visitor CSRF token (they have no forms that POST).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, g, request, session
from sqlalchemy import event, insert, inspect, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.htmx import wants_fragment
from webapp.models import (
    AuditEvent,
    DailyKey,
    FeedbackNote,
    RateCounter,
    Reviewer,
    RunSample,
    SiteState,
    Submission,
)
from webapp.services.rules import PUBLIC_STATES, State

logger = logging.getLogger(__name__)

SITE_STATE_ID = 1
# Rows no public page shows: writing them never invalidates a page. Submissions that
# never were public (queued, withdrawn, rejected from the queue) count as private too,
# so the commonest write, a new queued submission, leaves every stored page in place.
PRIVATE_MODELS = (DailyKey, RateCounter, Reviewer, SiteState, FeedbackNote)
_CHANGED = "trustbench_public_data_changed"

_VERSION = select(SiteState.data_version).where(SiteState.id == SITE_STATE_ID)
_BUMP = (
    update(SiteState)
    .where(SiteState.id == SITE_STATE_ID)
    .values(data_version=SiteState.data_version + 1)
)


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


# --- the data version --------------------------------------------------------------------


def data_version(session_: Session) -> int:
    return session_.execute(_VERSION).scalar() or 0


def bump(engine: Engine) -> None:
    """Move the data version on, in a transaction of its own."""
    with engine.begin() as connection:
        if connection.execute(_BUMP).rowcount:
            return
    try:  # a database built by create_all has no row yet; the migration inserts it
        with engine.begin() as connection:
            connection.execute(insert(SiteState).values(id=SITE_STATE_ID, data_version=1))
    except IntegrityError:  # another worker inserted it first
        with engine.begin() as connection:
            connection.execute(_BUMP)


def _never_public(submission: Submission) -> bool:
    """A submission that is not public and was not public before this change: a new
    queued one, a withdrawal, a queued one rejected. No public page shows it."""
    history = inspect(submission).attrs.state.history
    states = (*history.added, *history.unchanged, *history.deleted)
    if not states:  # state not loaded (expired): cannot tell, so count it as public
        return False
    return all(state is not None and State(state) not in PUBLIC_STATES for state in states)


def _touches_public_data(instance: object) -> bool:
    if isinstance(instance, PRIVATE_MODELS):
        return False
    if isinstance(instance, Submission):
        return not _never_public(instance)
    if isinstance(instance, RunSample):
        owner = instance.__dict__.get("submission")  # set with the runs; never loaded here
        return owner is None or not _never_public(owner)
    # An audit event always comes with its submission's change, which decides.
    return not isinstance(instance, AuditEvent)


@event.listens_for(Session, "before_flush")
def _note_public_changes(session_: Session, _context, _instances) -> None:
    if session_.info.get(_CHANGED):
        return
    for instance in (*session_.new, *session_.dirty, *session_.deleted):
        if _touches_public_data(instance):
            session_.info[_CHANGED] = True
            return


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session_: Session) -> None:
    if not session_.info.pop(_CHANGED, False):
        return
    try:
        bump(session_.get_bind(mapper=SiteState.__mapper__))
    except SQLAlchemyError:
        # The change itself is committed: answering with an error now would make the
        # user repeat it. Stored pages then live out their PAGE_CACHE_SECONDS instead.
        logger.exception("could not move the data version on; pages may lag a minute")


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_changes(session_: Session, previous_transaction) -> None:
    # A savepoint's rollback leaves what the outer transaction flushed before it.
    if not previous_transaction.nested:
        session_.info.pop(_CHANGED, None)


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
        version = data_version(db.session)
        stored = recall("page_cache", key, version)
        if stored is not None:
            body, mimetype = stored
            return Response(body, mimetype=mimetype)
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.direct_passthrough:
            remember("page_cache", key, version, (response.get_data(), response.mimetype))
        return response

    return wrapper
