"""An operator types runs into the reproduce form and watches the band change."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

BAND = "#live-check [data-band]"


def type_runs(page, ttft: float, decodes: tuple[float, float, float]) -> None:
    for index, decode in enumerate(decodes):
        page.fill(f"#f-runs-{index}-ttft_ms", str(ttft))
        page.fill(f"#f-runs-{index}-tokens_generated", "512")
        page.fill(f"#f-runs-{index}-decode_tps", str(decode))


def wait_for_band(page, band: str) -> None:
    page.wait_for_selector(f'#live-check [data-band="{band}"]')


def test_the_warning_follows_the_numbers(live_server, page, console_errors, make_row, session):
    hub = make_row()  # medians: TTFT 250 ms, decode 100 tok/s
    session.commit()
    page.goto(live_server.url(f"/benchmarks/{hub.id}/reproduce"))
    assert page.locator(BAND).count() == 0

    type_runs(page, 250, (101, 99, 100))
    wait_for_band(page, "within")
    assert "Within tolerance" in page.inner_text("#live-check")

    # decode 20% faster: related, and a note becomes required
    for index in range(3):
        page.fill(f"#f-runs-{index}-decode_tps", "120")
    wait_for_band(page, "related")
    live = page.inner_text("#live-check")
    assert "20%" in live and "Add a note" in live

    # 50% faster: not a reproduction, with both ways out
    for index in range(3):
        page.fill(f"#f-runs-{index}-decode_tps", "150")
    wait_for_band(page, "not-reproduction")
    fresh = page.locator("#live-check .refusal-links a").first
    assert re.search(r"runs-0-decode_tps=150", fresh.get_attribute("href"))
    assert page.locator(f'#live-check a[href="/submit/feedback?benchmark={hub.id}"]').count()

    # and back within tolerance when the numbers move back
    for index in range(3):
        page.fill(f"#f-runs-{index}-decode_tps", "95")
    wait_for_band(page, "within")

    assert console_errors == []


def test_posting_a_related_run_with_a_note_reaches_the_status_link(
    live_server, page, console_errors, make_row, session
):
    hub = make_row()
    session.commit()
    page.goto(live_server.url(f"/benchmarks/{hub.id}/reproduce"))
    type_runs(page, 250, (118, 119, 120))
    page.fill("#f-vram_peak_mib", "6100")
    wait_for_band(page, "related")
    page.click("button[type=submit]")  # without a note: refused beside the field
    page.wait_for_selector("#e-notes")
    assert page.input_value("#f-runs-2-decode_tps") == "120"
    page.fill("#f-notes", "Driver 555 instead of 560.")
    page.click("button[type=submit]")
    page.wait_for_selector("#status-link")
    assert "/submissions/" in page.input_value("#status-link")
    assert console_errors == []
