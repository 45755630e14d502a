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
    response = client.post("/submit/benchmark", data={
        "notes": "x" * (app.config["INTAKE_MAX_CONTENT_LENGTH"] + 1)})
    assert response.status_code == 413
    assert response.mimetype == "text/html" and b"too large" in response.data
    assert b"<title>" in response.data


def test_a_site_address_outside_trusted_hosts_gets_a_page_and_is_never_stored(
        app, client, make_row, session):
    """TRUSTED_HOSTS (TRUSTBENCH_TRUSTED_HOSTS): the site answers for its own addresses
    only. Another Host gets a 400 page with the strict headers, and no page is rendered or
    stored for it (a made-up Host would otherwise fill the page store)."""
    row = make_row()
    session.commit()
    app.config["TRUSTED_HOSTS"] = ["localhost", ".trustbench.example"]
    refused = client.get(f"/benchmarks/{row.id}", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert refused.mimetype == "text/html" and b"<title>Unknown site address" in refused.data
    assert "frame-ancestors 'none'" in refused.headers["Content-Security-Policy"]
    assert refused.headers["Cache-Control"] == "private, no-store"
    assert b"evil.example" not in refused.data
    assert len(app.extensions["page_cache"]._entries) == 0

    for host in ("localhost", "www.trustbench.example", "trustbench.example:8443"):
        served = client.get(f"/benchmarks/{row.id}", headers={"Host": host})
        assert served.status_code == 200, host
    assert len(app.extensions["page_cache"]._entries) == 3, "a trusted address's page is stored"
    assert client.get("/", headers={"Host": "localhost.evil.example"}).status_code == 400


def test_trusted_hosts_come_from_the_environment(monkeypatch, tmp_path):
    from webapp import create_app

    monkeypatch.setenv("TRUSTBENCH_TRUSTED_HOSTS", "trustbench.example, .trustbench.example,")
    configured = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"},
                            instance_path=str(tmp_path))
    assert configured.config["TRUSTED_HOSTS"] == ["trustbench.example", ".trustbench.example"]
