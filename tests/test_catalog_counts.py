"""The catalog that counts (issue 13) and stays flat at depth (issue 14), through the client:
"1–25 of 293 rows", first and last page links, deep and last pages, sort headers, text
search, grouped filter lists, canonical addresses and the compare form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import html5lib
import pytest
from sqlalchemy import insert, select

from tests.factories import listed_ids
from webapp.extensions import db
from webapp.models import Hardware, ModelVariant, Quant, Runtime, Submission
from webapp.services import catalog, evidence, plausibility
from webapp.services.catalog import CatalogQuery, natural_key
from webapp.services.page_memo import MemoStore
from webapp.services.rules import Badge, Kind, State, Tier
from webapp.services.sorting import Sort


def publish(session, make_row, **columns):
    row = make_row(**columns)
    evidence.refresh_derived(session, row)
    session.commit()
    return row


def parse(body: bytes):
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(body)




def pager_links(body: bytes) -> dict[str, str]:
    """The pager's links by their text (First, Previous, 1, 2, …, Next, Last)."""
    document = parse(body)
    nav = next(n for n in document.iter("nav") if n.get("class") == "pager")
    return {"".join(a.itertext()).strip(): a.get("href") for a in nav.iter("a")}


def bulk_public_rows(count: int) -> list[dict]:
    """`count` public rows written in one INSERT (a factory per row would take minutes),
    with distinct decode speeds, some ties, and a fresh index."""
    now = datetime.now(UTC)
    model = db.session.scalar(select(ModelVariant.id).where(
        ModelVariant.slug == "llama-3.1-8b-instruct"))
    hardware = db.session.scalar(select(Hardware.id).where(Hardware.slug == "rtx-4090"))
    quant = db.session.scalar(select(Quant.id).where(Quant.slug == "gguf-q4_k_m"))
    runtime = db.session.scalar(select(Runtime.id).where(Runtime.slug == "llama-cpp"))
    rows = []
    for i in range(count):
        created = now - timedelta(days=1, minutes=i)
        rows.append(dict(
            kind="fresh", state=State.APPROVED.value, model_id=model, hardware_id=hardware,
            hardware_count=1, quant_id=quant, runtime_id=runtime, concurrent_users=1,
            ttft_ms=100.0 + (i * 7) % 997, decode_tps=float(10 + (i * 37) % 1499) / 3,
            tokens_generated=512, ttft_spread=0.0, decode_spread=0.0,
            vram_peak_mib=4000.0 + (i * 13) % 4001, notes="", operator_key=f"anon:bulk{i}",
            status_nonce=f"bulk-nonce-{i:08d}", is_demo=False, created_at=created,
            measured_at=created, derived_badge=Badge.COMMUNITY.value,
            derived_tier=Tier.LOW.value, derived_tier_lifted_off=Tier.LOW.value,
            derived_tier_aged=Tier.LOW.value, derived_newest_at=created,
            derived_repro_count=0,
        ))
    db.session.execute(insert(Submission), rows)
    db.session.commit()
    return rows


def expected_order(sort: Sort) -> list[int]:
    """Every public row's id in `sort`'s order, worked out in Python."""
    rows = db.session.execute(select(
        Submission.id, Submission.decode_tps, Submission.ttft_ms, Submission.vram_peak_mib,
        Submission.created_at, Submission.derived_ceiling_share, Submission.derived_trust_rank,
        Submission.derived_newest_at).where(Submission.state == State.APPROVED)).all()
    key = {
        Sort.DECODE: lambda r: (-r.decode_tps, -r.id),
        Sort.TTFT: lambda r: (r.ttft_ms, r.id),
        Sort.VRAM: lambda r: (r.vram_peak_mib, r.id),
        Sort.NEWEST: lambda r: (-r.created_at.timestamp(), -r.id),
        Sort.SHARE: lambda r: (-r.derived_ceiling_share, -r.id),
        Sort.TRUST: lambda r: (-r.derived_trust_rank, -r.derived_newest_at.timestamp(), -r.id),
    }[sort]
    return [r.id for r in sorted(rows, key=key)]


# --- the count and the pager ------------------------------------------------------------


