"""Filtered catalog pages on a skewed catalog (issue 14): the rows are the same whichever
index SQLite is told to lead with (services.narrowing), the counts it chooses by follow
the decisions, and on SQLite the read walks the small filter or the sort's index, not the
largest filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, text

from tests.conftest import POSTGRES_URL
from tests.factories import listed_ids
from webapp.extensions import db
from webapp.models import Hardware, ModelVariant, PublicRowCount, Quant, Runtime, Submission
from webapp.services import catalog, evidence, summaries
from webapp.services.catalog import CatalogQuery
from webapp.services.listing import stale_edge
from webapp.services.narrowing import LOOKUP_MARGIN, SORT_TO_WALK, sort_index_leads
from webapp.services.rules import Badge, State, Tier
from webapp.services.sorting import Sort, order

SLUGS = {
    "model": ("llama-3.1-8b-instruct", "gemma-2-9b-it", "qwen2.5-7b-instruct"),
    "hardware": ("rtx-4090", "rtx-3090"),
    "quant": ("gguf-q4_k_m", "gguf-q8_0", "fp16"),
    "runtime": ("llama-cpp", "ollama", "vllm"),
}
TABLES = {"model": ModelVariant, "hardware": Hardware, "quant": Quant, "runtime": Runtime}


def ids_of(name: str) -> list[int]:
    table = TABLES[name]
    found = dict(db.session.execute(select(table.slug, table.id)
                                    .where(table.slug.in_(SLUGS[name]))).all())
    return [found[slug] for slug in SLUGS[name]]


def skewed_catalog(count: int) -> None:
    """`count` public rows written at once: the first quant holds nine rows in ten, the
    last one in fifty, the first model two in three, the last runtime none; some stale;
    then the summaries rebuilt as `flask refresh` does."""
    now = datetime.now(UTC)
    models, hardware, quants, runtimes = (ids_of(name) for name in SLUGS)
    rows = []
    for i in range(count):
        created = now - timedelta(days=1 + (i * 7) % 700, minutes=i)
        rows.append(dict(
            kind="fresh", state=State.APPROVED.value,
            model_id=models[0] if i % 3 else models[1 + i % 2],
            hardware_id=hardware[i % 2], hardware_count=1,
            quant_id=quants[2] if i % 50 == 7 else quants[0] if i % 10 else quants[1],
            runtime_id=runtimes[i % 2], concurrent_users=1,
            ttft_ms=100.0 + (i * 7) % 997, decode_tps=float(10 + (i * 37) % 1499) / 3,
            tokens_generated=512, ttft_spread=0.0, decode_spread=0.0,
            vram_peak_mib=4000.0 + (i * 13) % 4001, notes="", operator_key=f"anon:skew{i}",
            status_nonce=f"skew-nonce-{i:08d}", is_demo=False, created_at=created,
            measured_at=created, derived_badge=Badge.COMMUNITY.value,
            derived_tier=Tier.LOW.value, derived_tier_lifted_off=Tier.LOW.value,
            derived_tier_aged=Tier.LOW.value, derived_newest_at=created,
            derived_repro_count=0, derived_ceiling_share=0.0, derived_trust_rank=0,
        ))
    db.session.execute(insert(Submission), rows)
    summaries.rebuild_all(db.session)
    db.session.commit()


def expected(filters: dict[str, str], sort: Sort, now: datetime) -> list[int]:
    """The fresh public rows under `filters` in `sort`'s order, worked out in Python."""
    chosen = {name: dict(zip(SLUGS[name], ids_of(name), strict=True))[slug]
              for name, slug in filters.items()}
    edge = stale_edge(now).replace(tzinfo=None)
    rows = [row for row in db.session.execute(select(
        Submission.id, Submission.decode_tps, Submission.ttft_ms, Submission.vram_peak_mib,
        Submission.created_at, Submission.model_id, Submission.hardware_id,
        Submission.quant_id, Submission.runtime_id, Submission.derived_newest_at,
    ).where(Submission.state == State.APPROVED)).all()
        if all(getattr(row, f"{name}_id") == value for name, value in chosen.items())
        and row.derived_newest_at.replace(tzinfo=None) >= edge]
    key = {
        Sort.DECODE: lambda r: (-r.decode_tps, -r.id),
        Sort.TTFT: lambda r: (r.ttft_ms, r.id),
        Sort.VRAM: lambda r: (r.vram_peak_mib, r.id),
        Sort.NEWEST: lambda r: (-r.created_at.timestamp(), -r.id),
    }[sort]
    return [row.id for row in sorted(rows, key=key)]


