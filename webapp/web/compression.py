"""Compression through Flask-Compress (config.py's COMPRESS_*), with the client's refusals
honoured: `Accept-Encoding: gzip;q=0` says gzip is not acceptable, but Flask-Compress 1.25
ranks a coding with quality 0 among the others and uses it when nothing else is offered
(a client that refused gzip got gzip). Before anything reads the header, the codings a
request refuses are taken out of it, so Flask-Compress chooses among the acceptable
ones only, or sends the body as it is.

Flask-Compress leaves every answer outside 2xx as it is, and a form sent back with its
errors (a 422 of some 30 KiB) or an error page is as much a page as any other: its hook
is called here for those too, told the status is 200 for the call (a status it reads only
to skip), so the body is compressed by the library, as every other is."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_compress import Compress

compress = Compress()


def init_app(app: Flask) -> None:
    # First of the request hooks: one that answers early (a refused control character, a
    # CSRF failure) still gets an answer compressed only as the client accepts.
    app.before_request_funcs.setdefault(None, []).insert(0, _acceptable_codings_only)
    app.config["COMPRESS_REGISTER"] = False  # its hook is called by _compressed instead
    compress.init_app(app)
    app.after_request(_compressed)


def _compressed(response: Response) -> Response:
    status = response.status_code
    if status < 400 or response.is_streamed:
        return compress.after_request(response)
    response.status_code = 200  # Flask-Compress compresses 2xx only; the body is a page
    try:
        return compress.after_request(response)
    finally:
        response.status_code = status


def _acceptable_codings_only() -> None:
    header = request.environ.get("HTTP_ACCEPT_ENCODING")
    if not header or "q=0" not in header.replace(" ", ""):
        return  # no quality of 0 to take out (werkzeug parses only the headers that may)
    kept = [coding for coding, quality in request.accept_encodings if quality > 0]
    request.environ["HTTP_ACCEPT_ENCODING"] = ", ".join(kept)
