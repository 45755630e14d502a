"""The hardware and model charts read a summary kept as rows change: after every kind of
decision the served chart is the one drawn afresh from the rows, a page reads the same
few statements however many rows its entry has, and `flask refresh`, seed-demo and the
migration rebuild the summaries."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask_migrate import upgrade
from sqlalchemy import delete, func, select, text

from tests.factories import counted_statements
from webapp import create_app
from webapp.extensions import db
from webapp.models import ChartSummary, Hardware, ModelVariant, Quant, Submission
from webapp.services import chart_summaries, submissions, summaries
from webapp.services.rules import Kind, State

HARDWARE_URL, MODEL_URL = "/hardware/rtx-4090", "/models/llama-3.1-8b-instruct"
CLOSE_RUNS = ((251.0, 512, 99.0), (250.0, 512, 100.0), (249.0, 512, 101.0))
BEFORE_CHART_SUMMARIES = "f3b7d1a9c4e2"


@pytest.fixture(autouse=True)
def no_page_store(app):
    app.config["PAGE_CACHE_SECONDS"] = 0  # every page drawn from what is stored now


def runs(decode: float):
    return ((250.0, 512, decode),) * 3


def chart_section(client, url: str) -> str:
    """The chart's panel of the served page (the SVG and its data table)."""
    body = client.get(url).get_data(as_text=True)
    match = re.search(r'<section class="panel" aria-labelledby="h-chart">.*?</section>', body,
                      re.S)
    assert match, body
    return match.group(0)


def drawn_afresh(client, session, url: str) -> str:
    """The chart section as the rows draw it now: every summary rebuilt from the rows,
    then put back as it was kept."""
    kept = session.execute(select(ChartSummary.subject, ChartSummary.reference_id,
                                  ChartSummary.data)).all()
    summaries.rebuild_charts(session)
    session.commit()
    fresh = chart_section(client, url)
    session.execute(delete(ChartSummary))
    for subject, reference_id, data in kept:
        session.add(ChartSummary(subject=subject, reference_id=reference_id, data=data))
    session.commit()
    return fresh


def agrees(client, session) -> tuple[str, str]:
    """Both charts as served, each asserted equal to the one drawn afresh from the rows."""
    served = chart_section(client, HARDWARE_URL), chart_section(client, MODEL_URL)
    assert served == (drawn_afresh(client, session, HARDWARE_URL),
                      drawn_afresh(client, session, MODEL_URL))
    return served


def decide(reviewer_client, row, action: str, **form) -> None:
    response = reviewer_client.post(f"/review/submissions/{row.id}/{action}", form)
    assert response.status_code == 303, response.get_data(as_text=True)


def test_every_kind_of_decision_moves_the_charts(
        reviewer_client, client, session, make_row):
    def queued(**columns):
        row = make_row(state=State.QUEUED, **columns)
        session.commit()
        return row

    hardware, model = agrees(client, session)
    assert "No public rows yet, so nothing to draw." in hardware
    assert "No public rows yet, so nothing to draw." in model

    first = queued(runs=runs(100.0))
    assert agrees(client, session) == (hardware, model)  # queued: nobody sees it yet
    decide(reviewer_client, first, "approve")
    hardware, model = agrees(client, session)
    assert "1 row drawn as 1 dot" in hardware
    assert 'class="chart-dot dot-community-submitted"' in hardware
    assert re.search(r'>1× [^<]*RTX 4090 <tspan class="tick-label">\(1 row\)</tspan>', model)

    second = queued(runs=runs(40.0))
    decide(reviewer_client, second, "approve")
    hardware, model = agrees(client, session)
    assert "2 rows drawn as 2 dots" in hardware
    assert 'data-median="70.0"' in model  # the median of 100 and 40

    # A clean reproduction moves the first row's badge, and its dot with it.
    repro = make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=first, handle="alice",
                     runs=CLOSE_RUNS)
    session.commit()
    decide(reviewer_client, repro, "reproduced")
    hardware, model = agrees(client, session)
    assert 'class="chart-dot dot-reproduced"' in hardware
    assert "2 rows drawn as 2 dots" in hardware

    # A queued row withdrawn or rejected never reaches the charts.
    submissions.withdraw(session, queued(runs=runs(999.0)), now=datetime.now(UTC))
    session.commit()
    decide(reviewer_client, queued(runs=runs(998.0)), "reject", reason="Duplicate")
    assert agrees(client, session) == (hardware, model)

    # A public row hidden leaves both charts; shown again, it is back.
    decide(reviewer_client, second, "revise", to_state="rejected", reason="Wrong build")
    hardware, model = agrees(client, session)
    assert "1 row drawn as 1 dot" in hardware
    assert 'data-median="100.0"' in model
    decide(reviewer_client, second, "revise", to_state="approved-public", reason="Restored")
    assert "2 rows drawn as 2 dots" in agrees(client, session)[0]

    # Hiding the only rows of an entry empties its chart.
    for row in (first, second):
        decide(reviewer_client, row, "revise", to_state="rejected", reason="Duplicate")
    hardware, model = agrees(client, session)
    assert "No public rows yet, so nothing to draw." in hardware
    assert session.scalar(select(func.count()).select_from(ChartSummary)) == 0