COMBINATIONS = [
    {"quant": "gguf-q4_k_m"},
    {"quant": "gguf-q4_k_m", "runtime": "vllm"},  # the largest quant, a runtime with none
    {"model": "llama-3.1-8b-instruct", "quant": "gguf-q4_k_m"},
    {"model": "gemma-2-9b-it", "runtime": "ollama"},
    {"model": "llama-3.1-8b-instruct", "hardware": "rtx-3090", "quant": "gguf-q8_0"},
    {"hardware": "rtx-4090", "quant": "gguf-q8_0", "runtime": "llama-cpp"},
    {"quant": "fp16"},
    {"quant": "fp16", "runtime": "ollama"},
]


@pytest.mark.parametrize("sort", [Sort.DECODE, Sort.TTFT, Sort.VRAM, Sort.NEWEST])
def test_filtered_pages_list_the_rows_in_order_and_count_them(app, client, sort):
    app.config["PER_PAGE"] = 7
    skewed_catalog(600)
    now = datetime.now(UTC)
    for filters in COMBINATIONS:
        every = expected(filters, sort, now)
        args = dict(filters, sort=sort.value)
        pages = -(-len(every) // 7)
        for page in sorted({1, 2, pages // 2, pages}):
            if page < 1:
                continue
            query = "&".join(f"{name}={value}" for name, value in args.items())
            body = client.get(f"/?{query}&page={page}", follow_redirects=True).data
            assert listed_ids(body) == every[(page - 1) * 7:page * 7], (filters, sort, page)
            if every:
                assert f"of {len(every)} rows" in body.decode(), (filters, sort)
            else:
                assert "No public rows match these filters" in body.decode()


def test_the_api_list_walks_a_filtered_selection_in_order(client):
    skewed_catalog(300)
    filters = {"model": "llama-3.1-8b-instruct", "runtime": "ollama"}
    every = expected(filters, Sort.VRAM, datetime.now(UTC))
    url = "/api/v1/benchmarks?limit=20&sort=vram&" + "&".join(
        f"{name}={value}" for name, value in filters.items())
    seen = []
    while url:
        answer = client.get(url).get_json()
        assert answer["total"] == len(every)
        seen += [item["id"] for item in answer["items"]]
        url = answer["next"] and answer["next"].split("localhost", 1)[1]
    assert seen == every


def test_quant_and_runtime_counts_follow_the_decisions(client, session, make_row):
    row = make_row(quant="gguf-q8_0", runtime="vllm")
    evidence.refresh_derived(session, row)
    session.commit()

    def kept(subject: str, reference_id: int) -> int | None:
        return session.scalar(select(PublicRowCount.rows).where(
            PublicRowCount.subject == subject, PublicRowCount.reference_id == reference_id))

    assert kept("quant", row.quant_id) == 1 and kept("runtime", row.runtime_id) == 1
    row.state = State.REJECTED
    evidence.refresh_derived(session, row)
    session.commit()
    assert kept("quant", row.quant_id) is None and kept("runtime", row.runtime_id) is None


def test_the_sort_index_leads_only_when_its_walk_is_clearly_cheaper():
    # a quarter of 4,000 rows: a page of 26 passes about 104 entries, against sorting 1,000
    assert sort_index_leads([1_000], 4_000, 26)
    # one row in 500 (8 rows): a walk of about 13,000 entries, against sorting 8 rows
    assert not sort_index_leads([8], 4_000, 26)
    # a combination expected to hold one row in 400: about 10,400 passed, against 100 sorted
    assert not sort_index_leads([100, 4_000 // 4], 4_000, 26)
    # a filter holding no row leads (nothing to walk); so does an empty catalog
    assert not sort_index_leads([0, 3_000], 4_000, 26)
    assert not sort_index_leads([10], 0, 26)
    # the margin: a walk a little cheaper than the sort is not enough
    share, rows = 0.5, 2_000
    even = share * rows * SORT_TO_WALK / LOOKUP_MARGIN  # the reach where the two are even
    assert not sort_index_leads([rows], 4_000, int(even) + 1)
    assert sort_index_leads([rows], 4_000, int(even) - 1)


@pytest.mark.skipif(bool(POSTGRES_URL), reason="PostgreSQL plans from its own per-value "
                    "statistics; the choice is SQLite's")
@pytest.mark.parametrize(("filters", "sort", "read"), [
    # the largest quant with a runtime that has no row: the runtime's index, not the quant's
    ({"quant": "gguf-q4_k_m", "runtime": "vllm"}, Sort.DECODE,
     "INDEX ix_submissions_state_runtime"),
    # two in three rows are this model's: walking the VRAM index finds a page soonest
    ({"model": "llama-3.1-8b-instruct"}, Sort.VRAM, "INDEX ix_submissions_state_vram"),
    # one row in fifty holds this quant: its rows are sorted, not found by walking the
    # TTFT index in order (SQLite, taking the quant for an average one, would walk it;
    # at 4,000 rows it reads them from the TTFT index's entries, at 100,000 by the quant)
    ({"quant": "fp16"}, Sort.TTFT, "USE TEMP B-TREE FOR ORDER BY"),
    # the smaller filter is the one SQLite may seek by, in decode order as in a count
    ({"model": "gemma-2-9b-it", "quant": "gguf-q4_k_m"}, Sort.DECODE,
     "INDEX ix_submissions_state_model"),
])
def test_sqlite_reads_through_the_index_the_counts_choose(app, filters, sort, read):
    skewed_catalog(4_000)
    db.session.execute(text("ANALYZE"))
    query = CatalogQuery(sort=sort, **filters)
    selection = catalog.select_rows(db.session, query, (), now=datetime.now(UTC))
    narrowed = selection.narrowed(db.session, 26)
    statement = (select(Submission.id).where(*narrowed.read)
                 .order_by(*order(sort, unindexed=narrowed.sorted_apart)).limit(26))
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = " ".join(str(row[-1]) for row in db.session.execute(
        text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert read in plan, plan
    count = select(func.count()).select_from(Submission).where(*narrowed.count)
    compiled = count.compile(db.engine, compile_kwargs={"literal_binds": True})
    smallest = min(filters, key=lambda name: db.session.scalar(
        select(func.count()).select_from(Submission).where(
            getattr(Submission, f"{name}_id") == ids_of(name)[SLUGS[name].index(filters[name])],
            Submission.state == State.APPROVED)))
    plan = " ".join(str(row[-1]) for row in db.session.execute(
        text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert f"{smallest}_id=?" in plan, plan  # the count seeks by the smallest filter


@pytest.mark.skipif(bool(POSTGRES_URL), reason="PostgreSQL plans from its own statistics "
                    "(it reads these counts from the same indexes, as Index Only Scans)")
@pytest.mark.parametrize("asked", [
    {"badge": Badge.REPRODUCED},
    {"tier": Tier.HIGH},
    {"tier": Tier.LOW, "stale": True},
    {"badge": Badge.COMMUNITY, "tier": Tier.LOW},
])
def test_sqlite_counts_a_badge_or_a_tier_from_an_index_alone(app, asked):
    # The first visitor of such a page each minute waits for this count: read row by row
    # it took 0.3-1.6 s at 100,000 rows (the tier is a pick among three stored tiers by
    # date, which no index leads with), from the index alone 2-20 ms.
    skewed_catalog(4_000)
    db.session.execute(text("ANALYZE"))
    selection = catalog.select_rows(db.session, CatalogQuery(**asked), (),
                                    now=datetime.now(UTC))
    count = select(func.count()).select_from(Submission).where(
        *selection.narrowed(db.session, 26).count)
    compiled = count.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = " ".join(str(row[-1]) for row in db.session.execute(
        text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "COVERING INDEX" in plan, plan
