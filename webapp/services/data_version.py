"""The site's data version: one number that moves after every commit that changed
public data, so every worker knows a stored page is out of date.

The version lives in SiteState (one row). It moves after every commit whose flush
touched public data (any ORM change but those _touches_public_data rules out), in a
short transaction of its own, so no request holds a lock on the shared row while it
works. Code that writes with Core statements (seed-demo's bulk load) calls bump() itself.
Rows no public page shows never move it: a new queued submission, a withdrawal, a
rejection from the queue, rate counters, feedback.
"""

from __future__ import annotations

import logging

from sqlalchemy import event, insert, inspect, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

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

# Read on every shared page, so sent as the driver's own statement: no compiling and no
# ORM execution each time. Errors still come wrapped as SQLAlchemy's (the 503 page).
_VERSION = "SELECT data_version FROM site_state WHERE id = 1"  # SITE_STATE_ID
# The version a transaction read, kept for the rest of it: the page store's key and a
# view's own memo (the catalog's) ask once between them, and agree.
_READ = "trustbench_data_version"
_BUMP = (
    update(SiteState)
    .where(SiteState.id == SITE_STATE_ID)
    .values(data_version=SiteState.data_version + 1)
)


def current(session: Session) -> int:
    """The data version as this session's transaction sees it (read once per transaction)."""
    version = session.info.get(_READ)
    if version is None:
        version = session.connection().exec_driver_sql(_VERSION).scalar() or 0
        session.info[_READ] = version
    return version


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


@event.listens_for(Session, "after_transaction_end")
def _forget_version_read(session_: Session, _transaction) -> None:
    # A commit may have moved it (this worker's, or any other's the next one sees).
    session_.info.pop(_READ, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_changes(session_: Session, previous_transaction) -> None:
    # A savepoint's rollback leaves what the outer transaction flushed before it.
    if not previous_transaction.nested:
        session_.info.pop(_CHANGED, None)
