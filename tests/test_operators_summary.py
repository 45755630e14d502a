"""/operators reads a summary kept as decisions land: after every kind of decision a
reviewer makes through the dashboard, the page lists exactly what the rows themselves say
(computed here from the rows, independently of the summary), and `flask refresh`,
seed-demo and the migration rebuild it."""

from __future__ import annotations

from collections import defaultdict

import html5lib
import pytest
from flask_migrate import upgrade
from sqlalchemy import delete, select, text

from tests.factories import counted_statements
from webapp import create_app
from webapp.extensions import db
from webapp.models import OperatorSummary, PublicRowCount, Submission
from webapp.services import summaries, trust
from webapp.services.rules import Kind, State

CLOSE_RUNS = ((251.0, 512, 99.0), (250.0, 512, 100.0), (249.0, 512, 101.0))
# The migration before the summaries: the backfill test starts from a database there.
BEFORE_SUMMARIES = "b4d9e2f7a1c3"


@pytest.fixture
def one_page(app):
    app.config["PER_PAGE"] = 100  # every operator on one page: the page is compared whole


# --- what the page shows, and what the rows say ---------------------------------------------


def shown(client, url: str = "/operators") -> list[tuple[str, int, int, list[int], int]]:
    """(handle, rows reproduced, reproductions, linked row ids, "and N more") per listed
    operator, in the page's order, read from the strictly parsed page."""
    response = client.get(url)
    assert response.status_code == 200
    document = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(
        response.data)
    listed = []
    for row in document.iter("tr"):
        cells = {cell.get("data-label"): cell for cell in row.iter("td")}
        if "Handle" not in cells:
            continue
        links = [int(a.get("href").rsplit("/", 1)[1])
                 for a in cells["Latest rows reproduced"].iter("a")]
        more = [li.text for li in cells["Latest rows reproduced"].iter("li")
                if li.get("class") == "muted"]
        listed.append((cells["Handle"].text, int(cells["Rows reproduced"].text),
                       int(cells["Reproductions"].text), links,
                       int(more[0].split()[1]) if more else 0))
    return listed


def live(session) -> list[tuple[str, int, int, list[int], int]]:
    """The same listing computed from every submission in Python: clean reproductions
    under a handle, of public rows other than the operator's own, by operator; most rows
    reproduced first."""
    session.expire_all()
    rows = {row.id: row for row in session.scalars(select(Submission))}
    credited: dict[str, list[Submission]] = defaultdict(list)
    for row in rows.values():
        if (row.kind == Kind.REPRODUCTION and row.state == State.REPRODUCED
                and row.hub_id is not None and rows[row.hub_id].state == State.APPROVED
                # not one's own row, under a look-alike of one's handle either (SPEC §11)
                and not trust.same_operator(row.operator_key, rows[row.hub_id].operator_key)
                and (row.handle or "").strip()):
            credited[row.operator_key].append(row)
    ranked = []
    for key, repros in credited.items():
        hubs = sorted({row.hub_id for row in repros}, reverse=True)
        first_handle = min(row.handle for row in repros)
        ranked.append(((-len(hubs), first_handle, key),
                       (first_handle.strip(), len(hubs), len(repros), hubs[:5],
                        max(0, len(hubs) - 5))))
    return [listing for _order, listing in sorted(ranked)]


def agrees(client, session) -> list[tuple[str, int, int, list[int], int]]:
    page = shown(client)
    assert page == live(session)
    return page


def handles(listing) -> list[str]:
    return [entry[0] for entry in listing]


# --- rows as they arrive, decisions through the dashboard ----------------------------------------


@pytest.fixture
def queued(make_row, session):
    def build(**columns):
        row = make_row(state=State.QUEUED, **columns)
        session.commit()
        return row
    return build


@pytest.fixture
def queued_repro(make_row, session):
    def build(hub, handle, **columns):
        columns.setdefault("runs", CLOSE_RUNS)
        columns.setdefault("hardware", hub.hardware.slug)  # the hub's matching set
        row = make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub, handle=handle,
                       **columns)
        session.commit()
        return row
    return build


def decide(reviewer_client, row, action: str, **form) -> None:
    response = reviewer_client.post(f"/review/submissions/{row.id}/{action}", form)
    assert response.status_code == 303, response.get_data(as_text=True)


