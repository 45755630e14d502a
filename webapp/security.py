"""Security at the edge of every request: headers on every response, the requests refused
before any view runs, and which proxy to believe.

Refused before a view: a path, query or form with control characters (400); a POST over
HTTPS from another origin (400, the CSRF page); a body over MAX_CONTENT_LENGTH however it
is sent (413). A HEAD request is answered as the GET it asks about.
"""

from __future__ import annotations

import io
import re
from typing import IO
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask.wrappers import Request as FlaskRequest
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.utils import cached_property
from werkzeug.wsgi import get_host

from webapp.errors import CONTROL_CHARACTERS
from webapp.extensions import SAFE_METHODS
from webapp.web.htmx import FRAGMENT_HEADERS
from webapp.web.vary import add_vary

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
# A page that carries a per-visitor CSRF token (or typed values) is that visitor's own.
PRIVATE = "private, no-store"

# Unicode's control characters (C0, DEL, C1). A form value may hold tab, line feed and
# carriage return (a note has lines); nothing else has any business in a request.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The public forms check every typed value through fields.py and say what is wrong
# beside the field (422, what was typed kept); their values are left to them. Names,
# paths and queries are checked here for every form.
FIELDS_CHECKED_BY_THE_FORM = frozenset({"submit", "reproduce", "feedback"})
# What reviewers type is checked likewise by the view or the service storing it (the
# login; moderation, operator_links and feedback_triage for notes and reasons), which
# refuse a control character beside the form with the text kept; the editorial form is
# the submit form's schema. A reviewer's other fields are chosen on the page, not typed.
# What reviewers type on the dashboard's forms, in the order a refused form shows it back
# (review/auth.py, when a form arrives after its session ended).
TYPED_ON_THE_DASHBOARD = ("note", "reason_text", "reason", "resolution")
TYPED_BY_REVIEWERS = frozenset({*TYPED_ON_THE_DASHBOARD, "other", "name", "password"})
REVIEW_FORMS_CHECKED_WHOLE = frozenset({"review.editorial"})


def init_app(app: Flask) -> None:
    app.request_class = Request
    app.session_interface = SessionInterface()
    app.before_request(_refuse_control_characters)
    app.before_request(_refuse_other_origins)
    app.after_request(_headers)
    app.after_request(_api_cors)
    app.wsgi_app = TrustedProxies(app, app.wsgi_app)


class Request(FlaskRequest):
    """The request as every view sees it; two edges differ from werkzeug's.

    HEAD is the GET it asks about, minus the body: views, the page cache and CSRF see
    GET, so HEAD gets the same status, headers and Content-Length; werkzeug's response
    (and the server) leave the body out, reading the method from the WSGI environ, which
    keeps saying HEAD.

    A chunked body is held to max_content_length like a declared one. Werkzeug refuses a
    Content-Length over the cap (413) before reading, but a chunked body has none, and
    its cap then only stops the reading: the form parser got a cut body and dropped the
    tail fields, and the row was stored. Read here up to one byte past the cap, a body
    over it is refused with the 413 page, by the development server and by gunicorn
    alike. The cap is the request's own (a view may raise it before the body is read).
    """

    def __init__(self, environ, *args, **kwargs):
        super().__init__(environ, *args, **kwargs)
        if self.method == "HEAD":
            self.method = "GET"

    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        if limit is None or self.shallow or not _chunked(self.environ):
            return super().stream
        try:
            body = _read_at_most(self.environ["wsgi.input"], limit + 1)
        except Exception as error:  # noqa: BLE001 - whatever the server's parser raises
            # A malformed chunk (gunicorn's InvalidChunkSize, werkzeug's OSError) or a
            # client gone mid-body: the client's request is at fault, not the site.
            raise BadRequest("The request's body could not be read.") from error
        if len(body) > limit:
            raise RequestEntityTooLarge()
        return io.BytesIO(body)


class SessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request arrived over HTTPS.

    SESSION_COOKIE_SECURE = True forces it everywhere; otherwise a site served on plain
    HTTP (the `make run` default) still gets a working session, and the same site
    behind TLS never sends its session over an unencrypted connection.
    """

    def open_session(self, app: Flask, request: FlaskRequest):
        # No cookie, as on nearly every public page view: an empty session, without
        # building the signer that only a cookie's value needs.
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        # Empty and untouched: no cookie to set or delete, only the Vary it was read under.
        if not session and not session.modified:
            # A static file is the same for every visitor, whatever read the session on
            # the way (a shared cache would otherwise keep an immutable file per cookie).
            if session.accessed and request.endpoint != "static":
                add_vary(response, "Cookie")
            return
        super().save_session(app, session, response)

    def get_cookie_secure(self, app: Flask) -> bool:
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        return has_request_context() and request.is_secure


class TrustedProxies:
    """Believe X-Forwarded-Proto only from the configured number of proxies, and answer
    only for the configured site addresses (TRUSTED_HOSTS), when there are any.

    The count is read per request so it follows the configuration. The client address is
    not rewritten here: services.privacy reads the forwarded-for header with the same count and
    turns it into a daily key without keeping it.

    A Host header outside TRUSTED_HOSTS gets a 400 page here, before Flask: Flask would
    refuse it too, but its error page then cannot build a single link. Pages carry
    absolute links built from the Host header and the page stores key pages by it, so a
    made-up Host would otherwise fill the stores with pages nobody else asks for.
    """

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self._fixes: dict[int, ProxyFix] = {}

    def __call__(self, environ, start_response):
        hosts = self.app.config.get("TRUSTED_HOSTS")
        if hosts and not _trusted_host(environ, hosts):
            return _untrusted_host(start_response)
        trusted = int(self.app.config.get("TRUSTED_PROXY_COUNT") or 0)
        if trusted <= 0:
            return self.wsgi_app(environ, start_response)
        fix = self._fixes.get(trusted)
        if fix is None:
            fix = self._fixes[trusted] = ProxyFix(
                self.wsgi_app, x_for=0, x_proto=trusted, x_host=0, x_port=0, x_prefix=0)
        return fix(environ, start_response)


def _trusted_host(environ, hosts: list[str]) -> bool:
    try:
        get_host(environ, hosts)
    except SecurityError:
        return False
    return True


UNTRUSTED_HOST_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Unknown site address · Trustbench</title></head>
<body>
<main>
<h1>Unknown site address</h1>
<p>This server answers only for the addresses it is configured for, and the address this
request was sent to is not one of them. Check the address in your browser's bar, or the
link that brought you here.</p>
</main>
</body>
</html>
""".encode()


