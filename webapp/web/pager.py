"""The pager every paginated page draws (macros/pagination.html's `pager` calls this):
the status line and the links to neighbouring pages, written in one pass. As a Jinja
macro it cost a page more than its rows' own markup: each of its nine-odd links was a
macro call building a dict and an address.

Every value is escaped by Markup.format; the addresses come from `href(endpoint, args)`
when the page gives one (the catalog's QueryHrefs), else from url_for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from numbers import Number
from typing import Any

from flask import Flask, url_for
from markupsafe import Markup

from webapp.services.labels import number as formatted

_NAV = Markup('<nav class="pager" aria-label="{}">')
_COUNTED = Markup('<p class="pager-status">{}–{} of {} {}</p>')
_MORE_THAN = Markup('<p class="pager-status">{}–{} of more than {} {}</p>')
_SHOWING = Markup('<p class="pager-status">Showing {}–{}</p>')
_GAP = Markup('<li class="pager-gap" aria-hidden="true">…</li>')
_CURRENT = Markup('<li><span class="pager-current" aria-current="page">{}</span></li>')
_LINK = Markup('<li><a href="{}"{}{}{}>{}</a></li>')
_REL = Markup(' rel="{}"')
_HTMX = Markup(' hx-get="{}" hx-target="#{}" hx-swap="outerHTML" hx-push-url="true"')
_PAGE_LABEL = Markup(' aria-label="Page {}"')
_END_LABEL = Markup(' aria-label="{} page ({})"')
_EMPTY = Markup("")


def init_app(app: Flask) -> None:
    app.add_template_global(pager, "pager_markup")


def pager(pagination: Any, endpoint: str, args: Mapping[str, Any], target: str | None = None,
          label: str = "Pages", noun: str = "rows", noun_one: str = "row",
          href: Callable[[str, Mapping[str, Any]], str] | None = None) -> Markup:
    """The pager of `pagination` (listing.Pagination) for `endpoint` with `args` kept."""
    total, more_than = pagination.total, pagination.more_than
    if not (pagination.has_prev or pagination.has_next or total or more_than):
        return _EMPTY
    first, last_index = pagination.first_index, pagination.last_index
    if total is not None:
        status = _COUNTED.format(formatted(first), formatted(last_index), formatted(total),
                                 noun_one if total == 1 else noun)
    elif more_than:
        status = _MORE_THAN.format(formatted(first), formatted(last_index),
                                   formatted(more_than), noun)
    else:
        status = _SHOWING.format(first, last_index)
    parts = [_NAV.format(label), status]
    if pagination.has_prev or pagination.has_next:
        page, last = pagination.page, pagination.last_page

        def link(to: int, text: Any, rel: str | None) -> Markup:
            linked = dict(args, page=to if to > 1 else None)
            address = href(endpoint, linked) if href else url_for(endpoint, **linked)
            if isinstance(text, Number):
                named = _PAGE_LABEL.format(text)
            elif rel in ("first", "last"):
                named = _END_LABEL.format(text, to)
            else:
                named = _EMPTY
            return _LINK.format(address, _REL.format(rel) if rel in ("prev", "next") else _EMPTY,
                                _HTMX.format(address, target) if target else _EMPTY, named, text)

        parts.append(Markup("<ul>"))
        if (last is not None or more_than) and page > 1:
            parts.append(link(1, "First", "first"))
        if pagination.has_prev:
            parts.append(link(page - 1, "Previous", "prev"))
        for shown in pagination.window:
            if shown is None:
                parts.append(_GAP)
            elif shown == page:
                parts.append(_CURRENT.format(shown))
            else:
                parts.append(link(shown, shown, None))
        if pagination.has_next:
            parts.append(link(page + 1, "Next", "next"))
        if last is not None and page < last:
            parts.append(link(last, "Last", "last"))
        parts.append(Markup("</ul>"))
    parts.append(Markup("</nav>"))
    return Markup("\n").join(parts)
