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


def _tier(client, row_id: int) -> dict:
    tier = client.get(f"/api/v1/benchmarks/{row_id}").get_json()["tier"]
    return {key: tier[key] for key in ("value", "stale", "age_days", "consistent", "drift")}


def test_an_own_re_run_keeps_no_row_from_ageing(client, session, make_row):
    """Age counts from the newest accepted measurement by another operator: the row's own
    re-run, marked reproduced today, neither freshens it nor brings it back from stale."""
    from datetime import UTC, datetime, timedelta

    long_ago = datetime.now(UTC) - timedelta(days=600)
    hub = publish(session, make_row, handle="oldtimer", measured_at=long_ago,
                  created_at=long_ago)
    before = _tier(client, hub.id)
    assert before["stale"] is True and before["age_days"] >= 600
    reproduce(session, make_row, hub, handle="OldTimer")  # measured now, same operator
    assert _tier(client, hub.id) == before
    assert f'href="/benchmarks/{hub.id}"' not in client.get("/").text  # still stale

    reproduce(session, make_row, hub, handle="newcomer")  # another operator: it counts
    after = _tier(client, hub.id)
    assert after["stale"] is False and after["age_days"] < 30


def test_an_own_re_run_moves_neither_consistency_nor_drift(client, session, make_row):
    """Two other operators agree with the row (high); its own operator's re-runs, one 25%
    faster and one on a newer runtime 12% faster, are no evidence either way."""
    hub = publish(session, make_row, handle="owner9")
    for handle in ("first-other", "second-other"):
        reproduce(session, make_row, hub, handle=handle)
    before = _tier(client, hub.id)
    assert (before["value"], before["consistent"], before["drift"]) == ("high", True, False)
    faster = tuple((250.0, 512, decode) for decode in (124.0, 125.0, 126.0))
    reproduce(session, make_row, hub, handle="OWNER9", runs=faster)
    newer = tuple((250.0, 512, decode) for decode in (111.0, 112.0, 113.0))
    reproduce(session, make_row, hub, handle="owner9", runs=newer, runtime_version="b4600")
    assert _tier(client, hub.id) == before
