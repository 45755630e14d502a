"""The /hardware and /models index pages: every reference entry with its public row count,
grouped by vendor or family in natural order, counts that follow the reviewers' decisions."""

from __future__ import annotations

import html5lib
import pytest
from sqlalchemy import event, func, select

from webapp.extensions import db
from webapp.models import Hardware, ModelVariant, Submission
from webapp.services import evidence
from webapp.services.reference_index import natural_key
from webapp.services.rules import Kind, State

EDITORIAL = {
    "model": "gemma-2-9b-it", "hardware": "apple-m2", "hardware_count": "1",
    "quant": "gguf-q4_k_m", "runtime": "llama-cpp", "runtime_version": "b4600",
    "driver_version": "Metal", "os_label": "macOS 15.1",
    "prompt_tokens": "512", "max_tokens": "256", "quant_provider": "bartowski",
    "runs-0-ttft_ms": "240", "runs-0-tokens_generated": "256", "runs-0-decode_tps": "10",
    "runs-1-ttft_ms": "250", "runs-1-tokens_generated": "256", "runs-1-decode_tps": "10.5",
    "runs-2-ttft_ms": "245", "runs-2-tokens_generated": "256", "runs-2-decode_tps": "9.5",
    "vram_peak_mib": "6100", "measured_on": "2025-01-15",
}


def parse(response):
    assert response.status_code == 200
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(response.data)


def listed(client, url: str) -> dict[str, tuple[str, str]]:
    """slug -> (group heading, "Public rows" cell text), in the page's order."""
    document = parse(client.get(url))
    found: dict[str, tuple[str, str]] = {}
    for section in document.iter("section"):
        if section.get("class") != "reference-index":
            continue
        heading = section.find("h2").text
        for row in section.iter("tr"):
            cells = {cell.get("data-label"): cell for cell in row.iter("td")}
            if not cells:
                continue
            link = next(cells[key] for key in cells if key in ("Hardware", "Model")).find("a")
            slug = link.get("href").rsplit("/", 1)[1]
            found[slug] = (heading, "".join(cells["Public rows"].itertext()).strip())
    return found


def groups(client, url: str) -> list[str]:
    return list(dict.fromkeys(heading for heading, _count in listed(client, url).values()))


def test_natural_order_reads_numbers_as_numbers():
    names = ["Apple M10", "GeForce RTX 4090", "Apple M2", "GeForce RTX 3090 Ti",
             "GeForce RTX 3090", "Llama-3.1-70B", "Llama-3.1-8B", "apple m3"]
    assert sorted(names, key=natural_key) == [
        "Apple M2", "apple m3", "Apple M10", "GeForce RTX 3090", "GeForce RTX 3090 Ti",
        "GeForce RTX 4090", "Llama-3.1-8B", "Llama-3.1-70B"]


