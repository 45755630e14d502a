"""Strict security headers on every response, pages and errors alike."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/", "/healthz", "/no-such-page", "/static/site.css"])
def test_every_response_carries_strict_headers(client, path):
    response = client.get(path)
    response.close()  # static files are streamed from disk
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for directive in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'",
                      "script-src 'self'"):
        assert directive in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_hsts_when_served_over_https(client):
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_error_pages_are_pages(client):
    response = client.get("/benchmarks/999999")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"<title>" in response.data and b"404" in response.data


def test_an_oversized_post_is_refused_with_a_page_before_it_is_read(app, client, session):
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/submit/benchmark", data={"notes": "x" * (300 * 1024)})
    assert response.status_code == 413
    assert response.mimetype == "text/html" and b"too large" in response.data
    assert b"<title>" in response.data
