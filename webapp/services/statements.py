"""Statement pieces the listings share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal


def equals_literal(column: Any, value: Any) -> ColumnElement[bool]:
    """`column = value` with the value written into the statement when it runs (a filter's
    reference id, badge or tier). On PostgreSQL a statement run often is prepared and may
    then run with a generic plan made without its values; for a filtered page that plan
    read every matching row and sorted them (3,824 rows, 5-11 ms at 100,000 rows) where
    the plan for the value walks the sort's index and stops after a page. Each value is
    then a statement of its own, planned for it. The value is a number or one of the
    rules' words, never text a visitor typed."""
    return column == bindparam(None, value, type_=column.type, literal_execute=True)


class Unindexed(ColumnElement[Any]):
    """`column`, which SQLite may neither seek nor order by through an index: written
    `+column` there (the unary plus is a no-op on every value, text and dates included),
    as itself elsewhere. services.narrowing orders a filtered page by it when the page is
    read from a filter's index and sorted, not walked in the sort's index."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: Any) -> None:
        self.column = column
        self.type = column.type


@compiles(Unindexed)
def _as_itself(element: Unindexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(Unindexed, "sqlite")
def _unary_plus(element: Unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)
