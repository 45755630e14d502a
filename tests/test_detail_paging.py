"""A much-reproduced row's page: each ring's table (and the one of those accepted with a
note) shows its newest reproductions a page at a time, while the badge, the tier's
reasons, the headings' counts and the divergence strip's summary count every one."""

from __future__ import annotations

import re

import html5lib
import pytest

from tests.factories import counted_statements
from webapp.models import Hardware
from webapp.services import evidence
from webapp.services.detail import REPRODUCTIONS_PER_PAGE, differences
from webapp.services.rules import Kind, State

NS = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"
INNER = REPRODUCTIONS_PER_PAGE + 2


def _text(element) -> str:
    return " ".join(" ".join(element.itertext()).split())


@pytest.fixture
def hub(session, make_row):
    """A row with INNER inner-ring reproductions (the oldest first), one in the outer ring,
    one accepted with a note and one that became a row of its own."""
    row = make_row(handle="origin", age_days=400)
    inner = [make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=row,
                      handle=f"op-{number}", age_days=300 - number)
             for number in range(INNER)]
    outer = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=row,
                     handle="elsewhere", os_label="Fedora 41", age_days=200)
    noted = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=row,
                     handle="<b>noted</b>", notes="power <i>limit</i>", age_days=100,
                     runs=((300.0, 512, 85.0),) * 3)
    fragment = make_row(kind=Kind.REPRODUCTION, state=State.APPROVED, hub=row,
                        handle="fragment", runtime_version="b5000", age_days=50)
    evidence.refresh_derived(session, row)
    session.commit()
    return row, inner, outer, noted, fragment


def _ids_in(html: str, start: str, end: str) -> list[int]:
    part = html[html.index(start):html.index(end)]
    return [int(found) for found in re.findall(r'<tr id="repro-(\d+)"', part)]


def _badge_and_reasons(html: str) -> str:
    return html[html.index('id="h-trust"'):html.index('id="h-repros"')]


def test_the_first_page_shows_the_newest_of_each_table(client, hub):
    row, inner, outer, noted, fragment = hub
    html = client.get(f"/benchmarks/{row.id}").text
    newest = [r.id for r in reversed(inner)][:REPRODUCTIONS_PER_PAGE]
    assert _ids_in(html, 'id="ring-inner"', 'id="ring-outer"') == newest
    assert f"Inner ring ({INNER})" in html and "Outer ring (1)" in html
    assert f"Newest first: 1–{REPRODUCTIONS_PER_PAGE} of {INNER}." in html
    assert _ids_in(html, 'id="ring-outer"', 'id="accepted-with-a-note"') == [outer.id]
    assert _ids_in(html, 'id="accepted-with-a-note"', 'id="h-related"') == [noted.id]
    # what a visitor typed is shown as text
    assert "&lt;b&gt;noted&lt;/b&gt;" in html and "power &lt;i&gt;limit&lt;/i&gt;" in html
    assert "<b>noted</b>" not in html and "<i>limit</i>" not in html
    # the pager links the second page; the related row is listed on every page
    assert f'href="/benchmarks/{row.id}?page=2#h-repros"' in html  # opens at the tables
    assert f"#{fragment.id}" in html[html.index('id="h-related"'):]


def test_the_next_page_shows_the_older_ones_and_says_where_the_rest_are(client, hub):
    row, inner, outer, noted, _fragment = hub
    first = client.get(f"/benchmarks/{row.id}").text
    html = client.get(f"/benchmarks/{row.id}?page=2").text
    oldest = [r.id for r in reversed(inner)][REPRODUCTIONS_PER_PAGE:]
    assert _ids_in(html, 'id="ring-inner"', 'id="ring-outer"') == oldest
    assert f"Newest first: {REPRODUCTIONS_PER_PAGE + 1}–{INNER} of {INNER}." in html
    assert "Outer ring (1)" in html and "None on this page: all 1 are on earlier pages." in html
    assert f'id="repro-{outer.id}"' not in html and f'id="repro-{noted.id}"' not in html
    # badge, tier and its reasons count every reproduction, on every page
    assert _badge_and_reasons(html) == _badge_and_reasons(first)
    assert f'href="/benchmarks/{row.id}#h-repros"' in html  # back to the first page
    past = client.get(f"/benchmarks/{row.id}?page=3")  # past the last: the last
    assert past.status_code == 200
    assert _ids_in(past.text, 'id="ring-inner"', 'id="ring-outer"') == oldest


def test_the_strip_and_the_rings_count_every_reproduction(client, hub):
    row, inner, outer, noted, _fragment = hub
    for page in ("", "?page=2"):
        document = html5lib.parse(client.get(f"/benchmarks/{row.id}{page}").data)
        svgs = {svg.find(f"{SVG}title").get("id"): svg for svg in document.iter(f"{SVG}svg")
                if svg.find(f"{SVG}title") is not None}
        strip, rings = svgs["strip-title"], svgs["rings-title"]
        total = INNER + 2
        assert f"Divergence of {total} accepted reproductions" in _text(strip.find(f"{SVG}title"))
        desc = _text(strip.find(f"{SVG}desc"))
        assert f"Inner ring: {INNER}." in desc and "Outer ring: 1." in desc
        assert "Accepted with a note: 1." in desc
        # the dots are this page's reproductions, each linked to its line on this page
        shown = {int(found) for found in re.findall(
            r'id="repro-(\d+)"', client.get(f"/benchmarks/{row.id}{page}").text)}
        dots = {int(dot.get("data-repro")) for dot in strip.iter(f"{SVG}path")
                if dot.get("data-repro")}
        assert dots == shown
        assert f"{INNER} reproduction(s) in the inner ring" in _text(rings.find(f"{SVG}desc"))
        links = {a.get("href") for a in rings.iter(f"{SVG}a")}
        assert links == {f"#repro-{id_}" for id_ in shown if id_ != noted.id}


