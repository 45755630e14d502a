"""What the hardware and model charts cost a page, at a catalog of N rows (issue 13/14).

Seeds a demo catalog into a temporary SQLite database (`flask db upgrade`, `seed-demo`),
then for the hardware entry and the model with the most public rows times, in-process
with the page store off: the chart's own work (query + geometry, reference_pages'
hardware_chart / model_chart), and the whole page through the test client two ways:
with the chart drawn (with the page store off a worker keeps no chart either, and the
data version is moved before every request, as after a decision) and with the chart
swapped for an empty one. Prints medians of repeated runs; asserts nothing.

    .venv/bin/python bench/charts_cost.py [--rows 100000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def median_ms(action, repeat: int) -> float:
    action()  # warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def visit(url: str, client) -> None:
    """One request, its session ended as a served request's is (the bench holds one app
    context, so the session would otherwise keep its snapshot from one request to the next)."""
    from webapp.extensions import db

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    db.session.remove()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database", help="reuse this SQLite file (seeded when new)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="charts-bench-"))
    database = Path(args.database) if args.database else folder / "bench.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}",
           "SECRET_KEY": "bench-only", "PAGE_CACHE_SECONDS": "0"}
    if not database.exists():
        flask = [str(BIN / "flask"), "--app", "webapp"]
        subprocess.run([*flask, "db", "upgrade"], env=env, check=True, cwd=REPO,
                       capture_output=True)
        start = time.perf_counter()
        subprocess.run([*flask, "seed-demo", "--rows", str(args.rows), "--seed", "7"],
                       env=env, check=True, cwd=REPO, capture_output=True)
        print(f"seed-demo --rows {args.rows}: {time.perf_counter() - start:.1f} s")

    os.environ.update(env)
    from sqlalchemy import func, select

    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import Hardware, ModelVariant, Submission
    from webapp.services import data_version, reference_pages
    from webapp.services.rules import State

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
                      "PAGE_CACHE_SECONDS": 0, "SERVER_NAME": "localhost"})
    with app.app_context():
        public = Submission.state == State.APPROVED
        print(f"public rows: {db.session.scalar(select(func.count()).where(public)):,}")
        for label, entity, column, chart, subject in (
            ("hardware", Hardware, Submission.hardware_id, reference_pages.hardware_chart,
             reference_pages.HARDWARE),
            ("model", ModelVariant, Submission.model_id, reference_pages.model_chart,
             reference_pages.MODEL),
        ):
            entity_id, count = db.session.execute(
                select(column, func.count()).where(public).group_by(column)
                .order_by(func.count().desc()).limit(1)).one()
            found = db.session.get(entity, entity_id)
            url = f"/{'hardware' if label == 'hardware' else 'models'}/{found.slug}"
            drawn = chart(db.session, found)
            summary = (drawn.scatter.summary if label == "hardware" and drawn.scatter
                       else f"{len(drawn.bars.bars)} bars" if drawn.bars else "nothing")
            chart_ms = median_ms(lambda c=chart, f=found: c(db.session, f), args.repeat)
            client = app.test_client()

            def fresh(u=url, c=client) -> None:
                data_version.bump(db.engine)
                visit(u, c)

            fresh_ms = median_ms(fresh, args.repeat)
            empty = (reference_pages.HardwareChart(None, [], 0, None) if label == "hardware"
                     else reference_pages.ModelChart(None))
            original = subject.draw
            object.__setattr__(subject, "draw", lambda _text, _e, e=empty: e)
            try:
                bare_ms = median_ms(lambda u=url, c=client: visit(u, c), args.repeat)
            finally:
                object.__setattr__(subject, "draw", original)
            print(f"{label} page {url} ({count:,} public rows; {summary})")
            print(f"  chart alone (query + geometry): {chart_ms:.1f} ms")
            print(f"  whole page, chart drawn: {fresh_ms:.1f} ms (extra "
                  f"{fresh_ms - bare_ms:.1f} ms)")
            print(f"  whole page without the chart: {bare_ms:.1f} ms")


if __name__ == "__main__":
    main()