def test_every_kind_of_decision_keeps_the_page_equal_to_the_rows(
        reviewer_client, client, session, queued, queued_repro, one_page):
    first, second = queued(handle="origin"), queued(handle="origin", hardware="rtx-3090")
    for hub in (first, second):
        decide(reviewer_client, hub, "approve")
    assert agrees(client, session) == []

    alice_1 = queued_repro(first, "alice")
    alice_2 = queued_repro(second, "Alice")
    bob = queued_repro(first, "bob")
    anonymous = queued_repro(first, None)
    carol = queued_repro(second, "carol")
    # Queued reproductions are nobody's evidence yet.
    assert agrees(client, session) == []

    for row in (alice_1, alice_2, bob, anonymous):
        decide(reviewer_client, row, "reproduced")
    page = agrees(client, session)
    # One operator under two spellings, shown by the first in sort order, as typed.
    assert handles(page) == ["Alice", "bob"]
    assert page[0][1:4] == (2, 2, [second.id, first.id])

    decide(reviewer_client, carol, "reject", reason="Duplicate")
    assert handles(agrees(client, session)) == ["Alice", "bob"]

    # A clean reproduction revised to rejected stops counting, and back again.
    decide(reviewer_client, bob, "revise", to_state="rejected", reason="Wrong build")
    assert handles(agrees(client, session)) == ["Alice"]
    decide(reviewer_client, bob, "revise", to_state="reproduced", reason="Build was right")
    assert handles(agrees(client, session)) == ["Alice", "bob"]

    # Approved as a row of its own (a fragment): no longer a clean reproduction.
    decide(reviewer_client, alice_2, "revise", to_state="approved-public",
           reason="Counts as its own row")
    page = agrees(client, session)
    assert page[0][:4] == ("alice", 1, 1, [first.id])

    # The original row hidden: nobody is credited for reproducing it; shown again, they are.
    decide(reviewer_client, first, "revise", to_state="rejected", reason="Duplicate")
    assert agrees(client, session) == []
    decide(reviewer_client, first, "revise", to_state="approved-public", reason="Restored")
    assert handles(agrees(client, session)) == ["alice", "bob"]

    # Linked as one operator: bob's reproduction counts as alice's, bob's own row is gone.
    response = reviewer_client.post(f"/review/submissions/{bob.id}/link",
                                    {"other": f"#{alice_1.id}", "reason": "Same person"})
    assert response.status_code == 303
    page = agrees(client, session)
    assert handles(page) == ["alice"] and page[0][1:3] == (1, 2)


def test_a_rerun_under_a_look_alike_of_the_originals_handle_is_not_credited(
        reviewer_client, client, session, queued, queued_repro, one_page):
    """"WiII" (two capital I's) on "Will"'s row is Will re-running their own row: listed
    nowhere, as a re-run under the same handle is not; "Bill" is another operator."""
    hub = queued(handle="Will")
    decide(reviewer_client, hub, "approve")
    decide(reviewer_client, queued_repro(hub, "WiII"), "reproduced")
    decide(reviewer_client, queued_repro(hub, "Bill"), "reproduced")
    assert handles(agrees(client, session)) == ["Bill"]
    with client.application.app_context():  # and so does the summary rebuilt from the rows
        summaries.rebuild_all(db.session)
        db.session.commit()
    assert handles(agrees(client, session)) == ["Bill"]


def test_a_fragment_reproduced_by_others_credits_them_while_it_is_public(
        reviewer_client, client, session, queued, queued_repro, one_page):
    hub = queued(handle="origin")
    decide(reviewer_client, hub, "approve")
    fragment = queued_repro(hub, "dave", runs=((290.0, 512, 85.0),) * 3, notes="Newer driver")
    decide(reviewer_client, fragment, "approve")
    of_fragment = queued_repro(fragment, "erin")
    decide(reviewer_client, of_fragment, "reproduced")
    assert handles(agrees(client, session)) == ["erin"]
    decide(reviewer_client, fragment, "revise", to_state="rejected", reason="Wrong model file")
    assert agrees(client, session) == []


def test_an_operator_links_their_five_newest_rows_and_says_how_many_more(
        reviewer_client, client, session, queued, queued_repro, one_page):
    hubs = [queued(handle="origin") for _ in range(7)]
    for hub in hubs:
        decide(reviewer_client, hub, "approve")
        decide(reviewer_client, queued_repro(hub, "frank"), "reproduced")
    [(handle, rows, reproductions, links, more)] = agrees(client, session)
    assert (handle, rows, reproductions, more) == ("frank", 7, 7, 2)
    assert links == [hub.id for hub in reversed(hubs)][:5]
    assert "and 2 more" in client.get("/operators").get_data(as_text=True)