def test_a_page_past_the_last_is_the_last_and_others_redirect_to_their_spelling(
        client, hub, make_row, session):
    row, *_ = hub
    lone = make_row()
    session.commit()
    past = client.get(f"/benchmarks/{lone.id}?page=2")
    assert past.status_code == 200
    assert f'<link rel="canonical" href="http://localhost/benchmarks/{lone.id}">' in past.text
    assert 'class="pager"' not in client.get(f"/benchmarks/{lone.id}").text
    # a page number not spelt as the page's own redirects to it, as every paged page's
    for asked, spelt in (("x", ""), ("0", ""), ("-2", ""), ("1", ""), ("02", "?page=2"),
                         ("2&page=3", "?page=2")):
        response = client.get(f"/benchmarks/{row.id}?page={asked}")
        assert response.status_code == 301, asked
        assert response.headers["Location"] == f"/benchmarks/{row.id}{spelt}", asked
    assert client.get(f"/benchmarks/{row.id}?page=0", follow_redirects=True).text.count(
        '<tr id="repro-') == REPRODUCTIONS_PER_PAGE + 2
    assert client.get(f"/benchmarks/{row.id}?page=2").status_code == 200


def test_the_page_reads_the_database_once_whatever_the_row(app, client, hub, make_row,
                                                            session):
    app.config["PAGE_CACHE_SECONDS"] = 0  # every request rendered anew
    row, _inner, _outer, _noted, fragment = hub
    lone = make_row()
    session.commit()
    for id_ in (row.id, fragment.id, lone.id):
        client.get(f"/benchmarks/{id_}")  # warm: reference data, the data version
        with counted_statements() as statements:
            assert client.get(f"/benchmarks/{id_}").status_code == 200
        reads = [s for s in statements if "FROM submissions" in s]
        assert len(reads) == 1, reads


def test_a_difference_that_rounds_to_nothing_reads_the_same():
    decode, ttft = differences(250.0, 100.0, 250.1, 100.02)
    assert decode.label == "same as the original" and decode.word == "same"
    assert ttft.label == "same as the original"
    decode, ttft = differences(250.0, 100.0, 255.0, 99.0)
    assert decode.label == "1% slower" and ttft.label == "2% slower"


def test_a_changed_reference_row_shows_on_the_next_view(app, client, hub, session):
    app.config["PAGE_CACHE_SECONDS"] = 0
    row, *_ = hub
    assert "RTX 4090" in client.get(f"/benchmarks/{row.id}").text
    hardware = session.get(Hardware, row.hardware_id)
    hardware.name = "RTX 4090 <renamed>"
    session.commit()
    html = client.get(f"/benchmarks/{row.id}").text
    assert "RTX 4090 &lt;renamed&gt;" in html and "<renamed>" not in html


def test_a_reproductions_typed_text_stays_text_in_its_line_and_the_strip(
        client, session, make_row):
    """The reproduction tables and the strip are written outside Jinja's autoescape
    (web/detail_tables.py): a handle, environment, note and URL typed with markup in them
    are shown as text, and the URL stays a nofollow link inside its attribute."""
    row = make_row(handle="origin", age_days=40)
    typed = '<img src=x onerror=alert(1)>"'
    ringed = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=row,
                      handle="<b>ring</b>", os_label=typed, driver_version="<i>drv</i>",
                      url='https://example.com/"onmouseover="alert(1)', age_days=20)
    noted = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=row,
                     handle="<u>noted</u>", notes=typed, age_days=10,
                     runs=((300.0, 512, 85.0),) * 3)
    evidence.refresh_derived(session, row)
    session.commit()
    html = client.get(f"/benchmarks/{row.id}").text
    document = html5lib.parse(html)
    assert not [img for img in document.iter(f"{NS}img") if img.get("onerror")]
    for tag in ("b", "i", "u"):
        assert not list(document.iter(f"{NS}{tag}")), f"a typed <{tag}> became markup"
    line = next(tr for tr in document.iter(f"{NS}tr") if tr.get("id") == f"repro-{ringed.id}")
    assert "<b>ring</b>" in _text(line) and typed in _text(line)
    assert "<i>drv</i>" in _text(line)
    link = next(a for a in line.iter(f"{NS}a"))
    assert link.get("href") == 'https://example.com/"onmouseover="alert(1)'
    assert set(link.get("rel").split()) == {"nofollow", "noopener", "ugc"}
    assert link.get("onmouseover") is None
    noted_line = next(tr for tr in document.iter(f"{NS}tr")
                      if tr.get("id") == f"repro-{noted.id}")
    assert typed in _text(noted_line)
    titles = [_text(title) for path in document.iter(f"{SVG}path")
              if "strip-dot" in (path.get("class") or "") for title in path.iter(f"{SVG}title")]
    assert any("<b>ring</b>" in title for title in titles)
    assert any("<u>noted</u>" in title for title in titles)
    data = html[html.index("The strip’s data"):]
    assert "&lt;u&gt;noted&lt;/u&gt;" in data and "<u>noted</u>" not in data