def test_a_row_edited_or_deleted_moves_its_charts(client, session, make_row):
    row = make_row(runs=runs(100.0))
    session.commit()
    assert "1 row drawn as 1 dot" in chart_section(client, HARDWARE_URL)
    row.hardware = session.scalars(select(Hardware).where(Hardware.slug == "rtx-3090")).one()
    session.commit()
    assert "No public rows yet" in chart_section(client, HARDWARE_URL)
    assert "1 row drawn as 1 dot" in chart_section(client, "/hardware/rtx-3090")
    session.delete(row)
    session.commit()
    assert "No public rows yet" in chart_section(client, "/hardware/rtx-3090")
    assert "No public rows yet" in chart_section(client, MODEL_URL)


def test_a_rolled_back_change_leaves_the_charts(client, session, make_row):
    make_row(runs=runs(100.0))
    session.rollback()
    make_row(state=State.QUEUED)
    session.commit()
    assert session.scalar(select(func.count()).select_from(ChartSummary)) == 0


def test_a_page_reads_the_same_statements_however_many_rows(client, session, make_row):
    def statements_for(url: str) -> list[str]:
        client.get(url)
        with counted_statements() as statements:
            assert client.get(url).status_code == 200
        return statements

    make_row(runs=runs(100.0))
    session.commit()
    small = {url: statements_for(url) for url in (HARDWARE_URL, MODEL_URL)}
    for i in range(60):
        make_row(runs=runs(20.0 + i), hardware_count=1 + i % 3, tensor_parallel=i % 2 == 0)
    session.commit()
    for url in (HARDWARE_URL, MODEL_URL):
        large = statements_for(url)
        assert len(large) == len(small[url])
        assert any("chart_summaries" in statement for statement in large)
    assert "61 rows drawn as" in chart_section(client, HARDWARE_URL)


def test_reference_pages_follow_their_entries_and_read_no_reference_row_again(
        client, session, make_row):
    """A hardware page and a model page read their entry from the worker's reference
    data (kept per data version): a second view reads no hardware or model row, and an
    entry added or changed shows on its page at the next request."""
    make_row(runs=runs(100.0))
    session.commit()
    for url, table in ((HARDWARE_URL, "hardware"), (MODEL_URL, "model_variants")):
        client.get(url)
        with counted_statements() as statements:
            assert client.get(url).status_code == 200
        assert not any(re.search(rf"\bFROM {table}\b", statement) for statement in statements)
    assert client.get("/hardware/bench-card").status_code == 404
    session.add(Hardware(slug="bench-card", name="Bench <Card>", vendor="Acme", kind="gpu",
                         memory_gib=8.0, bandwidth_gb_s=100.0))
    card = session.scalars(select(Hardware).where(Hardware.slug == "rtx-4090")).one()
    card.bandwidth_gb_s = 1234.5
    model = session.scalars(select(ModelVariant).where(
        ModelVariant.slug == MODEL_URL.rsplit("/", 1)[1])).one()
    model.family = "Renamed family"
    session.commit()
    body = client.get("/hardware/bench-card").data.decode()
    assert "Bench &lt;Card&gt;" in body and "<Card>" not in body
    assert "1,234.5 GB/s" in client.get(HARDWARE_URL).data.decode()
    assert "Renamed family" in client.get(MODEL_URL).data.decode()


