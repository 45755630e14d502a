"""The exports' download names: one plain ASCII name, whatever a search typed."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from webapp.services import exports
from webapp.services.catalog import parse_catalog_query

SAFE_NAME = re.compile(r'^attachment; filename="(?P<name>[A-Za-z0-9._-]+)"$')

# Searches a browser sends percent-encoded: non-Latin letters (a server refuses a header
# holding them, so the download failed with a 500), invisible and bidi characters, and
# quotes and semicolons that would add parameters of their own to Content-Disposition.
HOSTILE_SEARCHES = {
    "cyrillic": "%D0%B0",
    "euro": "%E2%82%AC",
    "zero-width joiner": "a%E2%80%8Db",
    "right-to-left override": "%E2%80%AEabc",
    "japanese": "%E6%97%A5%E6%9C%AC%E8%AA%9E%E3%83%A2%E3%83%87%E3%83%AB",
    "filename* injection": "x%22%3B%20filename%2A%3DUTF-8%27%27evil.html%3B%20x%3D%22",
    "quote": "a%22b",
    "backslash": "a%5C%22b",
    "dots and slashes": "..%2F..%2Fetc%2Fpasswd",
}


@pytest.mark.parametrize("q", HOSTILE_SEARCHES.values(), ids=HOSTILE_SEARCHES.keys())
@pytest.mark.parametrize("extension", ["csv", "jsonl"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_any_search_downloads_under_one_plain_ascii_name(client, q, extension, method):
    response = client.open(f"/benchmarks.{extension}?q={q}", method=method, buffered=True)
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    found = SAFE_NAME.match(disposition)
    assert found, f"not one plain quoted name: {disposition!r}"
    assert "filename*" not in disposition
    assert found["name"].startswith("trustbench-benchmarks-q")
    assert found["name"].endswith(f".{extension}")
    disposition.encode("ascii")  # what a server can send as it is


def test_ascii_in_a_search_stays_readable_in_the_name():
    query, _ = parse_catalog_query({"q": 'llama 3 "8b"; x=1', "hardware": "rtx-4090"})
    name = exports.filename(query, exports.CSV, datetime(2026, 12, 3, tzinfo=UTC))
    assert name == "trustbench-benchmarks-q-llama-3-8b-x-1-hardware-rtx-4090-2026-12-03.csv"


def test_a_search_with_nothing_ascii_still_says_it_is_a_search():
    query, _ = parse_catalog_query({"q": "日本語"})
    name = exports.filename(query, exports.JSONL, datetime(2026, 12, 3, tzinfo=UTC))
    assert name == "trustbench-benchmarks-q-2026-12-03.jsonl"


def test_a_long_search_is_cut_to_a_bounded_name():
    query, _ = parse_catalog_query({"q": "x" * 80})  # the longest search the catalog takes
    name = exports.filename(query, exports.CSV, datetime(2026, 12, 3, tzinfo=UTC))
    assert name == f"trustbench-benchmarks-q-{'x' * exports.NAME_VALUE_MAX}-2026-12-03.csv"


def test_every_filter_keeps_its_slug_in_the_name():
    query, _ = parse_catalog_query({
        "model": "llama-3.1-8b", "hardware": "rtx-4090", "quant": "q4_k_m",
        "runtime": "llama.cpp", "sort": "ttft", "stale": "1"})
    name = exports.filename(query, exports.CSV, datetime(2026, 12, 3, tzinfo=UTC))
    assert name == ("trustbench-benchmarks-model-llama-3.1-8b-hardware-rtx-4090-quant-q4_k_m"
                    "-runtime-llama.cpp-sort-ttft-stale-1-2026-12-03.csv")