def test_demo_reproductions_raise_the_demo_banner(
        reviewer_client, client, session, queued, queued_repro):
    hub = queued(handle="origin")
    decide(reviewer_client, hub, "approve")
    decide(reviewer_client, queued_repro(hub, "grace"), "reproduced")
    assert "demo-banner" not in client.get("/operators").get_data(as_text=True)
    decide(reviewer_client, queued_repro(hub, "heidi", is_demo=True), "reproduced")
    assert "demo-banner" in client.get("/operators").get_data(as_text=True)


# --- cost -------------------------------------------------------------------------------------




def test_a_page_reads_the_same_few_statements_however_many_reproductions(
        app, client, session, make_row):
    from webapp.services import evidence

    def statements_for(url: str) -> list[str]:
        client.get(url)
        with counted_statements() as statements:
            assert client.get(url).status_code == 200
        return statements

    hub = make_row(handle="origin")
    make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="op-0")
    evidence.refresh_derived(session, hub)
    session.commit()
    small = statements_for("/operators")
    for i in range(40):
        row = make_row(handle=f"h{i}")
        for j in range(3):
            make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=row,
                     handle=f"op-{j}")
        evidence.refresh_derived(session, row)
    session.commit()
    large = statements_for("/operators")
    assert len(large) == len(small) <= 6
    # The reproductions themselves are never read: only the summary and the linked rows.
    assert not any("GROUP BY" in statement.upper() for statement in large)


# --- rebuilt at once ----------------------------------------------------------------------------


def test_flask_refresh_rebuilds_the_summaries(
        app, reviewer_client, client, session, queued, queued_repro, one_page):
    hub = queued(handle="origin")
    decide(reviewer_client, hub, "approve")
    decide(reviewer_client, queued_repro(hub, "ivan"), "reproduced")
    expected = agrees(client, session)
    session.execute(delete(OperatorSummary))
    session.execute(delete(PublicRowCount))
    session.commit()
    assert shown(client) == []  # the page reads the summary, nothing else

    result = app.test_cli_runner().invoke(args=["refresh"])
    assert result.exit_code == 0, result.output
    assert ("summaries: 1 operators listed, 4 row counts (hardware entries, models, quants, "
            "runtimes)") in result.output
    assert agrees(client, session) == expected != []


def test_seed_demo_leaves_summaries_equal_to_its_rows(app, client, session, one_page):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--rows", "40"])
    assert result.exit_code == 0, result.output
    assert len(agrees(client, session)) > 3
    assert "demo-banner" in client.get("/operators").get_data(as_text=True)


def test_the_migration_backfills_the_summaries(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "PAGE_CACHE_SECONDS": 0,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite3'}"})
    columns = ("kind, state, hub_id, model_id, hardware_id, hardware_count, quant_id, "
               "runtime_id, concurrent_users, speculative, batch_gt1, tensor_parallel, ttft_ms, "
               "decode_tps, tokens_generated, ttft_spread, decode_spread, vram_peak_mib, notes, "
               "handle, operator_key, status_nonce, is_demo, created_at, measured_at, "
               "derived_repro_count")
    insert = text(
        f"INSERT INTO submissions (id, {columns}) VALUES (:id, :kind, :state, :hub, 1, 1, 1, 1,"
        " 1, 1, false, false, false, 250, 100, 512, 0, 0, 6000, '', :handle, :key, :nonce,"
        " false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)")
    rows = [
        (1, "fresh", "approved-public", None, None, "anon:1"),
        (2, "reproduction", "reproduced", 1, "Judy", "judy"),
        (3, "reproduction", "reproduced", 1, None, "anon:3"),
        (4, "reproduction", "queued", 1, "mallory", "mallory"),
        (5, "fresh", "rejected", None, None, "anon:5"),
        (6, "reproduction", "reproduced", 5, "oscar", "oscar"),  # of a hidden row
    ]
    with app.app_context():
        upgrade(revision=BEFORE_SUMMARIES)
        from webapp.services.reference import load_reference

        load_reference(db.session)
        db.session.commit()
        with db.engine.begin() as conn:
            for row_id, kind, state, hub, handle, key in rows:
                conn.execute(insert, {"id": row_id, "kind": kind, "state": state, "hub": hub,
                                      "handle": handle, "key": key, "nonce": f"n{row_id}"})
        upgrade()
        assert shown(app.test_client()) == [("Judy", 1, 1, [1], 0)]
        counts = db.session.execute(
            select(PublicRowCount.subject, PublicRowCount.reference_id, PublicRowCount.rows)
        ).all()
        assert sorted(counts) == [("hardware", 1, 1), ("model", 1, 1), ("quant", 1, 1),
                                  ("runtime", 1, 1)]
        db.engine.dispose()
