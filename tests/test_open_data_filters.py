"""The exports (/benchmarks.csv, /benchmarks.jsonl) and the feed (/feed.atom) refuse a
filter they cannot apply: a file or a feed has nowhere to show the notice with which the
catalog drops it, so the consumer would get the whole catalog without knowing. The
catalog's own links to them never carry such a filter."""

from __future__ import annotations

import csv
import gzip
import html
import io
import re

import pytest

from tests.factories import listed_ids, publish

ENDPOINTS = ("/benchmarks.csv", "/benchmarks.jsonl", "/feed.atom")


@pytest.fixture
def rows(session, make_row):
    return {
        "4090": publish(session, make_row, hardware="rtx-4090"),
        "3090": publish(session, make_row, hardware="rtx-3090", runtime="ollama",
                        runs=((300.0, 512, 80.0),) * 3),
        "stale": publish(session, make_row, model="qwen2.5-7b-instruct", age_days=600),
    }


def refusal(response, parameter: str) -> str:
    """The problem a consumer gets: 400, problem+json, naming the parameter."""
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert "Content-Disposition" not in response.headers
    body = response.get_json(force=True)
    assert body["status"] == 400 and body["parameter"] == parameter
    assert parameter in body["detail"]
    return body["detail"]


def csv_ids(response) -> list[int]:
    return [int(row["id"]) for row in csv.DictReader(io.StringIO(response.get_data(as_text=True)))]


# --- a value the catalog would drop ----------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("query", "parameter", "value", "spelling"), [
    ("hardware=rtx4090", "hardware", "rtx4090", "did you mean “rtx-4090”?"),
    ("hardware=RTX%204090", "hardware", "RTX 4090", "did you mean “rtx-4090”?"),
    ("hardware=bogus", "hardware", "bogus", "/api/v1/hardware lists every hardware slug"),
    ("model=llama", "model", "llama", "“llama-3.1-8b-instruct”"),
    ("quant=q4_k_m", "quant", "q4_k_m", "“gguf-q4_k_m”"),
    ("runtime=llamacpp", "runtime", "llamacpp", "did you mean “llama-cpp”?"),
    ("badge=xyz", "badge", "xyz", "one of: editorial, community-submitted, reproduced"),
    ("tier=11", "tier", "11", "one of: low, moderate, high, very-high"),
    ("sort=%3Cx%3E", "sort", "<x>", "one of: decode, ttft"),
    ("stale=maybe", "stale", "maybe", "true or false"),
    ("page=-4", "page", "-4", "page number"),
    ("hardware=rtx-4090&tier=11", "tier", "11", "one of: low"),
])
def test_a_value_the_catalog_would_drop_is_refused_naming_it(client, rows, endpoint, query,
                                                             parameter, value, spelling):
    response = client.get(f"{endpoint}?{query}", buffered=True)
    detail = refusal(response, parameter)
    assert f"“{value}”" in detail and spelling in detail


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_catalog_shows_a_notice_for_the_same_address(client, rows, endpoint):
    """What the consumer of a file is now told, the catalog's reader was already told."""
    assert "so that filter was ignored" in client.get("/?hardware=rtx4090").get_data(
        as_text=True)
    refusal(client.get(f"{endpoint}?hardware=rtx4090", buffered=True), "hardware")


LONG_SEARCH = "llama 3.1 8b rtx 4090 ollama q4"  # seven words: the catalog takes five


def test_a_search_longer_than_the_catalog_takes_is_told_everywhere(client, rows):
    """The catalog used a long search's first five words without a word about the rest
    (and its export links sent the whole of it to exports that did the same): it now
    says what it left out and links only what it used; the exports refuse the rest."""
    page = client.get("/?q=" + LONG_SEARCH.replace(" ", "+")).get_data(as_text=True)
    assert "“ollama q4” was left out" in page
    assert 'name="q" value="llama 3.1 8b rtx"' not in page  # five words, not four
    assert 'name="q" value="llama 3.1 8b rtx 4090"' in page
    assert "4090+ollama" not in page  # no link carries the words left out
    assert re.search(r'href="/benchmarks\.csv\?q=llama\+3\.1\+8b\+rtx\+4090"', page)
    for endpoint in ENDPOINTS:
        detail = refusal(client.get(f"{endpoint}?q={LONG_SEARCH}", buffered=True), "q")
        assert "at most 5 words" in detail
        assert client.get(f"{endpoint}?q=llama 3.1 8b rtx 4090", buffered=True
                          ).status_code == 200
    long_word = "x" * 81
    assert "was left out" in client.get(f"/?q={long_word}").get_data(as_text=True)
    refusal(client.get(f"/benchmarks.csv?q={long_word}", buffered=True), "q")


# --- names, repeats and blanks, as the API refuses them -----------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("query", "parameter", "says"), [
    ("hardwre=rtx-4090", "hardwre", "the parameters are: q, model, hardware"),
    ("utm_source=newsletter", "utm_source", "There is no parameter"),
    ("limit=10", "limit", "There is no parameter"),
    ("hardware=rtx-4090&hardware=rtx-3090", "hardware", "once"),
    ("hardware=", "hardware", "empty"),
    ("q=++", "q", "empty"),
])
def test_unknown_repeated_or_empty_parameters_are_refused_as_the_api_refuses_them(
        client, rows, endpoint, query, parameter, says):
    assert says in refusal(client.get(f"{endpoint}?{query}", buffered=True), parameter)
    if parameter != "limit":  # the API's own, for its pages
        api = client.get(f"/api/v1/benchmarks?{query}")
        assert api.status_code == 400 and api.get_json(force=True)["parameter"] == parameter


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_control_character_is_refused_as_a_problem_too(client, rows, endpoint):
    """A NUL in the query string is refused before any view runs: for a file a program
    fetches, that refusal is problem+json like every other (it was an HTML page)."""
    response = client.get(f"{endpoint}?q=%00", buffered=True)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "control characters" in response.get_json(force=True)["detail"]
    assert client.get("/?q=%00").mimetype == "text/html"


def test_a_head_request_is_refused_too(client, rows):
    response = client.head("/benchmarks.csv?hardware=rtx4090", buffered=True)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_refusal_is_never_a_304(client, rows, endpoint):
    fine = client.get(endpoint, buffered=True)
    for tag in (fine.headers["ETag"], "*"):
        response = client.get(f"{endpoint}?badge=xyz", headers={"If-None-Match": tag},
                              buffered=True)
        refusal(response, "badge")
        assert "ETag" not in response.headers


def test_a_refusal_reads_the_same_compressed(client, rows):
    response = client.get("/benchmarks.csv?hardware=rtx4090", buffered=True,
                          headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 400
    body = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    assert b"rtx-4090" in body


# --- what the catalog can apply still works ----------------------------------------------


@pytest.mark.parametrize("query", [
    "hardware=rtx-4090", "sort=ttft", "sort=decode", "stale=1", "stale=true", "stale=0",
    "badge=community-submitted", "tier=low", "q=llama", "q=LLAMA+3090", "page=3",
    "hardware=rtx-3090&runtime=ollama&sort=vram&stale=1",
])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_value_the_catalog_applies_is_answered(client, rows, endpoint, query):
    response = client.get(f"{endpoint}?{query}", buffered=True)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


def test_the_filters_still_select_the_rows(client, rows):
    assert csv_ids(client.get("/benchmarks.csv?hardware=rtx-3090", buffered=True)) == [
        rows["3090"].id]
    assert csv_ids(client.get("/benchmarks.csv?q=ollama", buffered=True)) == [rows["3090"].id]
    every = csv_ids(client.get("/benchmarks.csv?stale=1", buffered=True))
    assert set(every) == {row.id for row in rows.values()}


def test_etag_and_304_still_hold_for_a_filtered_export(client, rows):
    url = "/benchmarks.csv?hardware=rtx-4090&sort=ttft"
    first = client.get(url, buffered=True)
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]}, buffered=True)
    assert again.status_code == 304
    packed = client.get(url, headers={"Accept-Encoding": "gzip"}, buffered=True)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == first.get_data()


# --- the catalog's links to them ----------------------------------------------------------


LINK = re.compile(r'href="(/(?:benchmarks\.csv|benchmarks\.jsonl|feed\.atom)(?:\?[^"]*)?)"')


@pytest.mark.parametrize("address", [
    "/?hardware=rtx4090",
    "/?hardware=rtx4090&sort=ttft",
    "/?badge=gold&hardware=rtx-3090",
    "/?tier=11&q=llama&stale=1",
    "/?model=Not%20A%20Slug&runtime=ollama&sort=vram",
    "/?hardware=rtx4090&hardware=rtx-3090",
    "/?hardware=rtx4090&utm_source=x&page=2",
    # a search the catalog cuts: longer than its box, more words than it matches
    "/?badge=gold&q=" + "+".join(["llama", "3090", "ollama", "8b", "instruct", "rtx"]),
    "/?q=" + "llama+" * 30,
])
def test_the_catalogs_links_carry_only_what_it_applied_and_are_answered(client, rows,
                                                                        address):
    page = client.get(address, follow_redirects=True)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    links = sorted({html.unescape(link) for link in LINK.findall(body)})
    assert {link.split("?")[0] for link in links} == set(ENDPOINTS)
    for link in links:
        assert not re.search(r"[?&](?:hardware=rtx4090|badge=gold|tier=11|model=|utm_source"
                             r"|page=)", link), link
        response = client.get(link, buffered=True)
        assert response.status_code == 200, (link, response.get_data(as_text=True)[:300])
        if link.startswith("/benchmarks.csv") and "page=" not in address:
            assert csv_ids(response) == listed_ids(page.data), link
