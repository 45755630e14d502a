"""The charts stay bounded however many rows an entry has: the hardware scatter draws at
most scatter_chart.MAX_DOTS dots and the model's bars at most charts.MAX_BARS, each
saying so; each page's data table shows its first lines, most rows first, and links a
paginated page of every line; names stay escaped on every one of these pages."""

from __future__ import annotations

import math
import re

import pytest
from sqlalchemy import select

from tests.test_charts import SVG, chart_svg, publish, runs, text_of
from tests.test_public_pages import parse
from webapp.models import ModelVariant
from webapp.services import chart_summaries, charts, scatter_chart, summaries
from webapp.services.rules import Badge

SHOWN = chart_summaries.CONFIGURATIONS_SHOWN


@pytest.fixture(autouse=True)
def no_page_store(app):
    app.config["PAGE_CACHE_SECONDS"] = 0


def data_table(document):
    return next(d for d in document.iter("details") if "chart-data" in d.get("class", ""))


def body_rows(element) -> list[str]:
    """Each body row of the tables in `element`, its cells' texts joined by " | "."""
    return [" | ".join(text_of(td).strip() for td in tr.iter("td"))
            for tr in element.iter("tr") if tr.find("td") is not None]


# --- the geometry -------------------------------------------------------------------------------


def test_a_crowded_scatter_merges_down_to_the_cap_and_keeps_every_row():
    # 400 configurations, each with rows far apart: some 2,000 separate spots
    series = []
    for i in range(400):
        gigabytes = 10 ** (i / 400 * 2)  # 1 to 100 GB, log-spread
        badge = (Badge.COMMUNITY, Badge.REPRODUCED)[i % 2]
        decodes = [5.0 * 1.9 ** k for k in range(5)]
        series.append(scatter_chart.Series(gigabytes, badge, 55.0, decodes, f"config {i}"))
    drawn = scatter_chart.scatter(series, 1000.0, [1])
    assert drawn is not None
    assert drawn.rows == 2000
    assert len(drawn.dots) <= scatter_chart.MAX_DOTS
    assert sum(dot.count for dot in drawn.dots) == 2000, "every row is in one dot"
    # a dot holds rows of one badge and one side of the ceiling only
    assert sum(dot.count for dot in drawn.dots if dot.above) == drawn.above == 400
    assert {dot.badge for dot in drawn.dots} == {Badge.COMMUNITY.value, Badge.REPRODUCED.value}
    assert drawn.merged_further
    assert f"2,000 rows drawn as {len(drawn.dots)} dots (at most 200:" in drawn.summary
    for dot in drawn.dots:
        assert drawn.left - 0.1 <= dot.x <= drawn.right + 0.1
        assert drawn.top - 0.1 <= dot.y <= drawn.bottom + 0.1
        if dot.count > 1:
            # the title says how many rows, their speeds and the bytes they read
            assert re.search(rf"{dot.count:,} rows, [\d.,]+–[\d.,]+ tok/s at [\d.,]+(–[\d.,]+)? GB",
                             dot.title), dot.title


def test_a_scatter_under_the_cap_is_not_merged_further():
    series = [scatter_chart.Series(5.0 + i, Badge.COMMUNITY, None, [10.0 * (i + 1)])
              for i in range(5)]
    drawn = scatter_chart.scatter(series, None, [])
    assert drawn is not None and not drawn.merged_further
    assert "at most" not in drawn.summary
    assert math.fsum(dot.count for dot in drawn.dots) == 5


def test_bars_draw_the_groups_with_most_rows_fastest_first():
    items = [charts.BarInput(f"{i}× GPU", 10.0 + i, rows=100 - i, ceiling_tps=None,
                             ceiling_label="Q4") for i in range(1, 31)]
    drawn = charts.bars(items)
    assert drawn is not None and drawn.groups == 30 and drawn.capped
    assert len(drawn.bars) == charts.MAX_BARS
    assert {bar.label for bar in drawn.bars} == {f"{i}× GPU" for i in range(1, 21)}
    assert [bar.median_tps for bar in drawn.bars] == sorted(
        (bar.median_tps for bar in drawn.bars), reverse=True)


# --- the pages ------------------------------------------------------------------------------


def many_configurations(session, make_row, count: int) -> None:
    """`count` configurations on the RTX 4090 (one per device count), the one-device one
    with three rows and the two-device one with two, the others one each."""
    for devices in range(1, count + 1):
        for _ in range(3 if devices == 1 else 2 if devices == 2 else 1):
            publish(session, make_row, hardware_count=devices, runs=runs(20.0 + devices))