def _untrusted_host(start_response):
    headers = [("Content-Type", "text/html; charset=utf-8"),
               ("Content-Length", str(len(UNTRUSTED_HOST_PAGE))),
               ("Cache-Control", PRIVATE), *SECURITY_HEADERS]
    start_response("400 BAD REQUEST", headers)
    return [UNTRUSTED_HOST_PAGE]


def _chunked(environ) -> bool:
    # Transfer-Encoding wins over a Content-Length sent beside it (RFC 9112, 6.3), as it
    # does in werkzeug's own reading of the body.
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _read_at_most(stream, size: int) -> bytes:
    parts, left = [], size
    while left > 0:
        part = stream.read(min(left, 64 * 1024))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _refuse_control_characters():
    if _CONTROL.search(request.path) or any(
        _CONTROL.search(key) or _CONTROL.search(value)
        for key, value in request.args.items(multi=True)
    ):
        abort(400, CONTROL_CHARACTERS)
    if request.method in SAFE_METHODS:
        return
    for key, value in request.form.items(multi=True):
        if _CONTROL.search(key) or (_CONTROL_IN_TEXT.search(value)
                                    and not _checked_by_the_view(key)):
            abort(400, CONTROL_CHARACTERS)


def _checked_by_the_view(field: str) -> bool:
    if request.blueprint in FIELDS_CHECKED_BY_THE_FORM:
        return True
    return request.blueprint == "review" and (
        field in TYPED_BY_REVIEWERS or request.endpoint in REVIEW_FORMS_CHECKED_WHOLE)


def _refuse_other_origins():
    """Over HTTPS, a form must come from this site's own pages.

    Flask-WTF's strict check (WTF_CSRF_SSL_STRICT, off in config.py) wants a Referer on
    every POST: a page whose referrer policy keeps it back (the status page, whose path
    holds a token; a browser set to send none) could never post. Browsers send Origin
    with every POST; it is checked first, then the Referer when there is one. A POST
    carrying neither rests on its CSRF token and the SameSite session cookie alone.
    """
    if request.method in SAFE_METHODS or not request.is_secure:
        return
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    own = _origin_of(f"https://{request.host}")
    origin = request.headers.get("Origin")
    if origin is not None and _origin_of(origin) != own:
        raise CSRFError("The request came from another origin.")
    referrer = request.headers.get("Referer")
    if referrer and _origin_of(referrer) != own:
        raise CSRFError("The referrer does not match the host.")


def _origin_of(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


def _api_cors(response):
    """Any site's scripts may read the API's GET answers: public data, no credentials
    taken. Never on pages or POSTs (a cross-origin read of those could leak a session).

    A script that revalidates (If-None-Match, as the /api page invites) makes the
    browser ask first with an OPTIONS preflight; the API's routes answer it (Flask's
    automatic OPTIONS) with the methods and the one request header they take."""
    if not request.path.startswith("/api/"):
        return response
    if request.method == "GET":
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "ETag"
    elif request.method == "OPTIONS" and response.status_code < 300:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD"
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


# Every response's security headers, unless the view set its own.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
_DEFAULTS = tuple((name.lower(), name, value) for name, value in SECURITY_HEADERS)


def _headers(response):
    headers = response.headers
    # One pass over what the view set, instead of a search per header.
    present = {name.lower() for name, _value in headers}
    headers.extend([(name, value) for key, name, value in _DEFAULTS if key not in present])
    if current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") in g:
        # A page that rendered this visitor's CSRF token is theirs alone: no shared
        # cache may keep it, and no browser cache either (the back button refetches).
        headers["Cache-Control"] = PRIVATE
    if request.is_secure and "strict-transport-security" not in present:
        headers.add(*HSTS)
    # (A bare 304 says text/html by default: it carries what its view gave it instead.)
    if "HX-Request" in request.headers or (request.endpoint and response.status_code != 304
                                           and response.mimetype == "text/html"):
        add_vary(response, *FRAGMENT_HEADERS)
    return response