def test_the_catalog_says_how_many_rows_and_links_first_and_last(app, client, session,
                                                                  make_row):
    app.config["PER_PAGE"] = 2
    for i in range(7):
        publish(session, make_row, runs=((200.0, 512, 100.0 + i),) * 3)

    first = client.get("/")
    assert "1–2 of 7 rows" in first.data.decode()
    links = pager_links(first.data)
    assert links["Last"] == "/?page=4" and links["Next"] == "/?page=2"
    assert "First" not in links and "Previous" not in links

    middle = client.get("/?page=2")
    assert "3–4 of 7 rows" in middle.data.decode()
    links = pager_links(middle.data)
    assert links["First"] == "/" and links["Last"] == "/?page=4"

    last = client.get(links["Last"])
    assert "7–7 of 7 rows" in last.data.decode()
    assert "Last" not in pager_links(last.data) and "Next" not in pager_links(last.data)


def test_one_page_still_counts_and_an_empty_catalog_says_so(client, session, make_row):
    publish(session, make_row)
    body = client.get("/").data.decode()
    assert "1–1 of 1 row<" in body and 'rel="next"' not in body
    filtered = client.get("/?hardware=rtx-3090").data.decode()
    assert "No public rows match these filters" in filtered and " of 0 rows" not in filtered


def test_the_count_follows_a_decision(client, session, make_row):
    publish(session, make_row)
    assert "of 1 row<" in client.get("/").data.decode()
    row = make_row()
    evidence.refresh_derived(session, row)
    session.commit()  # the data version moves, and with it the worker's memo
    assert "of 2 rows" in client.get("/").data.decode()


def test_page_2000_and_the_last_page_show_the_right_rows(app, client):
    app.config["PER_PAGE"] = 2
    bulk_public_rows(4_001)
    every = expected_order(Sort.DECODE)
    assert len(every) == 4_001

    for path, page in (("/?page=2000", 2000), ("/?page=2001", 2001), ("/?page=1999", 1999),
                       ("/?page=1000000", 2001), ("/?page=2000", 2000), ("/?page=3", 3)):
        response = client.get(path)
        assert response.status_code == 200, path
        assert listed_ids(response.data) == every[(page - 1) * 2:page * 2], path
        assert f'aria-current="page">{page}<' in response.data.decode(), path
    assert "4,001–4,001 of 4,001 rows" in client.get("/?page=2001").data.decode()


@pytest.mark.parametrize("sort", list(Sort))
def test_memo_pages_equal_plain_pages_in_every_sort(session, make_row, sort):
    """Pages read through a worker's memo (seeking from positions it learnt, in any order
    of visits) are the pages a plain read gives."""
    now = datetime.now(UTC)
    for i in range(13):
        publish(session, make_row, age_days=i % 4, runs=((200.0 + i % 3, 512, 100.0 + i % 5),) * 3,
                vram_peak_mib=6000.0 + i % 2)
    every = expected_order(sort)
    memos = MemoStore()
    for page in (5, 3, 1, 4, 2, 5, 3, 7, 2):
        result = catalog.catalog_page(session, CatalogQuery(sort=sort, page=page), (),
                                      now=now, per_page=3, memos=memos)
        shown = min(page, 5)
        assert [x.row.id for x in result.rows.listings] == every[(shown - 1) * 3:shown * 3]
        assert result.rows.pagination.total == 13
        assert result.query.page == shown


# --- sort headers ---------------------------------------------------------------------


