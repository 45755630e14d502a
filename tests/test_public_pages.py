"""The public pages through the client: catalog, detail, hardware, model, operators, rules."""

from __future__ import annotations

import re

import html5lib
import pytest

from tests.factories import counted_statements, listed_ids
from webapp.models import Hardware
from webapp.services import evidence, labels, plausibility
from webapp.services.rules import (
    RELATED_LIMIT,
    STALE_DAYS,
    TOLERANCE,
    Badge,
    Kind,
    State,
    Tier,
    percent,
)

HOSTILE = "<script>alert(1)</script>"
HIDDEN_STATES = (State.QUEUED, State.REJECTED, State.WITHDRAWN)


# --- helpers ---------------------------------------------------------------------------


def publish(session, make_row, **columns):
    """A public row with its derived index refreshed, as a decision would leave it."""
    row = make_row(**columns)
    evidence.refresh_derived(session, row)
    session.commit()
    return row


def reproduce(session, make_row, hub, *, handle, state=State.REPRODUCED, **columns):
    repro = make_row(kind=Kind.REPRODUCTION, state=state, hub=hub, handle=handle, **columns)
    evidence.refresh_derived(session, hub)
    session.commit()
    return repro


def parse(body: bytes):
    """Strict HTML5 parse (any parse error raises) and every form has action and method."""
    document = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(body)
    for form in document.iter("form"):
        assert form.get("action"), "a form without an action"
        assert form.get("method"), "a form without a method"
    return document




def linked_ids(body: bytes) -> set[int]:
    return {int(m) for m in re.findall(r"/benchmarks/(\d+)", body.decode())}




def page_urls(hub_id: int) -> list[str]:
    return [
        "/",
        "/?page=2",
        "/?sort=ttft&stale=1",  # the canonical spelling: others redirect
        f"/benchmarks/{hub_id}",
        "/hardware/rtx-4090",
        "/models/llama-3.1-8b-instruct",
        "/operators",
        "/resources/reproduction-guide",
        "/resources/verification-policy",
        "/resources/confidence-methodology",
    ]


@pytest.fixture
def network(session, make_row):
    """A hub with two clean reproductions (inner and outer ring) and a fragment."""
    hub = publish(session, make_row, handle="origin")
    inner = reproduce(session, make_row, hub, handle="alice")
    outer = reproduce(session, make_row, hub, handle="bob", os_label="Fedora 41",
                      runs=((240.0, 512, 104.0), (242.0, 512, 105.0), (238.0, 512, 103.0)))
    fragment = reproduce(session, make_row, hub, handle="carol", state=State.APPROVED,
                         runtime_version="b5000",
                         runs=((300.0, 512, 85.0), (305.0, 512, 86.0), (295.0, 512, 84.0)))
    evidence.refresh_derived(session, fragment)
    session.commit()
    return hub, inner, outer, fragment


# --- every page ------------------------------------------------------------------------


def test_every_public_page_renders_and_parses(client, network):
    hub, *_ = network
    for url in page_urls(hub.id):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == "text/html", url
        parse(response.data)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.mark.parametrize(
    "url", ["/benchmarks/999999", "/benchmarks/0", "/benchmarks/2147483648",
            "/benchmarks/" + "9" * 40, "/hardware/no-such-gpu", "/models/no-such-model",
            "/resources/no-such-page", "/resources/scoring-methodology"],
)
def test_unknown_things_are_404_pages(client, url):
    response = client.get(url)
    assert response.status_code == 404
    parse(response.data)


