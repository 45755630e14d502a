"""The day a row was submitted leaves the site as the catalog shows it: the catalog's
"Added" column and sort=newest order by it, so the API's list and the CSV and JSONL
exports carry it too (`submitted_on`), and a client can check the order it was given."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from tests.factories import listed_ids, publish
from webapp.models import utcnow


def rows_of_three_days(session, make_row):
    today = utcnow()
    rows = [publish(session, make_row, decode_tps=50.0 + days, created_at=today - timedelta(
        days=days, hours=1)) for days in (3, 0, 9)]
    session.commit()
    return rows


def test_the_api_and_the_exports_carry_the_day_the_catalog_shows(client, session, make_row):
    rows = rows_of_three_days(session, make_row)
    newest = sorted(rows, key=lambda row: row.created_at, reverse=True)
    days = {row.id: row.created_at.date().isoformat() for row in rows}
    assert listed_ids(client.get("/?sort=newest").data) == [row.id for row in newest]
    catalog = client.get("/?sort=newest").text
    assert all(f'<time datetime="{day}">{day}</time>' in catalog for day in days.values())

    items = client.get("/api/v1/benchmarks?sort=newest").get_json()["items"]
    assert [(item["id"], item["submitted_on"]) for item in items] == [
        (row.id, days[row.id]) for row in newest]
    one = client.get(f"/api/v1/benchmarks/{rows[2].id}").get_json()
    assert one["summary"]["submitted_on"] == days[rows[2].id]

    table = list(csv.DictReader(io.StringIO(client.get("/benchmarks.csv?sort=newest").text)))
    assert [(int(line["id"]), line["submitted_on"]) for line in table] == [
        (row.id, days[row.id]) for row in newest]
    lines = client.get("/benchmarks.jsonl?sort=newest").text.splitlines()
    assert [json.loads(line)["submitted_on"] for line in lines] == [
        days[row.id] for row in newest]


def test_the_api_documents_the_field_with_the_sort_it_orders(client):
    document = client.get("/api/v1/openapi.json").get_json()
    field = document["components"]["schemas"]["BenchmarkSummary"]["properties"]["submitted_on"]
    assert field["format"] == "date" and "sort=newest" in field["description"]
