"""The operators page: operators who gave a handle, and the public rows they reproduced.

It reads the operator summary (services.summaries keeps it as decisions land), one page
of it in the index's order, and the labels of the rows it links in one query: a page
costs the same few queries however many reproductions the catalog holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import Session

from webapp.models import OperatorSummary, Submission
from webapp.services.detail_rows import kept_references
from webapp.services.paging import Pagination, clamped, last_page
from webapp.services.rules import State
from webapp.services.summaries import LATEST_HUBS, hub_ids

LINKS_PER_OPERATOR = LATEST_HUBS


@dataclass(frozen=True)
class ReproducedLink:
    hub_id: int
    label: str


@dataclass(frozen=True)
class OperatorView:
    handle: str
    reproductions: int
    hubs: int
    links: list[ReproducedLink] = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.hubs - len(self.links)


@dataclass(frozen=True)
class OperatorsPage:
    operators: list[OperatorView]
    pagination: Pagination
    demo_shown: bool


# Most rows reproduced first; ix_operator_summaries_rank holds this order.
# Statements built once and read through the connection (Core rows): a request binds
# only its numbers.
_COUNT = select(func.count()).select_from(OperatorSummary)
# Each line carries the count of all (one uncorrelated subquery, computed once): the
# pager's total in the page's own round trip.
_RANKED = select(
    OperatorSummary.handle, OperatorSummary.reproductions, OperatorSummary.hubs,
    OperatorSummary.latest_hub_ids, OperatorSummary.is_demo, _COUNT.scalar_subquery(),
).order_by(
    OperatorSummary.hubs.desc(), OperatorSummary.handle, OperatorSummary.operator_key,
).limit(bindparam("limit")).offset(bindparam("offset"))
# Only public rows are linked, even if a summary were ever behind a decision. The names
# come from the reference rows kept per data version, not from a join per row.
_LINKED = (
    select(Submission.id, Submission.model_id, Submission.hardware_id,
           Submission.hardware_count)
    .where(Submission.state == State.APPROVED,
           Submission.id.in_(bindparam("ids", expanding=True)))
)


def operators_page(session: Session, page: int, *, per_page: int) -> OperatorsPage:
    """Operators who gave a handle, with the public rows they cleanly reproduced.

    Only reproductions in state reproduced whose hub is public count; anonymous
    operators are never listed, so their keys never reach a page. A page past the end
    shows the last one. The pager tells the total: one operator summary per listed
    operator, so the count reads the summaries' smallest index.
    """
    page = clamped(page)
    found = _page_of(session, page, per_page)
    if found:
        total = found[0][-1]
    else:  # past the end, or nobody yet
        total = session.scalar(_COUNT) or 0
        if page > 1:
            page = last_page(total, per_page)
            found = _page_of(session, page, per_page)
    linked = [hub_ids(summary.latest_hub_ids) for summary in found]
    labels = _labels(session, [hub for hubs in linked for hub in hubs])
    operators = [
        OperatorView(
            handle=summary.handle.strip(), reproductions=summary.reproductions,
            hubs=summary.hubs,
            links=[ReproducedLink(hub, labels[hub]) for hub in hubs if hub in labels],
        )
        for summary, hubs in zip(found, linked, strict=True)
    ]
    return OperatorsPage(
        operators=operators,
        pagination=Pagination(page=page, per_page=per_page, shown=len(operators),
                              has_next=page * per_page < total, total=total),
        demo_shown=any(summary.is_demo for summary in found),
    )


def _page_of(session: Session, page: int, per_page: int) -> list[Row[Any]]:
    """One page of summaries, as columns."""
    return session.connection().execute(
        _RANKED, {"limit": per_page, "offset": (page - 1) * per_page}).all()


def _labels(session: Session, ids: list[int]) -> dict[int, str]:
    """Each linked public row as "model on N× hardware", in one query."""
    if not ids:
        return {}
    models, hardware, _quants, _runtimes = kept_references(session)
    return {
        hub_id: f"{models[model_id].name} on {count}× {hardware[hardware_id].name}"
        for hub_id, model_id, hardware_id, count in session.connection().execute(
            _LINKED, {"ids": sorted(set(ids))}).all()
    }
