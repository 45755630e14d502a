"""The API list's text search, `q`: the catalog's search, with the same rows in the same
order and the same total, walked by its cursor, refused past the catalog's limits."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.factories import listed_ids, publish
from webapp.services.catalog import SEARCH_MAX_LENGTH, SEARCH_MAX_WORDS
from webapp.services.sorting import Sort

LIST = "/api/v1/benchmarks"
TOTAL = re.compile(r'<p class="pager-status">[^<]*? of ([\d,]+) rows?</p>')


@pytest.fixture
def rows(app, session, make_row):
    """Rows whose model, hardware and runtime names a search can tell apart, with ties in
    decode speed (the id decides between them) and one stale row."""
    app.config["PER_PAGE"] = 100  # the catalog's whole view on its first page
    shapes = [
        ("llama-3.1-8b-instruct", "rtx-4090", "llama-cpp"),
        ("llama-3.1-8b-instruct", "rtx-3090", "ollama"),
        ("llama-3.1-70b-instruct", "rtx-4090", "vllm"),
        ("qwen2.5-7b-instruct", "rtx-4090", "llama-cpp"),
        ("qwen2.5-7b-instruct", "rtx-3090", "vllm"),
        ("mistral-7b-instruct-v0.3", "rtx-3090", "ollama"),
    ]
    made = []
    for index in range(12):
        model, hardware, runtime = shapes[index % len(shapes)]
        decode = 60.0 + index % 4
        made.append(publish(session, make_row, model=model, hardware=hardware,
                            runtime=runtime, runs=((200.0 + index % 3, 512, decode),) * 3,
                            vram_peak_mib=6000.0 + 100 * (index % 5)))
    made.append(publish(session, make_row, age_days=600))  # stale: only with stale=1
    return made


def catalog_view(client, query: dict[str, str]) -> tuple[list[int], int]:
    """The rows the catalog lists for `query`, in order, and the total it shows."""
    response = client.get("/?" + urlencode(query), follow_redirects=True)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "so that filter was ignored" not in body and "it was ignored" not in body
    found = TOTAL.search(body)
    return listed_ids(response.data), int(found[1].replace(",", "")) if found else 0


def api_walk(client, query: dict[str, str], limit: int) -> tuple[list[int], int]:
    """Every row the API lists for `query`, following `next`, and its total."""
    url, ids, totals = f"{LIST}?{urlencode({**query, 'limit': limit})}", [], set()
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        ids.extend(item["id"] for item in body["items"])
        totals.add(body["total"])
        url = body["next"]
    assert len(totals) == 1, "every page tells the same total"
    return ids, totals.pop()


@pytest.mark.parametrize("q", ["llama", "LLAMA 4090", "ollama", "3090", "8b 4090",
                               "qwen vllm", "instruct", "no-such-thing", "%", "_"])
@pytest.mark.parametrize("sort", [sort.value for sort in Sort])
def test_a_search_lists_the_catalogs_rows_in_its_order_with_its_total(client, rows, q, sort):
    query = {"q": q, "sort": sort}
    expected, total = catalog_view(client, query)
    assert api_walk(client, query, limit=2) == (expected, total)
    assert api_walk(client, query, limit=100) == (expected, total)


@pytest.mark.parametrize("query", [
    {"q": "llama", "hardware": "rtx-4090"},
    {"q": "instruct", "runtime": "ollama", "sort": "ttft"},
    {"q": "7b", "stale": "1"},
    {"q": "4090", "stale": "1", "sort": "vram"},
])
def test_a_search_combines_with_the_filters_as_in_the_catalog(client, rows, query):
    expected, total = catalog_view(client, query)
    assert expected, "the case lists something"
    assert api_walk(client, query, limit=3) == (expected, total)


def test_the_search_matches_what_the_catalog_says_it_does(client, rows):
    """Every word must appear in the row's model, hardware or runtime name, in any case."""
    items = client.get(f"{LIST}?q=LLAMA+3090&limit=100").get_json()["items"]
    assert items
    for item in items:
        names = " ".join((item["model"]["name"], item["hardware"]["name"],
                          item["runtime"]["name"])).lower()
        assert "llama" in names and "3090" in names
    nothing = client.get(f"{LIST}?q=no-such-thing").get_json()
    assert (nothing["items"], nothing["total"], nothing["next"]) == ([], 0, None)