def test_every_entry_is_listed_grouped_and_linked_with_its_count(client, session, make_row):
    for _ in range(3):
        evidence.refresh_derived(session, make_row(hardware="rtx-3090"))
    evidence.refresh_derived(session, make_row(hardware="apple-m2", model="gemma-2-9b-it"))
    session.commit()

    hardware = listed(client, "/hardware")
    assert set(hardware) == set(session.scalars(select(Hardware.slug)))
    assert hardware["rtx-3090"] == ("NVIDIA", "3")
    assert hardware["apple-m2"] == ("Apple", "1")
    assert hardware["rtx-4090"] == ("NVIDIA", "none yet")  # listed with no row, and says so
    assert hardware["other"][0] == "Not in the list"
    assert groups(client, "/hardware") == [
        "AMD", "Apple", "NVIDIA", "CPU only (by memory tier)", "Not in the list"]
    nvidia = [slug for slug, (group, _) in hardware.items() if group == "NVIDIA"]
    assert nvidia.index("rtx-3090") < nvidia.index("rtx-3090-ti") < nvidia.index("rtx-4090")

    models = listed(client, "/models")
    assert set(models) == set(session.scalars(select(ModelVariant.slug)))
    assert models["llama-3.1-8b-instruct"] == ("Llama 3.1", "3")
    assert models["gemma-2-9b-it"] == ("Gemma 2", "1")
    llama = [slug for slug, (group, _) in models.items() if group == "Llama 3.1"]
    assert llama == ["llama-3.1-8b", "llama-3.1-8b-instruct", "llama-3.1-70b-instruct"]
    assert groups(client, "/models")[-1] == "Not in the list"

    for url in ("/hardware/rtx-3090", "/hardware/rtx-4090", "/models/gemma-2-9b-it"):
        assert f'href="{url}"' in client.get(url.rsplit("/", 1)[0]).get_data(as_text=True)
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(("url", "title"), [("/hardware", "Hardware"), ("/models", "Models")])
def test_titles_headings_and_breadcrumbs(client, url, title):
    document = parse(client.get(url))
    assert document.find(".//title").text.startswith(f"{title} · ")
    assert document.find(".//h1").text == title
    crumbs = document.find(".//nav[@class='breadcrumbs']")
    assert crumbs.find("a").get("href") == "/"
    assert crumbs.find("span").get("aria-current") == "page" and crumbs.find("span").text == title
    assert document.find(".//meta[@name='description']").get("content")
    nav = {a.get("href"): a for a in document.iter("a") if a.get("href") == "/hardware"}
    assert nav, "the main navigation links the hardware index"


def test_counts_follow_the_decisions(reviewer_client, client, session, make_row):
    def count(slug):
        return listed(client, "/hardware")[slug][1]

    queued = make_row(hardware="rtx-3090", state=State.QUEUED)
    session.commit()
    assert count("rtx-3090") == "none yet"  # a queued row is not public

    assert reviewer_client.post(f"/review/submissions/{queued.id}/approve").status_code == 303
    assert count("rtx-3090") == "1"
    assert listed(client, "/models")["llama-3.1-8b-instruct"][1] == "1"

    repro = make_row(hardware="rtx-3090", kind=Kind.REPRODUCTION, state=State.QUEUED,
                     hub=queued, handle="bob")
    session.commit()
    assert reviewer_client.post(f"/review/submissions/{repro.id}/approve").status_code == 303
    assert count("rtx-3090") == "2"  # a reproduction approved as a row of its own

    response = reviewer_client.post(f"/review/submissions/{queued.id}/revise",
                                    {"to_state": "rejected", "reason": "Duplicate"})
    assert response.status_code == 303
    assert count("rtx-3090") == "1"

    assert count("apple-m2") == "none yet"
    assert reviewer_client.post("/review/editorial", EDITORIAL).status_code == 303
    assert count("apple-m2") == "1"
    assert listed(client, "/models")["gemma-2-9b-it"][1] == "1"

    public = session.scalar(select(func.count()).select_from(Submission).where(
        Submission.state == State.APPROVED))
    body = client.get("/hardware").get_data(as_text=True)
    assert f"{public} public rows" in body


def test_demo_rows_raise_the_demo_banner(client, session, make_row):
    evidence.refresh_derived(session, make_row())
    session.commit()
    assert "demo-banner" not in client.get("/hardware").get_data(as_text=True)
    evidence.refresh_derived(session, make_row(is_demo=True))
    session.commit()
    for url in ("/hardware", "/models"):
        assert "demo-banner" in client.get(url).get_data(as_text=True)


def test_a_page_costs_the_same_statements_however_many_rows(client, session, make_row):
    def statements_for(url: str) -> int:
        client.get(url)
        statements: list[str] = []

        def record(_conn, _cursor, statement, *_args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert not any("FROM submissions" in s for s in statements), "rows counted per request"
        return len(statements)

    evidence.refresh_derived(session, make_row())
    session.commit()
    small = {url: statements_for(url) for url in ("/hardware", "/models")}
    for slug in ("rtx-3090", "rtx-4090", "apple-m2", "mi300x"):
        for _ in range(10):
            evidence.refresh_derived(session, make_row(hardware=slug))
    session.commit()
    assert {url: statements_for(url) for url in small} == small
