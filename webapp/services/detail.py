"""The detail page of one public row: its numbers, evidence and the ring picture.

Only reproductions in an evidence state are shown as evidence, and only those within
tolerance in the rings (the others apart, "accepted with a note"); a fragment (a
reproduction that became a row of its own) is shown as related. The rows are read as
columns (services.detail_rows) in one statement: the row with its runs, fragments and
hub, and the evidence of the row, of its fragments and of its hub.

Every long list pages: the page shows REPRODUCTIONS_PER_PAGE of each ring (and of those
accepted with a note), newest first, and `?page=` the next ones; the badge, the tier's
reasons, the headings' counts and the divergence strip's summary count every accepted
reproduction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

from sqlalchemy.orm import Session

from webapp.services import detail_rows, divergence, evidence_charts, plausibility
from webapp.services.evidence import assess
from webapp.services.labels import Fact, build_context, operator_label, safe_url
from webapp.services.listing import Listing
from webapp.services.paging import Pagination
from webapp.services.rules import Ring, State, percent

MAX_ID = 2**31 - 1  # ids are INTEGER: 32-bit on PostgreSQL


class _Measured:
    """Who measured `row`, as the page names them and links to them."""

    row: Any  # a Submission, or its columns (services.detail_rows)

    @cached_property
    def operator(self) -> str:
        return operator_label(self.row)

    @cached_property
    def operator_url(self) -> str | None:
        return safe_url(self.row.url)


@dataclass(frozen=True)
class Difference:
    """One metric of a reproduction against the original, in words: how far and which way
    ("8.2% faster", "3.1% slower"), so a reader never has to tell it by colour."""

    metric: str
    change: float  # signed, as a share of the original: above 0 the reproduction is faster

    @cached_property
    def word(self) -> str:
        """"same" also when the difference rounds to 0% (never "0% faster")."""
        if self.size == "0%":
            return "same"
        return "faster" if self.change > 0 else "slower"

    @cached_property
    def size(self) -> str:
        return percent(abs(self.change))

    @cached_property
    def label(self) -> str:
        if self.word == "same":
            return "same as the original"
        return f"{self.size} {self.word}"


@lru_cache(maxsize=4_096, typed=True)  # pure; as divergence.compare, asked again per view
def differences(original_ttft_ms: float, original_decode_tps: float, ttft_ms: float,
                decode_tps: float) -> tuple[Difference, Difference]:
    """Decode and TTFT of a run against the original's medians: more tokens per second is
    faster, fewer milliseconds to the first token is faster. The size is the divergence
    itself (|run − original| ÷ original), rounded as the band decision rounds it."""
    decode = divergence.ratio((decode_tps - original_decode_tps) / original_decode_tps)
    ttft = divergence.ratio((original_ttft_ms - ttft_ms) / original_ttft_ms)
    return Difference("Decode", decode), Difference("TTFT", ttft)


@dataclass(frozen=True)
class ReproductionView(_Measured):
    row: Any  # the reproduction's columns (services.detail_rows.row_around)
    ring: Ring | None  # None: outside tolerance, accepted with a note, or `own` (no ring)
    comparison: divergence.Comparison
    differences: tuple[Difference, ...] = ()
    own: bool = False  # by the original row's own operator: a re-run, not evidence

    @property
    def environment(self) -> str:
        parts = (self.row.os_label, self.row.driver_version, self.row.runtime_version)
        return " · ".join(part for part in parts if part) or "not given"

    @property
    def measured_on(self) -> str:
        """The day it was measured, as both a <time> and its reader see it (YYYY-MM-DD)."""
        return self.row.measured_at.date().isoformat()

    @property
    def received_on(self) -> str:
        """The day it reached this site."""
        return self.row.created_at.date().isoformat()

    @property
    def days(self) -> tuple[str, str]:
        """(measured_on, received_on)."""
        return self.measured_on, self.received_on


@dataclass(frozen=True)
class RingDot:
    repro_id: int
    ring: Ring
    x: str
    y: str
    title: str

    @property
    def css(self) -> str:
        return self.ring.css


@dataclass(frozen=True)
class RingPicture:
    """Coordinates for the hub-and-rings SVG; the template only draws them."""

    size: int
    centre: int
    inner_radius: int
    outer_radius: int
    hub_radius: int
    dot_radius: int
    dots: tuple[RingDot, ...]
    # how many each ring holds in all, when the dots are one page of them
    totals: tuple[int, int] | None = None

    @property
    def inner_count(self) -> int:
        return sum(1 for dot in self.dots if dot.ring is Ring.INNER)

    @property
    def outer_count(self) -> int:
        return sum(1 for dot in self.dots if dot.ring is Ring.OUTER)

    @property
    def inner_total(self) -> int:
        return self.inner_count if self.totals is None else self.totals[0]

    @property
    def outer_total(self) -> int:
        return self.outer_count if self.totals is None else self.totals[1]

    @property
    def partial(self) -> bool:
        """Only some of the ring members are drawn (one page of them)."""
        return len(self.dots) < self.inner_total + self.outer_total


def ring_picture(reproductions: Sequence[ReproductionView],
                 totals: tuple[int, int] | None = None) -> RingPicture:
    size, inner, outer = 280, 62, 118
    centre = size // 2
    dots: list[RingDot] = []
    for ring_, radius, offset in ((Ring.INNER, inner, -90.0), (Ring.OUTER, outer, -75.0)):
        members = [view for view in reproductions if view.ring is ring_]
        for index, view in enumerate(members):
            angle = math.radians(offset + 360.0 * index / len(members))
            dots.append(RingDot(
                repro_id=view.row.id,
                ring=ring_,
                x=f"{centre + radius * math.cos(angle):.1f}",
                y=f"{centre + radius * math.sin(angle):.1f}",
                title=f"{ring_.label}: reproduction #{view.row.id} by {view.operator}",
            ))
    return RingPicture(size=size, centre=centre, inner_radius=inner, outer_radius=outer,
                       hub_radius=22, dot_radius=9, dots=tuple(dots), totals=totals)


REPRODUCTIONS_PER_PAGE = 10  # of each ring, and of those accepted with a note


@dataclass(frozen=True)
class ReproGroup:
    """One table of the page: a ring's reproductions (ring None: those accepted with a
    note; OWN: the original operator's re-runs), how many it holds in all and this page's
    share of them, newest first."""

    ring: Ring | str | None
    total: int
    views: tuple[ReproductionView, ...]
    first: int  # the place of the first shown, counting from 1 (newest first)

    @property
    def last(self) -> int:
        return self.first + len(self.views) - 1

    @property
    def paged(self) -> bool:
        return self.total > REPRODUCTIONS_PER_PAGE


# The group of the original operator's own re-runs (beside the rings and None, accepted
# with a note).
OWN = "own"


def _view(original: Any, repro: Any, ring: Ring | str | None) -> ReproductionView:
    return ReproductionView(
        row=repro,
        ring=None if ring == OWN else ring,  # type: ignore[arg-type]
        own=ring == OWN,
        comparison=divergence.compare(original.ttft_ms, original.decode_tps,
                                      repro.ttft_ms, repro.decode_tps),
        differences=differences(original.ttft_ms, original.decode_tps,
                                repro.ttft_ms, repro.decode_tps),
    )


@dataclass(frozen=True)
class Detail(_Measured):
    """One public row and its evidence. `reproductions`, `picture` and `noted` are every
    accepted reproduction (the API and the network page); the page shows `groups`, one
    page (`page`) of each ring and of those accepted with a note, with `page_picture`
    and `strip` drawn from that page and counting them all."""

    listing: Listing
    build_context: tuple[Fact, ...]
    runs: list[Any]  # position, ttft_ms, tokens_generated, decode_tps
    spreads: tuple[divergence.SpreadCheck, ...]
    plausibility: plausibility.Plausibility
    accepted: tuple[Any, ...]  # the reproductions in the REPRODUCED state, oldest first
    related: list[Listing]
    hub: Listing | None  # the row this fragment came from, when public
    page: int = 1

    @property
    def row(self) -> Any:
        return self.listing.row

    @property
    def rings(self) -> dict[int, Ring]:
        return self.listing.assessment.rings

    @cached_property
    def reproductions(self) -> tuple[ReproductionView, ...]:
        """Every accepted reproduction, oldest first."""
        return tuple(_view(self.row, repro, self._group_of(repro.id))
                     for repro in self.accepted)

    def _group_of(self, repro_id: int) -> Ring | str | None:
        if repro_id in self.listing.assessment.own:
            return OWN
        return self.rings.get(repro_id)

    @cached_property
    def picture(self) -> RingPicture:
        """Every clean reproduction on its ring."""
        return ring_picture(self.reproductions)

    @cached_property
    def noted(self) -> tuple[ReproductionView, ...]:
        """Reproductions a reviewer accepted outside tolerance: shown apart from the rings."""
        return tuple(view for view in self.reproductions if view.ring is None and not view.own)

    @cached_property
    def own(self) -> tuple[ReproductionView, ...]:
        """The original operator's own re-runs: listed apart, no evidence."""
        return tuple(view for view in self.reproductions if view.own)

    # --- the page: one page of each table ---------------------------------------------------

    @cached_property
    def _members(self) -> dict[Ring | str | None, list[Any]]:
        """The accepted reproductions by ring (None: accepted with a note; OWN: the
        original operator's re-runs), newest first."""
        members: dict[Ring | str | None, list[Any]] = {
            Ring.INNER: [], Ring.OUTER: [], None: [], OWN: []}
        for repro in reversed(self.accepted):
            members[self._group_of(repro.id)].append(repro)
        return members

    @property
    def page_count(self) -> int:
        largest = max(len(rows) for rows in self._members.values())
        return max(1, math.ceil(largest / REPRODUCTIONS_PER_PAGE))

    @cached_property
    def groups(self) -> tuple[ReproGroup, ReproGroup, ReproGroup, ReproGroup]:
        """Inner ring, outer ring, accepted with a note, the original operator's re-runs:
        this page of each."""
        start = (self.page - 1) * REPRODUCTIONS_PER_PAGE
        groups = []
        for ring_, rows in self._members.items():
            shown = rows[start:start + REPRODUCTIONS_PER_PAGE]
            groups.append(ReproGroup(ring_, len(rows),
                                     tuple(_view(self.row, repro, ring_) for repro in shown),
                                     start + 1))
        inner, outer, noted, own = groups
        return inner, outer, noted, own

    @property
    def ring_groups(self) -> tuple[ReproGroup, ReproGroup]:
        return self.groups[0], self.groups[1]

    @property
    def noted_group(self) -> ReproGroup:
        return self.groups[2]

    @property
    def own_group(self) -> ReproGroup:
        return self.groups[3]

    @property
    def pagination(self) -> Pagination:
        return Pagination(page=self.page, per_page=REPRODUCTIONS_PER_PAGE,
                          shown=max(len(group.views) for group in self.groups),
                          has_next=self.page < self.page_count)

    @property
    def in_rings(self) -> bool:
        return bool(self._members[Ring.INNER] or self._members[Ring.OUTER])

    @cached_property
    def page_picture(self) -> RingPicture:
        """This page's clean reproductions on their rings, with how many each ring holds."""
        inner, outer, _noted, _own = self.groups
        return ring_picture((*inner.views, *outer.views), (inner.total, outer.total))

    @cached_property
    def strip(self) -> evidence_charts.Strip | None:
        """The divergence strip of this page's reproductions (rings and accepted with a
        note) against this row's medians, signed, on an axis wide enough for all of them
        and counting them all (the original operator's re-runs are no evidence: left
        out); None when there is none."""
        row, rings, own = self.row, self.rings, self.listing.assessment.own
        shown = {view.row.id for group in self.groups for view in group.views}
        drawn, others = [], []
        for repro in reversed(self.accepted):
            if repro.id in own:
                continue
            item = evidence_charts.StripInput(
                repro.id, operator_label(repro), rings.get(repro.id),
                evidence_charts.signed(repro.ttft_ms, row.ttft_ms),
                evidence_charts.signed(repro.decode_tps, row.decode_tps))
            (drawn if repro.id in shown else others).append(item)
        order = {ring_: index for index, ring_ in enumerate(self._members)}
        drawn.sort(key=lambda item: order[item.ring])  # the tables' order
        return evidence_charts.strip(drawn, others)

    @property
    def spread_flagged(self) -> bool:
        return any(spread.flagged for spread in self.spreads)

    @property
    def demo_shown(self) -> bool:
        rows = [self.row, *self.accepted, *(listing.row for listing in self.related)]
        if self.hub is not None:
            rows.append(self.hub.row)
        return any(row.is_demo for row in rows)


