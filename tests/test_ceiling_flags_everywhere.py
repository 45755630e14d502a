"""A row above its bandwidth ceiling or its hardware's memory is flagged wherever it is
shown, not only on its own page: the catalog, the hardware and model pages, the CSV and
JSON Lines exports, the API list, the Atom feed and the embeddable badge all name the
flags the detail page lists, and a normal row or one that declares speculative decoding
shows none."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import fromstring as parse_svg

import feedparser
import pytest

from tests import factories
from tests.factories import counted_statements
from tests.test_public_pages import parse
from webapp.services import badge_svg, plausibility
from webapp.services.rules import FlagCode

SVG = "{http://www.w3.org/2000/svg}"
# RTX 4090 (1,008 GB/s, 24 GiB) with llama-3.1-8b-instruct at gguf-q4_k_m: a ceiling of
# about 205 tok/s, flagged above 1.10 × that; 24,576 MiB of memory.
ABOVE_CEILING_TPS = 300.0
ABOVE_MEMORY_MIB = 30_000.0
CEILING_FLAG, MEMORY_FLAG = "exceeds-ceiling", "vram-exceeds-memory"


def publish(session, make_row, decode=100.0, ttft=250.0, **columns):
    """A public row, approved an hour ago (so the feed has it), its index refreshed."""
    return factories.publish(session, make_row, runs=((ttft, 512, decode),) * 3,
                             decided_at=datetime.now(UTC) - timedelta(hours=1), **columns)


@pytest.fixture
def rows(session, make_row):
    """One row of each kind, on the same hardware and model."""
    return {
        "ceiling": publish(session, make_row, decode=ABOVE_CEILING_TPS),
        "memory": publish(session, make_row, vram_peak_mib=ABOVE_MEMORY_MIB),
        "both": publish(session, make_row, decode=ABOVE_CEILING_TPS,
                        vram_peak_mib=ABOVE_MEMORY_MIB),
        "normal": publish(session, make_row),
        "speculative": publish(session, make_row, decode=ABOVE_CEILING_TPS, speculative=True),
    }


EXPECTED = {"ceiling": [CEILING_FLAG], "memory": [MEMORY_FLAG],
            "both": [CEILING_FLAG, MEMORY_FLAG], "normal": [], "speculative": []}


def detail_flags(client, row) -> list[str]:
    """What the row's own page and its API detail list: the reference every surface
    must agree with."""
    body = client.get(f"/api/v1/benchmarks/{row.id}").get_json()
    return [flag["code"] for flag in body["ceiling"]["flags"]]


def test_the_detail_lists_what_the_other_surfaces_must_show(client, rows):
    for name, row in rows.items():
        assert detail_flags(client, row) == EXPECTED[name], name


# --- the row tables ----------------------------------------------------------------------


def table_rows(body: bytes) -> dict[int, object]:
    """The <tr>s of the rows table by row id."""
    document = parse(body)
    found = {}
    for tr in document.iter("tr"):
        link = tr.find(".//td/a")
        if link is not None and link.get("href", "").startswith("/benchmarks/"):
            found[int(link.get("href").rsplit("/", 1)[1])] = tr
    return found


def cell(tr, label: str):
    return next(td for td in tr.iter("td") if td.get("data-label") == label)


def markers(td) -> list[tuple[str, str, str]]:
    """(short text, title, classes) of each plausibility marker in a cell."""
    return [("".join(span.itertext()).removeprefix("Plausibility flag: "), span.get("title"),
             span.get("class"))
            for span in td.iter("span") if "marker-flag" in (span.get("class") or "")]


def test_catalog_marks_the_share_of_ceiling_and_the_memory_peak(client, rows):
    response = client.get("/")
    assert response.status_code == 200
    shown = table_rows(response.data)
    for name, row in rows.items():
        share = markers(cell(shown[row.id], "Share of ceiling"))
        memory = markers(cell(shown[row.id], "VRAM peak (MiB)"))
        decode = markers(cell(shown[row.id], "Decode (tok/s)"))
        assert decode == []  # the catalog marks the ceiling in its share column
        assert [text for text, _, _ in share] == (
            ["Above ceiling"] if CEILING_FLAG in EXPECTED[name] else []), name
        assert [text for text, _, _ in memory] == (
            ["Above memory"] if MEMORY_FLAG in EXPECTED[name] else []), name
    (text, title, classes), = markers(cell(shown[rows["ceiling"].id], "Share of ceiling"))
    assert "bandwidth ceiling" in title and "300 tok/s" in title
    assert "flag-exceeds-ceiling" in classes.split()
    (text, title, classes), = markers(cell(shown[rows["memory"].id], "VRAM peak (MiB)"))
    assert "30,000 MiB" in title and "24,576 MiB" in title
    assert "flag-vram-exceeds-memory" in classes.split()
    # the marker is read out too, not only seen
    span = next(s for s in shown[rows["ceiling"].id].iter("span")
                if "marker-flag" in (s.get("class") or ""))
    hidden = span.find("span")
    assert hidden.get("class") == "visually-hidden" and "flag" in hidden.text.lower()


@pytest.mark.parametrize("url", ["/hardware/rtx-4090", "/models/llama-3.1-8b-instruct"])
def test_hardware_and_model_pages_mark_the_decode_and_the_memory_peak(client, rows, url):
    response = client.get(url)
    assert response.status_code == 200
    shown = table_rows(response.data)
    for name, row in rows.items():
        decode = [text for text, _, _ in markers(cell(shown[row.id], "Decode (tok/s)"))]
        memory = [text for text, _, _ in markers(cell(shown[row.id], "VRAM peak (MiB)"))]
        assert decode == (["Above ceiling"] if CEILING_FLAG in EXPECTED[name] else []), name
        assert memory == (["Above memory"] if MEMORY_FLAG in EXPECTED[name] else []), name


def test_flags_cost_the_catalog_no_statement(app, client, session, make_row):
    """The flags are worked out from columns the page reads anyway."""
    app.config["PAGE_CACHE_SECONDS"] = 0
    publish(session, make_row)
    client.get("/")  # warm: reference data kept per data version
    with counted_statements() as plain:
        assert client.get("/").status_code == 200
    publish(session, make_row, decode=ABOVE_CEILING_TPS, vram_peak_mib=ABOVE_MEMORY_MIB)
    client.get("/")
    with counted_statements() as flagged:
        body = client.get("/").data
    assert b"Above ceiling" in body
    assert len(flagged) == len(plain)


# --- the exports -------------------------------------------------------------------------


def test_csv_and_jsonl_carry_the_flags(client, rows):
    response = client.get("/benchmarks.csv", buffered=True)
    by_id = {int(record["id"]): record
             for record in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}
    lines = client.get("/benchmarks.jsonl", buffered=True).get_data(as_text=True)
    objects = {record["id"]: record for record in map(json.loads, lines.splitlines())}
    for name, row in rows.items():
        assert by_id[row.id]["flags"].split() == EXPECTED[name], name
        assert objects[row.id]["flags"].split() == EXPECTED[name], name
    assert by_id[rows["both"].id]["flags"] == "exceeds-ceiling vram-exceeds-memory"
    assert objects[rows["normal"].id]["flags"] == ""


def test_the_data_page_explains_the_flags_column(client):
    document = parse(client.get("/data").data)
    names = [code.text for code in document.iter("code")]
    assert "flags" in names and CEILING_FLAG in names and MEMORY_FLAG in names
    explained = document.find(".//p[@id='field-flags']")
    assert "plausibility" in "".join(explained.itertext())


# --- the API -----------------------------------------------------------------------------


def test_api_list_items_carry_the_detail_flag_codes(client, rows):
    items = {item["id"]: item
             for item in client.get("/api/v1/benchmarks?limit=100").get_json()["items"]}
    for name, row in rows.items():
        assert items[row.id]["flags"] == EXPECTED[name] == detail_flags(client, row), name
        detail = client.get(f"/api/v1/benchmarks/{row.id}").get_json()
        assert detail["summary"]["flags"] == EXPECTED[name], name


def test_openapi_documents_the_summary_flags(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    flags = schemas["BenchmarkSummary"]["properties"]["flags"]
    assert "flags" in schemas["BenchmarkSummary"]["required"]
    assert flags["type"] == "array"
    assert flags["items"] == {"$ref": "#/components/schemas/FlagCode"}
    assert set(schemas["FlagCode"]["enum"]) == {CEILING_FLAG, MEMORY_FLAG}


# --- the feed ----------------------------------------------------------------------------


def feed_entries(client) -> dict[int, object]:
    parsed = feedparser.parse(client.get("/feed.atom").get_data())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return {int(entry.link.rsplit("/", 1)[1]): entry for entry in parsed.entries}


def test_feed_summaries_name_the_flags(client, rows):
    entries = feed_entries(client)
    for name, row in rows.items():
        summary = entries[row.id].summary
        assert ("Flagged: Exceeds the bandwidth ceiling." in summary) == (
            CEILING_FLAG in EXPECTED[name]), name
        assert ("Flagged: Memory peak exceeds the hardware's memory." in summary) == (
            MEMORY_FLAG in EXPECTED[name]), name
        terms = [tag.term for tag in entries[row.id].tags]
        assert terms == ["published", *EXPECTED[name]], name


@pytest.mark.parametrize(("ttft", "decode", "ttft_text", "decode_text"), [
    (0.45, 87.3, "0.5", "87.3"),
    (20.5, 300.0, "20.5", "300"),
    (1234.0, 12.0, "1,234", "12"),
])
def test_feed_writes_numbers_as_the_catalog_does(client, session, make_row, ttft, decode,
                                                 ttft_text, decode_text):
    row = publish(session, make_row, decode=decode, ttft=ttft)
    summary = feed_entries(client)[row.id].summary
    assert (f"decode {decode_text} tok/s, time to first token {ttft_text} ms"
            in summary), summary
    tr = table_rows(client.get("/").data)[row.id]
    assert "".join(cell(tr, "TTFT (ms)").itertext()) == ttft_text
    assert "".join(cell(tr, "Decode (tok/s)").itertext()) == decode_text


# --- the badge ---------------------------------------------------------------------------


def badge(client, row):
    response = client.get(f"/benchmarks/{row.id}/badge.svg")
    assert response.status_code == 200
    root = parse_svg(response.get_data(as_text=True))
    texts = [text.text for text in root.iter(f"{SVG}text")]
    return root, root.find(f"{SVG}title").text, texts


def test_badge_says_a_row_is_flagged_in_its_text_and_title(client, rows):
    for name, row in rows.items():
        _root, title, texts = badge(client, row)
        flagged = [text for text in texts if "above" in text]
        if name == "both":
            assert flagged == ["above ceiling · above memory"]
        elif name == "ceiling":
            assert flagged == ["above ceiling"]
        elif name == "memory":
            assert flagged == ["above memory"]
        else:
            assert flagged == [], name
        said = title.partition("; flagged: ")[2]
        assert said == ", ".join(
            {CEILING_FLAG: "exceeds the bandwidth ceiling",
             MEMORY_FLAG: "memory peak exceeds the hardware's memory"}[code]
            for code in EXPECTED[name]), name


def test_a_flagged_badge_is_as_wide_as_its_parts(client, rows):
    root, _title, texts = badge(client, rows["both"])
    rects = list(root.iter(f"{SVG}rect"))
    assert len(rects) == len(texts) == 4
    width = int(root.get("width"))
    assert root.get("viewBox") == f"0 0 {width} {badge_svg.HEIGHT}"
    x = 0
    for rect, text in zip(rects, texts, strict=True):
        assert int(rect.get("x")) == x
        assert int(rect.get("width")) == badge_svg.text_width(text)
        x += int(rect.get("width"))
    assert x == width
    assert rects[-1].get("fill") == badge_svg.FLAG_COLOUR
    _root, _title, plain = badge(client, rows["normal"])
    assert len(plain) == 3


def test_every_flag_has_a_short_name_for_tables_and_the_badge():
    assert set(plausibility.SHORT_LABELS) == set(FlagCode)
