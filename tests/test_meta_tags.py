"""Public pages describe themselves to search engines and link previews; private ones do not.

A public page carries a meta description and Open Graph tags (og:title, og:description,
og:type, og:url with the page's canonical address, og:site_name). Reviewer pages, the
private status page and error pages carry none of them: a status link or a reviewer's
page must never be previewed or indexed.
"""

from __future__ import annotations

import html5lib
import pytest
from flask import g

from webapp.services import accounts, tokens
from webapp.services.rules import State

OG = ("og:title", "og:description", "og:type", "og:url", "og:site_name")
REVIEWER = ("meta-reviewer", "a reviewer password for meta")


def _head(client, path):
    for name in list(vars(g)):
        delattr(g, name)
    response = client.get(path, follow_redirects=True)
    document = html5lib.parse(response.get_data(as_text=True), namespaceHTMLElements=False)
    meta = {}
    for element in document.iter("meta"):
        key = element.get("property") or element.get("name")
        if key:
            meta[key] = element.get("content")
    canonical = [link.get("href") for link in document.iter("link")
                 if link.get("rel") == "canonical"]
    return response, meta, canonical


@pytest.fixture
def hub(make_row, session):
    row = make_row(handle="alice")
    session.commit()
    return row


@pytest.mark.parametrize("path, canonical", [
    ("/", "http://localhost/"),
    ("/?hardware=rtx-4090", "http://localhost/?hardware=rtx-4090"),
    ("/operators", "http://localhost/operators"),
    ("/hardware/rtx-4090", "http://localhost/hardware/rtx-4090"),
    ("/models/llama-3.1-8b-instruct", "http://localhost/models/llama-3.1-8b-instruct"),
    ("/resources/verification-policy", "http://localhost/resources/verification-policy"),
    ("/submit/benchmark", "http://localhost/submit/benchmark"),
])
def test_public_pages_carry_a_description_and_open_graph_tags(client, hub, path, canonical):
    response, meta, links = _head(client, path)
    assert response.status_code == 200
    for key in ("description",) + OG:
        assert meta.get(key, "").strip(), f"{path}: no {key}"
    assert meta["og:site_name"] == "Trustbench"
    assert meta["og:description"] == meta["description"]
    assert meta["og:url"] == canonical
    assert links == [canonical]


def test_the_detail_page_names_its_row_in_the_preview(client, hub):
    _, meta, _ = _head(client, f"/benchmarks/{hub.id}")
    assert f"#{hub.id}" in meta["og:title"]
    assert meta["og:url"] == f"http://localhost/benchmarks/{hub.id}"


def test_pages_describe_themselves_differently(client, hub):
    paths = ("/", "/operators", "/resources/reproduction-guide", f"/benchmarks/{hub.id}",
             "/hardware/rtx-4090", "/models/llama-3.1-8b-instruct")
    descriptions = {path: _head(client, path)[1]["description"] for path in paths}
    assert len(set(descriptions.values())) == len(paths), descriptions
    assert "100 tok/s" in descriptions[f"/benchmarks/{hub.id}"]
    assert "GeForce RTX 4090" in descriptions["/hardware/rtx-4090"]


def test_private_and_error_pages_carry_no_preview_tags(app, client, make_row, session, no_csrf):
    app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8, ARGON2_PARALLELISM=1)
    accounts.add_reviewer(session, *REVIEWER)
    queued = make_row(state=State.QUEUED)
    session.commit()
    paths = [f"/submissions/{tokens.status_token(queued)}", "/does-not-exist", "/review/login"]
    for path in paths:
        _, meta, links = _head(client, path)
        assert not any(key in meta for key in ("description",) + OG), (path, meta)
        assert links == [], path
    client.post("/review/login", data={"name": REVIEWER[0], "password": REVIEWER[1]})
    for path in ("/review/", f"/review/submissions/{queued.id}", "/review/audit"):
        response, meta, _ = _head(client, path)
        assert response.status_code == 200, path
        assert not any(key in meta for key in ("description",) + OG), (path, meta)


def test_the_description_is_escaped_text(client, make_row, session):
    row = make_row(handle='<b>"x"</b>')
    session.commit()
    body = client.get(f"/benchmarks/{row.id}").get_data(as_text=True)
    head = body.split("</head>")[0]
    assert "<b>" not in head