def detail(session: Session, benchmark_id: int, *, now: datetime,
           page: int = 1) -> Detail | None:
    """Everything the detail page shows, or None when the row is not public. A page of
    reproductions past the last is the last (as the catalog's pages are: a bookmark kept
    after reproductions were revised away still opens; the page's canonical link names
    the page shown)."""
    if not 0 < benchmark_id <= MAX_ID:
        return None  # the URL converter takes any digits; the database does not
    around = detail_rows.row_around(session, benchmark_id)
    if around is None:
        return None
    row, hub, evidence = around.row, around.hub, around.evidence
    evidence_rows = evidence.get(row.id, [])
    fragments = [around.fragments[r.id] for r in evidence_rows
                 if r.state == State.APPROVED and r.id in around.fragments]
    assessment = assess(row, evidence_rows, now)
    found = Detail(
        listing=Listing(row, assessment),
        build_context=build_context(row),
        runs=row.runs,
        spreads=divergence.spread_checks(row.ttft_spread, row.decode_spread),
        plausibility=plausibility.of_row(row),
        accepted=tuple(repro for repro in evidence_rows if repro.state == State.REPRODUCED),
        related=[Listing(r, assess(r, evidence.get(r.id, []), now)) for r in fragments],
        hub=Listing(hub, assess(hub, evidence.get(hub.id, []), now)) if hub else None,
        page=page,
    )
    return found if page <= found.page_count else replace(found, page=found.page_count)
