"""Where a page sits among the others: the page a query string asks for, the numbers a
pager draws (Pagination), and the clamp that keeps page arithmetic in range. Every
paginated page uses these (catalog, hardware and model rows, operators, a row's
reproductions, the reviewers' queue and audit).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, Field, ValidationError

# A page number past this is certainly beyond the last page; it keeps OFFSET arithmetic
# (and the database's integer types) far from overflow before the clamp.
PAGE_MAX = 1_000_000


class _PageArg(BaseModel):
    page: int = Field(default=1, ge=1)


def page_number(args: Mapping[str, str]) -> int:
    """The page asked for; anything that is not a positive whole number means page 1."""
    try:
        return _PageArg.model_validate({"page": (args.get("page") or "1")[:20]}).page
    except ValidationError:
        return 1


@dataclass(frozen=True)
class Pagination:
    """Where a page sits. `total`, when the page counted its matches (the catalog, from
    a memo: see PageMemo), names the last page; without it the next page is detected by
    fetching one row more than a page holds."""

    page: int
    per_page: int
    shown: int
    has_next: bool
    total: int | None = None
    more_than: int | None = None  # a count stopped here (listing_page's count_cap)

    @property
    def last_page(self) -> int | None:
        return None if self.total is None else last_page(self.total, self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def first_index(self) -> int:
        return 0 if self.shown == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return (self.page - 1) * self.per_page + self.shown

    @property
    def window(self) -> list[int | None]:
        """Page numbers to link: the first, two before this one, the next and (when the
        total is known) the last; None marks a gap."""
        last = self.page + 1 if self.has_next else self.page
        ends = {1} if self.last_page is None else {1, self.last_page}
        shown = sorted({*ends, *range(max(1, self.page - 2), last + 1)})
        out: list[int | None] = []
        for number_ in shown:
            if out and number_ - (out[-1] or 0) > 1:
                out.append(None)
            out.append(number_)
        return out


def clamped(page: int) -> int:
    return min(max(page, 1), PAGE_MAX)


def last_page(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))
