"""/benchmarks.csv and /benchmarks.jsonl: every public row of a filtered catalog view."""

from __future__ import annotations

import csv
import io
import json

import pytest

from webapp.services import evidence, exports, provenance
from webapp.services.rules import STALE_DAYS, Kind, State


def publish(session, make_row, **columns):
    row = make_row(**columns)
    evidence.refresh_derived(session, row)
    session.commit()
    return row


def fetch(client, url, **kwargs):
    """GET `url`, reading the streamed body before the request's context ends."""
    return client.get(url, buffered=True, **kwargs)


def read_csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def read_jsonl(response) -> list[dict]:
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


@pytest.fixture
def catalog(session, make_row):
    fast = publish(session, make_row, runs=((200.0, 512, 150.0),) * 3, handle="alice",
                   url="https://alice.example/bench")
    slow = publish(session, make_row, hardware="rtx-3090", runs=((300.0, 512, 80.0),) * 3)
    for state in (State.QUEUED, State.REJECTED, State.WITHDRAWN):
        make_row(state=state, runs=((100.0, 512, 500.0),) * 3, handle="hidden")
    reproduction = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=slow,
                            runs=((300.0, 512, 81.0),) * 3)
    stale = publish(session, make_row, age_days=STALE_DAYS + 10)
    session.commit()
    return {"fast": fast, "slow": slow, "reproduction": reproduction, "stale": stale}


def test_csv_holds_every_public_row_in_the_catalog_order_and_nothing_else(client, catalog):
    response = client.get("/benchmarks.csv")
    assert response.is_streamed and "Content-Length" not in response.headers
    response.get_data()
    response.close()
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = read_csv(response)
    assert [int(row["id"]) for row in rows] == [catalog["fast"].id, catalog["slow"].id]
    assert list(rows[0]) == list(exports.FIELDS)
    assert rows[0]["operator"] == "alice"
    assert rows[0]["operator_url"] == "https://alice.example/bench"
    assert rows[0]["badge"] == "community-submitted"
    assert rows[0]["hardware"] == "rtx-4090" and rows[1]["hardware"] == "rtx-3090"
    assert rows[0]["stale"] == "false"
    body = response.get_data(as_text=True)
    for private in ("anon:", "hidden", "status_nonce", "ip_hash", catalog["fast"].status_nonce):
        assert private not in body


def test_header_row_comes_first_even_when_nothing_matches(client, catalog):
    response = fetch(client, "/benchmarks.csv?hardware=rtx-4090&badge=independently-reproduced")
    assert response.status_code == 200
    lines = response.get_data(as_text=True).splitlines()
    assert lines == [",".join(exports.FIELDS)]


def test_filters_sort_and_stale_follow_the_catalog(client, catalog):
    rows = read_csv(fetch(client, "/benchmarks.csv?hardware=rtx-3090"))
    assert [int(row["id"]) for row in rows] == [catalog["slow"].id]
    rows = read_csv(fetch(client, "/benchmarks.csv?sort=ttft"))
    assert [int(row["id"]) for row in rows] == [catalog["fast"].id, catalog["slow"].id]
    rows = read_csv(fetch(client, "/benchmarks.csv?stale=1"))
    assert catalog["stale"].id in [int(row["id"]) for row in rows]
    assert next(r for r in rows if int(r["id"]) == catalog["stale"].id)["stale"] == "true"


def test_every_page_is_exported_not_just_one(app, client, session, make_row):
    app.config["PER_PAGE"] = 2
    made = [publish(session, make_row, runs=((200.0, 512, 50.0 + n),) * 3) for n in range(7)]
    rows = read_jsonl(fetch(client, "/benchmarks.jsonl?page=3"))
    assert [row["id"] for row in rows] == [row.id for row in reversed(made)]


def test_small_batches_still_give_every_row_once(session, make_row):
    from webapp.models import utcnow
    from webapp.services.catalog import parse_catalog_query, select_rows

    made = [publish(session, make_row, runs=((200.0, 512, 60.0 + n),) * 3) for n in range(5)]
    query, notices = parse_catalog_query({})
    selection = select_rows(session, query, notices, now=utcnow())
    batches = list(exports.batches(session, selection, now=utcnow(), batch=2))
    assert [len(batch) for batch in batches] == [2, 2, 1]  # the first batch is never larger
    assert [r[0] for batch in batches for r in batch] == [r.id for r in reversed(made)]


