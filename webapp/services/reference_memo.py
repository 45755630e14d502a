"""Reference data kept per worker for one data version: what a few hundred rows of
hardware, models, quants and runtimes become once read (the catalog's and the exports'
reference entries, the index pages' entries in natural order), so a request that needs
them does not read and arrange them again.

Only reference data is kept here, and the public row counts services.narrowing chooses
an index by (never shown: a page's own counts and totals are read with it), never a page,
a fragment or anything a visitor's address selects: public rows, counts and summaries
shown are read on every request. A value
belongs to the data version it was built under (services.data_version moves it after
every commit that changes public data, reference rows included); the next version builds
it anew. Values must be plain data or transient objects, never rows a session owns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

T = TypeVar("T")

_MEMOS: WeakKeyDictionary[Engine, dict[str, tuple[int, Any]]] = WeakKeyDictionary()
_LOCK = threading.Lock()


def kept(session: Session, name: str, version: int, build: Callable[[Session], T]) -> T:
    """`build(session)` as built under data version `version` in this worker (one value
    per `name` and database)."""
    engine = session.get_bind()
    with _LOCK:
        memos = _MEMOS.setdefault(engine, {})  # type: ignore[arg-type]
        found = memos.get(name)
    if found is not None and found[0] == version:
        return found[1]
    value = build(session)
    with _LOCK:
        memos[name] = (version, value)
    return value

