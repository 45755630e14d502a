"""The reproduction network page: the two rings and the tier's upgrade path, drawn from
the catalog's most reproduced public row.

The row is the public one with the most distinct independent operators (the stored index
services.evidence keeps, ties to the oldest row); everything shown of it comes from the
detail page's own service, so operators are named exactly as its detail page names them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Submission
from webapp.services import evidence_charts
from webapp.services.detail import Detail, ReproductionView, detail
from webapp.services.listing import public_conditions

LICENCE = "CC-BY-4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
TITLE = "Trustbench: Reproduction network"


@dataclass(frozen=True)
class NetworkPage:
    hub: Detail | None  # None: no public row has a reproduction yet
    ladder: evidence_charts.Ladder
    licence: str = LICENCE
    licence_url: str = LICENCE_URL

    @property
    def operators(self) -> int:
        return 0 if self.hub is None else len(self.hub.listing.assessment.independent_operators)

    @property
    def numbered(self) -> list[tuple[int, ReproductionView]]:
        """The ring members in the order the picture numbers its dots."""
        if self.hub is None:
            return []
        views = {view.row.id: view for view in self.hub.reproductions}
        return [(index, views[dot.repro_id])
                for index, dot in enumerate(self.hub.picture.dots, start=1)]

    @property
    def demo_shown(self) -> bool:
        return self.hub is not None and self.hub.demo_shown

    @staticmethod
    def snippet(page_url: str) -> str:
        """The embed snippet: HTML for another site to paste, shown as text on this one."""
        return (f'<a href="{escape(page_url, quote=True)}" rel="noopener">{escape(TITLE)}</a> '
                f"License: {LICENCE}.")


def most_reproduced(session: Session) -> int | None:
    """The id of the public row with the most independent operators, or None."""
    return session.scalar(
        select(Submission.id)
        .where(*public_conditions(), Submission.derived_repro_count > 0)
        .order_by(Submission.derived_repro_count.desc(), Submission.id.asc())
        .limit(1)
    )


def network_page(session: Session, *, now: datetime) -> NetworkPage:
    hub_id = most_reproduced(session)
    hub = None if hub_id is None else detail(session, hub_id, now=now)
    operators = None if hub is None else len(hub.listing.assessment.independent_operators)
    return NetworkPage(hub, evidence_charts.ladder(operators))
