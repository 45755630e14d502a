"""Summaries kept for public pages, so that reading them never walks every row: one
row per operator with a handle (the operators page), the public row count of each
hardware entry, model, quant and runtime (the /hardware and /models pages; all four
choose how SQLite reads a filtered list, services.narrowing), and what each one's chart draws
(services.chart_summaries: the hardware page's scatter, the model page's bars).

They are kept where decisions land: evidence.refresh_derived calls refresh_for for every
row a decision touches (moderation's transitions, editorial publishing, operator links
all end there), and operator_links calls refresh_operators for the keys a re-keying
empties. The charts are kept by the session itself: every flush notes the entries
whose public rows it changed (a row made, decided, re-badged, edited or deleted that is
or was public), and before the commit each noted entry's chart is recomputed, whichever
code wrote the rows through the ORM. rebuild_all recomputes everything: `flask refresh`,
seed-demo's bulk load (Core INSERTs, which no flush sees) and the migrations that
created the tables.

Each refresh locks its summary row before it counts (PostgreSQL; a no-op on SQLite, whose
writers take turns), so two decisions committed at once cannot each store a count that
misses the other: the second waits for the first to commit, then counts afresh (read
committed). Adds and flushes; never commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import bindparam, case, delete, event, func, insert, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from webapp.models import ChartSummary, OperatorSummary, PublicRowCount, Submission
from webapp.services import chart_summaries, trust
from webapp.services.rules import Kind, State

LATEST_HUBS = 5  # public rows linked beside each operator, newest first
HARDWARE, MODEL = chart_summaries.HARDWARE, chart_summaries.MODEL
QUANT, RUNTIME = "quant", "runtime"
# Hardware and model counts feed the index pages; all four choose the index SQLite reads
# a filtered list through (services.narrowing).
COUNTED_BY = {HARDWARE: Submission.hardware_id, MODEL: Submission.model_id,
              QUANT: Submission.quant_id, RUNTIME: Submission.runtime_id}

# A clean reproduction credited to its operator: marked reproduced, on a public row
# that is not the operator's own (a re-run of one's own row reproduces nothing, SPEC §5),
# under a handle (anonymous operators are never listed, so their keys never reach a page).
_REPRO, _HUB = aliased(Submission, name="repro"), aliased(Submission, name="hub")
CREDITED = (
    _REPRO.kind == Kind.REPRODUCTION,
    _REPRO.state == State.REPRODUCED,
    _HUB.state == State.APPROVED,
    _REPRO.handle.is_not(None),
    func.trim(_REPRO.handle) != "",
    _REPRO.operator_key != _HUB.operator_key,
)
# Each credited reproduction with its hub's operator, read from
# ix_submissions_operator_repros and each hub's state from ix_submissions_id_state. One
# under a handle that looks like the hub's own ("WiII" on "Will"'s row: trust.same_operator)
# is a re-run too, which comparing keys in SQL cannot see, so the counts are made here.
_CREDITED_ROWS = (
    select(_REPRO.operator_key, _REPRO.hub_id, _REPRO.handle, _REPRO.is_demo,
           _HUB.operator_key)
    .join(_HUB, _REPRO.hub_id == _HUB.id)
    .where(*CREDITED)
)
_ONE_OPERATOR_ROWS = _CREDITED_ROWS.where(_REPRO.operator_key == bindparam("key"))
_PUBLIC = Submission.state == State.APPROVED
_DEMO_ROWS = func.coalesce(func.sum(case((Submission.is_demo, 1), else_=0)), 0)


def hub_ids(stored: str) -> list[int]:
    """OperatorSummary.latest_hub_ids as ids, newest first."""
    return [int(part) for part in stored.split(",") if part]


# --- kept by decisions -----------------------------------------------------------------------


def public_row_counts(session: Session, subject: str) -> dict[int, int]:
    """Public rows per hardware entry (subject "hardware"), model ("model"), quant
    ("quant") or runtime ("runtime"), as kept; an entry missing from the result has none."""
    return dict(session.execute(  # type: ignore[arg-type]
        select(PublicRowCount.reference_id, PublicRowCount.rows)
        .where(PublicRowCount.subject == subject)).all())


def refresh_for(session: Session, row: Submission) -> None:
    """Bring up to date every summary that may count `row` or its reproductions: its
    hardware's, model's, quant's and runtime's row counts, and the operators of its reproductions (a
    hub that goes public or is hidden credits or uncredits them) and its own (a
    reproduction decided, or a fragment of a row)."""
    # A decision changes whether one row is public, the decided one, so only a demo row's
    # decision can move a demo count.
    refresh_counts(session, [(HARDWARE, row.hardware_id), (MODEL, row.model_id),
                             (QUANT, row.quant_id), (RUNTIME, row.runtime_id)],
                   demo=bool(row.is_demo))
    keys = set(session.scalars(
        select(Submission.operator_key).where(
            Submission.hub_id == row.id, Submission.kind == Kind.REPRODUCTION,
            Submission.handle.is_not(None)).distinct()))
    if row.kind == Kind.REPRODUCTION and row.handle:
        keys.add(row.operator_key)
    refresh_operators(session, keys)


def refresh_operators(session: Session, keys: Iterable[str]) -> None:
    """Recount these operators from their reproductions (an operator with nothing left
    to list loses their row)."""
    for key in sorted(set(keys)):  # one lock order for every writer
        _refresh(session, OperatorSummary, {"operator_key": key},
                 lambda key=key: _operator_values(session, key))


def refresh_counts(session: Session, entries: Iterable[tuple[str, int]], *,
                   demo: bool = True) -> None:
    """Recount the public rows of these (subject, reference id) entries, and their demo
    rows unless `demo` is False (the stored demo count is kept): a count alone is read
    from an index, counting demo rows reads every row of the entry."""
    for subject, reference_id in sorted(set(entries)):
        _refresh(session, PublicRowCount, {"subject": subject, "reference_id": reference_id},
                 lambda s=subject, r=reference_id: _count_values(session, s, r, demo))


def chart_data(session: Session, subject: str, reference_id: int) -> dict[str, Any] | None:
    """What the chart of this hardware entry ("hardware") or model ("model") draws, as
    kept (chart_summaries' shape); None when it has no public rows."""
    stored = session.connection().execute(
        _CHART_DATA, {"subject": subject, "reference_id": reference_id}).scalar()
    return chart_summaries.decode(stored)


# Built once: a page reads it on every request.
_CHART_DATA = select(ChartSummary.data).where(
    ChartSummary.subject == bindparam("subject"),
    ChartSummary.reference_id == bindparam("reference_id"))


def refresh_charts(session: Session, entries: Iterable[tuple[str, int]]) -> None:
    """Recompute the charts of these (subject, reference id) entries from their rows."""
    for subject, reference_id in sorted(set(entries)):
        _refresh(session, ChartSummary, {"subject": subject, "reference_id": reference_id},
                 lambda s=subject, r=reference_id: _chart_values(session, s, r))


def _chart_values(session: Session, subject: str, reference_id: int) -> dict[str, Any] | None:
    data = chart_summaries.DATA_OF[subject](session, reference_id)
    return None if data is None else {"data": chart_summaries.encode(data)}


# What a chart reads of a row: a change to any of these on a row that is or was public
# moves the charts of its hardware and its model.
_CHARTED = ("state", "hardware_id", "model_id", "quant_id", "hardware_count",
            "tensor_parallel", "derived_badge", "kind", "decode_tps", "hardware", "model",
            "quant")
_NOTED = "trustbench.summaries.charts"


def _charted_entries(session: Session, row: Submission, gone: bool) -> set[tuple[str, int]]:
    """The entries whose charts this flush of `row` may move (gone: it is deleted): those
    it belonged to as stored before the flush and those it belongs to now, when it is or
    was public. Old values come from the database, since an attribute expired by the last
    commit keeps no history."""
    attrs = inspect(row).attrs
    if not gone and not any(attrs[name].history.has_changes() for name in _CHARTED):
        return set()
    states, hardware, models = [row.state], [row.hardware_id], [row.model_id]
    hardware.append(row.hardware.id if row.hardware is not None else None)
    models.append(row.model.id if row.model is not None else None)
    if row.id is not None:
        stored = session.connection().execute(
            select(Submission.state, Submission.hardware_id, Submission.model_id)
            .where(Submission.id == row.id)).one_or_none()
        if stored is not None:
            states.append(stored[0])
            hardware.append(stored[1])
            models.append(stored[2])
    if State.APPROVED not in states:
        return set()  # never public, before or after: no chart shows it
    return ({(HARDWARE, entry) for entry in hardware if entry is not None}
            | {(MODEL, entry) for entry in models if entry is not None})


@event.listens_for(Session, "before_flush")
def _note_charted_changes(session_: Session, _context: Any, _instances: Any) -> None:
    noted: set[tuple[str, int]] = set()
    for instances, gone in ((session_.new, False), (session_.dirty, False),
                            (session_.deleted, True)):
        for instance in instances:
            if isinstance(instance, Submission):
                noted |= _charted_entries(session_, instance, gone)
    if noted:
        session_.info.setdefault(_NOTED, set()).update(noted)


@event.listens_for(Session, "before_commit")
def _refresh_noted_charts(session_: Session) -> None:
    """The charts, and the public row counts of the same entries (the hardware and model
    pages' pagers count to them), of every entry a row that is or was public moved in
    this transaction, whatever wrote it. The demo counts are left to refresh_for and
    rebuild_all (counting them reads every row of the entry). Counts are locked before
    charts, as refresh_for (a decision) locks them before this hook runs: every writer
    takes the two tables' rows in one order, so two commits cannot wait on each other."""
    session_.flush()  # what is still pending is noted too
    noted = session_.info.pop(_NOTED, None)
    if noted:
        refresh_counts(session_, noted, demo=False)
        refresh_charts(session_, noted)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_charts(session_: Session, previous_transaction: Any) -> None:
    if not previous_transaction.nested:
        session_.info.pop(_NOTED, None)


def _operator_values(session: Session, key: str) -> dict[str, Any] | None:
    return _credited(session.execute(_ONE_OPERATOR_ROWS, {"key": key})).get(key)


def _credited(rows: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Each operator's summary values from its credited reproductions (_CREDITED_ROWS),
    those under a look-alike of the hub's own handle left out."""
    found: dict[str, list[tuple[int, str, bool]]] = defaultdict(list)
    for key, hub_id, handle, demo, hub_key in rows:
        if not trust.same_operator(key, hub_key):
            found[key].append((hub_id, handle, bool(demo)))
    summaries = {}
    for key, credited in found.items():
        hubs = sorted({hub_id for hub_id, _handle, _demo in credited}, reverse=True)
        summaries[key] = {
            "handle": min(handle for _hub, handle, _demo in credited),
            "reproductions": len(credited), "hubs": len(hubs),
            "is_demo": any(demo for _hub, _handle, demo in credited),
            "latest_hub_ids": ",".join(map(str, hubs[:LATEST_HUBS])),
        }
    return summaries


def _count_values(session: Session, subject: str, reference_id: int,
                  demo: bool) -> dict[str, Any] | None:
    counted = (func.count(), _DEMO_ROWS) if demo else (func.count(),)
    found = session.execute(
        select(*counted).where(_PUBLIC, COUNTED_BY[subject] == reference_id)).one()
    if not found[0]:
        return None
    return {"rows": found[0], "demo_rows": found[1]} if demo else {"rows": found[0]}


def _refresh(session: Session, model: type, identity: dict[str, Any],
             count: Callable[[], dict[str, Any] | None]) -> None:
    """Lock the summary row, count, and store what was counted (None: no row)."""
    key = tuple(identity.values())
    stored = session.get(model, key, with_for_update=True, populate_existing=True)
    values = count()  # after the lock: a concurrent writer's commit is counted too
    if stored is None:
        if values is None or _inserted(session, model, {**identity, **values}):
            return
        # Another transaction stored the row meanwhile and has committed: lock, recount.
        stored = session.get(model, key, with_for_update=True, populate_existing=True)
        values = count()
    if values is None:
        session.delete(stored)
    else:
        for name, value in values.items():
            if getattr(stored, name) != value:
                setattr(stored, name, value)
    session.flush()


def _inserted(session: Session, model: type, values: dict[str, Any]) -> bool:
    """Insert the row unless one with its key exists (committed by a concurrent writer,
    whose insert this one waited for); True when this one was inserted. No savepoint: a
    savepoint's release would run the session's after-commit hooks early."""
    dialect = session.get_bind().dialect.name
    if dialect in _UPSERT:
        statement = _UPSERT[dialect](model).values(**values).on_conflict_do_nothing()
    else:  # another database: a plain insert, which a concurrent one makes fail
        statement = insert(model).values(**values)
    return session.execute(statement).rowcount == 1


_UPSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


# --- rebuilt at once ----------------------------------------------------------------------------


def rebuild_all(session: Session) -> tuple[int, int]:
    """Recompute every summary from the rows; returns (operators listed, entries counted).

    Core statements throughout, so a large catalog never sits in the session; the
    migration that created the tables calls this on its own connection to backfill them.
    """
    operators = rebuild_operators(session)
    session.execute(delete(PublicRowCount))
    counts = [
        {"subject": subject, "reference_id": reference_id, "rows": rows, "demo_rows": demo}
        for subject, column in COUNTED_BY.items()
        for reference_id, rows, demo in session.execute(
            select(column, func.count(), _DEMO_ROWS).where(_PUBLIC).group_by(column))
    ]
    if counts:
        session.execute(insert(PublicRowCount), counts)
    # The migration that created the counts calls this before the charts' table exists.
    if inspect(session.connection()).has_table(ChartSummary.__tablename__):
        rebuild_charts(session)
    session.flush()
    return operators, len(counts)


def rebuild_operators(session: Session) -> int:
    """Recompute the operators' summary from the rows; returns how many are listed."""
    session.execute(delete(OperatorSummary))
    operators = [{"operator_key": key, **values}
                 for key, values in _credited(session.execute(_CREDITED_ROWS)).items()]
    if operators:
        session.execute(insert(OperatorSummary), operators)
    return len(operators)


def rebuild_charts(session: Session) -> int:
    """Recompute every entry's chart from its public rows; returns how many are stored."""
    session.execute(delete(ChartSummary))
    stored = 0
    for subject, column in chart_summaries.CHARTED_BY.items():
        for reference_id in session.scalars(select(column).where(_PUBLIC).distinct()):
            data = chart_summaries.DATA_OF[subject](session, reference_id)
            if data is not None:
                session.execute(insert(ChartSummary).values(
                    subject=subject, reference_id=reference_id,
                    data=chart_summaries.encode(data)))
                stored += 1
    return stored
