"""A chart's whole data table, in Chromium: from the hardware page a visitor reaches every
configuration of its chart a page at a time, by the link after the chart and the pager,
with JavaScript or without; axe finds nothing to fault on the pages on the way."""

from __future__ import annotations

import pytest

from tests.browser.test_axe import axe_file, axe_page, violations  # noqa: F401 (fixtures)
from tests.test_chart_pages import many_configurations
from webapp.services import chart_summaries

pytestmark = pytest.mark.browser

SHOWN = chart_summaries.CONFIGURATIONS_SHOWN


@pytest.fixture
def crowded(live_server, session, make_row):
    many_configurations(session, make_row, SHOWN + 3)


def test_every_configuration_is_reached_from_the_hardware_page(
        browser, live_server, crowded):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url("/hardware/rtx-4090"))
        page.get_by_text("The chart’s data, by configuration").click()
        table = page.get_by_role("region", name="The chart's data, by configuration",
                                 exact=False)
        assert table.is_visible()
        assert table.locator("tbody tr").count() == SHOWN
        page.get_by_role("link", name=f"All {SHOWN + 3} configurations").click()
        # the new page loaded, not only its address committed (a count read before the
        # document was parsed saw 0 rows once, on a loaded machine)
        page.wait_for_url("**/hardware/rtx-4090/configurations")
        assert page.locator("main tbody tr").count() == SHOWN
        page.get_by_role("link", name="Next").click()
        page.wait_for_url("**/hardware/rtx-4090/configurations?page=2")
        assert page.locator("main tbody tr").count() == 3
        status = f"{SHOWN + 1}–{SHOWN + 3} of {SHOWN + 3} configurations"
        assert page.get_by_text(status).is_visible()
    finally:
        context.close()


def test_the_chart_pages_have_no_axe_violation(live_server, axe_page, crowded):  # noqa: F811
    found = []
    for path in ("/hardware/rtx-4090", "/hardware/rtx-4090/configurations",
                 "/hardware/rtx-4090/configurations?page=2", "/models/llama-3.1-8b-instruct",
                 "/models/llama-3.1-8b-instruct/hardware"):
        response = axe_page.goto(live_server.url(path))
        assert response is not None and response.status == 200, path
        found += violations(axe_page, path)
    assert found == [], "\n".join(found)