def test_empty_catalog_says_so(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"No public rows match" in response.data
    parse(response.data)


# --- catalog: filters, sorts, pagination, htmx -----------------------------------------------


def test_catalog_filters_by_each_matching_set_dimension(client, session, make_row):
    base = publish(session, make_row)
    other_model = publish(session, make_row, model="qwen2.5-7b-instruct")
    other_hw = publish(session, make_row, hardware="rtx-3090")
    other_quant = publish(session, make_row, quant="gguf-q8_0")
    other_runtime = publish(session, make_row, runtime="vllm", runtime_version="0.6.4")
    everything = {base.id, other_model.id, other_hw.id, other_quant.id, other_runtime.id}

    assert set(listed_ids(client.get("/").data)) == everything
    assert listed_ids(client.get("/?model=qwen2.5-7b-instruct").data) == [other_model.id]
    assert listed_ids(client.get("/?hardware=rtx-3090").data) == [other_hw.id]
    assert listed_ids(client.get("/?quant=gguf-q8_0").data) == [other_quant.id]
    assert listed_ids(client.get("/?runtime=vllm").data) == [other_runtime.id]
    combined = "/?model=llama-3.1-8b-instruct&hardware=rtx-4090&quant=gguf-q4_k_m&runtime=llama-cpp"
    assert listed_ids(client.get(combined).data) == [base.id]
    # the form shows what is applied
    body = client.get("/?hardware=rtx-3090").data.decode()
    assert '<option value="rtx-3090" selected>' in body


def test_filter_lists_follow_the_reference_data_escaped_and_mark_only_the_choice(client,
                                                                                 session):
    """The option lists are written once per data version: a hardware entry added later
    is offered on the next page, its name escaped, and only the applied one is selected."""
    assert "Bench &lt;Card&gt;" not in client.get("/").data.decode()
    session.add(Hardware(slug="bench-card", name="Bench <Card>", vendor="Acme & Co",
                         kind="gpu", memory_gib=8.0, bandwidth_gb_s=100.0))
    session.commit()
    body = client.get("/?hardware=bench-card").data.decode()
    assert '<option value="bench-card" selected>Bench &lt;Card&gt;</option>' in body
    assert '<optgroup label="Acme &amp; Co">' in body and "<Card>" not in body
    assert body.count(" selected>") == 2  # the hardware and the default sort, nothing else
    assert '<option value="bench-card">' in client.get("/").data.decode()


def test_catalog_filters_by_badge_and_tier(client, session, make_row):
    plain = publish(session, make_row)
    proven = publish(session, make_row, handle="origin")
    reproduce(session, make_row, proven, handle="alice")
    reproduce(session, make_row, proven, handle="bob")
    editorial = publish(session, make_row, kind=Kind.EDITORIAL)

    assert listed_ids(client.get("/?badge=independently-reproduced").data) == [proven.id]
    assert listed_ids(client.get("/?badge=editorial").data) == [editorial.id]
    assert listed_ids(client.get("/?badge=community-submitted").data) == [plain.id]
    assert listed_ids(client.get("/?badge=reproduced").data) == []
    assert set(listed_ids(client.get("/?tier=high").data)) == {proven.id, editorial.id}
    assert listed_ids(client.get("/?tier=moderate").data) == [plain.id]


def test_tier_filter_uses_the_aged_tier_after_twelve_months(client, session, make_row):
    # An editorial row is high while fresh; after 12 months it is neither editorial-fresh
    # nor young, so it shows (and filters) as low.
    old = publish(session, make_row, kind=Kind.EDITORIAL, age_days=400)
    young = publish(session, make_row, kind=Kind.EDITORIAL, age_days=30)
    assert listed_ids(client.get("/?tier=high").data) == [young.id]
    assert listed_ids(client.get("/?tier=low").data) == [old.id]
    body = client.get(f"/benchmarks/{old.id}").data.decode()
    assert f'class="tier {Tier.LOW.css}"' in body


def test_catalog_sorts(client, session, make_row):
    slow = publish(session, make_row, age_days=5,
                   runs=((100.0, 512, 50.0), (100.0, 512, 50.0), (100.0, 512, 50.0)))
    fast = publish(session, make_row, age_days=20,
                   runs=((400.0, 512, 150.0), (400.0, 512, 150.0), (400.0, 512, 150.0)))
    middle = publish(session, make_row, age_days=1,
                     runs=((250.0, 512, 90.0), (250.0, 512, 90.0), (250.0, 512, 90.0)))
    assert listed_ids(client.get("/").data) == [fast.id, middle.id, slow.id]
    assert listed_ids(client.get("/?sort=decode", follow_redirects=True).data) == [
        fast.id, middle.id, slow.id]
    assert listed_ids(client.get("/?sort=ttft").data) == [slow.id, middle.id, fast.id]
    assert listed_ids(client.get("/?sort=newest").data) == [middle.id, slow.id, fast.id]


def test_bad_query_values_never_fail(client, session, make_row):
    row = publish(session, make_row)
    for query in ("model=no-such-model", "badge=gold", "tier=11", "sort=random",
                  "hardware=%3Cscript%3E", "stale=maybe", "page=abc", "page=-4", "page=0",
                  "page=99999999999999999999999", "quant=" + "x" * 500, "runtime=",
                  "model=a&model=b"):
        response = client.get("/?" + query, follow_redirects=True)  # or its canonical form
        assert response.status_code == 200, query
        assert listed_ids(response.data) == [row.id], query
        parse(response.data)
    body = client.get("/?model=no-such-model").data.decode()
    assert "There is no model “no-such-model”" in body
    assert "ignored" in client.get("/?badge=gold").data.decode()


def test_pagination_pages_differ_and_bad_numbers_clamp(app, client, session, make_row):
    app.config["PER_PAGE"] = 2
    rows = [publish(session, make_row,
                    runs=((200.0, 512, 100.0 + i),) * 3) for i in range(5)]
    by_speed = [r.id for r in sorted(rows, key=lambda r: -r.decode_tps)]

    first = listed_ids(client.get("/").data)
    second = listed_ids(client.get("/?page=2").data)
    third = listed_ids(client.get("/?page=3").data)
    assert first == by_speed[:2]
    assert second == by_speed[2:4]
    assert third == by_speed[4:]
    assert not set(first) & set(second)

    for bad in ("0", "-3", "abc", "1.5", ""):
        assert listed_ids(client.get(f"/?page={bad}", follow_redirects=True).data) == first, bad
    for past in ("4", "50", "99999999999"):
        response = client.get(f"/?page={past}")
        assert listed_ids(response.data) == third, past
        assert b'aria-current="page">3<' in response.data

    body = client.get("/?sort=ttft&page=2").data.decode()
    assert 'rel="prev"' in body and 'rel="next"' in body
    # links keep the other arguments
    assert re.search(r'href="/\?sort=ttft&amp;page=3"', body)


def test_htmx_gets_the_table_partial_and_vary(client, session, make_row):
    row = publish(session, make_row)
    full = client.get("/")
    assert b"<html" in full.data
    assert "HX-Request" in full.headers.get("Vary", "")

    partial = client.get("/?sort=ttft", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert b"<html" not in partial.data
    assert partial.data.lstrip().startswith(b'<div id="catalog-results"')
    assert "HX-Request" in partial.headers.get("Vary", "")
    assert listed_ids(partial.data) == [row.id]
    html5lib.HTMLParser(strict=True).parseFragment(partial.data)

    for header in ("HX-Boosted", "HX-History-Restore-Request"):
        response = client.get("/", headers={"HX-Request": "true", header: "true"})
        assert b"<html" in response.data, header


def test_catalog_form_works_with_and_without_javascript(client):
    document = parse(client.get("/").data)
    forms = list(document.iter("form"))
    assert len(forms) == 1
    form = forms[0]
    assert form.get("method") == "get"
    assert form.get("action") == "/"
    assert form.get("hx-get") == "/"
    assert form.get("hx-push-url") == "true"
    assert form.get("hx-target") == "#catalog-results"
    assert "change" in form.get("hx-trigger")
    assert any(b.get("type") == "submit" for b in form.iter("button"))
    names = {e.get("name") for e in form.iter() if e.tag in ("select", "input")}
    assert names == {"q", "model", "hardware", "quant", "runtime", "badge", "tier", "sort",
                     "stale"}


def test_stale_rows_hidden_unless_asked_for(client, session, make_row):
    fresh = publish(session, make_row)
    stale = publish(session, make_row, age_days=STALE_DAYS + 30)
    assert listed_ids(client.get("/").data) == [fresh.id]
    shown = client.get("/?stale=1")
    assert set(listed_ids(shown.data)) == {fresh.id, stale.id}
    assert b"marker-stale" in shown.data
    # still reachable and marked
    detail = client.get(f"/benchmarks/{stale.id}")
    assert detail.status_code == 200
    assert b"marker-stale" in detail.data
    # hardware and model pages list every public row, marked
    assert stale.id in listed_ids(client.get("/hardware/rtx-4090").data)


def test_demo_rows_raise_the_banner_and_are_marked(client, session, make_row):
    real = publish(session, make_row)
    assert b"demo-banner" not in client.get("/").data
    assert b"demo-banner" not in client.get(f"/benchmarks/{real.id}").data
    demo = publish(session, make_row, is_demo=True)
    for url in ("/", f"/benchmarks/{demo.id}", "/hardware/rtx-4090",
                "/models/llama-3.1-8b-instruct"):
        body = client.get(url).data
        assert b"demo-banner" in body, url
        assert b"marker-demo" in body, url


# --- hidden rows never render ----------------------------------------------------------------


def test_queued_rejected_withdrawn_never_appear(client, session, make_row):
    hub = publish(session, make_row, handle="origin")
    reproduce(session, make_row, hub, handle="clean-op")
    hidden_ids: set[int] = set()
    for state in HIDDEN_STATES:
        fresh = make_row(state=state, model="gemma-2-9b-it", hardware="rtx-3090",
                         quant="gguf-q8_0", runtime="vllm", handle=f"fresh-{state}",
                         kind=Kind.FRESH)
        evidence.refresh_derived(session, fresh)  # even with a full index it stays hidden
        repro = make_row(kind=Kind.REPRODUCTION, state=state, hub=hub,
                         handle=f"hidden-{state}")
        hidden_ids |= {fresh.id, repro.id}
    evidence.refresh_derived(session, hub)
    session.commit()
    hidden_handles = [f"hidden-{s}" for s in HIDDEN_STATES] + [f"fresh-{s}" for s in HIDDEN_STATES]

    urls = ["/", "/?stale=1", "/?model=gemma-2-9b-it&stale=1", "/?hardware=rtx-3090&stale=1",
            "/?quant=gguf-q8_0&stale=1", "/?runtime=vllm&stale=1",
            "/?model=gemma-2-9b-it&hardware=rtx-3090&quant=gguf-q8_0&runtime=vllm&stale=1"]
    urls += [f"/?badge={b.value}&stale=1" for b in Badge]
    urls += [f"/?tier={t.value}&stale=1" for t in Tier]
    urls += [f"/?sort={s}&stale=1" for s in ("ttft", "newest")]  # decode: the default
    urls += [f"/benchmarks/{hub.id}", "/hardware/rtx-3090", "/hardware/rtx-4090",
             "/models/gemma-2-9b-it", "/models/llama-3.1-8b-instruct", "/operators"]
    for url in urls:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, url
            assert not linked_ids(response.data) & hidden_ids, url
            body = response.data.decode()
            for handle in hidden_handles:
                assert handle not in body, (url, handle)
    for hidden in hidden_ids:
        assert client.get(f"/benchmarks/{hidden}").status_code == 404
    assert "clean-op" in client.get("/operators").data.decode()


def test_a_clean_reproduction_is_evidence_not_a_row(client, session, make_row):
    hub = publish(session, make_row)
    repro = reproduce(session, make_row, hub, handle="alice")
    assert client.get(f"/benchmarks/{repro.id}").status_code == 404
    assert listed_ids(client.get("/").data) == [hub.id]


def test_reproductions_of_a_hidden_hub_are_not_credited(client, session, make_row):
    hub = publish(session, make_row)
    reproduce(session, make_row, hub, handle="ghost-operator")
    hub.state = State.REJECTED
    evidence.refresh_derived(session, hub)
    session.commit()
    body = client.get("/operators").data.decode()
    assert "ghost-operator" not in body
    assert hub.id not in linked_ids(client.get("/operators").data)


# --- badge and tier follow the evidence --------------------------------------------------------


def test_badge_and_tier_move_with_evidence(client, session, make_row):
    hub = publish(session, make_row, handle="origin")
    body = client.get(f"/benchmarks/{hub.id}").data.decode()
    assert f'class="badge {Badge.COMMUNITY.css}"' in body
    assert f'class="tier {Tier.MODERATE.css}"' in body

    first = reproduce(session, make_row, hub, handle="alice")
    body = client.get(f"/benchmarks/{hub.id}").data.decode()
    assert f'class="badge {Badge.REPRODUCED.css}"' in body

    reproduce(session, make_row, hub, handle="bob")
    body = client.get(f"/benchmarks/{hub.id}").data.decode()
    assert f'class="badge {Badge.INDEPENDENT.css}"' in body
    assert f'class="tier {Tier.HIGH.css}"' in body
    assert "2 distinct independent operators" in body  # a reason from the rules engine
    catalog = client.get("/").data.decode()
    assert f'class="badge {Badge.INDEPENDENT.css}"' in catalog

    # a revoked reproduction lowers it again at the next render
    first.state = State.REJECTED
    evidence.refresh_derived(session, hub)
    session.commit()
    body = client.get(f"/benchmarks/{hub.id}").data.decode()
    assert f'class="badge {Badge.REPRODUCED.css}"' in body
    assert "alice" not in body


def test_handles_that_look_alike_count_as_one_operator(client, session, make_row):
    # "d\u0430ve" (a Cyrillic а) renders as "dave": a second spelling of one name must not
    # make a row independently reproduced, nor a spelling of the original's own operator
    # count as someone else (SPEC §11).
    hub = publish(session, make_row, handle="origin")
    reproduce(session, make_row, hub, handle="dave")
    reproduce(session, make_row, hub, handle="d\u0430ve")
    reproduce(session, make_row, hub, handle="\u043erigin")  # a Cyrillic о
    body = client.get(f"/benchmarks/{hub.id}").data.decode()
    assert f'class="badge {Badge.REPRODUCED.css}"' in body
    answer = client.get(f"/api/v1/benchmarks/{hub.id}").get_json()
    assert answer["badge"]["independent_operators"] == 1
    reproduce(session, make_row, hub, handle="carol")  # a second operator indeed
    body = client.get(f"/benchmarks/{hub.id}").data.decode()
    assert f'class="badge {Badge.INDEPENDENT.css}"' in body


def test_handles_that_look_alike_only_in_capitals_count_as_one_operator(client, session,
                                                                      make_row):
    # "WiII" (two capital I's) renders like "Will", though their keys ("wiii", "will")
    # differ: neither a re-run of the original's own row under it nor a second spelling
    # of a reproducer's handle lifts the badge (SPEC §11).
    hub = publish(session, make_row, handle="Will")
    reproduce(session, make_row, hub, handle="WiII")
    body = client.get(f"/benchmarks/{hub.id}").data.decode()
    assert f'class="badge {Badge.COMMUNITY.css}"' in body
    assert client.get(f"/api/v1/benchmarks/{hub.id}").get_json()["badge"]["value"] == (
        Badge.COMMUNITY.value)
    reproduce(session, make_row, hub, handle="Bill")
    reproduce(session, make_row, hub, handle="BiII")
    answer = client.get(f"/api/v1/benchmarks/{hub.id}").get_json()
    assert answer["badge"]["independent_operators"] == 1
    assert answer["badge"]["value"] == Badge.REPRODUCED.value


def test_same_operator_does_not_count_twice(client, session, make_row):
    hub = publish(session, make_row, handle="origin")
    reproduce(session, make_row, hub, handle="alice")
    reproduce(session, make_row, hub, handle=" Alice ")
    reproduce(session, make_row, hub, handle="origin")
    body = client.get(f"/benchmarks/{hub.id}").data.decode()
    assert f'class="badge {Badge.REPRODUCED.css}"' in body


# --- the detail page ----------------------------------------------------------------------------


def test_detail_shows_context_numbers_runs_rings_and_links(client, network):
    hub, inner, outer, fragment = network
    response = client.get(f"/benchmarks/{hub.id}")
    body = response.data.decode()
    document = parse(response.data)
    # build context and numbers with units
    assert "b4500" in body and "NVIDIA 560.35.03 / CUDA 12.6" in body and "bartowski" in body
    assert "tok/s" in body and "ms" in body and "MiB" in body
    assert "not given" in body  # e.g. the model file hash
    # runs table: three runs
    runs_section = body[body.index('id="h-runs"'):body.index('id="h-context"')]
    assert runs_section.count("<tr><td>") == 3
    # rings: an SVG with a dot per clean reproduction, one in each ring
    svgs = [e for e in document.iter()
            if e.tag.endswith("svg") and "rings" in (e.get("class") or "").split()]
    assert len(svgs) == 1
    dots = [e for e in svgs[0].iter() if e.tag.endswith("circle")
            and "ring-dot" in (e.get("class") or "")]
    assert len(dots) == 2
    assert {("ring-inner" in d.get("class")) for d in dots} == {True, False}
    assert f'id="repro-{inner.id}"' in body and f'id="repro-{outer.id}"' in body
    assert "alice" in body and "bob" in body
    assert "band-within" in body
    # related rows: the fragment, with a link back from it
    assert f'href="/benchmarks/{fragment.id}"' in body
    back = client.get(f"/benchmarks/{fragment.id}").data.decode()
    assert f'href="/benchmarks/{hub.id}"' in back
    # actions
    assert f'href="/benchmarks/{hub.id}/reproduce"' in body
    assert f'href="/submit/feedback?benchmark={hub.id}"' in body


def test_an_accepted_related_run_is_shown_apart_from_the_rings(client, session, make_row):
    """SPEC §11: a related-band reproduction a reviewer marked reproduced lifts the badge,
    but is listed as "accepted with a note", never drawn or tabled as ring evidence."""
    hub = publish(session, make_row, handle="origin")
    within = reproduce(session, make_row, hub, handle="bob", os_label="Fedora 41")
    related = reproduce(session, make_row, hub, handle="carol", os_label="Fedora 41",
                        notes="Power limit at 300 W.",
                        runs=((250.0, 512, 85.0), (252.0, 512, 85.5), (249.0, 512, 84.5)))
    response = client.get(f"/benchmarks/{hub.id}")
    body = response.text
    document = parse(response.data)
    dots = [e for e in document.iter() if e.tag.endswith("circle")
            and "ring-dot" in (e.get("class") or "")]
    assert len(dots) == 1 and "ring-outer" in dots[0].get("class")
    assert f'href="#repro-{related.id}"' not in body
    rings = body[body.index('id="ring-inner"'):body.index('id="accepted-with-a-note"')]
    assert f'id="repro-{within.id}"' in rings and f'id="repro-{related.id}"' not in rings
    noted = body[body.index('id="accepted-with-a-note"'):body.index('id="h-related"')]
    assert f'id="repro-{related.id}"' in noted and "Power limit at 300 W." in noted
    assert f'class="badge {Badge.INDEPENDENT.css}"' in body
    assert "1 of 2 independent operators" in body


def test_detail_flags_wide_spread_and_shows_the_note(client, session, make_row):
    row = publish(session, make_row, notes="Thermal throttling after run two.",
                  runs=((200.0, 512, 100.0), (260.0, 512, 80.0), (210.0, 512, 98.0)))
    body = client.get(f"/benchmarks/{row.id}").data.decode()
    assert "marker-warn" in body
    assert "Thermal throttling after run two." in body


def test_detail_bandwidth_ceiling(client, session, make_row):
    known = publish(session, make_row)
    body = client.get(f"/benchmarks/{known.id}").data.decode()
    # Llama-3.1-8B at Q4_K_M on an RTX 4090: about 205 tok/s (reference README)
    assert "205 tok/s" in body
    share = plausibility.of_row(known).share_of_ceiling
    assert f"<strong>{percent(share)}</strong> of it" in body

    other = publish(session, make_row, hardware="other", other_hardware="Mystery card")
    body = client.get(f"/benchmarks/{other.id}").data.decode()
    assert "ceiling is unknown" in body

    implausible = publish(session, make_row,
                          runs=((200.0, 512, 400.0), (200.0, 512, 401.0), (200.0, 512, 399.0)))
    body = client.get(f"/benchmarks/{implausible.id}").data.decode()
    assert "flag-exceeds-ceiling" in body


def test_typed_names_stay_escaped_in_the_catalog_table(client, session, make_row):
    """The catalog's rows are written in one pass (web/catalog_table.py): a name typed
    for an "other" entry reaches its cells, its link and its compare label escaped."""
    row = publish(session, make_row, model="other", other_model='Evil "<b>model</b>"',
                  hardware="other", other_hardware="<img src=x onerror=alert(1)>")
    body = client.get("/?stale=1").data.decode()
    assert "<b>model</b>" not in body and "<img src=x" not in body
    cells = re.search(rf'<tr[^>]*>\s*<td class="compare-col".*?value="{row.id}".*?</tr>',
                      body, re.S).group(0)
    assert "Evil &#34;&lt;b&gt;model&lt;/b&gt;&#34;" in cells
    assert "&lt;img src=x onerror=alert(1)&gt;" in cells
    assert f'href="/benchmarks/{row.id}"' in cells
    parse(body.encode())


def test_hostile_operator_input_renders_inert(client, session, make_row):
    hub = publish(session, make_row, handle=HOSTILE, url="javascript:alert(1)", notes=HOSTILE)
    reproduce(session, make_row, hub, handle="<img src=x onerror=alert(1)>",
              url="javascript:alert(1)")
    reproduce(session, make_row, hub, handle="safe-op", url="https://example.org/me")
    for url in (f"/benchmarks/{hub.id}", "/operators", "/"):
        response = client.get(url)
        body = response.data.decode()
        parse(response.data)
        assert "<script>alert(1)" not in body, url
        assert "<img src=x" not in body, url
        assert "javascript:" not in body, url
    body = client.get(f"/benchmarks/{hub.id}").data.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert '<a href="https://example.org/me" rel="nofollow noopener ugc">safe-op</a>' in body
    # The operators table is written in one pass (web/operators_table.py): the typed
    # handle is listed, escaped.
    assert "&lt;img src=x onerror=alert(1)&gt;" in client.get("/operators").data.decode()


def test_anonymous_operator_shown_as_anonymous(client, session, make_row):
    hub = publish(session, make_row)
    reproduce(session, make_row, hub, handle=None)
    body = client.get(f"/benchmarks/{hub.id}").data.decode()
    assert "anonymous" in body
    assert "anon:" not in body


# --- hardware, model, operators, resources --------------------------------------------------------


def test_hardware_and_model_pages(app, client, session, make_row):
    app.config["PER_PAGE"] = 2
    rows = [publish(session, make_row, quant=q) for q in ("gguf-q4_k_m", "gguf-q8_0", "awq-int4")]
    publish(session, make_row, hardware="rtx-3090")
    body = client.get("/hardware/rtx-4090").data.decode()
    assert "1,008 GB/s" in body and "24 GiB" in body
    assert "Bandwidth ceilings" in body
    first = listed_ids(client.get("/hardware/rtx-4090").data)
    second = listed_ids(client.get("/hardware/rtx-4090?page=2").data)
    assert set(first + second) == {r.id for r in rows}
    assert listed_ids(client.get("/hardware/rtx-4090?page=77").data) == second

    body = client.get("/models/llama-3.1-8b-instruct").data.decode()
    assert "8.03 billion" in body
    assert "GeForce RTX 4090" in body
    assert len(listed_ids(client.get("/models/llama-3.1-8b-instruct").data)) == 2
    # an empty model page is still a page
    empty = client.get("/models/gpt-oss-120b")
    assert empty.status_code == 200
    assert b"No public rows yet" in empty.data


def test_reference_pages_show_the_ceiling_per_device_count(client, session, make_row):
    """A 2× row sits beside a 1× row: each device count gets its own ceiling line, the
    multi-device one with the tensor-parallel ceiling (bandwidths summed) beside it."""
    single = publish(session, make_row, hardware="rtx-3090")
    publish(session, make_row, hardware="rtx-3090", hardware_count=2, tensor_parallel=True)
    one = plausibility.ceiling_tps(single.hardware.bandwidth_gb_s, 1, False,
                                   single.model.active_params_b, single.quant.bits_per_weight)
    for path in ("/hardware/rtx-3090", "/models/llama-3.1-8b-instruct"):
        response = client.get(path)
        parse(response.data)
        body = response.data.decode()
        table = body[body.index('id="h-ceilings"'):body.index('id="h-rows"')]
        rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
        cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
        devices = [re.sub(r"<[^>]+>", "", c[2]).strip() for c in cells]
        assert devices == ["1", "2"], path
        assert labels.number(one) in cells[0][3] and labels.number(one) in cells[1][3]
        assert labels.number(2 * one) in cells[1][4]
        assert labels.number(2 * one) not in cells[0][4]


def test_operators_lists_handles_and_what_they_reproduced(client, session, make_row):
    first = publish(session, make_row, handle="origin")
    second = publish(session, make_row, handle="origin")
    reproduce(session, make_row, first, handle="Alice")
    reproduce(session, make_row, second, handle="alice")
    reproduce(session, make_row, second, handle=None)
    response = client.get("/operators")
    body = response.data.decode()
    parse(response.data)
    assert "Alice" in body
    assert f'href="/benchmarks/{first.id}"' in body
    assert f'href="/benchmarks/{second.id}"' in body
    assert "anon:" not in body
    row = body[body.index("Alice"):]
    assert re.search(r'<td data-label="Rows reproduced" class="num">2</td>', row)


def test_operators_pagination(app, client, session, make_row):
    app.config["PER_PAGE"] = 2
    hub = publish(session, make_row, handle="origin")
    for name in ("op-a", "op-b", "op-c"):
        reproduce(session, make_row, hub, handle=name)
    first = client.get("/operators").data.decode()
    second = client.get("/operators?page=2").data.decode()
    clamped = client.get("/operators?page=40").data.decode()
    assert "op-a" in first and "op-b" in first and "op-c" not in first
    assert "op-c" in second and "op-a" not in second
    assert "op-c" in clamped


def test_resources_render_the_rule_constants(client):
    guide = client.get("/resources/reproduction-guide").data.decode()
    assert percent(TOLERANCE) in guide and percent(RELATED_LIMIT) in guide
    assert "At least 3 runs and at most 10" in guide
    policy = client.get("/resources/verification-policy").data.decode()
    assert "Duplicate" in policy and "160 characters" in policy
    assert "Independently reproduced" in policy
    method = client.get("/resources/confidence-methodology").data.decode()
    assert str(STALE_DAYS) in method and "365 days" in method
    for body in (guide, policy, method):
        assert "Rule set v1" in body


# --- bounded queries -----------------------------------------------------------------------------


def test_query_count_is_bounded(app, client, session, make_row):
    def statements_for(url: str) -> int:
        client.get(url)  # warm any first-use queries
        with counted_statements() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    hub = publish(session, make_row, handle="origin")
    reproduce(session, make_row, hub, handle="op-1")
    small = {url: statements_for(url) for url in page_urls(hub.id)}

    for i in range(30):
        row = publish(session, make_row, handle=f"h{i}")
        reproduce(session, make_row, row, handle=f"op-{i}")
        reproduce(session, make_row, hub, handle=f"more-{i}")
        reproduce(session, make_row, hub, handle=f"frag-{i}", state=State.APPROVED)
    session.commit()
    assert app.config["PER_PAGE"] == 25
    for url in page_urls(hub.id):
        count = statements_for(url)
        assert count <= 10, (url, count)
        assert count <= small[url] + 1, (url, count, small[url])
    assert len(listed_ids(client.get("/").data)) == 25