@pytest.mark.parametrize("sort", list(Sort))
def test_each_sort_header_orders_rows_the_way_it_says(client, session, make_row, sort):
    hardware = ("rtx-4090", "rtx-3090", "rtx-3060-12gb")
    for i in range(6):
        hub = publish(session, make_row, age_days=1 + (i * 5) % 7, hardware=hardware[i % 3],
                      handle=f"origin{i}",
                      runs=((300.0 - (i * 41) % 97, 512, 50.0 + (i * 29) % 61),) * 3,
                      vram_peak_mib=5000.0 + (i * 300) % 1100)
        for j in range(i % 3):  # none, one or two other operators reproduced it
            make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub,
                     hardware=hardware[i % 3], handle=f"repro{i}-{j}",
                     runs=((300.0 - (i * 41) % 97, 512, 50.0 + (i * 29) % 61),) * 3)
        evidence.refresh_derived(session, hub)
        session.commit()
    home = client.get("/").data
    document = parse(home)
    headers = {a.get("href"): th for th in document.iter("th") for a in th.iter("a")}
    href = "/" if sort is Sort.DECODE else f"/?sort={sort.value}"
    assert href in headers, sorted(headers)

    sorted_page = client.get(href)
    assert sorted_page.status_code == 200
    listed = listed_ids(sorted_page.data)
    assert listed == expected_order(sort)
    rows = [session.get(Submission, row_id) for row_id in listed]
    if sort is Sort.SHARE:  # the share the detail page shows, largest first
        shares = [plausibility.of_row(row).share_of_ceiling for row in rows]
        assert len(set(shares)) > 2 and shares == sorted(shares, reverse=True)
    if sort is Sort.TRUST:  # the badge and tier the page shows, most trusted first
        shown = evidence.assess_hubs(session, rows, datetime.now(UTC))
        ranks = [(shown[row.id].badge.rank, shown[row.id].confidence.tier.rank) for row in rows]
        assert len(set(ranks)) > 2 and ranks == sorted(ranks, reverse=True)
    active = [th for th in parse(sorted_page.data).iter("th") if th.get("aria-sort")]
    assert len(active) == 1
    assert active[0].get("aria-sort") == ("descending" if sort.descending else "ascending")
    assert sort.value in "".join(a.get("href") for a in active[0].iter("a")) or \
        sort is Sort.DECODE
    # the filter form's sort select agrees with the header
    select_ = next(s for s in parse(sorted_page.data).iter("select") if s.get("name") == "sort")
    chosen = [o.get("value") for o in select_.iter("option") if o.get("selected") is not None]
    assert chosen == [sort.value]


# --- search -------------------------------------------------------------------------------


def test_search_matches_model_hardware_and_runtime_names(client, session, make_row):
    llama = publish(session, make_row, model="llama-3.1-8b-instruct", hardware="rtx-4090")
    on_3090 = publish(session, make_row, model="llama-3.1-70b-instruct", hardware="rtx-3090",
                      runtime="ollama")
    assert set(listed_ids(client.get("/?q=LLAMA").data)) == {llama.id, on_3090.id}
    assert listed_ids(client.get("/?q=3090").data) == [on_3090.id]
    assert listed_ids(client.get("/?q=ollama").data) == [on_3090.id]
    assert listed_ids(client.get("/?q=8b+4090").data) == [llama.id]  # every word matches
    assert listed_ids(client.get("/?q=no-such-thing").data) == []
    body = client.get("/?q=3090").data
    field = next(i for i in parse(body).iter("input") if i.get("name") == "q")
    assert field.get("value") == "3090"


@pytest.mark.parametrize("text", ["%", "_", "%25", "\\", "3_90", "40%0"])
def test_search_matches_wildcards_as_themselves(client, session, make_row, text):
    publish(session, make_row)
    response = client.get("/", query_string={"q": text})
    assert response.status_code == 200
    assert listed_ids(response.data) == []


def test_search_is_length_capped_and_shown_back_escaped(client, session, make_row):
    publish(session, make_row)
    # A word longer than the search takes is left out whole, and the page says so (the
    # part shown escaped); the address keeps it, so the notice shows on every visit.
    response = client.get("/", query_string={"q": "llama <b>" + "x" * 500})
    assert response.status_code == 200
    body = response.data.decode()
    assert "<b>xx" not in body and "“&lt;b&gt;xxx" in body and "was left out" in body
    assert 'name="q" value="llama"' in body
    query, notices = catalog.parse_catalog_query({"q": "y" * 20 + " " + "z" * 70})
    assert query.q == "y" * 20 and len(notices) == 1  # 91 characters: the second word out
    assert catalog.parse_catalog_query({"q": "  a   b  "})[0].q == "a b"


# --- grouped filter lists -----------------------------------------------------------------


def test_filter_lists_are_grouped_and_in_natural_order(client):
    document = parse(client.get("/").data)
    selects = {s.get("name"): s for s in document.iter("select")}
    groups = {g.get("label"): [o.text for o in g.iter("option")]
              for g in selects["hardware"].iter("optgroup")}
    assert "NVIDIA" in groups
    nvidia = groups["NVIDIA"]
    assert nvidia.index("GeForce RTX 3060 12GB") < nvidia.index("GeForce RTX 4090")
    assert nvidia.index("GeForce RTX 4060") < nvidia.index("GeForce RTX 4060 Ti 16GB")
    models = {g.get("label"): [o.text for o in g.iter("option")]
              for g in selects["model"].iter("optgroup")}
    llama = models["Llama 3.1"]
    assert llama.index("Llama-3.1-8B-Instruct") < llama.index("Llama-3.1-70B-Instruct")
    assert list(selects["quant"].iter("optgroup")), "quants are grouped by family"
    for name in ("hardware", "model", "quant"):
        labels = [g.get("label") for g in selects[name].iter("optgroup")]
        assert labels == sorted(labels, key=natural_key), name


