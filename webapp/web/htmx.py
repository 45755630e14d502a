"""What an htmx request asks for: one predicate for every blueprint and the page store."""

from __future__ import annotations

from flask import request

# The request headers wants_fragment reads: a response that differs by it varies on all
# three (a boosted navigation or a history restore with HX-Request gets the whole page).
FRAGMENT_HEADERS = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")


def wants_fragment() -> bool:
    """An htmx swap of part of the page, not a boosted navigation nor a history restore
    (those need the whole page)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )
