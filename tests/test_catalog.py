"""services.catalog: query parsing, paging strategy, and filters that agree with what is shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import html5lib
import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.services import catalog, evidence, labels
from webapp.services import detail as detail_page
from webapp.services.catalog import CatalogQuery, parse_catalog_query
from webapp.services.paging import Pagination, page_number
from webapp.services.rules import AGE_LOWER_DAYS, STALE_DAYS, Badge, Kind, State, Tier
from webapp.services.sorting import Sort

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def publish(session, make_row, **columns):
    row = make_row(**columns)
    evidence.refresh_derived(session, row)
    session.flush()
    return row


# --- parsing ----------------------------------------------------------------------------


def test_defaults():
    query, notices = parse_catalog_query({})
    assert query == CatalogQuery()
    assert query.sort is Sort.DECODE and query.page == 1 and not query.include_stale
    assert notices == ()


def test_valid_values_are_kept():
    query, notices = parse_catalog_query({
        "model": "llama-3.1-8b-instruct", "hardware": "rtx-4090", "quant": "gguf-q4_k_m",
        "runtime": "llama-cpp", "badge": "reproduced", "tier": "very-high", "sort": "ttft",
        "stale": "1", "page": "3",
    })
    assert notices == ()
    assert query.model == "llama-3.1-8b-instruct"
    assert query.badge is Badge.REPRODUCED and query.tier is Tier.VERY_HIGH
    assert query.sort is Sort.TTFT and query.include_stale and query.page == 3


def test_bad_values_are_dropped_with_a_notice_each():
    query, notices = parse_catalog_query({
        "model": "<script>", "badge": "gold", "tier": "11", "sort": "random", "page": "x",
        "stale": "maybe", "hardware": "rtx-4090",
    })
    assert query.model is None and query.badge is None and query.tier is None
    assert query.sort is Sort.DECODE and query.page == 1 and not query.include_stale
    assert query.hardware == "rtx-4090"
    assert len(notices) == 5  # model, badge, tier, sort, stale; a page falls back silently
    assert all("<script>" not in notice for notice in notices)
    assert any("Include stale rows" in notice for notice in notices)


def test_a_stale_choice_the_catalog_does_not_know_is_ignored_with_a_notice(client):
    """As a bad filter is: the page says so, rather than redirecting to an address
    without it as though nothing had been asked."""
    response = client.get("/?stale=maybe&hardware=rtx-4090")
    assert response.status_code == 200
    assert "“Include stale rows” choice in the address is not one this catalog knows" in (
        response.get_data(as_text=True))
    for spelled in ("0", "false", "off"):  # a choice the checkbox never sends, still read
        response = client.get(f"/?stale={spelled}")
        assert response.status_code == 301 and response.headers["Location"] == "/"


def test_blank_values_mean_any():
    query, notices = parse_catalog_query({"model": "", "badge": " ", "sort": "", "page": "",
                                          "stale": ""})
    assert query == CatalogQuery() and notices == ()


@given(st.dictionaries(
    st.sampled_from(["model", "hardware", "quant", "runtime", "badge", "tier", "sort",
                     "stale", "page", "other"]),
    st.text(max_size=300),
))
def test_any_query_string_parses(args):
    query, _notices = parse_catalog_query(args)
    assert query.page >= 1
    # the args it produces parse back to the same query
    again, notices = parse_catalog_query(query.args())
    assert again == query and notices == ()


def test_args_leave_out_defaults():
    assert CatalogQuery().args() == {}
    query = CatalogQuery(hardware="rtx-4090", sort=Sort.NEWEST, stale=True, page=2)
    assert query.args() == {"hardware": "rtx-4090", "sort": "newest", "stale": "1", "page": "2"}
    assert query.args(page=None) == {"hardware": "rtx-4090", "sort": "newest", "stale": "1"}


@pytest.mark.parametrize(("raw", "page"), [
    (None, 1), ("", 1), ("2", 2), ("0", 1), ("-1", 1), ("two", 1), ("9" * 30, int("9" * 20)),
])
def test_page_number(raw, page):
    args = {} if raw is None else {"page": raw}
    assert page_number(args) == page


# --- small helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "safe"), [
    ("https://example.org/me", "https://example.org/me"),
    ("http://example.org", "http://example.org"),
    ("  https://example.org  ", "https://example.org"),
    # a host in other letters reads in its ASCII form, as browsers show it (rows stored
    # before the form wrote it so, too); a path keeps its letters
    ("https://\u0435xample.com/a", "https://xn--xample-2of.com/a"),
    ("http://M\u00fcnchen.de:8080/x", "http://xn--mnchen-3ya.de:8080/x"),
    ("https://stra\u00dfe.de/", "https://xn--strae-oqa.de/"),  # not strasse.de (IDNA 2003)
    ("https://example.com/\u00fc", "https://example.com/\u00fc"),
    ("javascript:alert(1)", None),
    ("JaVaScRiPt:alert(1)", None),
    ("data:text/html,<script>", None),
    ("//example.org", None),
    ("https://", None),
    ("https://exa mple.org", None),
    ("https://example.org/\nx", None),
    ("", None),
    (None, None),
])
def test_safe_url(url, safe):
    assert labels.safe_url(url) == safe


@pytest.mark.parametrize(("value", "text"), [
    (None, "—"), (0.5, "0.5"), (87.34, "87.3"), (24.0, "24"), (205.3, "205"), (6200, "6,200"),
])
def test_number(value, text):
    assert labels.number(value) == text


def test_pagination_window():
    assert Pagination(page=1, per_page=25, shown=25, has_next=True).window == [1, 2]
    assert Pagination(page=1, per_page=25, shown=3, has_next=False).window == [1]
    assert Pagination(page=7, per_page=25, shown=25, has_next=True).window == [
        1, None, 5, 6, 7, 8]
    page = Pagination(page=3, per_page=10, shown=4, has_next=False)
    assert page.first_index == 21 and page.last_index == 24 and page.has_prev


def test_ring_picture_places_every_dot_on_its_ring():
    class Row:
        def __init__(self, id_):
            self.id, self.handle, self.kind = id_, None, Kind.REPRODUCTION

    from webapp.services.rules import Ring

    views = [detail_page.ReproductionView(Row(i), Ring.INNER if i % 3 else Ring.OUTER, None)
             for i in range(7)]
    picture = detail_page.ring_picture(views)
    assert picture.inner_count + picture.outer_count == 7
    for dot in picture.dots:
        radius = picture.inner_radius if dot.ring is Ring.INNER else picture.outer_radius
        dx, dy = float(dot.x) - picture.centre, float(dot.y) - picture.centre
        assert abs((dx * dx + dy * dy) ** 0.5 - radius) < 0.2


# --- paging strategy ------------------------------------------------------------------------------


@pytest.mark.parametrize("count_free_offset", [0, 4, 1000])
@pytest.mark.parametrize("sort", list(Sort))
def test_every_page_strategy_gives_the_same_rows(session, make_row, monkeypatch,
                                                 count_free_offset, sort):
    """Reading a page from the front, from the back or after a count is the same page."""
    monkeypatch.setattr("webapp.services.listing.COUNT_FREE_OFFSET", count_free_offset)
    for i in range(11):
        decode = 100.0 + (i % 4)  # ties, broken by id
        publish(session, make_row, age_days=i % 3,
                runs=((200.0 + i % 5, 512, decode),) * 3)
    every = [
        listing.row.id
        for listing in catalog.catalog_page(
            session, CatalogQuery(sort=sort), (), now=NOW, per_page=100).rows.listings
    ]
    assert len(every) == 11
    seen = []
    for page in range(1, 5):
        result = catalog.catalog_page(session, CatalogQuery(sort=sort, page=page), (),
                                      now=NOW, per_page=3)
        ids = [listing.row.id for listing in result.rows.listings]
        assert ids == every[(page - 1) * 3:page * 3]
        assert result.rows.pagination.has_next == (page < 4)
        assert result.query.page == page
        seen += ids
    assert seen == every
    past = catalog.catalog_page(session, CatalogQuery(sort=sort, page=50), (), now=NOW,
                                per_page=3)
    assert past.query.page == 4
    assert [listing.row.id for listing in past.rows.listings] == every[9:]
    assert not past.rows.pagination.has_next


def test_unknown_slug_is_ignored_and_reported(session, make_row):
    row = publish(session, make_row)
    result = catalog.catalog_page(session, CatalogQuery(model="no-such-model"), (),
                                  now=NOW, per_page=25)
    assert [listing.row.id for listing in result.rows.listings] == [row.id]
    assert result.query.model is None
    assert len(result.notices) == 1


# --- the index filters agree with what the page shows ---------------------------------


AGES = (0, AGE_LOWER_DAYS - 1, AGE_LOWER_DAYS, AGE_LOWER_DAYS + 1, AGE_LOWER_DAYS + 2,
        STALE_DAYS - 1, STALE_DAYS, STALE_DAYS + 1, STALE_DAYS + 2)


def test_tier_and_stale_filters_match_the_rendered_assessment(session, make_row):
    """At every age boundary a row is filtered under exactly the tier and stale marker
    the page shows for it (including rows measured at odd times of day)."""
    now = datetime.now(UTC)
    rows = []
    for age in AGES:
        for hours in (0, 7, 23):
            for kind in (Kind.FRESH, Kind.EDITORIAL):
                rows.append(publish(session, make_row, kind=kind, now=now,
                                    age_days=age, measured_at=now - timedelta(days=age,
                                                                              hours=hours)))
    session.flush()
    shown = evidence.assess_hubs(session, rows, now)

    def ids(**query) -> set[int]:
        page = catalog.catalog_page(session, CatalogQuery(**query), (), now=now, per_page=500)
        return {listing.row.id for listing in page.rows.listings}

    visible = ids()
    assert visible == {r.id for r in rows if not shown[r.id].confidence.stale}
    for tier in Tier:
        expected = {r.id for r in rows if shown[r.id].confidence.tier is tier}
        assert ids(tier=tier, stale=True) == expected, tier


def test_badge_filter_matches_the_rendered_badge(session, make_row):
    rows = [publish(session, make_row, handle="origin") for _ in range(3)]
    for i, hub in enumerate(rows):
        for j in range(i):
            make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle=f"op{j}")
        evidence.refresh_derived(session, hub)
    session.flush()
    shown = evidence.assess_hubs(session, rows, NOW)
    for badge in Badge:
        page = catalog.catalog_page(session, CatalogQuery(badge=badge), (), now=NOW,
                                    per_page=25)
        assert {listing.row.id for listing in page.rows.listings} == {
            r.id for r in rows if shown[r.id].badge is badge}


# --- markup helpers ------------------------------------------------------------------------------


def test_rings_svg_parses_inside_the_detail_markup(app, session, make_row):
    from flask import render_template_string

    hub = publish(session, make_row, handle="origin")
    for i in range(5):
        make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle=f"op{i}",
                 os_label="Other OS" if i % 2 else "Ubuntu 24.04")
    evidence.refresh_derived(session, hub)
    session.flush()
    detail = detail_page.detail(session, hub.id, now=NOW)
    assert detail is not None
    assert detail.picture.inner_count == 3 and detail.picture.outer_count == 2
    with app.test_request_context():
        svg = render_template_string(
            '{% include "public/_rings.svg" %}', picture=detail.picture, hub_id=hub.id)
    html5lib.HTMLParser(strict=True).parseFragment(svg)
    assert svg.count('class="ring-dot ring-inner"') == 3
    assert svg.count('class="ring-dot ring-outer"') == 2


# --- the catalog's links ------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    {},
    {"sort": "ttft"},
    {"q": "llama 4090", "hardware": "rtx-4090", "stale": "1", "page": None},
    {"q": "a&b/c d'e+f%g?h=i#j é", "page": "3"},
    {"model": "llama-3.1-8b-instruct", "badge": "reproduced", "tier": "high", "page": 2},
])
@pytest.mark.parametrize("endpoint", ["public.catalog", "open_data.benchmarks_csv",
                                      "open_data.feed_atom"])
def test_query_hrefs_spell_addresses_as_url_for_does(app, endpoint, args):
    from flask import url_for

    from webapp.blueprints.public import QueryHrefs

    with app.test_request_context("/"):
        hrefs = QueryHrefs()
        assert hrefs(endpoint, args) == url_for(endpoint, **args)
        assert hrefs(endpoint, args) == url_for(endpoint, **args)  # the kept path too
