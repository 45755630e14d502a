"""Open data: exports of any catalog view, the public SQLite snapshot, the Atom feed,
embeddable badges and the page that explains them.

Every response here is public and the same for every visitor: it carries an ETag and a
short public max-age, and answers 304 to a matching If-None-Match. Filters follow the
catalog's own rules (services.catalog): a bad value is dropped, never an error.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, request, stream_with_context

from webapp.extensions import db
from webapp.models import utcnow
from webapp.services import data_version, exports
from webapp.services.catalog import parse_catalog_query, select_rows

bp = Blueprint("open_data", __name__)

MAX_AGE = 300


def _public(response: Response, etag: str, max_age: int = MAX_AGE) -> Response:
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response


def _not_modified(etag: str) -> Response | None:
    if etag in request.if_none_match:
        return _public(Response(status=304), etag)
    return None


def _export(fmt: exports.Format) -> Response:
    query, notices = parse_catalog_query(request.args)
    now = utcnow()
    selection = select_rows(db.session, query, notices, now=now)
    etag = exports.etag(selection.query, fmt, data_version.current(db.session), now)
    cached = _not_modified(etag)
    if cached is not None:
        return cached
    chunks: Callable = exports.CHUNKS[fmt]
    body = chunks(exports.batches(db.session, selection, now=now))
    response = Response(stream_with_context(body), mimetype=fmt.mimetype)
    name = exports.filename(selection.query, fmt, now)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return _public(response, etag)


@bp.get("/benchmarks.csv")
def benchmarks_csv() -> Response:
    """Every public row of the filtered catalog view, as CSV (all pages, streamed)."""
    return _export(exports.CSV)


@bp.get("/benchmarks.jsonl")
def benchmarks_jsonl() -> Response:
    """Every public row of the filtered catalog view, one JSON object per line."""
    return _export(exports.JSONL)
