"""/resources/reproduction-network: the rings and the tier's upgrade path, drawn from the
catalog's most reproduced public row, with an embed snippet and the licence line."""

from __future__ import annotations

import html5lib

from tests.test_charts import SVG, chart_svg, publish, reproduce, runs, text_of
from tests.test_public_pages import parse
from webapp.services.rules import State, Tier

URL = "/resources/reproduction-network"


def test_without_data_the_page_explains_and_says_there_is_no_hub(client):
    response = client.get(URL)
    assert response.status_code == 200
    document = parse(response.data)
    body = response.data.decode()
    assert "There is no reproduced hub yet" in body
    assert "inner ring" in body.lower() and "outer ring" in body.lower()
    ladder = chart_svg(document, "ladder-title")
    tiers = [g.get("data-tier") for g in ladder.iter(f"{SVG}g") if g.get("data-tier")]
    assert tiers == [t.value for t in (Tier.LOW, Tier.MODERATE, Tier.HIGH, Tier.VERY_HIGH)]
    assert "this hub" not in text_of(ladder)
    assert "network-title" not in body
    assert "CC-BY-4.0" in body


def test_the_most_reproduced_hub_is_drawn_with_its_rings(client, session, make_row):
    lesser = publish(session, make_row, runs=runs(100.0))
    reproduce(session, make_row, lesser, handle="lone-op", runs=runs(101.0))
    hub = publish(session, make_row, runs=runs(50.0), handle="original-op")
    reproduce(session, make_row, hub, handle="same-env", runs=runs(51.0))
    reproduce(session, make_row, hub, handle="other-env", os_label="Fedora 41",
              url="https://example.org/me", runs=runs(49.0))
    reproduce(session, make_row, hub, handle="hidden-op", state=State.QUEUED, runs=runs(50.0))
    reproduce(session, make_row, hub, handle="rejected-op", state=State.REJECTED,
              runs=runs(50.0))
    response = client.get(URL)
    assert response.status_code == 200
    document = parse(response.data)
    body = response.data.decode()
    assert f'href="/benchmarks/{hub.id}"' in body
    assert f"benchmark #{lesser.id}," not in body

    picture = chart_svg(document, "network-title")
    dots = [c for c in picture.iter(f"{SVG}circle") if "net-dot" in (c.get("class") or "")]
    assert sorted(c.get("class") for c in dots) == ["net-dot ring-inner", "net-dot ring-outer"]
    operators = next(ol for ol in document.iter("ol") if "network-operators" in ol.get("class"))
    listed = text_of(operators)
    assert "same-env" in listed and "other-env" in listed
    for hidden in ("hidden-op", "rejected-op", "lone-op"):
        assert hidden not in body
    link = next(a for a in operators.iter("a") if a.get("href") == "https://example.org/me")
    assert link.get("rel") == "nofollow noopener ugc"

    # two independent operators: the high step is this hub's
    ladder = chart_svg(document, "ladder-title")
    current = [g for g in ladder.iter(f"{SVG}g") if "is-current" in (g.get("class") or "")]
    assert [g.get("data-tier") for g in current] == [Tier.HIGH.value]
    assert "this hub (2)" in text_of(current[0])


def test_embed_snippet_is_text_to_copy_with_the_licence(client):
    body = client.get(URL).data
    document = html5lib.parse(body, namespaceHTMLElements=False)
    code = next(pre for pre in document.iter("pre") if "embed-snippet" in pre.get("class"))
    snippet = text_of(code)
    assert snippet.startswith('<a href="http://localhost/resources/reproduction-network"')
    assert 'rel="noopener"' in snippet and "License: CC-BY-4.0." in snippet
    assert not list(code.iter("a")), "the snippet is shown as text, not rendered as a link"
    assert b"&lt;a href=" in body


def test_the_page_is_in_the_resources_navigation(client):
    document = parse(client.get("/resources/confidence-methodology").data)
    nav = next(n for n in document.iter("nav") if n.get("class") == "resource-nav")
    assert any(a.get("href") == URL for a in nav.iter("a"))