def test_a_bad_filter_value_is_refused_not_dropped(client, catalog):
    """A file has nowhere to show the catalog's notice (tests/test_open_data_filters.py)."""
    response = fetch(client, "/benchmarks.csv?hardware=no-such-gpu&badge=gold&sort=%3Cx%3E&page=-4")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json(force=True)["parameter"] in {"hardware", "badge", "sort", "page"}
    assert "Content-Disposition" not in response.headers


def test_jsonl_is_one_object_per_line_with_typed_values(client, catalog):
    response = fetch(client, "/benchmarks.jsonl")
    assert response.status_code == 200
    assert response.mimetype == "application/jsonl"
    rows = read_jsonl(response)
    assert [row["id"] for row in rows] == [catalog["fast"].id, catalog["slow"].id]
    assert rows[0]["decode_tps"] == 150.0 and rows[0]["speculative"] is False
    assert rows[0]["stale"] is False and rows[0]["tier"] in {"low", "moderate", "high"}
    assert set(rows[0]) == set(exports.FIELDS)


def test_download_is_an_attachment_named_after_the_filters(client, catalog):
    response = fetch(client, "/benchmarks.csv?hardware=rtx-4090&sort=ttft")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert 'filename="trustbench-benchmarks-hardware-rtx-4090-sort-ttft-' in disposition
    assert disposition.endswith('.csv"')
    assert fetch(client, "/benchmarks.jsonl").headers["Content-Disposition"].endswith('.jsonl"')


def test_typed_text_cannot_become_a_spreadsheet_formula(client, session, make_row):
    row = publish(session, make_row, handle="=HYPERLINK(1)", notes="+1 spread, see -x",
                  os_label="@SUM(A1)", driver_version="-2+3")
    rows = read_csv(fetch(client, "/benchmarks.csv"))
    (exported,) = [r for r in rows if int(r["id"]) == row.id]
    assert exported["operator"] == "'=HYPERLINK(1)"
    assert exported["notes"] == "'+1 spread, see -x"
    assert exported["os_label"] == "'@SUM(A1)"
    assert exported["driver_version"] == "'-2+3"
    # JSON has no formulas: the value is exactly what was typed.
    (as_json,) = [r for r in read_jsonl(fetch(client, "/benchmarks.jsonl")) if r["id"] == row.id]
    assert as_json["operator"] == "=HYPERLINK(1)"


# Medians of an even number of runs as rows stored them before they were rounded: the
# mean of the middle two, with its float noise.
NOISY_TTFT, NOISY_DECODE = (54.6 + 54.7) / 2, (85.9 + 86.2) / 2


def test_medians_are_exported_without_float_noise(client, session, make_row):
    assert repr(NOISY_TTFT) == "54.650000000000006"
    publish(session, make_row, ttft_ms=NOISY_TTFT, decode_tps=NOISY_DECODE,
            prefill_tps=NOISY_DECODE, vram_peak_mib=NOISY_TTFT)
    body = fetch(client, "/benchmarks.csv?stale=1").get_data(as_text=True)
    (row,) = csv.DictReader(io.StringIO(body))
    assert (row["ttft_ms"], row["decode_tps"]) == ("54.65", "86.05")
    assert (row["prefill_tps"], row["vram_peak_mib"]) == ("86.05", "54.65")
    lines = fetch(client, "/benchmarks.jsonl?stale=1").get_data(as_text=True)
    (record,) = [json.loads(line) for line in lines.splitlines()]
    assert (record["ttft_ms"], record["decode_tps"]) == (54.65, 86.05)
    for text in (body, lines):
        assert "00000" not in text and "99999" not in text


def test_how_the_numbers_got_there_is_exported_as_the_api_gives_it(client, session, make_row):
    imported = publish(session, make_row, source_format="llama-bench-json",
                       source_version="b5163", source_sha256="ab" * 32)
    typed = publish(session, make_row, hardware="rtx-3090")
    given = client.get(f"/api/v1/benchmarks/{imported.id}").get_json()["provenance"]
    assert given["sha256"] == "ab" * 32 and "TTFT was typed by hand" in given["caveat"]
    rows = {int(r["id"]): r for r in read_csv(fetch(client, "/benchmarks.csv"))}
    records = {r["id"]: r for r in read_jsonl(fetch(client, "/benchmarks.jsonl"))}
    for exported in (rows[imported.id], records[imported.id]):
        assert exported["source_format"] == "llama-bench-json"
        assert exported["source_sha256"] == given["sha256"]
        assert exported["source_caveat"] == given["caveat"]
    assert (rows[typed.id]["source_sha256"], rows[typed.id]["source_caveat"]) == ("", "")
    assert (records[typed.id]["source_sha256"], records[typed.id]["source_caveat"]) == (
        None, None)


