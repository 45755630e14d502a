"""What a worker learns about a catalog selection as its pages are read (the catalog's
per-worker memo): how many rows match and where some pages start, so a deep page seeks
the sort's index instead of skipping rows. listing.listing_page reads and teaches it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class PageMemo:
    """What one worker learnt about one selection in one sort: how many rows match, and
    the ORDER BY values of the first row at some positions. Counting 100,000 rows walks an
    index once and OFFSET 50,000 walks half of it; with these, page 2,000 seeks the index
    like page 1 does. A memo belongs to one data version and one minute (the stale and
    tier edges move with the clock); MemoStore keys them so."""

    MAX_STARTS = 4096

    def __init__(self) -> None:
        self.total: int | None = None
        self.starts: dict[int, tuple[Any, ...]] = {}

    def nearest(self, position: int) -> tuple[int, tuple[Any, ...] | None]:
        """The known position at or before `position` closest to it (0: the start)."""
        # list() copies the keys at once: another thread of a threaded server may learn
        # a position meanwhile.
        known = [p for p in list(self.starts) if p <= position]
        if not known:
            return 0, None
        best = max(known)
        return best, self.starts[best]

    def learn(self, position: int, key: tuple[Any, ...]) -> None:
        # A NULL sort value (a row whose index was never refreshed) cannot be sought.
        if len(self.starts) < self.MAX_STARTS and None not in key:
            self.starts[position] = key


class MemoStore:
    """A bounded, least-recently-used set of PageMemos for one worker (the catalog's)."""

    def __init__(self, max_entries: int = 512):
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, PageMemo] = OrderedDict()
        self._lock = threading.Lock()

    def memo(self, key: Hashable) -> PageMemo:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                found = self._entries[key] = PageMemo()
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            return found


def worker_memos(extensions: dict[str, Any]) -> MemoStore:
    """This worker's MemoStore, kept among the app's extensions: the catalog's pages and
    the API list's totals learn into the same one."""
    return extensions.setdefault("catalog_memos", MemoStore())
