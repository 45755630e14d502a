"""Editorial publishing: an editors' own measurement goes live at once as an approved row.

The row arrives through the one transition function, so it gets its audit event and its
derived index like any decision; the request commits once.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from webapp.models import Submission
from webapp.services import measurements, trust
from webapp.services.moderation import transition
from webapp.services.rules import Kind, State

# The editors count as one operator; trust reserves the key so no handle can pose as them.
EDITORIAL_OPERATOR = trust.EDITORIAL_OPERATOR


@dataclass(frozen=True)
class EditorialRun:
    ttft_ms: float
    tokens_generated: int
    decode_tps: float


def publish_editorial(
    session: Session,
    *,
    columns: Mapping[str, object],
    runs: Sequence[EditorialRun],
    actor: str,
    now: datetime,
) -> Submission:
    """An editors' measurement: published at once as an approved editorial row.

    `columns` are already-validated Submission columns (matching set, build context,
    vram_peak_mib, notes, measured_at); the headline numbers are computed from `runs`.
    The editors count as one operator.
    """
    values = dict(columns)
    values.setdefault("measured_at", now)
    row = Submission(
        **values,
        kind=Kind.EDITORIAL,
        **measurements.row_fields(
            [(run.ttft_ms, run.tokens_generated, run.decode_tps) for run in runs]),
        operator_key=EDITORIAL_OPERATOR,
        status_nonce=secrets.token_urlsafe(32),
        created_at=now,
    )
    transition(session, row, State.APPROVED, actor=actor, now=now,
               reason="Editorial measurement published.")
    return row
