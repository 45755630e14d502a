"""The rows of the catalog's table and of the hardware and model pages' rows table,
written in one pass (the templates' loops, without Jinja's per-value machinery: a page
of 25 rows had some 500 values escaped one by one).

Every text value that reaches the markup goes through `escape` (labels carry names
operators typed for "other" entries); a stored number goes in as labels.number formats a
float, which writes nothing but digits, separators, a sign or a dash. The badge and tier
cells are a few dozen fixed combinations, written once each. A row's plausibility flags
(plausibility.of_row, what its detail page lists) are marked beside the number they
concern: above the ceiling in the catalog's share-of-ceiling cell (the decode cell on
the hardware and model pages, which have no share column), above memory in the VRAM cell.
The row's markup must stay as public/_catalog_table.html and public/_rows_table.html
describe it (markers, data-label for the phone layout): tests/test_public_pages.py and
the browser tests read it. The catalog's rows have a compare checkbox first and the day
the row was added last; the hardware and model pages' rows have neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from flask import Flask
from markupsafe import Markup, escape

from webapp.services.labels import number
from webapp.services.plausibility import Flag, of_row
from webapp.services.rules import Badge, FlagCode, Tier, percent

_DEMO = ('<span class="marker marker-demo" title="Generated demo data, not a real '
         'measurement.">Demo</span>')
_STALE_ROW = ' class="is-stale"'
_STALE = ('<span class="marker marker-stale" title="The newest accepted measurement is more '
          'than 18 months old.">Stale</span>')


def init_app(app: Flask) -> None:
    app.add_template_global(catalog_head, "catalog_head")
    app.add_template_global(catalog_rows, "catalog_rows")
    app.add_template_global(reference_rows, "reference_rows")


# The catalog's columns: (sort or None, heading, unit, class). A sorting column's header
# links the catalog sorted by it (aria-sort and an arrow on the active one).
_HEAD = (
    (None, '<span class="visually-hidden">Compare</span>', None, "compare-col"),
    (None, "Model", None, None), (None, "Hardware", None, None),
    (None, "Quant", None, None), (None, "Runtime", None, None),
    ("decode", "Decode", "tok/s", "num"), ("ttft", "TTFT", "ms", "num"),
    ("vram", "VRAM peak", "MiB", "num"), ("share", "Share of ceiling", None, "num"),
    ("trust", "Badge", None, None), (None, "Tier", None, None), ("newest", "Added", None, None),
)


def catalog_head(page: Any, query_href: Any) -> Markup:
    """The <th>s of the catalog's table under `page` (catalog.CatalogPage), each sorting
    column linking the same view sorted by it (query_href: the view's QueryHrefs)."""
    sorts, query = page.options.sort_named, page.query
    out = []
    for key, text, unit, css in _HEAD:
        css_attr = f' class="{css}"' if css else ""
        if key is None:
            out.append(f'<th scope="col"{css_attr}>{text}</th>')
            continue
        sort = sorts[key]
        active = query.sort == sort
        href = escape(query_href("public.catalog", query.args(sort=sort.value, page=None)))
        aria = f' aria-sort="{"descending" if sort.descending else "ascending"}"' if active else ""
        unit_span = f' <span class="unit">{unit}</span>' if unit else ""
        arrow = ("▼" if sort.descending else "▲") if active else ""
        out.append(
            f'<th scope="col"{css_attr}{aria}>'
            f'<a class="sort-link{" is-active" if active else ""}" href="{href}" '
            f'title="Sort: {escape(sort.label)}">{text}{unit_span}<span class="sort-arrow" '
            f'aria-hidden="true">{arrow}</span></a></th>')
    # The headings are this module's text; the address and the sort's label are escaped.
    return Markup("\n".join(out))  # noqa: S704  # nosec B704


def catalog_rows(listings: Sequence[Any], detail_base: str) -> Markup:
    """The catalog's <tr>s of `listings` (listing.Listing), each linking `detail_base` +
    its id."""
    return _rows(listings, detail_base, catalog=True)


def reference_rows(listings: Sequence[Any], detail_base: str) -> Markup:
    """The hardware and model pages' <tr>s of `listings`."""
    return _rows(listings, detail_base, catalog=False)


def _number(value: float | int | None) -> str:
    """labels.number of a stored number: digits, separators, a sign or an em dash (a
    float's own formatting), nothing markup could read, so it goes in as it is."""
    return number(value if value is None else float(value))


@cache
def _marks(badge: Badge, tier: Tier, stale: bool) -> str:
    """A row's badge and tier cells: the same few dozen combinations on every page, each
    written (and escaped) once per process."""
    return (
        f'<td data-label="Badge"><span class="badge {escape(badge.css)}" '
        f'title="{escape(badge.explanation)}">{escape(badge.label)}</span></td>'
        f'<td data-label="Tier"><span class="tier {escape(tier.css)}" '
        f'title="{escape(tier.explanation)}"><span class="visually-hidden">Confidence: '
        f'</span>{escape(tier.label)}</span> {_STALE if stale else ""}</td>')


def _flag(flag: Flag) -> str:
    """macros/badges.html's flag marker, with the flag's short name, its message (the
    numbers) as the title, and a place in the cell beside the number."""
    return (f' <span class="marker marker-flag marker-in-cell {escape(flag.code.css)}" '
            f'title="{escape(flag.message)}"><span class="visually-hidden">Plausibility '
            f'flag: </span>{escape(flag.short_label)}</span>')


def _markers(row: Any) -> tuple[str, str]:
    """The markers of `row`'s flags: (above the ceiling, above memory), each "" when the
    row is not so flagged (nearly every row)."""
    flags = of_row(row).flags
    if not flags:
        return "", ""
    marked = {flag.code: _flag(flag) for flag in flags}
    return (marked.get(FlagCode.EXCEEDS_CEILING, ""),
            marked.get(FlagCode.VRAM_EXCEEDS_MEMORY, ""))


def _rows(listings: Sequence[Any], detail_base: str, *, catalog: bool) -> Markup:
    base = escape(detail_base)
    out = []
    for listing in listings:
        row = listing.row
        row_id = int(row.id)
        model, hardware = escape(listing.model_label), escape(listing.hardware_label)
        badge, tier, stale = listing.badge, listing.tier, listing.stale
        above_ceiling, above_memory = _markers(row)
        cells = [f'<tr{_STALE_ROW if stale else ""}>']
        if catalog:
            cells.append(
                f'<td class="compare-col" data-label="Compare"><input type="checkbox" '
                f'name="ids" value="{row_id}" id="compare-{row_id}" aria-label="Compare row '
                f'{row_id}: {model} on {hardware}"></td>')
        cells.append(
            f'<td data-label="Model"><a href="{base}{row_id}">{model}</a> '
            f'{_DEMO if row.is_demo else ""}</td>'
            f'<td data-label="Hardware">{hardware}</td>'
            f'<td data-label="Quant">{escape(listing.quant_label)}</td>'
            f'<td data-label="Runtime">{escape(listing.runtime_label)}</td>'
            f'<td data-label="Decode (tok/s)" class="num">{_number(row.decode_tps)}'
            f'{"" if catalog else above_ceiling}</td>'
            f'<td data-label="TTFT (ms)" class="num">{_number(row.ttft_ms)}</td>'
            f'<td data-label="VRAM peak (MiB)" class="num">{_number(row.vram_peak_mib)}'
            f'{above_memory}</td>')
        if catalog:
            share = row.derived_ceiling_share
            cells.append(f'<td data-label="Share of ceiling" class="num">'
                         f'{escape(percent(share)) if share else "—"}{above_ceiling}</td>')
        cells.append(_marks(badge, tier, stale))
        if catalog:
            added = row.created_at.date().isoformat()
            cells.append(f'<td data-label="Added"><time datetime="{added}">{added}</time></td>')
        cells.append("</tr>")
        out.append("".join(cells))
    # Every interpolated value above went through escape(); the rest is this module's text.
    return Markup("\n".join(out))  # noqa: S704  # nosec B704
