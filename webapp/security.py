"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

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


def init_app(app: Flask) -> None:
    app.after_request(_headers)
    app.session_interface = SessionInterface()
    app.wsgi_app = TrustedProxies(app, app.wsgi_app)


class SessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request arrived over HTTPS.

    SESSION_COOKIE_SECURE = True forces it everywhere; otherwise a site served on plain
    HTTP (the `make run` default) still gets a working session, and the same site
    behind TLS never sends its session over an unencrypted connection.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        return has_request_context() and request.is_secure


class TrustedProxies:
    """Believe X-Forwarded-Proto only from the configured number of proxies.

    The count is read per request so it follows the configuration. The client address is
    not rewritten here: services.privacy reads the forwarded-for header with the same count and
    turns it into a daily key without keeping it.
    """

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self._fixes: dict[int, ProxyFix] = {}

    def __call__(self, environ, start_response):
        trusted = int(self.app.config.get("TRUSTED_PROXY_COUNT") or 0)
        if trusted <= 0:
            return self.wsgi_app(environ, start_response)
        fix = self._fixes.get(trusted)
        if fix is None:
            fix = self._fixes[trusted] = ProxyFix(
                self.wsgi_app, x_for=0, x_proto=trusted, x_host=0, x_port=0, x_prefix=0)
        return fix(environ, start_response)


def _headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if "HX-Request" in request.headers or request.endpoint and response.mimetype == "text/html":
        response.vary.add("HX-Request")
    return response