def test_natural_key():
    names = ["RTX 4090", "RTX 3060", "13B", "7B", "70B", "Qwen2.5-14B", "Qwen2.5-7B"]
    assert sorted(names, key=natural_key) == [
        "7B", "13B", "70B", "Qwen2.5-7B", "Qwen2.5-14B", "RTX 3060", "RTX 4090"]


# --- canonical addresses ----------------------------------------------------------------


@pytest.mark.parametrize(("given", "canonical"), [
    ("/?model=&hardware=&quant=&runtime=&badge=&tier=&sort=decode", "/"),
    ("/?q=&hardware=rtx-4090&sort=decode", "/?hardware=rtx-4090"),
    ("/?page=1", "/"),
    ("/?utm_source=x&hardware=rtx-4090", "/?hardware=rtx-4090"),
    ("/?sort=ttft&hardware=rtx-4090", "/?hardware=rtx-4090&sort=ttft"),
    ("/?page=2&sort=ttft", "/?sort=ttft&page=2"),
    ("/?q=++llama++4090+", "/?q=llama+4090"),
    ("/?hardware=rtx-4090&hardware=rtx-3090", "/?hardware=rtx-4090"),
])
def test_non_canonical_addresses_redirect(client, given, canonical):
    response = client.get(given)
    assert response.status_code in (301, 308)
    assert response.headers["Location"] == canonical
    assert client.get(canonical).status_code == 200


def test_a_bad_value_is_not_redirected_but_explained(client):
    response = client.get("/?badge=gold")
    assert response.status_code == 200
    assert "ignored" in response.data.decode()


# --- compare -------------------------------------------------------------------------------


def test_rows_can_be_ticked_for_compare_in_a_plain_get_form(client, session, make_row):
    rows = [publish(session, make_row, runs=((200.0, 512, 100.0 + i),) * 3) for i in range(3)]
    document = parse(client.get("/").data)
    form = next(f for f in document.iter("form") if f.get("action", "").endswith("/compare"))
    assert form.get("method") == "get"
    boxes = [i for i in form.iter("input") if i.get("type") == "checkbox"]
    assert {int(b.get("value")) for b in boxes} == {r.id for r in rows}
    assert all(b.get("name") == "ids" for b in boxes)
    label = next(b.get("aria-label") for b in boxes if int(b.get("value")) == rows[0].id)
    assert label == f"Compare row {rows[0].id}: Llama-3.1-8B-Instruct on 1× GeForce RTX 4090"
    buttons = ["".join(b.itertext()).strip() for b in form.iter("button")]
    assert "Compare selected" in buttons


def test_a_long_search_is_counted_up_to_its_cap(app, client, session, make_row, monkeypatch):
    monkeypatch.setattr(catalog, "SEARCH_COUNT_CAP", 3)
    app.config["PER_PAGE"] = 2
    rows = [publish(session, make_row, runs=((200.0, 512, 100.0 + i),) * 3) for i in range(5)]
    every = [r.id for r in sorted(rows, key=lambda r: -r.decode_tps)]
    first = client.get("/?q=llama")
    assert "1–2 of more than 3 rows" in first.data.decode()
    links = pager_links(first.data)
    assert links["Next"] == "/?q=llama&page=2" and "Last" not in links
    assert listed_ids(first.data) == every[:2]
    third = client.get("/?q=llama&page=3")
    assert listed_ids(third.data) == every[4:]
    assert "First" in pager_links(third.data) and "Next" not in pager_links(third.data)
    assert listed_ids(client.get("/?q=llama&page=9").data) == every[:2]
    # below the cap a search is counted exactly
    monkeypatch.setattr(catalog, "SEARCH_COUNT_CAP", 10)
    assert "1–2 of 5 rows" in client.get("/?q=4090").data.decode()
