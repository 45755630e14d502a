"""The rows the detail page reads, as columns rather than ORM objects.

A page row is one public submission with a Submission's column attributes, its four
reference rows (`model`, `hardware`, `quant`, `runtime`: detached copies, so their
`is_other` and `label` are the models' own) and its timed runs, read in one query each.
Evidence rows (a hub's reproductions in an evidence state) carry only what the pages and
the rules read of a reproduction. Every statement is built once, at import; a request
only binds its ids. Between requests only the reference copies are kept, keyed by every
value read (so a changed reference row is a new copy); no public row is ever kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Row, bindparam, select, union_all
from sqlalchemy.orm import Session

from webapp.models import Hardware, ModelVariant, Quant, RunSample, Runtime, Submission
from webapp.services.evidence import EVIDENCE_STATES
from webapp.services.rules import Kind, State

_SUBMISSION = tuple(Submission.__table__.c)
_REFERENCES = (("model", ModelVariant), ("hardware", Hardware), ("quant", Quant),
               ("runtime", Runtime))
_REFERENCE_COLUMNS = tuple((name, entity, tuple(entity.__table__.c))
                           for name, entity in _REFERENCES)


def _page_rows_statement() -> Any:
    statement = select(*_SUBMISSION)
    for name, entity, entity_columns in _REFERENCE_COLUMNS:
        statement = statement.add_columns(*entity_columns).join(
            entity, entity.id == getattr(Submission, f"{name}_id"))
    return statement.where(Submission.state == State.APPROVED)


_PAGE_ROWS = _page_rows_statement()
_ONE_ROW = _PAGE_ROWS.where(Submission.id == bindparam("id"))
_SOME_ROWS = _PAGE_ROWS.where(Submission.id.in_(bindparam("ids", expanding=True)))

_RUNS = (
    select(RunSample.position, RunSample.ttft_ms, RunSample.tokens_generated,
           RunSample.decode_tps)
    .where(RunSample.submission_id == bindparam("id"))
    .order_by(RunSample.position)
)

# What a reproduction shows and what evidence.assess reads of it.
_EVIDENCE = (
    select(Submission.id, Submission.hub_id, Submission.kind, Submission.state,
           Submission.operator_key, Submission.handle, Submission.url,
           Submission.os_label, Submission.driver_version, Submission.runtime_version,
           Submission.ttft_ms, Submission.decode_tps, Submission.notes,
           Submission.measured_at, Submission.created_at, Submission.decided_at,
           Submission.is_demo)
    .where(Submission.kind == Kind.REPRODUCTION, Submission.state.in_(EVIDENCE_STATES))
)
# A row's evidence, its fragments' and its hub's (hub NULL: none), in one statement.
_FRAGMENT_IDS = select(Submission.id).where(
    Submission.hub_id == bindparam("row"), Submission.kind == Kind.REPRODUCTION,
    Submission.state == State.APPROVED)
_EVIDENCE_AROUND = union_all(
    _EVIDENCE.where(Submission.hub_id == bindparam("row")),
    _EVIDENCE.where(Submission.hub_id.in_(_FRAGMENT_IDS)),
    _EVIDENCE.where(Submission.hub_id == bindparam("hub")),
)


_NAMES = tuple(column.name for column in _SUBMISSION)


@lru_cache(maxsize=512)
def _reference(entity: type, values: tuple[Any, ...]) -> Any:
    """A detached reference row with exactly these column values. Keyed by every value
    read, so a copy is only ever reused for a row that still reads the same; nothing
    writes to it (it belongs to no session)."""
    return entity(**dict(zip((column.name for column in entity.__table__.c), values,
                             strict=True)))


def _page_row(values: Row[Any]) -> SimpleNamespace:
    row = SimpleNamespace(**dict(zip(_NAMES, values, strict=False)), runs=[])
    at = len(_NAMES)
    for name, entity, entity_columns in _REFERENCE_COLUMNS:
        end = at + len(entity_columns)
        setattr(row, name, _reference(entity, tuple(values[at:end])))
        at = end
    return row


def _connection(session: Session) -> Any:
    session.flush()  # what an ORM query would autoflush; nothing on a page's GET
    return session.connection()


def public_row(session: Session, row_id: int) -> SimpleNamespace | None:
    """The public row `row_id` with its reference rows and runs, or None."""
    connection = _connection(session)
    found = connection.execute(_ONE_ROW, {"id": row_id}).first()
    if found is None:
        return None
    row = _page_row(found)
    row.runs = connection.execute(_RUNS, {"id": row_id}).all()
    return row


def public_rows(session: Session, row_ids: Collection[int]) -> dict[int, SimpleNamespace]:
    """The public rows among `row_ids` (without their runs), by id."""
    if not row_ids:
        return {}
    found = _connection(session).execute(_SOME_ROWS, {"ids": list(row_ids)})
    return {row.id: row for row in map(_page_row, found)}


def evidence_around(session: Session, row_id: int, hub_id: int | None
                    ) -> dict[int, list[Row[Any]]]:
    """The evidence-state reproductions of the row, of its fragments (its reproductions
    that became rows of their own) and of its hub, by hub id, oldest first: one query."""
    found = _connection(session).execute(_EVIDENCE_AROUND, {"row": row_id, "hub": hub_id})
    grouped: dict[int, list[Row[Any]]] = defaultdict(list)
    for row in sorted(found, key=_oldest_first):
        grouped[row.hub_id].append(row)
    return grouped


def _oldest_first(row: Row[Any]) -> tuple[Any, int]:
    return row.created_at, row.id
