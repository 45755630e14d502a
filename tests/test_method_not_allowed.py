"""A method a page does not take is a 405 that says which ones it does (RFC 9110 §15.5.6:
the Allow header), as an HTML page, an htmx fragment or, under /api/, a problem."""

from __future__ import annotations

import pytest


def allowed(response) -> set[str]:
    return {method.strip() for method in response.headers.get("Allow", "").split(",")}


@pytest.mark.parametrize(("method", "path"), [
    ("DELETE", "/benchmarks/{id}"),
    ("POST", "/benchmarks/{id}"),
    ("POST", "/"),
    ("PUT", "/hardware"),
])
def test_a_page_answers_another_method_with_405_and_allow(client, make_row, session, method,
                                                          path):
    row = make_row()
    session.commit()
    response = client.open(path.format(id=row.id), method=method)
    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert "That action is not available at this address." in response.text
    assert allowed(response) == {"GET", "HEAD", "OPTIONS"}


def test_an_htmx_request_gets_a_405_fragment_with_allow(client):
    response = client.delete("/", headers={"HX-Request": "true"})
    assert response.status_code == 405
    assert "<html" not in response.text
    assert "GET" in allowed(response)


def test_the_api_keeps_its_405_problem_with_allow(client):
    response = client.delete("/api/v1/benchmarks")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "GET" in allowed(response)


def test_a_form_page_lists_post_too(client):
    response = client.delete("/submit/benchmark")
    assert response.status_code == 405
    assert {"GET", "POST"} <= allowed(response)
