"""Open data: exports of any catalog view, the public SQLite snapshot, the Atom feed,
embeddable badges and the page that explains them.

Every response here is public and the same for every visitor: it carries an ETag and a
short public max-age, and answers 304 to a matching If-None-Match. The exports and the
feed take the catalog's query string, read strictly (services/api/query.parse_view): a
file or a feed has nowhere to show the notice with which the catalog drops a bad value,
so such a value, an unknown parameter, a repeated or an empty one is a 400 problem
naming it, as the API answers.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    make_response,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from werkzeug.http import quote_header_value

from webapp.errors import problem_response
from webapp.extensions import db
from webapp.models import utcnow
from webapp.services import badge_svg, data_version, exports, feed, snapshot
from webapp.services.api.query import ParameterError, parse_view
from webapp.services.catalog import CatalogQuery, filter_options, select_rows
from webapp.web.vary import add_vary

bp = Blueprint("open_data", __name__)

MAX_AGE = 300


def _public(response: Response, etag: str, max_age: int = MAX_AGE) -> Response:
    # Weak: the same data sent gzip-compressed or not is the same version of it (a strong
    # ETag gets the encoding appended by Flask-Compress, and then never matched again).
    response.set_etag(etag, weak=True)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response


def _not_modified(etag: str, mimetype: str) -> Response | None:
    """304 for a matching If-None-Match, with the headers the 200 would carry that say
    which representation it is (RFC 9110: its type, and Vary on the coding)."""
    if request.if_none_match.contains_weak(etag):
        response = _public(Response(status=304, mimetype=mimetype), etag)
        add_vary(response, "Accept-Encoding")
        return response
    return None


def _asked() -> CatalogQuery:
    """The catalog query of this request's query string (a ParameterError when a value
    is not one the catalog would apply)."""
    return parse_view(dict(request.args.lists()), filter_options(db.session))


def _refused(error: ParameterError) -> Response:
    return problem_response(400, "Bad Request", error.detail, parameter=error.parameter)


def _export(fmt: exports.Format) -> Response:
    try:
        query = _asked()
    except ParameterError as error:
        return _refused(error)
    now = utcnow()
    selection = select_rows(db.session, query, (), now=now)
    version = data_version.current(db.session)
    etag = exports.etag(selection.query, fmt, version, now)
    cached = _not_modified(etag, fmt.mimetype)
    if cached is not None:
        return cached
    chunks: Callable = exports.CHUNKS[fmt]
    body = chunks(exports.batches(db.session, selection, now=now))
    packed = _takes_gzip()
    if packed:
        body = exports.gzipped(body, current_app.config["COMPRESS_LEVEL"])
    response = Response(stream_with_context(body), mimetype=fmt.mimetype)
    if packed:
        # Compressed here, batch by batch (Flask-Compress leaves a body with an encoding
        # alone): its own stream holds each batch until the compressor's buffer fills.
        response.headers["Content-Encoding"] = "gzip"
    # The name is plain ASCII already (exports.filename); quoting it through werkzeug keeps
    # the header one parameter even if a quote ever slipped into it.
    name = quote_header_value(exports.filename(selection.query, fmt, now), allow_token=False)
    response.headers["Content-Disposition"] = f"attachment; filename={name}"
    return _public(response, etag)


def _takes_gzip() -> bool:
    """gzip for a client that takes it at least as gladly as deflate (Flask-Compress's
    other streaming encoding, which it then picks as before)."""
    accepted = request.accept_encodings
    return accepted["gzip"] > 0 and accepted["gzip"] >= accepted["deflate"]


@bp.get("/benchmarks.csv")
def benchmarks_csv() -> Response:
    """Every public row of the filtered catalog view, as CSV (all pages, streamed)."""
    return _export(exports.CSV)


@bp.get("/benchmarks.jsonl")
def benchmarks_jsonl() -> Response:
    """Every public row of the filtered catalog view, one JSON object per line."""
    return _export(exports.JSONL)


# --- the feed ----------------------------------------------------------------------------

# An empty feed's <updated>: fixed, so that its ETag holds.
EMPTY_FEED_UPDATED = datetime(feed.TAG_YEAR, 1, 1, tzinfo=UTC)


def _authority() -> str:
    """The tag: URIs' authority: the site's host name, without a port."""
    return urlsplit(f"//{request.host}").hostname or "localhost"


@bp.app_template_filter("atom_time")
def atom_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.get("/feed.atom")
def feed_atom() -> Response:
    """Rows that became public and badges that moved, newest first, under catalog filters."""
    try:
        query = _asked()
    except ParameterError as error:
        return _refused(error)
    now = utcnow()
    selection = select_rows(db.session, query, (), now=now)
    args = selection.query.args(page=None, sort=None)
    found = feed.entries(db.session, selection, now=now)
    described = ", ".join(f"{name} {value}" for name, value in args.items())
    body = _xml(render_template(
        "open_data/feed.xml", entries=found, limit=feed.LIMIT, described=described,
        updated=feed.updated(found, EMPTY_FEED_UPDATED), authority=_authority(),
        year=feed.TAG_YEAR,
        feed_id=f"tag:{_authority()},{feed.TAG_YEAR}:feed" + (f"?{urlencode(args)}" if args
                                                             else ""),
        self_url=url_for("open_data.feed_atom", _external=True, **args),
        catalog_url=url_for("public.catalog", _external=True, **args),
        licence_url=snapshot.LICENCE_URL,
    ))
    return _conditional(Response(body, mimetype="application/atom+xml"))


# What XML 1.0 forbids in a document: C0 controls but tab and line breaks, surrogates,
# U+FFFE and U+FFFF. The forms refuse them (fields.has_control_characters); one stored
# before they did, or by another way in, is left out rather than break a whole feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(body: str) -> str:
    return _NOT_XML.sub("", body)


def _conditional(response: Response, max_age: int = MAX_AGE) -> Response:
    """ETag from the body itself; 304 when the client has it already."""
    etag = hashlib.sha256(response.get_data()).hexdigest()[:32]
    _public(response, etag, max_age)
    return response.make_conditional(request)


# --- badges ------------------------------------------------------------------------------


@bp.get("/benchmarks/<int:benchmark_id>/badge.svg")
def badge(benchmark_id: int) -> Response:
    """A public row's badge, tier and decode speed as a small SVG to embed elsewhere."""
    image = badge_svg.badge_for(db.session, benchmark_id, now=utcnow())
    if image is None:
        abort(404)
    body = _xml(render_template("open_data/badge.svg", image=image))
    return _conditional(Response(body, mimetype="image/svg+xml"))


