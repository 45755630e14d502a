"""The rows the detail page reads, as columns rather than ORM objects.

A page row is one public submission with a Submission's column attributes, its four
reference rows (`model`, `hardware`, `quant`, `runtime`: detached copies, so their
`is_other` and `label` are the models' own) and its timed runs. The detail page reads its
row, the row's runs, its public fragments, its public hub and the evidence around them in
one statement (`row_around`): one statement a page, whatever the row, which matters where
each statement is a round trip (PostgreSQL). Its reference rows come from the reference
tables kept per worker for the data version (services.reference_memo), so the statement
joins none and its lines stay narrow. Evidence rows (a hub's reproductions in an
evidence state) carry only what the pages and the rules read of a reproduction. Every
statement is built once, at import; a request only binds its ids. Between requests only
the reference copies are kept, keyed by every value read (so a changed reference row is a
new copy); no public row is ever kept.
"""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from types import SimpleNamespace
from typing import Any, NamedTuple

from sqlalchemy import Integer, Row, bindparam, cast, literal_column, null, select, union_all
from sqlalchemy.orm import Session, aliased

from webapp.models import Hardware, ModelVariant, Quant, RunSample, Runtime, Submission
from webapp.services import data_version, reference_memo
from webapp.services.evidence import EVIDENCE_STATES
from webapp.services.rules import Kind, State

# The parts of the detail page's statement, in the order it returns them.
ROW, FRAGMENT, HUB, ROW_EVIDENCE = 0, 1, 2, 3

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
_NO_RUN = tuple(cast(null(), column.type) for column in _RUN_COLUMNS)
# The detail page's rows without their reference rows: those come from the reference
# tables kept per data version (`kept_references`).
_BARE_ROWS = select(*_SUBMISSION).where(Submission.state == State.APPROVED)
_HUB_OF = aliased(Submission)
_HUB = select(_HUB_OF.hub_id).where(_HUB_OF.id == bindparam("id")).scalar_subquery()
_FRAGMENT_OF = aliased(Submission)
_FRAGMENT_IDS = select(_FRAGMENT_OF.id).where(
    _FRAGMENT_OF.hub_id == bindparam("id"), _FRAGMENT_OF.kind == Kind.REPRODUCTION,
    _FRAGMENT_OF.state == State.APPROVED)


def _part(number: int) -> Any:
    return literal_column(str(number), Integer).label("part")


# What a reproduction shows and what evidence.assess reads of it: the evidence of a row
# is its reproductions in an evidence state, public or not, and only these columns of
# them are read (the others, NULL, keep the UNION's shape).
_EVIDENCE_NAMES = ("id", "hub_id", "kind", "state", "operator_key", "handle", "url",
                   "os_label", "driver_version", "runtime_version", "ttft_ms", "decode_tps",
                   "notes", "measured_at", "created_at", "decided_at", "is_demo")
_EVIDENCE = (
    select(*(column if column.name in _EVIDENCE_NAMES else cast(null(), column.type)
             for column in _SUBMISSION),
           *_NO_RUN, _part(ROW_EVIDENCE))
    .where(Submission.kind == Kind.REPRODUCTION, Submission.state.in_(EVIDENCE_STATES))
)
# Everything the detail page reads, in one statement: the row once per timed run, its
# public fragments and its public hub, then the evidence of the row, of its fragments
# and of its hub, oldest first. Constants, not bound parameters, mark the parts, so
# PostgreSQL has no parameter to type in a UNION's select list.
_AROUND = union_all(
    _BARE_ROWS.add_columns(*_RUN_COLUMNS, _part(ROW))
    .outerjoin(RunSample, RunSample.submission_id == Submission.id)
    .where(Submission.id == bindparam("id")),
    _BARE_ROWS.add_columns(*_NO_RUN, _part(FRAGMENT))
    .where(Submission.hub_id == bindparam("id"), Submission.kind == Kind.REPRODUCTION),
    _BARE_ROWS.add_columns(*_NO_RUN, _part(HUB)).where(Submission.id == _HUB),
    _EVIDENCE.where(Submission.hub_id == bindparam("id")),
    _EVIDENCE.where(Submission.hub_id.in_(_FRAGMENT_IDS)),
    _EVIDENCE.where(Submission.hub_id == _HUB),
)
_AROUND = _AROUND.order_by(_AROUND.selected_columns.part,
                           _AROUND.selected_columns.created_at, _AROUND.selected_columns.id)


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


