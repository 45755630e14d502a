"""The API's query strings: the catalog's filter and sort names, held strictly.

The HTML catalog drops a bad value with a notice, so a shared link still shows a page;
a program is better told at once. Here every bad value is a ParameterError naming the
parameter (the view answers 400 problem+json): an unknown or repeated parameter, a blank
value, a slug this catalog does not know, a limit outside 1–100, a cursor that is not one
this site signed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from webapp.services.catalog import CatalogQuery
from webapp.services.rules import Badge, Tier
from webapp.services.sorting import Sort

LIMIT_DEFAULT = 25
LIMIT_MAX = 100
CURSOR_MAX_LENGTH = 400
# The catalog writes stale=1; a program may say true. Nothing else is a flag value.
STALE_VALUES = {"true": True, "1": True, "false": False, "0": False}
FILTERS = ("model", "hardware", "quant", "runtime")
LIST_PARAMETERS = (*FILTERS, "badge", "tier", "sort", "stale", "limit", "cursor")
PAGED_PARAMETERS = ("limit", "cursor")
_DIGITS = re.compile(r"^[0-9]{1,3}$")


class ParameterError(ValueError):
    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(detail)
        self.parameter = parameter
        self.detail = detail


@dataclass(frozen=True)
class ListRequest:
    query: CatalogQuery
    limit: int
    cursor: str | None


@dataclass(frozen=True)
class PagedRequest:
    limit: int
    cursor: str | None


def _single_values(args: Mapping[str, Sequence[str]], allowed: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, given in args.items():
        if name not in allowed:
            raise ParameterError(
                name[:40], f"There is no parameter “{name[:40]}” here; the parameters are: "
                f"{', '.join(allowed)}.")
        if len(given) != 1:
            raise ParameterError(name, f"Give “{name}” once.")
        if not given[0].strip():
            raise ParameterError(name, f"“{name}” is empty; leave it out instead.")
        values[name] = given[0]
    return values


def _limit(values: Mapping[str, str]) -> int:
    text = values.get("limit")
    if text is None:
        return LIMIT_DEFAULT
    if not _DIGITS.match(text) or not 1 <= int(text) <= LIMIT_MAX:
        raise ParameterError("limit", f"“limit” must be a whole number from 1 to {LIMIT_MAX}.")
    return int(text)


def _cursor(values: Mapping[str, str]) -> str | None:
    cursor = values.get("cursor")
    if cursor is not None and len(cursor) > CURSOR_MAX_LENGTH:
        raise ParameterError("cursor", "“cursor” is not one this site gave out; follow the "
                                       "“next” link of the previous page.")
    return cursor


def parse_paged(args: Mapping[str, Sequence[str]]) -> PagedRequest:
    values = _single_values(args, PAGED_PARAMETERS)
    return PagedRequest(limit=_limit(values), cursor=_cursor(values))


def parse_list(args: Mapping[str, Sequence[str]]) -> ListRequest:
    """The list's query string, or a ParameterError for its first bad value. Whether a
    slug names a known entry is for `check_known`, once the catalog has looked it up."""
    values = _single_values(args, LIST_PARAMETERS)
    for name, enum in (("badge", Badge), ("tier", Tier), ("sort", Sort)):
        if name in values and values[name] not in {member.value for member in enum}:
            raise ParameterError(name, f"“{name}” must be one of: "
                                       f"{', '.join(member.value for member in enum)}.")
    data: dict[str, object] = {name: values[name] for name in (*FILTERS, "badge", "tier", "sort")
                               if name in values}
    if "stale" in values:
        if values["stale"] not in STALE_VALUES:
            raise ParameterError("stale", "“stale” must be true or false (or 1 or 0).")
        data["stale"] = STALE_VALUES[values["stale"]]
    try:
        query = CatalogQuery.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        name = str(problem["loc"][0]) if problem["loc"] else "query"
        raise ParameterError(name, f"There is no {name} “{str(data.get(name, ''))[:80]}” in "
                                   "this catalog; /api/v1/openapi.json lists the known values."
                             ) from None
    return ListRequest(query=query, limit=_limit(values), cursor=_cursor(values))


def check_known(asked: CatalogQuery, applied: CatalogQuery) -> None:
    """Refuse a slug the catalog did not know (catalog.select_rows drops it, for pages)."""
    for name in FILTERS:
        if getattr(asked, name) is not None and getattr(applied, name) is None:
            raise ParameterError(name, f"There is no {name} “{getattr(asked, name)}” in this "
                                       f"catalog; /api/v1/hardware and /api/v1/models list "
                                       f"the known slugs, /api/v1/openapi.json all of them.")