# --- the data page and the snapshot ------------------------------------------------------


@bp.get("/data")
def data() -> Response:
    """What can be downloaded, in which shape, under which licence (with an ETag)."""
    g.shared_page = True  # no form: no per-visitor CSRF token, so no session and one ETag
    body = render_template("public/data.html", fields=exports.FIELDS, snapshot=snapshot,
                           feed_limit=feed.LIMIT)
    return _conditional(Response(body, mimetype="text/html"))


@bp.get("/data/trustbench-public.sqlite3")
def snapshot_file() -> Response:
    """The public SQLite snapshot. The first request after public data changed starts a
    build in the background and waits for it a little (SNAPSHOT_WAIT_SECONDS, well under
    the server's worker timeout); a longer build serves the previous copy meanwhile, or
    says the first one is being prepared (503 with Retry-After)."""
    now = utcnow()
    version = data_version.current(db.session)
    database = snapshot.database_key(db.session)
    path = snapshot.current(current_app.instance_path, now=now, version=version,
                            database=database)
    if path is None:
        builder = _start_build(now, version)
        builder.join(current_app.config.get("SNAPSHOT_WAIT_SECONDS", SNAPSHOT_WAIT_SECONDS))
        path = (snapshot.current(current_app.instance_path, now=now, version=version,
                                 database=database)
                or snapshot.latest(current_app.instance_path, database=database))
    if path is None:
        response = make_response(render_template("public/snapshot_pending.html"), 503)
        response.headers["Retry-After"] = str(SNAPSHOT_RETRY_SECONDS)
        return response
    response = send_file(path, mimetype="application/vnd.sqlite3", as_attachment=True,
                         download_name=f"trustbench-public-{now:%Y-%m-%d}.sqlite3",
                         etag=path.name, conditional=True, max_age=MAX_AGE)
    response.cache_control.public = True
    return response


SNAPSHOT_WAIT_SECONDS = 10
SNAPSHOT_RETRY_SECONDS = 60


def _start_build(now: datetime, version: int) -> threading.Thread:
    """Build the snapshot in a thread of this worker, with its own app context and session,
    so that a long build never holds the request past the server's timeout. The build lock
    (snapshot.build) makes every other request and worker skip building meanwhile."""
    app = current_app._get_current_object()  # noqa: SLF001 - the app object for the thread
    source_url = url_for("public.catalog", _external=True)

    def work() -> None:
        with app.app_context():
            try:
                snapshot.build(db.session, app.instance_path, now=now, source_url=source_url,
                               version=version)
            except Exception:  # a thread has no one to answer: log it, the next request retries
                app.logger.exception("the public snapshot could not be built")
            finally:
                db.session.remove()

    builder = threading.Thread(target=work, name="snapshot-build", daemon=True)
    builder.start()
    return builder