References = tuple[dict[int, Any], dict[int, Any], dict[int, Any], dict[int, Any]]


def _all_references(session: Session) -> References:
    """Every model, hardware, quant and runtime by id, as detached rows with all their
    columns (the page's labels, build context and bandwidth ceiling read them)."""
    return tuple(  # type: ignore[return-value]
        {values[0]: entity(**dict(zip((column.name for column in columns), values,
                                      strict=True)))
         for values in session.execute(select(*columns))}
        for _name, entity, columns in _REFERENCE_COLUMNS)


def kept_references(session: Session) -> References:
    """Every reference row with all its columns, as of this request's data version, kept
    per worker for it (the detail page's; the hardware and model pages find theirs here)."""
    return reference_memo.kept(session, "detail-references", data_version.current(session),
                               _all_references)


def _bare_row(values: Row[Any], references: References) -> SimpleNamespace:
    row = SimpleNamespace(**dict(zip(_NAMES, values, strict=False)), runs=[])
    for (name, _entity, _columns), by_id in zip(_REFERENCE_COLUMNS, references, strict=True):
        setattr(row, name, by_id[getattr(row, f"{name}_id")])
    return row


def _connection(session: Session) -> Any:
    session.flush()  # what an ORM query would autoflush; nothing on a page's GET
    return session.connection()


@dataclass(frozen=True)
class RowAround:
    row: SimpleNamespace  # with its runs, in order
    fragments: dict[int, SimpleNamespace]  # its reproductions that became public rows
    hub: SimpleNamespace | None  # the public row it came from, when it is a fragment
    # evidence-state reproductions of the row, of its fragments and of its hub (rows with
    # a Submission's column attributes), by hub id, oldest first
    evidence: dict[int, list[Any]]


class _Run(NamedTuple):
    position: int
    ttft_ms: float
    tokens_generated: int
    decode_tps: float


_Evidence = namedtuple("_Evidence", _EVIDENCE_NAMES)  # type: ignore[misc]  # noqa: PYI024
_EVIDENCE_VALUES = itemgetter(*(_NAMES.index(name) for name in _EVIDENCE_NAMES))


def row_around(session: Session, row_id: int) -> RowAround | None:
    """The public row `row_id` with its reference rows and runs, its public fragments,
    its public hub (those two without runs) and the evidence around them, in one
    statement; None when the row is not public."""
    row = hub = None
    fragments: dict[int, SimpleNamespace] = {}
    runs = []
    evidence: dict[int, list[Any]] = defaultdict(list)
    references = kept_references(session)
    found = _connection(session).execute(_AROUND, {"id": row_id}).all()
    if found and any(_references_missing(values, references) for values in found
                     if values[-1] != ROW_EVIDENCE):
        references = _all_references(session)  # a reference row newer than the memo
    for values in found:
        part = values[-1]
        if part == ROW_EVIDENCE:
            repro = _Evidence._make(_EVIDENCE_VALUES(values))
            evidence[repro.hub_id].append(repro)
        elif part == ROW:
            if row is None:
                row = _bare_row(values, references)
            if values[-5] is not None:  # a row without runs reads one line of NULLs
                runs.append(_Run(*values[-5:-1]))
        elif part == FRAGMENT:
            fragments[values[0]] = _bare_row(values, references)
        else:
            hub = _bare_row(values, references)
    if row is None:
        return None
    runs.sort(key=_position)
    row.runs = runs
    return RowAround(row, fragments, hub, evidence)


_REFERENCE_IDS = itemgetter(*(_NAMES.index(f"{name}_id") for name, _e, _c in _REFERENCE_COLUMNS))


def _references_missing(values: Row[Any], references: References) -> bool:
    return any(id_ not in by_id
               for id_, by_id in zip(_REFERENCE_IDS(values), references, strict=True))


def _position(run: _Run) -> int:
    return run.position


def public_rows(session: Session, row_ids: Collection[int]) -> dict[int, SimpleNamespace]:
    """The public rows among `row_ids` (without their runs), by id."""
    if not row_ids:
        return {}
    found = _connection(session).execute(_SOME_ROWS, {"ids": list(row_ids)})
    return {row.id: row for row in map(_page_row, found)}
