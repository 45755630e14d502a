"""/compare: two to four public rows side by side, one shareable address, and a helpful
page (never a 500) for everything it cannot compare."""

from __future__ import annotations

import pytest

from tests.test_charts import publish, runs, text_of
from tests.test_public_pages import parse
from webapp.services.rules import Badge, State


@pytest.fixture
def three(session, make_row):
    first = publish(session, make_row, runs=runs(100.0))
    second = publish(session, make_row, hardware="rtx-3090", os_label="Fedora 41",
                     runs=runs(90.0))
    third = publish(session, make_row, runtime_version="b5000", runs=runs(400.0))
    return first, second, third


def table_rows(document) -> dict[str, list[str]]:
    table = next(t for t in document.iter("table") if "compare-table" in t.get("class", ""))
    found = {}
    for tr in table.iter("tr"):
        head = tr.find("th")
        cells = [text_of(td).strip() for td in tr.findall("td")]
        if cells:
            found[text_of(head).strip()] = cells
    return found


def test_rows_side_by_side_in_the_users_order(client, three):
    first, second, third = three
    response = client.get(f"/compare?ids={third.id},{first.id}")
    assert response.status_code == 200
    document = parse(response.data)
    heads = [text_of(th) for th in document.iter("th") if "compare-head" in th.get("class", "")]
    assert [h.split()[0] for h in heads] == [f"#{third.id}", f"#{first.id}"]
    rows = table_rows(document)
    assert rows["Decode speed tok/s"] == ["400", "100"]
    assert rows["Time to first token ms"] == ["250", "250"]
    assert rows["Memory peak MiB"] == ["6,200", "6,200"]
    assert rows["Bandwidth ceiling tok/s"] == ["205", "205"]
    assert rows["Share of the ceiling"][1] == "48.7%"
    assert "Exceeds the bandwidth ceiling" in rows["Share of the ceiling"][0]
    assert rows["Badge"] == [Badge.COMMUNITY.label] * 2


def test_differing_build_context_is_marked_in_words(client, three):
    first, second, third = three
    document = parse(client.get(f"/compare?ids={first.id},{second.id},{third.id}").data)
    rows = table_rows(document)
    assert "OS label differs" in rows
    assert "Runtime version differs" in rows
    assert "Hardware differs" in rows
    assert "Seed" in rows and "Seed differs" not in rows  # the same everywhere: unmarked
    note = text_of(next(p for p in document.iter("p") if "compare-note" in p.get("class", "")))
    assert "differs" in note
    table = next(t for t in document.iter("table") if "compare-table" in t.get("class", ""))
    marked = [tr for tr in table.iter("tr") if tr.get("class") == "is-different"]
    assert {text_of(tr.find("th")).split(" differs")[0] for tr in marked} == {
        "Hardware", "OS label", "Runtime version"}
    assert "3 build-context values differ" in text_of(document.find(".//main"))


def test_repeated_ids_and_duplicates_lead_to_one_address(client, three):
    first, second, _third = three
    response = client.get(f"/compare?ids={second.id}&ids={first.id}&ids={second.id}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/compare?ids={second.id},{first.id}")
    response = client.get(f"/compare?ids={second.id}, {first.id}&utm=x")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/compare?ids={second.id},{first.id}")


def test_share_link_is_the_canonical_address(client, three):
    first, second, _third = three
    body = client.get(f"/compare?ids={first.id},{second.id}").data.decode()
    url = f"http://localhost/compare?ids={first.id},{second.id}"
    assert f'<a href="{url}">{url}</a>' in body
    assert "Share this comparison" in body


@pytest.mark.parametrize(("query", "words"), [
    ("", "Pick 2 to 4 rows"),
    ("?ids=", "Pick 2 to 4 rows"),
    ("?ids=,,", "Pick 2 to 4 rows"),
    ("?ids=abc,1", "“abc” is not a row number"),
    ("?ids=1,-2", "“-2” is not a row number"),
    ("?ids=1,0", "“0” is not a row number"),
    ("?ids=1,99999999999", "is not a row number"),
    ("?ids=1,%C2%B2", "is not a row number"),
    ("?ids=<script>,1", "“<script>” is not a row number"),
    ("?ids=1", "only row #1 was given"),
    ("?ids=1,1,1", "only row #1 was given"),
    ("?ids=1,2,3,4,5", "At most 4 rows fit side by side; 5 were given"),
])
def test_what_cannot_be_compared_is_a_400_page_that_helps(client, query, words):
    response = client.get(f"/compare{query}")
    assert response.status_code == 400
    document = parse(response.data)
    message = text_of(next(d for d in document.iter("div") if d.get("role") == "alert"))
    assert words in message
    assert any(a.get("href") == "/" for a in document.iter("a")), "a way back to the catalog"
    assert b"<script>," not in response.data


@pytest.mark.parametrize("state", [State.QUEUED, State.REJECTED, State.WITHDRAWN,
                                   State.REPRODUCED])
def test_a_row_that_is_not_public_is_a_404(client, session, make_row, three, state):
    first = three[0]
    hidden = make_row(state=state)
    session.commit()
    response = client.get(f"/compare?ids={first.id},{hidden.id}")
    assert response.status_code == 404
    body = response.data.decode()
    assert f"There is no public row #{hidden.id}" in body
    assert "6,200" not in body  # none of either row's numbers


def test_an_unknown_row_is_a_404(client, three):
    response = client.get(f"/compare?ids={three[0].id},424242")
    assert response.status_code == 404
    assert "There is no public row #424242" in response.data.decode()


def test_a_row_can_be_dropped_from_a_comparison_of_three(client, three):
    first, second, third = three
    document = parse(client.get(f"/compare?ids={first.id},{second.id},{third.id}").data)
    removes = {a.get("href") for a in document.iter("a") if a.get("class") == "compare-remove"}
    assert removes == {f"/compare?ids={second.id},{third.id}",
                       f"/compare?ids={first.id},{third.id}",
                       f"/compare?ids={first.id},{second.id}"}
    document = parse(client.get(f"/compare?ids={first.id},{second.id}").data)
    assert not [a for a in document.iter("a") if a.get("class") == "compare-remove"]


def test_a_missing_row_offers_the_rest(client, three):
    first, second, _third = three
    body = client.get(f"/compare?ids={first.id},424242,{second.id}").data.decode()
    assert f'href="/compare?ids={first.id},{second.id}">Compare #{first.id}, #{second.id}' in body
    body = client.get(f"/compare?ids={first.id},424242").data.decode()
    assert "without it" not in body