def test_a_caveat_cannot_become_a_spreadsheet_formula(client, session, make_row, monkeypatch):
    publish(session, make_row, source_format="llama-bench-json", source_sha256="ab" * 32)
    monkeypatch.setattr(provenance, "of_row", lambda row: provenance.Provenance(
        "imported", "imported", sha256=row.source_sha256, caveat="=HYPERLINK(1)"))
    (row,) = read_csv(fetch(client, "/benchmarks.csv"))
    assert row["source_caveat"] == "'=HYPERLINK(1)"


def test_operator_url_is_exported_only_when_http(client, session, make_row):
    publish(session, make_row, handle="bob", url="javascript:alert(1)")
    (row,) = read_jsonl(fetch(client, "/benchmarks.jsonl"))
    assert row["operator_url"] is None


def test_related_to_names_a_public_hub_only(client, session, make_row):
    hub = publish(session, make_row)
    fragment = publish(session, make_row, kind=Kind.REPRODUCTION, hub=hub,
                       runs=((200.0, 512, 70.0),) * 3)
    rows = {r["id"]: r for r in read_jsonl(fetch(client, "/benchmarks.jsonl"))}
    assert rows[fragment.id]["related_to"] == hub.id
    hub.state = State.REJECTED
    session.commit()
    rows = {r["id"]: r for r in read_jsonl(fetch(client, "/benchmarks.jsonl"))}
    assert hub.id not in rows
    assert rows[fragment.id]["related_to"] is None


def test_etag_answers_304_until_public_data_changes(client, session, make_row, catalog):
    first = fetch(client, "/benchmarks.csv?hardware=rtx-4090")
    etag = first.headers["ETag"]
    assert first.cache_control.public and first.cache_control.max_age
    again = fetch(client, "/benchmarks.csv?hardware=rtx-4090", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    other = fetch(client, "/benchmarks.csv?hardware=rtx-3090", headers={"If-None-Match": etag})
    assert other.status_code == 200
    publish(session, make_row, runs=((200.0, 512, 120.0),) * 3)
    changed = fetch(client, "/benchmarks.csv?hardware=rtx-4090", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert len(read_csv(changed)) == 2


def test_a_compressed_export_answers_304_to_its_own_etag(client, catalog):
    """The ETag a gzip-taking client was given brings a 304 the next time, as it does
    for an uncompressed copy: compression must not turn it into one that never matches."""
    for encoding in ("gzip", "identity"):
        headers = {"Accept-Encoding": encoding}
        first = fetch(client, "/benchmarks.jsonl", headers=headers)
        assert first.status_code == 200
        again = fetch(client, "/benchmarks.jsonl",
                      headers={**headers, "If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, encoding
        # the 304 varies as its 200 does (RFC 9110, 15.4.5): not on HX-Request
        vary = lambda response: {v.strip() for v in response.headers.get("Vary", "").split(",")}  # noqa: E731
        assert vary(again) == vary(first), encoding


def test_catalog_offers_the_downloads_of_the_view_it_shows(client, catalog):
    page = client.get("/?hardware=rtx-4090&sort=ttft").get_data(as_text=True)
    assert 'href="/benchmarks.csv?hardware=rtx-4090&amp;sort=ttft"' in page
    assert 'href="/benchmarks.jsonl?hardware=rtx-4090&amp;sort=ttft"' in page
    assert 'href="/feed.atom?hardware=rtx-4090"' in page
    plain = client.get("/").get_data(as_text=True)
    assert 'href="/benchmarks.csv"' in plain and "the whole catalog" in plain


@pytest.mark.parametrize("sort", ["decode", "ttft", "newest", "vram", "share", "trust"])
def test_batches_walk_every_sort_with_ties_once_each(client, session, make_row, sort):
    from webapp.models import utcnow
    from webapp.services.catalog import parse_catalog_query, select_rows

    for number in range(7):  # pairs of equal speeds, so batches end inside a tie
        publish(session, make_row, runs=((200.0 + number, 512, 60.0 + number // 2),) * 3)
    query, notices = parse_catalog_query({"sort": sort})
    selection = select_rows(session, query, notices, now=utcnow())
    walked = [r[0] for batch in exports.batches(session, selection, now=utcnow(), batch=2)
              for r in batch]
    whole = [r["id"] for r in read_jsonl(fetch(client, f"/benchmarks.jsonl?sort={sort}"))]
    assert sorted(walked) == sorted(whole) and len(walked) == 7
    assert walked == whole
