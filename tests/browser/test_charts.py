"""The charts in Chromium, at 1280 px and at 390 px: each is visible, has an accessible
name, and no page scrolls sideways; the strip's and the scatter's points sit where the
data says; nothing breaks the Content-Security-Policy."""

from __future__ import annotations

import pytest

from tests.test_charts import publish, reproduce, runs

pytestmark = pytest.mark.browser

WIDTHS = pytest.mark.parametrize("width", [1280, 390], ids=["wide", "phone"])


@pytest.fixture
def catalog(live_server, session, make_row):
    hub = publish(session, make_row, runs=runs(100.0, ttft=200.0), handle="original")
    reproduce(session, make_row, hub, handle="same-box", runs=runs(104.0, ttft=195.0))
    reproduce(session, make_row, hub, handle="other-box", os_label="Fedora 41",
              runs=runs(95.0, ttft=215.0))
    fast = publish(session, make_row, runs=runs(320.0))  # above the ceiling
    other = publish(session, make_row, hardware="rtx-3090", quant="gguf-q8_0",
                    runs=runs(80.0))
    return {"hub": hub, "fast": fast, "other": other}


def pages(catalog) -> list[tuple[str, str]]:
    """(address, the accessible name of a chart on it)."""
    hub, fast, other = catalog["hub"], catalog["fast"], catalog["other"]
    return [
        ("/hardware/rtx-4090", "Decode speed against bytes read per token on GeForce RTX 4090"),
        ("/models/llama-3.1-8b-instruct", "Median decode speed of Llama-3.1-8B-Instruct"),
        (f"/benchmarks/{hub.id}", "Divergence of 2 accepted reproductions"),
        ("/resources/reproduction-network", f"Reproduction network of benchmark #{hub.id}"),
        ("/resources/reproduction-network", "The confidence tier's upgrade path"),
        (f"/compare?ids={fast.id},{other.id},{hub.id}", None),
    ]


@WIDTHS
def test_charts_are_visible_named_and_fit_the_page(page, live_server, catalog, width):
    page.set_viewport_size({"width": width, "height": 900})
    for address, name in pages(catalog):
        response = page.goto(live_server.url(address))
        assert response.status == 200, address
        if name is not None:
            chart = page.get_by_role("img", name=name, exact=False)
            assert chart.count() == 1, (address, name)
            chart.scroll_into_view_if_needed()
            assert chart.is_visible(), address
            box = chart.bounding_box()
            assert box["width"] > 200 and box["x"] >= 0
            # a chart wider than the screen scrolls in its own box, inside the page
            region = chart.locator("xpath=ancestor::div[contains(@class, 'chart-scroll')]")
            edge = (region.bounding_box() if region.count() else box)
            assert edge["x"] + edge["width"] <= width, address
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{address} scrolls sideways by {overflow}px at {width}px"
    assert page.console_errors == []


# The smallest text of a chart as drawn on the screen: its font size times the SVG's scale.
SMALLEST_TEXT = """svg => Math.min(...Array.from(svg.querySelectorAll('text'),
    text => parseFloat(getComputedStyle(text).fontSize) * svg.getScreenCTM().a))"""


def test_wide_charts_keep_legible_text_on_a_phone_and_scroll_in_their_own_box(
        page, live_server, catalog):
    """At 360 px the scatter's and the strip's labels read at 10 px or more (squeezed to
    the screen they read at about 7 px); the chart scrolls sideways in a focusable region
    and the page does not."""
    page.set_viewport_size({"width": 360, "height": 800})
    hub = catalog["hub"]
    for address, name in [
        ("/hardware/rtx-4090", "Decode speed against bytes read per token on GeForce RTX 4090"),
        (f"/benchmarks/{hub.id}", "Divergence of 2 accepted reproductions"),
    ]:
        page.goto(live_server.url(address))
        chart = page.get_by_role("img", name=name, exact=False)
        assert chart.evaluate(SMALLEST_TEXT) >= 10, address
        region = chart.locator("xpath=ancestor::div[contains(@class, 'chart-scroll')]")
        assert region.get_attribute("tabindex") == "0"
        assert region.evaluate("el => el.scrollWidth > el.clientWidth"), address
        region.focus()
        page.keyboard.press("ArrowRight")
        for _ in range(20):  # Chromium scrolls by key smoothly, over a few frames
            if region.evaluate("el => el.scrollLeft") > 0:
                break
            page.wait_for_timeout(50)
        assert region.evaluate("el => el.scrollLeft") > 0, address
        assert page.evaluate("document.documentElement.scrollWidth"
                             " - document.documentElement.clientWidth") <= 0, address
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url("/hardware/rtx-4090"))
    region = page.locator("div.chart-scroll").first
    assert not region.evaluate("el => el.scrollWidth > el.clientWidth")  # nothing to scroll


def test_scatter_dot_above_its_ceiling_is_drawn_above_the_line(page, live_server, catalog):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url("/hardware/rtx-4090"))
    line = page.locator("svg line.chart-ceiling-one[data-devices]")
    above = page.locator("svg path.chart-dot.is-above")
    assert above.count() == 1
    # screen coordinates: the flagged dot's centre is higher than the line at its x
    dot = above.bounding_box()
    x1, y1, x2, y2 = (float(line.get_attribute(a)) for a in ("x1", "y1", "x2", "y2"))
    line_box = line.bounding_box()
    cx = dot["x"] + dot["width"] / 2
    # map the line into the page through its bounding box (it falls left to right)
    fraction = (cx - line_box["x"]) / line_box["width"]
    line_y = line_box["y"] + fraction * line_box["height"]
    assert dot["y"] + dot["height"] / 2 < line_y
    assert y2 > y1 and x2 > x1
    # the row is also named in the hover text, and the legend says what the ring means
    assert "flagged: over 1.10× its ceiling" in above.locator("title").text_content()
    assert page.get_by_text("Flagged: over 1.1× the ceiling that applies to it").is_visible()


def test_chart_data_tables_open_without_javascript(browser, live_server, catalog):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url(f"/benchmarks/{catalog['hub'].id}"))
        page.get_by_text("The strip’s data").click()
        table = page.get_by_role("region", name="divergence strip", exact=False)
        assert table.is_visible()
        assert "same-box" in table.inner_text() and "+4.0%" in table.inner_text()
    finally:
        context.close()
