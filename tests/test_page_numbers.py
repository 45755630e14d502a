"""Page numbers on the public paginated pages, handled as the catalog handles them: one
spelling per page (a page number that is not the page's own redirects), a page past the
last one shows the last one, and each page names itself as its canonical address."""

from __future__ import annotations

import html5lib
import pytest

from tests.test_charts import publish, runs
from tests.test_public_pages import reproduce

HARDWARE = "/hardware/rtx-4090"
MODEL = "/models/llama-3.1-8b-instruct"
CONFIGURATIONS = "/hardware/rtx-4090/configurations"
MODEL_HARDWARE = "/models/llama-3.1-8b-instruct/hardware"
OPERATORS = "/operators"
PAGED = (OPERATORS, HARDWARE, MODEL, CONFIGURATIONS, MODEL_HARDWARE)


@pytest.fixture
def three_pages(app, session, make_row):
    """Every paged page three pages long (two lines a page): five rows on the RTX 4090, on
    five device counts, the first reproduced by five more operators."""
    app.config["PER_PAGE"] = 2
    rows = [publish(session, make_row, hardware_count=devices, runs=runs(20.0 + devices),
                    handle="origin") for devices in range(1, 6)]
    for name in ("op-a", "op-b", "op-c", "op-d", "op-e"):
        reproduce(session, make_row, rows[0], handle=name)


def head_of(body: bytes):
    document = html5lib.parse(body, namespaceHTMLElements=False)
    canonical = [link.get("href") for link in document.iter("link")
                 if link.get("rel") == "canonical"]
    nav = document.find(".//nav[@class='pager']")
    current = nav.find(".//span[@class='pager-current']").text
    links = {"".join(a.itertext()): a.get("href") for a in nav.iter("a")}
    return canonical, current, links


@pytest.mark.parametrize("path", PAGED)
@pytest.mark.parametrize(("asked", "canonical"), [
    ("page=0", ""), ("page=-3", ""), ("page=abc", ""), ("page=", ""), ("page=1", ""),
    ("page=02", "?page=2"), ("page=2&page=3", "?page=2"),
])
def test_a_page_number_not_the_pages_own_redirects_as_the_catalogs_does(
        client, three_pages, path, asked, canonical):
    catalog = client.get(f"/?{asked}")
    assert catalog.status_code == 301 and catalog.headers["Location"] == "/" + canonical
    response = client.get(f"{path}?{asked}")
    assert response.status_code == 301
    assert response.headers["Location"] == path + canonical
    assert client.get(path + canonical).status_code == 200


@pytest.mark.parametrize("path", PAGED)
def test_each_page_is_its_own_canonical_address(client, three_pages, path):
    first, current, links = head_of(client.get(path).data)
    assert first == [f"http://localhost{path}"] and current == "1"
    assert links["Next"] == f"{path}?page=2"
    second, current, links = head_of(client.get(f"{path}?page=2").data)
    assert second == [f"http://localhost{path}?page=2"] and current == "2"
    assert links["Previous"] == path and links["Next"] == f"{path}?page=3"


@pytest.mark.parametrize("path", (OPERATORS, HARDWARE, MODEL, CONFIGURATIONS, MODEL_HARDWARE))
def test_a_page_past_the_last_shows_the_last_and_names_it(client, three_pages, path):
    response = client.get(f"{path}?page=40")
    assert response.status_code == 200
    canonical, current, links = head_of(response.data)
    assert current == "3" and canonical == [f"http://localhost{path}?page=3"]
    assert links["Previous"] == f"{path}?page=2" and "Next" not in links


def test_a_reproductions_page_names_itself(client, session, make_row):
    hub = make_row(handle="origin")
    session.commit()
    canonical = html5lib.parse(client.get(f"/benchmarks/{hub.id}").data,
                               namespaceHTMLElements=False).find(".//link[@rel='canonical']")
    assert canonical.get("href") == f"http://localhost/benchmarks/{hub.id}"


@pytest.mark.parametrize(("path", "status"), [
    (HARDWARE, "1–2 of 5 rows"), (MODEL, "1–2 of 5 rows"),
    (OPERATORS, "1–2 of 5 operators"),  # op-a … op-e; "origin" reproduced nothing
])
def test_the_first_page_tells_the_total_and_links_the_last(client, three_pages, path, status):
    """The pager counts to the end from the first page, as the catalog's does: the
    hardware and model pages from the public row counts kept with every decision, the
    operators page from its summaries."""
    document = html5lib.parse(client.get(path).data, namespaceHTMLElements=False)
    nav = document.find(".//nav[@class='pager']")
    assert nav.find(".//p[@class='pager-status']").text == status
    _canonical, _current, links = head_of(client.get(path).data)
    assert links["Last"] == f"{path}?page=3"


@pytest.mark.parametrize(("asked", "own"), [
    ("/benchmarks/0{id}", "/benchmarks/{id}"),
    ("/benchmarks/00{id}?page=2", "/benchmarks/{id}?page=2"),
    ("/benchmarks/0{id}/badge.svg", "/benchmarks/{id}/badge.svg"),
    ("/api/v1/benchmarks/0{id}", "/api/v1/benchmarks/{id}"),
])
def test_a_row_id_spelled_with_leading_zeros_redirects_to_the_rows_address(
        client, session, make_row, asked, own):
    row = make_row()
    session.commit()
    response = client.get(asked.format(id=row.id))
    assert response.status_code == 301
    assert response.headers["Location"] == own.format(id=row.id)
    assert client.get(own.format(id=row.id).split("?")[0]).status_code == 200
