"""The operators page: operators who gave a handle, and the public rows they reproduced.

Its statements are built once, at import; a page costs a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.orm import Session, aliased

from webapp.models import Hardware, ModelVariant, Submission
from webapp.services.listing import Pagination, clamped, last_page
from webapp.services.rules import Kind, State

LINKS_PER_OPERATOR = 5


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


# The operators page's statements are built once: aliased entities are costly to build
# per request, and a statement built once is compiled once.
_REPRO, _HUB = aliased(Submission, name="repro"), aliased(Submission, name="hub")
_HANDLED = (
    _REPRO.kind == Kind.REPRODUCTION,
    _REPRO.state == State.REPRODUCED,
    _HUB.state == State.APPROVED,
    _REPRO.handle.is_not(None),
    func.trim(_REPRO.handle) != "",
)
# No CTE: the clean reproductions are read from ix_submissions_operator_repros alone,
# already in operator order, and each hub's state from ix_submissions_id_state.
_HUB_COUNT = func.count(_REPRO.hub_id.distinct())
_OPERATORS = (
    select(_REPRO.operator_key, func.min(_REPRO.handle), func.count(_REPRO.id), _HUB_COUNT,
           func.max(case((_REPRO.is_demo, 1), else_=0)))
    .join(_HUB, _REPRO.hub_id == _HUB.id)
    .where(*_HANDLED)
    .group_by(_REPRO.operator_key)
    .order_by(_HUB_COUNT.desc(), func.min(_REPRO.handle), _REPRO.operator_key)
)
_OPERATOR_COUNT = (
    select(func.count(_REPRO.operator_key.distinct()))
    .join(_HUB, _REPRO.hub_id == _HUB.id)
    .where(*_HANDLED)
)


def _operator_links_statement() -> Select[Any]:
    pairs = (
        select(_REPRO.operator_key.label("key"), _HUB.id.label("hub_id"))
        .join(_HUB, _REPRO.hub_id == _HUB.id)
        .where(*_HANDLED, _REPRO.operator_key.in_(bindparam("keys", expanding=True)))
        .distinct()
        .subquery()
    )
    rank = func.row_number().over(
        partition_by=pairs.c.key, order_by=pairs.c.hub_id.desc()).label("rank")
    ranked = select(pairs.c.key, pairs.c.hub_id, rank).subquery()
    return (
        select(ranked.c.key, ranked.c.hub_id, ModelVariant.name, Hardware.name,
               Submission.hardware_count)
        .join(Submission, Submission.id == ranked.c.hub_id)
        .join(ModelVariant, Submission.model_id == ModelVariant.id)
        .join(Hardware, Submission.hardware_id == Hardware.id)
        .where(ranked.c.rank <= LINKS_PER_OPERATOR)
        .order_by(ranked.c.key, ranked.c.hub_id.desc())
    )


_OPERATOR_LINKS = _operator_links_statement()


def operators_page(session: Session, page: int, *, per_page: int) -> OperatorsPage:
    """Operators who gave a handle, with the public rows they cleanly reproduced.

    Only reproductions in state reproduced whose hub is public count; anonymous
    operators are never listed, so their keys never reach a page.

    The ranking (by rows reproduced) needs every clean reproduction, so this page costs
    time in proportion to their number; the two indexes keep that to index reads.
    """
    page = clamped(page)
    grouped = session.execute(
        _OPERATORS.limit(per_page + 1).offset((page - 1) * per_page)).all()
    if not grouped and page > 1:
        page = last_page(session.scalar(_OPERATOR_COUNT) or 0, per_page)
        grouped = session.execute(
            _OPERATORS.limit(per_page + 1).offset((page - 1) * per_page)).all()
    has_next = len(grouped) > per_page
    grouped = grouped[:per_page]
    links = _operator_links(session, [row[0] for row in grouped])
    operators = [
        OperatorView(handle=handle.strip(), reproductions=count, hubs=hub_count,
                     links=links.get(key, []))
        for key, handle, count, hub_count, _demo in grouped
    ]
    return OperatorsPage(
        operators=operators,
        pagination=Pagination(page=page, per_page=per_page, shown=len(operators),
                              has_next=has_next),
        demo_shown=any(row[4] for row in grouped),
    )


def _operator_links(session: Session, keys: Sequence[str]) -> dict[str, list[ReproducedLink]]:
    """The newest LINKS_PER_OPERATOR public rows each operator reproduced, in one query."""
    if not keys:
        return {}
    links: dict[str, list[ReproducedLink]] = defaultdict(list)
    for key, hub_id, model, hardware, count in session.execute(
        _OPERATOR_LINKS, {"keys": list(keys)}
    ):
        links[key].append(ReproducedLink(hub_id, f"{model} on {count}× {hardware}"))
    return links
