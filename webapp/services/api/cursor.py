"""The list's keyset cursor: where the previous page ended, signed so it cannot be forged.

A cursor holds the sort it was made for (with a digest of the list's filters: the caller's
`sort` text) and the last row's values of that sort's ORDER
BY (sorting.order, id last). The next page is the rows strictly after them in that
order: a seek on the sort's index, so a page ten thousand rows deep costs what the first
one costs, and rows added meanwhile never repeat or shift a page.

The signing key is passed in (the app's SECRET_KEY), so this module imports no Flask.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from itsdangerous import BadData, URLSafeSerializer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import ColumnElement
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from webapp.models import Submission, UTCDateTime
from webapp.services.sorting import keyset_bound

SALT = "trustbench.api-cursor.v1"
ID_MAX = 2**31 - 1


class InvalidCursor(ValueError):
    """A cursor this site did not sign, or signed for another sort or other filters."""


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    s: str = Field(max_length=40)  # the sort (or "page" for page-numbered lists)
    k: list[float | int | str] = Field(max_length=8)


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def _read(secret: str, token: str) -> _Payload:
    try:
        return _Payload.model_validate(_serializer(secret).loads(token))
    except (BadData, ValidationError, TypeError, ValueError) as error:
        raise InvalidCursor(str(error)) from None


def order_columns(order: Sequence[ColumnElement[Any]]) -> list[tuple[Any, bool]]:
    """(column, descending) of each ORDER BY term."""
    terms = []
    for term in order:
        if not isinstance(term, UnaryExpression):
            raise TypeError(f"unsupported ORDER BY term {term!r}")
        terms.append((term.element, term.modifier is operators.desc_op))
    return terms


def _attribute(column: Any) -> str:
    return Submission.__mapper__.get_property_by_column(column).key


def keyset_cursor(secret: str, sort: str, order: Sequence[ColumnElement[Any]],
                  row: Any) -> str:
    """The cursor for the page after `row`, the last row of a page in `order` (a
    Submission, or anything with the sort's attributes: the row of its ORDER BY values)."""
    values: list[float | int | str] = []
    for column, _descending in order_columns(order):
        value = getattr(row, _attribute(column))
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    return _serializer(secret).dumps({"s": sort, "k": values})


def _typed(column: Any, value: float | int | str) -> Any:
    """The cursor's value as the column holds it; a value of the wrong type is refused."""
    if isinstance(column.type, UTCDateTime):
        if not isinstance(value, str):
            raise InvalidCursor("a moment must be text")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as error:
            raise InvalidCursor(str(error)) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if isinstance(value, (str, bool)):
        raise InvalidCursor("a number was expected")
    if column.type.python_type is int:
        if not isinstance(value, int) or not 0 <= value <= ID_MAX:
            raise InvalidCursor("an id out of range")
        return value
    if not math.isfinite(value):
        raise InvalidCursor("a number must be finite")
    return float(value)


def after(secret: str, token: str, sort: str,
          order: Sequence[ColumnElement[Any]]) -> ColumnElement[bool]:
    """The condition selecting the rows after the cursor in `order`: a seek on the
    sort's index on all its columns (sorting.keyset_bound)."""
    payload = _read(secret, token)
    terms = order_columns(order)
    if payload.s != sort:
        raise InvalidCursor("the cursor was made for another sort or other filters")
    if len(payload.k) != len(terms):
        raise InvalidCursor("the cursor does not fit this sort")
    values = [_typed(column, value) for (column, _), value in zip(terms, payload.k, strict=True)]
    return keyset_bound(terms, values, inclusive=False)


def page_cursor(secret: str, page: int) -> str:
    """A cursor for a list paged by number (the operators' ranking)."""
    return _serializer(secret).dumps({"s": "page", "k": [page]})


def page_of(secret: str, token: str) -> int:
    payload = _read(secret, token)
    if payload.s != "page" or len(payload.k) != 1 or not isinstance(payload.k[0], int) \
            or isinstance(payload.k[0], bool) or not 1 <= payload.k[0] <= 1_000_000:
        raise InvalidCursor("not a page cursor")
    return payload.k[0]
