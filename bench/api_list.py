"""The API list's cost by depth: the first page and a page reached by following `next`
links far into the catalog (keyset, so it should cost what the first page costs), for
each sort, through the Flask test client (no server, no network: the view's own cost).

    .venv/bin/python bench/api_list.py [--rows 100000] [--db PATH] [--depth 300]

A missing database file is created and seeded with `seed-demo`'s catalog first (about
eight minutes for 100,000 rows on a busy two-core machine); an existing one is reused.
Prints p50 of 15 requests each; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from webapp import create_app
from webapp.extensions import db
from webapp.services import demo
from webapp.services.sorting import Sort


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--depth", type=int, default=300, help="pages to walk (limit 100)")
    args = parser.parse_args()
    path = args.db or Path(f"/tmp/trustbench-api-bench-{args.rows}.sqlite3")  # noqa: S108
    fresh = not path.exists()
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "SERVER_NAME": "localhost"})
    with app.app_context():
        if fresh:
            db.create_all()
            print(demo.seed(db.session, rows=args.rows, random_seed=7), flush=True)
            db.session.commit()
    client = app.test_client()

    def p50(url: str, n: int = 15) -> float:
        times = []
        for _ in range(n):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return statistics.median(times) * 1000

    for sort in Sort:
        url = f"/api/v1/benchmarks?limit=100&sort={sort.value}&stale=true"
        first = p50(url)
        deep, depth = url, 0
        for _ in range(args.depth):
            following = client.get(deep).get_json()["next"]
            if following is None:
                break
            deep, depth = following, depth + 1
        deep_ms = p50(deep)
        print(f"rows={args.rows} sort={sort.value}: first page p50 {first:.1f} ms, "
              f"{depth} pages deep p50 {deep_ms:.1f} ms, ratio {deep_ms / first:.2f}",
              flush=True)
    print(f"rows={args.rows} default list (limit 25): p50 "
          f"{p50('/api/v1/benchmarks?limit=25'):.1f} ms")


if __name__ == "__main__":
    main()
