"""The detail page of one public row: its numbers, evidence and the ring picture.

Only reproductions in an evidence state are shown as evidence, and only those within
tolerance in the rings (the others apart, "accepted with a note"); a fragment (a
reproduction that became a row of its own) is shown as related. The rows are read as
columns (services.detail_rows): the row with its runs, then the evidence of the row, of
its fragments and of its hub in one query; a row with fragments or a hub reads those
rows in one more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from webapp.services import detail_rows, divergence, evidence_charts, plausibility
from webapp.services.evidence import assess
from webapp.services.labels import Fact, build_context, operator_label, safe_url
from webapp.services.listing import Listing
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

    @property
    def word(self) -> str:
        if self.change > 0:
            return "faster"
        return "slower" if self.change < 0 else "same"

    @property
    def label(self) -> str:
        if self.word == "same":
            return "same as the original"
        return f"{percent(abs(self.change))} {self.word}"


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
    row: Any  # the reproduction's columns (services.detail_rows.evidence_around)
    ring: Ring | None  # None: outside tolerance, accepted with a note (no ring)
    comparison: divergence.Comparison
    differences: tuple[Difference, ...] = ()

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


@dataclass(frozen=True)
class RingDot:
    repro_id: int
    ring: Ring
    x: str
    y: str
    title: str


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

    @property
    def inner_count(self) -> int:
        return sum(1 for dot in self.dots if dot.ring is Ring.INNER)

    @property
    def outer_count(self) -> int:
        return sum(1 for dot in self.dots if dot.ring is Ring.OUTER)


def ring_picture(reproductions: Sequence[ReproductionView]) -> RingPicture:
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
                       hub_radius=22, dot_radius=9, dots=tuple(dots))


@dataclass(frozen=True)
class Detail(_Measured):
    listing: Listing
    build_context: tuple[Fact, ...]
    runs: list[Any]  # position, ttft_ms, tokens_generated, decode_tps
    spreads: tuple[divergence.SpreadCheck, ...]
    plausibility: plausibility.Plausibility
    reproductions: tuple[ReproductionView, ...]
    picture: RingPicture
    related: list[Listing]
    hub: Listing | None  # the row this fragment came from, when public

    @property
    def row(self) -> Any:
        return self.listing.row

    @cached_property
    def ring_groups(self) -> tuple[tuple[Ring, tuple[ReproductionView, ...]], ...]:
        """The clean reproductions grouped by ring, inner first; empty rings included."""
        return tuple(
            (ring_, tuple(view for view in self.reproductions if view.ring is ring_))
            for ring_ in Ring
        )

    @property
    def in_rings(self) -> bool:
        return bool(self.picture.dots)

    @cached_property
    def noted(self) -> tuple[ReproductionView, ...]:
        """Reproductions a reviewer accepted outside tolerance: shown apart from the rings."""
        return tuple(view for view in self.reproductions if view.ring is None)

    @cached_property
    def strip(self) -> evidence_charts.Strip | None:
        """The divergence strip: every accepted reproduction (rings and accepted with a note)
        against this row's medians, signed; None when there is none."""
        return evidence_charts.strip([
            evidence_charts.StripInput(
                view.row.id, view.operator, view.ring,
                evidence_charts.signed(view.row.ttft_ms, self.row.ttft_ms),
                evidence_charts.signed(view.row.decode_tps, self.row.decode_tps))
            for view in self.reproductions
        ])

    @property
    def spread_flagged(self) -> bool:
        return any(spread.flagged for spread in self.spreads)

    @property
    def demo_shown(self) -> bool:
        rows = [self.row, *(view.row for view in self.reproductions),
                *(listing.row for listing in self.related)]
        if self.hub is not None:
            rows.append(self.hub.row)
        return any(row.is_demo for row in rows)


def detail(session: Session, benchmark_id: int, *, now: datetime) -> Detail | None:
    """Everything the detail page shows, or None when the row is not public."""
    if not 0 < benchmark_id <= MAX_ID:
        return None  # the URL converter takes any digits; the database does not
    row = detail_rows.public_row(session, benchmark_id)
    if row is None:
        return None
    # One query for the evidence of the row, of its fragments and of its hub; one more
    # for the fragments and the hub as rows of their own, when there are any.
    hub_id = row.hub_id
    evidence = detail_rows.evidence_around(session, row.id, hub_id)
    evidence_rows = evidence.get(row.id, [])
    fragment_ids = [r.id for r in evidence_rows if r.state == State.APPROVED]
    others = detail_rows.public_rows(
        session, fragment_ids if hub_id is None else [*fragment_ids, hub_id])
    fragments = [others[id_] for id_ in fragment_ids if id_ in others]
    hub = others.get(hub_id) if hub_id is not None else None

    assessment = assess(row, evidence_rows, now)
    reproductions = tuple(
        ReproductionView(
            row=repro,
            ring=assessment.rings.get(repro.id),
            comparison=divergence.compare(row.ttft_ms, row.decode_tps,
                                          repro.ttft_ms, repro.decode_tps),
            differences=differences(row.ttft_ms, row.decode_tps,
                                    repro.ttft_ms, repro.decode_tps),
        )
        for repro in evidence_rows
        if repro.state == State.REPRODUCED
    )
    return Detail(
        listing=Listing(row, assessment),
        build_context=build_context(row),
        runs=row.runs,
        spreads=divergence.spread_checks(row.ttft_spread, row.decode_spread),
        plausibility=plausibility.of_row(row),
        reproductions=reproductions,
        picture=ring_picture(reproductions),
        related=[Listing(r, assess(r, evidence.get(r.id, []), now)) for r in fragments],
        hub=Listing(hub, assess(hub, evidence.get(hub.id, []), now)) if hub else None,
    )
