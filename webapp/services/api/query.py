"""The strict query strings: the API's, and the exports' and the feed's.

The HTML catalog drops a bad value with a notice, so a shared link still shows a page;
a program is better told at once, and a file or a feed has nowhere to show a notice.
Here every bad value is a ParameterError naming the parameter and the value and saying
how it is spelled (the views answer 400 problem+json): an unknown or repeated parameter,
a blank value, a slug this catalog does not know, a badge, tier, sort or stale flag it
does not know, a limit outside 1–100, a cursor that is not one this site signed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from webapp.services.catalog import (
    QUERY_ARGS,
    SEARCH_MAX_LENGTH,
    SEARCH_MAX_WORDS,
    CatalogQuery,
    Choice,
    FilterOptions,
)
from webapp.services.rules import Badge, Tier
from webapp.services.sorting import Sort

LIMIT_DEFAULT = 25
LIMIT_MAX = 100
CURSOR_MAX_LENGTH = 400
# The catalog writes stale=1; a program may say true. Nothing else is a flag value.
STALE_VALUES = {"true": True, "1": True, "false": False, "0": False}
FILTERS = ("model", "hardware", "quant", "runtime")
LIST_PARAMETERS = ("q", *FILTERS, "badge", "tier", "sort", "stale", "limit", "cursor")
PAGED_PARAMETERS = ("limit", "cursor")
# The exports and the feed take the catalog's own names, so a catalog address works with
# its path changed. `page` is read and ignored (a file holds every page, the feed its
# newest entries), as the feed ignores `sort`.
VIEW_PARAMETERS = QUERY_ARGS
# Where a program finds each filter's slugs.
SLUGS_LISTED_AT = {"model": "/api/v1/models", "hardware": "/api/v1/hardware"}
SHOWN_MAX = 80  # of a refused value, echoed in the problem
SUGGESTED_MAX = 3  # slugs named in a refusal
_DIGITS = re.compile(r"^[0-9]{1,3}$")
_PAGE = re.compile(r"^[0-9]{1,9}$")
_NOT_IN_SLUG = re.compile(r"[^a-z0-9._]+")


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


def _search(typed: str) -> None:
    """The catalog cuts a longer search to its search box's length and matches its first
    words only; a program is told instead. Spaces are collapsed first, as the catalog,
    its links and the exports collapse them: "llama    4090" is the search "llama 4090"."""
    text = " ".join(typed.split())
    if len(text) > SEARCH_MAX_LENGTH:
        raise ParameterError("q", f"“q” holds at most {SEARCH_MAX_LENGTH} characters, as the "
                                  f"catalog's search does ({len(text)} given).")
    if len(text.split()) > SEARCH_MAX_WORDS:
        raise ParameterError("q", f"“q” holds at most {SEARCH_MAX_WORDS} words, as the "
                                  f"catalog's search does ({len(text.split())} given); each "
                                  "word must appear in a row's model, hardware or runtime "
                                  "name.")


def _unknown_slug(name: str, value: str, known: Mapping[str, Choice]) -> ParameterError:
    """The refusal of a slug, with the nearest known ones when there are any ("rtx4090"
    and "RTX 4090" point to "rtx-4090", "llama" to the slugs holding it)."""
    spelled = _NOT_IN_SLUG.sub("-", value[:SHOWN_MAX].strip().casefold()).strip("-")
    nearest = (difflib.get_close_matches(spelled, list(known), n=1)
               or [slug for slug in known if spelled and spelled in slug][:SUGGESTED_MAX])
    guess = "."
    if nearest:
        quoted = [f"“{slug}”" for slug in nearest]
        guess = "; did you mean " + (
            quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}") + "?"
    example = nearest[0] if nearest else next(iter(known), None)
    spelling = (f" Filters take slugs: lower case, with “-” between words (such as "
                f"“{example}”); {SLUGS_LISTED_AT.get(name, '/api/v1/openapi.json')} lists "
                f"every {name} slug." if example is not None else "")
    return ParameterError(
        name, f"There is no {name} “{value[:SHOWN_MAX]}” in this catalog{guess}{spelling}")


def _catalog_query(values: Mapping[str, str], options: FilterOptions) -> CatalogQuery:
    """The catalog query `values` spell, each value one the catalog would apply."""
    for name, enum in (("badge", Badge), ("tier", Tier), ("sort", Sort)):
        if name in values and values[name] not in {member.value for member in enum}:
            raise ParameterError(name, f"There is no {name} “{values[name][:SHOWN_MAX]}”; "
                                       f"“{name}” is one of: "
                                       f"{', '.join(member.value for member in enum)}.")
    for name in FILTERS:
        if name in values and values[name].strip() not in options.slugs[name]:
            raise _unknown_slug(name, values[name], options.slugs[name])
    data: dict[str, object] = {name: values[name]
                               for name in ("q", *FILTERS, "badge", "tier", "sort")
                               if name in values}
    if "stale" in values:
        if values["stale"] not in STALE_VALUES:
            raise ParameterError("stale", f"“stale” is true or false (or 1 or 0), not "
                                          f"“{values['stale'][:SHOWN_MAX]}”.")
        data["stale"] = STALE_VALUES[values["stale"]]
    # Every value is known by now: a failure here is a bug, not bad input.
    return CatalogQuery.model_validate(data)


def parse_paged(args: Mapping[str, Sequence[str]]) -> PagedRequest:
    values = _single_values(args, PAGED_PARAMETERS)
    return PagedRequest(limit=_limit(values), cursor=_cursor(values))


def parse_list(args: Mapping[str, Sequence[str]], options: FilterOptions) -> ListRequest:
    """The API list's query string, or a ParameterError for its first bad value; slugs
    are looked up in `options` (catalog.filter_options)."""
    values = _single_values(args, LIST_PARAMETERS)
    if "q" in values:
        _search(values["q"])
    return ListRequest(query=_catalog_query(values, options), limit=_limit(values),
                       cursor=_cursor(values))


def parse_view(args: Mapping[str, Sequence[str]], options: FilterOptions) -> CatalogQuery:
    """The exports' and the feed's query string: the catalog's names, each value one the
    catalog would apply, or a ParameterError for the first that is not: a search longer
    than the catalog takes among them (the catalog says what it left out, and its own
    links carry only what it used)."""
    values = _single_values(args, VIEW_PARAMETERS)
    if "q" in values:
        _search(values["q"])
    if "page" in values and (not _PAGE.match(values["page"]) or int(values["page"]) < 1):
        raise ParameterError("page", f"“page” is a page number (1, 2, …), not "
                                     f"“{values['page'][:SHOWN_MAX]}”; a download or the "
                                     "feed holds every page whatever it says, so it may be "
                                     "left out.")
    return _catalog_query(values, options)
