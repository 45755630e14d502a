"""A row's own operator re-running it (a reproduction under the hub's handle, in any
spelling that names the same operator) reproduces nothing (SPEC §5): a reviewer may mark
it reproduced, but it counts for neither badge nor tier, it is not drawn in the rings or
the divergence strip, the detail page lists it apart, and /operators does not credit the
operator with a row they reproduced."""

from __future__ import annotations

import html5lib

from tests.test_charts import publish
from tests.test_public_pages import reproduce
from webapp.services.rules import OWN_LABEL, Badge

SVG = "{http://www.w3.org/2000/svg}"


def _sections(client, row_id: int):
    html = client.get(f"/benchmarks/{row_id}").text
    document = html5lib.parse(html, namespaceHTMLElements=False)
    dots = {int(dot.get("data-repro")) for dot in document.iter(f"{SVG}path")
            if dot.get("data-repro")}
    return html, dots


def test_a_re_run_by_the_original_operator_is_listed_apart_and_is_no_evidence(
        client, session, make_row):
    hub = publish(session, make_row, handle="selfhub")
    own = reproduce(session, make_row, hub, handle="SelfHub")  # the same operator
    html, dots = _sections(client, hub.id)
    assert f"{OWN_LABEL} (1)" in html
    assert f'id="repro-{own.id}"' in html
    own_table = html[html.index('id="original-operator-re-runs"'):]
    assert f'id="repro-{own.id}"' in own_table
    assert 'id="ring-inner"' not in html and "Inner ring (" not in html
    assert own.id not in dots  # neither a ring dot nor a strip dot
    assert "No clean reproductions by another operator yet." in html
    assert Badge.COMMUNITY.label in html[html.index('id="h-trust"'):]

    [listed] = client.get(f"/api/v1/benchmarks/{hub.id}").get_json()["reproductions"]
    assert (listed["id"], listed["ring"], listed["by_original_operator"]) == (own.id, None,
                                                                               True)

    other = reproduce(session, make_row, hub, handle="someone-else")
    html, dots = _sections(client, hub.id)
    assert "Inner ring (1)" in html and f"{OWN_LABEL} (1)" in html
    assert other.id in dots and own.id not in dots
    ring_tables = html[html.index('id="ring-inner"'):html.index('id="original-operator-re-runs"')]
    assert f'id="repro-{other.id}"' in ring_tables
    assert f'id="repro-{own.id}"' not in ring_tables
    listed = client.get(f"/api/v1/benchmarks/{hub.id}").get_json()["reproductions"]
    assert {(item["id"], item["ring"], item["by_original_operator"]) for item in listed} == {
        (own.id, None, True), (other.id, "inner", False)}


def test_operators_are_not_credited_with_their_own_rows(client, session, make_row):
    mine = publish(session, make_row, handle="selfhub")
    theirs = publish(session, make_row, handle="neighbour")
    reproduce(session, make_row, mine, handle="SELFHUB")
    assert "SELFHUB" not in client.get("/operators").text
    assert client.get("/api/v1/operators").get_json()["items"] == []

    reproduce(session, make_row, theirs, handle="SELFHUB")
    html = client.get("/operators").text
    start = html.index("SELFHUB")
    line = html[start:html.index("</tr>", start)]
    assert f"/benchmarks/{theirs.id}" in line and f"/benchmarks/{mine.id}" not in line
    [entry] = client.get("/api/v1/operators").get_json()["items"]
    assert (entry["handle"], entry["reproductions"], entry["rows"]) == ("SELFHUB", 1, 1)
    assert [linked["id"] for linked in entry["recent"]] == [theirs.id]
