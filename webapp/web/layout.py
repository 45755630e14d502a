"""The links every page's layout draws (base.html): built once per worker with url_for.

The header and footer link the same fifteen addresses on every page: eighteen url_for
calls, each through the URL map (and the static files' hashed names). They depend on
nothing in the request but the prefix the site is mounted under (SCRIPT_NAME, which the
server sets, never the client), so they are built once per prefix and kept for the
worker's life: the URL map and the static files' hashes are fixed once the app exists.
"""

from __future__ import annotations

from types import MappingProxyType

from flask import Flask, current_app, has_request_context, request, url_for

EXTENSION = "layout_links"
# name in the template -> (endpoint, values)
LINKS = {
    "favicon": ("static", {"filename": "favicon.svg"}),
    "stylesheet": ("static", {"filename": "site.css"}),
    "htmx": ("static", {"filename": "vendor/htmx-2.0.11.min.js"}),
    "script": ("static", {"filename": "app.js"}),
    "feed": ("open_data.feed_atom", {}),
    "catalog": ("public.catalog", {}),
    "hardware_index": ("public.hardware_index", {}),
    "operators": ("public.operators", {}),
    "submit": ("submit.benchmark", {}),
    "reproduction_guide": ("public.resource", {"name": "reproduction-guide"}),
    "verification_policy": ("public.resource", {"name": "verification-policy"}),
    "confidence_methodology": ("public.resource", {"name": "confidence-methodology"}),
    "open_data": ("open_data.data", {}),
    "api": ("api.docs", {}),
    "reviewers": ("review.login", {}),
}
# Prefixes are few (usually one); more than this means something odd, so start over.
MAX_PREFIXES = 8


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = {}
    app.add_template_global(links, "layout_links")


def links() -> MappingProxyType:
    """The layout's addresses for this request's mount point, read-only."""
    if not has_request_context():  # rendered in an app context: url_for as it stands
        return _build()
    built = current_app.extensions[EXTENSION]
    prefix = request.script_root
    found = built.get(prefix)
    if found is None:
        if len(built) >= MAX_PREFIXES:
            built.clear()
        found = built[prefix] = _build()
    return found


def _build() -> MappingProxyType:
    return MappingProxyType(
        {name: url_for(endpoint, **values) for name, (endpoint, values) in LINKS.items()})