def test_the_next_link_keeps_the_search(client, rows):
    body = client.get(f"{LIST}?q=llama&limit=1").get_json()
    assert body["next"] is not None
    assert parse_qs(urlsplit(body["next"]).query)["q"] == ["llama"]
    assert body["query"]["q"] == "llama"
    assert client.get(f"{LIST}?q=++llama++4090").get_json()["query"]["q"] == "llama 4090"
    assert client.get(LIST).get_json()["query"]["q"] is None


def test_spaces_in_a_search_mean_what_they_mean_in_the_catalog(client, rows):
    assert api_walk(client, {"q": "  llama   4090 "}, limit=5) == api_walk(
        client, {"q": "llama 4090"}, limit=5)


def test_a_search_at_the_catalogs_limits_is_answered(client, rows):
    longest = ("4090 " + "x" * SEARCH_MAX_LENGTH)[:SEARCH_MAX_LENGTH]
    assert client.get(LIST, query_string={"q": longest}).status_code == 200
    words = " ".join(["llama"] * SEARCH_MAX_WORDS)
    assert client.get(LIST, query_string={"q": words}).status_code == 200


def problem(response, parameter: str) -> str:
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["parameter"] == parameter and f"“{parameter}”" in body["detail"]
    return body["detail"]


@pytest.mark.parametrize(("q", "says"), [
    ("x" * (SEARCH_MAX_LENGTH + 1), f"at most {SEARCH_MAX_LENGTH} characters"),
    (" ".join(["llama"] * (SEARCH_MAX_WORDS + 1)), f"at most {SEARCH_MAX_WORDS} words"),
    ("   ", "empty"),
])
def test_a_search_past_the_catalogs_limits_is_refused_not_cut(client, rows, q, says):
    """The catalog cuts such a search and matches its first words only; a program is told."""
    assert says in problem(client.get(LIST, query_string={"q": q}), "q")


def test_spaces_count_once_as_in_the_catalog_and_the_exports(client, rows):
    """A search padded with spaces is the search without them everywhere: the API used
    to count the raw length and refuse what the catalog and the exports take."""
    padded = "llama" + " " * SEARCH_MAX_LENGTH + "4090"
    api = client.get(LIST, query_string={"q": padded})
    assert api.status_code == 200
    plain = client.get(LIST, query_string={"q": "llama 4090"}).get_json()
    assert api.get_json()["items"] == plain["items"] and plain["items"]
    assert api.get_json()["query"]["q"] == "llama 4090"
    assert client.get("/benchmarks.csv", query_string={"q": padded}).status_code == 200


def test_a_search_given_twice_is_refused(client, rows):
    assert "once" in problem(client.get(f"{LIST}?q=llama&q=4090"), "q")


def test_a_cursor_keeps_working_with_a_search_and_stays_bound_to_its_sort(client, rows):
    first = client.get(f"{LIST}?q=llama&sort=ttft&limit=2").get_json()
    token = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    second = client.get(f"{LIST}?q=llama&sort=ttft&limit=2&cursor={token}")
    assert second.status_code == 200
    assert not {item["id"] for item in second.get_json()["items"]} & {
        item["id"] for item in first["items"]}
    problem(client.get(f"{LIST}?q=llama&sort=decode&limit=2&cursor={token}"), "cursor")


def test_the_document_and_the_api_page_describe_the_search(client, rows):
    document = client.get(f"{LIST.rsplit('/', 1)[0]}/openapi.json").get_json()
    parameters = {p["name"]: p for p in document["paths"][LIST]["get"]["parameters"]}
    assert parameters["q"]["in"] == "query" and not parameters["q"]["required"]
    assert parameters["q"]["schema"] == {"type": "string", "minLength": 1,
                                         "maxLength": SEARCH_MAX_LENGTH}
    assert f"at most {SEARCH_MAX_WORDS}" in parameters["q"]["description"]
    page = client.get("/api").get_data(as_text=True)
    assert "<code>q</code>" in page
    assert f"at most {SEARCH_MAX_LENGTH} characters" in page
