"""Reviewers see how a submission's numbers got there, beside its runs."""

from __future__ import annotations

import re
from html import unescape

from webapp.services.rules import State


def provenance_line(html: str) -> str:
    match = re.search(r'<p class="provenance[^"]*" id="provenance">(.*?)</p>', html, re.S)
    assert match, "no provenance line on the page"
    return unescape(match.group(1))


def test_the_review_page_says_how_the_numbers_got_there(reviewer_client, make_row, session):
    measured = make_row(state=State.QUEUED, source_format="trustbench-result",
                        source_version="1.0", source_sha256="ab" * 32)
    imported = make_row(state=State.QUEUED, source_format="ollama-verbose")
    typed = make_row(state=State.QUEUED)
    session.commit()

    html = reviewer_client.get(f"/review/submissions/{measured.id}").text
    line = provenance_line(html)
    assert line == ("How the numbers got there: measured with trustbench-measure 1.0 "
                    f"(source file sha256 <code>{'ab' * 32}</code>).")
    assert html.index('id="provenance"') < html.index("<table class=\"runs\">")

    line = provenance_line(reviewer_client.get(f"/review/submissions/{imported.id}").text)
    assert line.startswith("How the numbers got there: imported from ollama run --verbose")
    assert "TTFT was typed by hand" in line

    line = provenance_line(reviewer_client.get(f"/review/submissions/{typed.id}").text)
    assert line == "How the numbers got there: typed by hand."
