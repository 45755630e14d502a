"""Every page fits a phone, and the live warning stays in view while the runs are typed.

At 320 px (the narrowest phones), 390 px (a common phone) and 1280 px (a laptop) no page
scrolls sideways: `document.documentElement.scrollWidth <= window.innerWidth`. Wide
tables scroll inside their own region instead, and long words, URLs and hashes wrap. The
review queue is also checked at 768 px (a tablet held upright). On a failure the message
names the elements that stick out past the right edge.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import TIMEOUT_MS
from tests.browser.site_pages import (
    build_world,
    fill_runs,
    is_page,
    log_in,
    public_paths,
    review_paths,
)

browser = pytest.mark.browser

WIDTHS = (320, 390, 1280)
HEIGHT = 800

# The page's overflow, and the outermost elements whose right edge passes the viewport's.
MEASURE = """() => {
    const width = window.innerWidth;
    const wide = [];
    // An element's right edge, or its content's when that overflows the element's box
    // (content a scrolling or clipping element keeps inside does not count).
    const right = el => {
        const box = el.getBoundingClientRect();
        if (getComputedStyle(el).overflowX !== 'visible') return box.right;
        return box.left + Math.max(box.width, el.scrollWidth || 0);
    };
    for (const el of document.querySelectorAll('body *')) {
        const box = el.getBoundingClientRect();
        if (right(el) > width + 0.5 && box.width > 0) {
            let scroller = el.parentElement, clipped = false;
            for (; scroller; scroller = scroller.parentElement) {
                const style = getComputedStyle(scroller);
                if (['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)) {
                    clipped = true; break;
                }
            }
            if (!clipped) wide.push(el);
        }
    }
    return {scroll: document.documentElement.scrollWidth, width: width,
            // The innermost culprits: wide elements holding no other wide element.
            wide: wide.filter(el => !wide.some(inner => inner !== el && el.contains(inner)))
                      .slice(0, 5).map(el => el.tagName.toLowerCase() +
                  (el.id ? '#' + el.id : '') +
                  (el.className && typeof el.className === 'string'
                   ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
                  ' right=' + Math.round(right(el)))};
}"""


@pytest.fixture
def world(app, make_row, session):
    return build_world(app, make_row, session)


@pytest.fixture
def wide_page(page):
    page.set_default_timeout(3 * TIMEOUT_MS)
    return page


def overflow(page, base: str, paths, width: int) -> list[str]:
    page.set_viewport_size({"width": width, "height": HEIGHT})
    found = []
    for path in paths:
        if not is_page(page, base + path):
            continue
        response = page.goto(base + path)
        assert response is not None and response.status < 500, f"{path}: {response.status}"
        page.wait_for_load_state("load")
        measured = page.evaluate(MEASURE)
        if measured["scroll"] > measured["width"]:
            found.append(f"{path} at {width} px: the page is {measured['scroll']} px wide; "
                         f"sticking out: {', '.join(measured['wide']) or '?'}")
    return found


@browser
def test_the_measure_sees_a_page_that_scrolls_sideways(live_server, wide_page, world):
    """Control: a too-wide element makes the check fail, and names the element."""
    wide_page.set_viewport_size({"width": 320, "height": HEIGHT})
    wide_page.goto(live_server.url("/operators"))
    wide_page.evaluate("""() => {
        const block = document.createElement('p');
        block.className = 'too-wide';
        block.textContent = 'x'.repeat(400);
        document.querySelector('main').appendChild(block);
    }""")
    measured = wide_page.evaluate(MEASURE)
    assert measured["scroll"] > measured["width"]
    assert any("too-wide" in element for element in measured["wide"]), measured


@browser
@pytest.mark.parametrize("width", WIDTHS)
def test_no_public_page_scrolls_sideways(live_server, wide_page, world, width):
    paths = public_paths(live_server.app, world)
    found = overflow(wide_page, live_server, paths, width)
    # The forms in their other states: sent empty, with the live check filled in.
    wide_page.goto(live_server.url("/submit/benchmark"))
    with wide_page.expect_navigation():
        wide_page.click("form.submission-form button[type=submit]:has-text('Submit for review')")
    if wide_page.evaluate(MEASURE)["scroll"] > width:
        found.append(f"submit form with errors at {width} px: "
                     f"{wide_page.evaluate(MEASURE)['wide']}")
    wide_page.goto(live_server.url(f"/benchmarks/{world.hub.id}/reproduce"))
    fill_runs(wide_page, (150, 151, 149))
    wide_page.wait_for_selector('#live-check [data-band="not-reproduction"]')
    if wide_page.evaluate(MEASURE)["scroll"] > width:
        found.append(f"reproduce form with the live warning at {width} px: "
                     f"{wide_page.evaluate(MEASURE)['wide']}")
    assert found == [], "\n".join(found)


@browser
@pytest.mark.parametrize("width", WIDTHS + (768,))
def test_no_reviewer_page_scrolls_sideways(live_server, wide_page, world, width):
    wide_page.set_viewport_size({"width": width, "height": HEIGHT})
    log_in(wide_page, live_server)
    paths = review_paths(live_server.app, world)
    found = overflow(wide_page, live_server, paths, width)
    wide_page.context.clear_cookies()
    found += overflow(wide_page, live_server, ["/review/login"], width)
    assert found == [], "\n".join(found)


@browser
@pytest.mark.parametrize("width", (768, 390))
def test_a_reviewer_decides_from_the_queue_on_a_tablet(live_server, wide_page, world, width):
    """The queue's decision buttons are on screen and work without zooming out."""
    wide_page.set_viewport_size({"width": width, "height": 1024})
    log_in(wide_page, live_server)
    wide_page.goto(live_server.url("/review/"))
    row = wide_page.locator(f"#queue-row-{world.queued.id}")
    button = row.locator("form[action$='/reproduced'] button")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    button.click()
    wide_page.wait_for_selector(f"#queue-row-{world.queued.id}.decided .confirmation")


def _live_check_stays_in_view(page, base: str, path: str, decodes, ready: str) -> None:
    page.goto(base + path)
    fill_runs(page, decodes)
    page.wait_for_selector(ready)
    last = page.locator("#f-runs-2-decode_tps")
    last.focus()
    # Where an operator keeps the field they type in: the middle of the screen.
    last.evaluate("el => el.scrollIntoView({block: 'center'})")
    # Type into it again, as an operator correcting the last value would.
    last.fill(str(decodes[-1]))
    page.wait_for_selector(ready)
    viewport = page.viewport_size
    live = page.locator("section.live").bounding_box()
    field = last.bounding_box()
    assert live is not None and field is not None
    where = f"{path} at {viewport['width']} px"
    assert live["y"] >= 0 and live["y"] + live["height"] <= viewport["height"] + 0.5, (
        f"{where}: the live check is off screen: {live}, viewport {viewport}")
    assert field["y"] >= 0 and field["y"] + field["height"] <= viewport["height"], (
        f"{where}: the field being typed in is off screen: {field}")
    overlaps = not (field["y"] + field["height"] <= live["y"]
                    or live["y"] + live["height"] <= field["y"]
                    or field["x"] + field["width"] <= live["x"]
                    or live["x"] + live["width"] <= field["x"])
    assert not overlaps, f"{where}: the live check covers the field: {live} over {field}"
    # The warning itself (not only its box's top) is readable on screen.
    text = page.locator("#live-check").inner_text()
    assert text.strip(), f"{where}: the live check is empty"


@browser
@pytest.mark.parametrize("size", ({"width": 1280, "height": 800}, {"width": 390, "height": 844},
                                  {"width": 320, "height": 640}))
def test_the_live_warning_stays_in_view_while_the_runs_are_typed(live_server, wide_page, world,
                                                                  size):
    wide_page.set_viewport_size(size)
    _live_check_stays_in_view(wide_page, live_server, "/submit/benchmark", (100, 101, 99),
                              "#live-check table.live-numbers")
    _live_check_stays_in_view(wide_page, live_server, f"/benchmarks/{world.hub.id}/reproduce",
                              (150, 151, 149), '#live-check [data-band="not-reproduction"]')


@browser
def test_the_live_warning_does_not_float_over_the_rest_of_the_form(live_server, wide_page,
                                                                  world):
    """On a phone the check sticks only while the measurements are on screen: at the
    form's first field and at its submit button it is where the page puts it."""
    wide_page.set_viewport_size({"width": 390, "height": 844})
    wide_page.goto(live_server.url("/submit/benchmark"))
    submit = wide_page.locator("form.submission-form button[type=submit]").last
    submit.scroll_into_view_if_needed()
    live = wide_page.locator("section.live").bounding_box()
    button = submit.bounding_box()
    assert live["y"] + live["height"] <= button["y"], (live, button)
    wide_page.evaluate("window.scrollTo(0, 0)")
    live = wide_page.locator("section.live").bounding_box()
    assert live["y"] >= 844, f"the live check covers the top of the form: {live}"
