"""The rows the detail page reads, as columns rather than ORM objects.

A page row is one public submission with a Submission's column attributes, its four
reference rows (`model`, `hardware`, `quant`, `runtime`: detached copies, so their
`is_other` and `label` are the models' own) and its timed runs. The detail page reads its
row, the row's runs, its public fragments and its public hub in one statement
(`row_around`), and the evidence around them in one more (`evidence_around`): two
statements a page, whatever the row, which matters where each statement is a round trip
(PostgreSQL).
Evidence rows (a hub's reproductions in an evidence state) carry only what the pages and
the rules read of a reproduction. Every statement is built once, at import; a request
only binds its ids. Between requests only the reference copies are kept, keyed by every
value read (so a changed reference row is a new copy); no public row is ever kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, NamedTuple

from sqlalchemy import Float, Integer, Row, bindparam, cast, literal_column, null, select, union_all
from sqlalchemy.orm import Session, aliased

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
_SOME_ROWS = _PAGE_ROWS.where(Submission.id.in_(bindparam("ids", expanding=True)))

_RUN_COLUMNS = (RunSample.position, RunSample.ttft_ms, RunSample.tokens_generated,
                RunSample.decode_tps)
_NO_RUN = (cast(null(), Integer), cast(null(), Float), cast(null(), Integer),
           cast(null(), Float))
_HUB_OF = aliased(Submission)
# The row (part 0) once per timed run, its public fragments (1) and its public hub (2),
# the last two without runs.
_ROW_AROUND = union_all(
    _PAGE_ROWS.add_columns(*_RUN_COLUMNS, literal_column("0", Integer))
    .outerjoin(RunSample, RunSample.submission_id == Submission.id)
    .where(Submission.id == bindparam("id")),
    _PAGE_ROWS.add_columns(*_NO_RUN, literal_column("1", Integer))
    .where(Submission.hub_id == bindparam("id"), Submission.kind == Kind.REPRODUCTION),
    _PAGE_ROWS.add_columns(*_NO_RUN, literal_column("2", Integer))
    .where(Submission.id == select(_HUB_OF.hub_id)
           .where(_HUB_OF.id == bindparam("id")).scalar_subquery()),
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
_EVIDENCE_AROUND = _EVIDENCE_AROUND.order_by(  # oldest first
    _EVIDENCE_AROUND.selected_columns.created_at, _EVIDENCE_AROUND.selected_columns.id)


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


@dataclass(frozen=True)
class RowAround:
    row: SimpleNamespace  # with its runs, in order
    fragments: dict[int, SimpleNamespace]  # its reproductions that became public rows
    hub: SimpleNamespace | None  # the public row it came from, when it is a fragment


def row_around(session: Session, row_id: int) -> RowAround | None:
    """The public row `row_id` with its reference rows and runs, its public fragments and
    its public hub (without their runs), in one statement; None when it is not public."""
    row = hub = None
    fragments: dict[int, SimpleNamespace] = {}
    runs = []
    for values in _connection(session).execute(_ROW_AROUND, {"id": row_id}):
        part = values[-1]
        if part == 0:
            if row is None:
                row = _page_row(values)
            if values[-5] is not None:  # a row without runs reads one line of NULLs
                runs.append(_Run(*values[-5:-1]))
        elif part == 1:
            fragments[values[0]] = _page_row(values)
        else:
            hub = _page_row(values)
    if row is None:
        return None
    runs.sort(key=_position)
    row.runs = runs
    return RowAround(row, fragments, hub)


class _Run(NamedTuple):
    position: int
    ttft_ms: float
    tokens_generated: int
    decode_tps: float


def _position(run: _Run) -> int:
    return run.position


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
    for row in found:
        grouped[row.hub_id].append(row)
    return grouped
