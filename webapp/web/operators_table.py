"""The operators table's rows, written in one pass: a page of 25 operators links up to
five rows each, and the template's loop cost more than the rest of the page (some 250
joined values a page). The markup stays as public/operators.html describes it: each
operator's handle, rows reproduced, reproductions, and the latest rows it reproduced
linked by number and label.

Every text value goes through `escape` (a handle is what an operator typed; a label
carries reference names); the counts and row numbers are ints.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask
from markupsafe import Markup, escape

from webapp.services.operators import OperatorView


def init_app(app: Flask) -> None:
    app.add_template_global(operators_rows, "operators_rows")


def operators_rows(operators: Sequence[OperatorView], detail_base: str) -> Markup:
    """The <tr>s of `operators`, each reproduced row linking `detail_base` + its id."""
    base = escape(detail_base)
    out = []
    for op in operators:
        links = "".join(
            f'<li><a href="{base}{int(link.hub_id)}">#{int(link.hub_id)} '
            f'{escape(link.label)}</a></li>'
            for link in op.links)
        more = f'<li class="muted">and {int(op.more)} more</li>' if op.more > 0 else ""
        out.append(
            f'<tr>\n<td data-label="Handle">{escape(op.handle)}</td>'
            f'<td data-label="Rows reproduced" class="num">{int(op.hubs)}</td>'
            f'<td data-label="Reproductions" class="num">{int(op.reproductions)}</td>'
            f'<td data-label="Latest rows reproduced"><ul class="inline-list">{links}{more}'
            "</ul></td>\n</tr>")
    # Every interpolated value above is an int or went through escape().
    return Markup("\n".join(out))  # noqa: S704  # nosec B704