def test_hardware_page_shows_the_first_configurations_and_links_them_all(
        client, session, make_row):
    many_configurations(session, make_row, SHOWN + 2)
    response = client.get("/hardware/rtx-4090")
    document = parse(response.data)
    table = data_table(document)
    lines = body_rows(table)
    assert len(lines) == SHOWN
    assert lines[0].startswith("Llama-3.1-8B-Instruct · GGUF Q4_K_M · 1× | 3 |"), lines[0]
    assert " · 2×, " in lines[1] and "| 2 |" in lines[1], "most rows first"
    assert f"the {SHOWN} with the most rows, of {SHOWN + 2}" in text_of(table)
    svg = chart_svg(document, "scatter-title")
    assert f"links a page of all {SHOWN + 2}" in text_of(svg)
    link = next(a for a in document.iter("a")
                if a.get("href") == "/hardware/rtx-4090/configurations")
    assert f"All {SHOWN + 2} configurations" in text_of(link)

    first = parse(client.get("/hardware/rtx-4090/configurations").data)
    assert len(body_rows(first)) == SHOWN
    pager = first.find(".//nav[@class='pager']")
    assert f"1–{SHOWN} of {SHOWN + 2} configurations" in text_of(pager)
    second = client.get("/hardware/rtx-4090/configurations?page=2")
    assert second.status_code == 200
    rest = body_rows(parse(second.data))
    assert len(rest) == 2 and all(line.split(" | ")[1] == "1" for line in rest)
    shown_everywhere = {line.split(" | ")[0] for line in body_rows(first) + rest}
    assert len(shown_everywhere) == SHOWN + 2, "every configuration, once"
    # past the last page: the last (as the catalog's pages), its canonical link saying so
    past = client.get("/hardware/rtx-4090/configurations?page=3")
    assert past.status_code == 200 and body_rows(parse(past.data)) == rest
    assert '<link rel="canonical" href="http://localhost/hardware/rtx-4090/configurations' \
           '?page=2">' in past.text
    assert client.get("/hardware/no-such-gpu/configurations").status_code == 404


def test_a_short_table_has_no_link_and_its_page_says_so(client, session, make_row):
    publish(session, make_row, runs=runs(100.0))
    document = parse(client.get("/hardware/rtx-4090").data)
    assert len(body_rows(data_table(document))) == 1
    assert not any((a.get("href") or "").endswith("/configurations") for a in document.iter("a"))
    page = client.get("/hardware/rtx-4090/configurations")
    assert page.status_code == 200 and "1 configuration" in page.get_data(as_text=True)
    empty = client.get("/hardware/rtx-3090/configurations")
    assert empty.status_code == 200
    assert "No public rows yet" in empty.get_data(as_text=True)


def test_model_page_draws_the_bars_with_most_rows_and_links_every_one(
        client, session, make_row):
    extra = 2
    many_configurations(session, make_row, charts.MAX_BARS + extra)
    document = parse(client.get("/models/llama-3.1-8b-instruct").data)
    svg = chart_svg(document, "bars-title")
    bars = [g for g in svg.iter(f"{SVG}g") if "chart-bar-row" in (g.get("class") or "")]
    assert len(bars) == charts.MAX_BARS
    assert (f"{charts.MAX_BARS} bars of {charts.MAX_BARS + extra} hardware and device counts"
            in text_of(svg))
    assert len(body_rows(data_table(document))) == charts.MAX_BARS
    link = next(a for a in document.iter("a")
                if a.get("href") == "/models/llama-3.1-8b-instruct/hardware")
    assert f"All {charts.MAX_BARS + extra} hardware and device counts" in text_of(link)

    listed = body_rows(parse(client.get("/models/llama-3.1-8b-instruct/hardware").data))
    assert len(listed) == min(SHOWN, charts.MAX_BARS + extra)
    assert listed[0].startswith("1× GeForce RTX 4090 | 3 |"), listed[0]
    drawn = {text_of(next(g.iter(f"{SVG}text"))).split(" (")[0] for g in bars}
    left_out = {line.split(" | ")[0] for line in listed} - drawn
    assert len(left_out) == extra, "the groups with the fewest rows are left out of the picture"
    past = client.get("/models/llama-3.1-8b-instruct/hardware?page=2")
    assert past.status_code == 200 and body_rows(parse(past.data)) == listed


def test_names_stay_escaped_on_the_charts_and_their_table_pages(client, session, make_row):
    typed = "<img src=x onerror=alert(1)>"
    publish(session, make_row, runs=runs(100.0))
    model = session.scalars(select(ModelVariant).where(
        ModelVariant.slug == "llama-3.1-8b-instruct")).one()
    model.name = typed
    session.commit()
    summaries.rebuild_charts(session)  # labels are taken when the summary is made
    session.commit()
    for path in ("/hardware/rtx-4090", "/hardware/rtx-4090/configurations",
                 "/models/llama-3.1-8b-instruct", "/models/llama-3.1-8b-instruct/hardware"):
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        parse(response.data)
        assert "<img src=x" not in body, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in body, path
