"""/benchmarks/<id>/badge.svg and the detail page's embed snippets."""

from __future__ import annotations

from xml.etree.ElementTree import fromstring as parse_svg

import html5lib

from webapp.services import evidence
from webapp.services.rules import Kind, State

SVG = "{http://www.w3.org/2000/svg}"


def publish(session, make_row, **columns):
    row = make_row(**columns)
    evidence.refresh_derived(session, row)
    session.commit()
    return row


def test_badge_shows_badge_tier_and_speed_with_an_accessible_title(client, session, make_row):
    row = publish(session, make_row, runs=((200.0, 512, 87.3),) * 3)
    response = client.get(f"/benchmarks/{row.id}/badge.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = parse_svg(response.get_data(as_text=True))
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert root.get("aria-labelledby") == title.get("id")
    assert "Community-submitted" in title.text and "87.3 tok/s" in title.text
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert "community-submitted" in texts
    assert any("87.3 tok/s" in text for text in texts)
    assert "style" not in response.get_data(as_text=True)


def test_badge_moves_with_the_evidence(client, session, make_row):
    hub = publish(session, make_row, handle="hub-owner")
    first = client.get(f"/benchmarks/{hub.id}/badge.svg")
    make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="other")
    evidence.refresh_derived(session, hub)
    session.commit()
    second = client.get(f"/benchmarks/{hub.id}/badge.svg",
                        headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert ">reproduced<" in second.get_data(as_text=True)


def test_typed_names_are_escaped_in_the_svg(client, session, make_row):
    row = publish(session, make_row, model="other", other_model='<script>alert("x")</script>&')
    body = client.get(f"/benchmarks/{row.id}/badge.svg").get_data(as_text=True)
    assert "<script>" not in body
    assert "&lt;script&gt;" in body and "&amp;" in body
    parse_svg(body)  # still well-formed XML


def test_etag_and_short_public_cache(client, session, make_row):
    row = publish(session, make_row)
    first = client.get(f"/benchmarks/{row.id}/badge.svg")
    assert first.cache_control.public and 0 < first.cache_control.max_age <= 3600
    again = client.get(f"/benchmarks/{row.id}/badge.svg",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_only_public_rows_have_a_badge(client, session, make_row):
    for state in (State.QUEUED, State.REJECTED, State.WITHDRAWN):
        row = make_row(state=state)
        session.commit()
        assert client.get(f"/benchmarks/{row.id}/badge.svg").status_code == 404
    hub = publish(session, make_row)
    repro = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub)
    session.commit()
    assert client.get(f"/benchmarks/{repro.id}/badge.svg").status_code == 404
    assert client.get("/benchmarks/999999/badge.svg").status_code == 404


def test_detail_page_offers_html_and_markdown_snippets(client, session, make_row):
    row = publish(session, make_row)
    response = client.get(f"/benchmarks/{row.id}")
    assert response.status_code == 200
    document = html5lib.parse(response.get_data(as_text=True), namespaceHTMLElements=False)
    html_code = document.find(".//code[@id='embed-html']")
    markdown = document.find(".//code[@id='embed-md']")
    badge_url = f"http://localhost/benchmarks/{row.id}/badge.svg"
    page_url = f"http://localhost/benchmarks/{row.id}"
    # The snippet is text to copy (escaped on the page), not a live link.
    assert html_code.find("a") is None
    assert html_code.text == (f'<a href="{page_url}" rel="noopener"><img src="{badge_url}" '
                              f'alt="Trustbench benchmark #{row.id}"></a>')
    assert markdown.text == f"[![Trustbench benchmark #{row.id}]({badge_url})]({page_url})"
    preview = document.find(f".//img[@src='/benchmarks/{row.id}/badge.svg']")
    assert preview is not None and preview.get("alt")
    scripts = [s.get("src") for s in document.iter("script")]
    assert any(src and "embed" in src for src in scripts)
