"""One spelling per row address: werkzeug's int converter takes leading zeros, so
/benchmarks/05406 answered as /benchmarks/5406 did. It now answers 301 to the row's own
address (its query string kept), as a page number spelled otherwise does: a row has one
address to link, store and cache."""

from __future__ import annotations

from flask import Flask, Response, redirect, request, url_for


def init_app(app: Flask) -> None:
    app.before_request(_ids_spelled_once)


def _ids_spelled_once() -> Response | None:
    args = request.view_args
    if (request.method != "GET" or not args or request.endpoint is None
            or not all(type(value) is int for value in args.values())):
        return None
    own = url_for(request.endpoint, **args)
    if own == request.script_root + request.path:
        return None
    query = request.query_string.decode("latin-1")
    return redirect(own + (f"?{query}" if query else ""), 301)
