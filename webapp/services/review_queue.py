"""The moderation queue: queued submissions, oldest first, each with the flags the rules
raise on it, filtered by kind and flag and paged. Read-only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from webapp.models import Submission
from webapp.services import divergence, matching, moderation, plausibility, review_compare
from webapp.services.paging import Pagination
from webapp.services.rules import SPREAD_LIMIT, Band, Kind, State, percent


@dataclass(frozen=True)
class QueueFlag:
    code: str
    label: str
    rejection_reason: str | None = None  # a one-click rejection quoting the numbers


QUEUE_FLAGS = {
    "exceeds-ceiling": "Exceeds the bandwidth ceiling",
    "vram-exceeds-memory": "Memory peak exceeds the hardware's memory",
    "high-spread": f"Spread above {percent(SPREAD_LIMIT)}",
    "not-reproduction": "Diverges too far to be a reproduction",
    "related-band": "Related band: needs the reviewer's call",
    "matching-set": "Matching set differs from the original",
    "same-measurement": "Same result file as the original or an earlier reproduction",
    "same-operator-signal": "Shares a handle or same-day IP hash",
    "look-alike-handle": "Handle looks like another operator's on the same original",
    "other-entry": "Uses an \"other\" pick-list entry",
}


@dataclass(frozen=True)
class QueueItem:
    row: Submission
    flags: tuple[QueueFlag, ...]
    comparison: divergence.Comparison | None

    @property
    def can_mark_reproduced(self) -> bool:
        blocking = {"not-reproduction", "matching-set", "same-measurement"}
        return self.row.kind == Kind.REPRODUCTION and not any(
            flag.code in blocking for flag in self.flags)

    @property
    def reject_flags(self) -> tuple[QueueFlag, ...]:
        return tuple(flag for flag in self.flags if flag.rejection_reason)


@dataclass(frozen=True)
class Queue:
    items: tuple[QueueItem, ...]
    counts: dict[Kind, int]  # every queued submission, by kind
    matched: int  # queued submissions matching the filters
    page: int
    pages: int
    kind: Kind | None
    flag: str | None
    pagination: Pagination

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def queue_counts(session: Session) -> dict[Kind, int]:
    counts = dict.fromkeys(Kind, 0)
    for kind, count in session.execute(
        select(Submission.kind, func.count()).where(Submission.state == State.QUEUED)
        .group_by(Submission.kind)
    ):
        counts[Kind(kind)] = count
    return counts


def queue_flags(row: Submission, hub: Submission | None,
                siblings: Sequence[Submission]) -> tuple[QueueFlag, ...]:
    flags = [
        QueueFlag(flag.code.value, flag.code.label, flag.rejection_reason)
        for flag in plausibility.of_row(row).flags
    ]
    if divergence.spread_exceeds(row.ttft_spread) or divergence.spread_exceeds(row.decode_spread):
        flags.append(QueueFlag("high-spread", QUEUE_FLAGS["high-spread"]))
    if hub is not None and row.kind == Kind.REPRODUCTION:
        comparison = moderation.compare_numbers(hub, row)
        if comparison is not None and comparison.band is Band.NOT_REPRODUCTION:
            flags.append(QueueFlag("not-reproduction", QUEUE_FLAGS["not-reproduction"]))
        elif comparison is not None and comparison.band is Band.RELATED:
            flags.append(QueueFlag("related-band", QUEUE_FLAGS["related-band"]))
        if not matching.same(hub, row):
            flags.append(QueueFlag("matching-set", QUEUE_FLAGS["matching-set"]))
        if moderation.same_measurement(row, siblings) is not None:
            flags.append(QueueFlag("same-measurement", QUEUE_FLAGS["same-measurement"]))
        found = review_compare.signals(row, hub, siblings)
        if any(set(signal.shared) - {review_compare.LOOK_ALIKE} for signal in found):
            flags.append(QueueFlag("same-operator-signal", QUEUE_FLAGS["same-operator-signal"]))
        if any(signal.look_alike for signal in found):
            flags.append(QueueFlag("look-alike-handle", QUEUE_FLAGS["look-alike-handle"]))
    if row.model.is_other or row.hardware.is_other or row.quant.is_other or row.runtime.is_other:
        flags.append(QueueFlag("other-entry", QUEUE_FLAGS["other-entry"]))
    return tuple(flags)


def queue(
    session: Session,
    *,
    kind: Kind | None = None,
    flag: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Queue:
    """Queued submissions, oldest first, with their flags; filters by kind and flag.

    Flags are computed by the rules, so the flag filter runs over the queued rows in
    Python; the queue is bounded by the submission rate limits.
    """
    statement = (
        select(Submission)
        .where(Submission.state == State.QUEUED)
        .options(selectinload(Submission.hub))
        .order_by(Submission.created_at, Submission.id)
    )
    if kind is not None:
        statement = statement.where(Submission.kind == kind)
    rows = session.scalars(statement).unique().all()
    hub_ids = {row.hub_id for row in rows if row.hub_id is not None}
    siblings: dict[int, list[Submission]] = defaultdict(list)
    if hub_ids:
        for sibling in session.scalars(
            select(Submission).where(Submission.hub_id.in_(hub_ids))
        ):
            siblings[sibling.hub_id].append(sibling)
    items = []
    for row in rows:
        flags = queue_flags(row, row.hub, siblings.get(row.hub_id, []))
        if flag == "any" and not flags:
            continue
        if flag not in (None, "any") and flag not in {f.code for f in flags}:
            continue
        comparison = moderation.compare_numbers(row.hub, row) if row.hub is not None else None
        items.append(QueueItem(row, flags, comparison))
    pages = max(1, -(-len(items) // per_page))
    page = min(max(page, 1), pages)
    start = (page - 1) * per_page
    return Queue(
        items=tuple(items[start:start + per_page]),
        counts=queue_counts(session),
        matched=len(items),
        page=page,
        pages=pages,
        kind=kind,
        flag=flag,
        pagination=Pagination(page=page, per_page=per_page,
                              shown=len(items[start:start + per_page]), has_next=page < pages,
                              total=len(items)),
    )


def queue_item(session: Session, row: Submission) -> QueueItem:
    """One row as the queue shows it (for the htmx swap after an error)."""
    siblings = []
    if row.hub_id is not None:
        siblings = session.scalars(
            select(Submission).where(Submission.hub_id == row.hub_id)
        ).all()
    comparison = moderation.compare_numbers(row.hub, row) if row.hub is not None else None
    return QueueItem(row, queue_flags(row, row.hub, siblings), comparison)