def test_flask_refresh_rebuilds_the_charts(app, client, session, make_row):
    for decode in (100.0, 60.0):
        make_row(runs=runs(decode))
    session.commit()
    expected = chart_section(client, HARDWARE_URL), chart_section(client, MODEL_URL)
    session.execute(delete(ChartSummary))
    session.commit()
    assert "No public rows yet" in chart_section(client, HARDWARE_URL)  # only the summary

    result = app.test_cli_runner().invoke(args=["refresh"])
    assert result.exit_code == 0, result.output
    assert (chart_section(client, HARDWARE_URL), chart_section(client, MODEL_URL)) == expected
    assert "2 rows drawn as 2 dots" in expected[0]


def test_seed_demo_leaves_every_chart_equal_to_its_rows(app, session):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--rows", "60"])
    assert result.exit_code == 0, result.output
    public = Submission.state == State.APPROVED
    for subject, column in (("hardware", Submission.hardware_id),
                            ("model", Submission.model_id)):
        ids = set(session.scalars(select(column).where(public).distinct()))
        assert ids
        kept = {reference_id: chart_summaries.decode(data) for reference_id, data in
                session.execute(select(ChartSummary.reference_id, ChartSummary.data)
                                .where(ChartSummary.subject == subject))}
        assert set(kept) == ids
        for reference_id in ids:
            fresh = chart_summaries.DATA_OF[subject](session, reference_id)
            assert kept[reference_id] == chart_summaries.decode(chart_summaries.encode(fresh))


def test_the_migration_backfills_the_charts(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "PAGE_CACHE_SECONDS": 0,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite3'}"})
    columns = ("kind, state, model_id, hardware_id, hardware_count, quant_id, "
               "runtime_id, concurrent_users, speculative, batch_gt1, tensor_parallel, ttft_ms, "
               "decode_tps, tokens_generated, ttft_spread, decode_spread, vram_peak_mib, notes, "
               "operator_key, status_nonce, is_demo, created_at, measured_at, "
               "derived_repro_count")
    insert = text(
        f"INSERT INTO submissions (id, {columns}) VALUES (:id, 'fresh', :state, :model, "
        ":hardware, 1, :quant, 1, 1, false, false, false, 250, :decode, 512, 0, 0, 6000, '', "
        ":key, :nonce, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)")
    with app.app_context():
        upgrade(revision=BEFORE_CHART_SUMMARIES)
        from webapp.services.reference import load_reference

        load_reference(db.session)
        db.session.commit()
        refs = {entity: db.session.scalars(select(entity.id).where(entity.slug == slug)).one()
                for entity, slug in ((Hardware, "rtx-4090"), (ModelVariant,
                                     "llama-3.1-8b-instruct"))}
        quant = db.session.scalars(select(Quant.id).where(Quant.slug == "gguf-q4_k_m")).one()
        db.session.commit()  # no read left open across the upgrade
        with db.engine.begin() as conn:
            for row_id, state, decode in ((1, "approved-public", 100.0),
                                          (2, "approved-public", 40.0),
                                          (3, "rejected", 999.0)):
                conn.execute(insert, {"id": row_id, "state": state, "decode": decode,
                                      "model": refs[ModelVariant], "hardware": refs[Hardware],
                                      "quant": quant, "key": f"anon:{row_id}",
                                      "nonce": f"n{row_id}"})
        upgrade()
        client = app.test_client()
        assert "2 rows drawn as 2 dots" in chart_section(client, HARDWARE_URL)
        assert 'data-median="70.0"' in chart_section(client, MODEL_URL)
        db.engine.dispose()
