"""How many pages the realistic traffic renders with the page store on: workers that keep
their own pages against workers that share them (webapp/web/shared_pages.py).

Serves bench/run.py's realistic draw in-process, as the bench sends it: its first part to
warm the stores (not counted), then the part the bench measures. Each worker is an app of
its own (its own store, its own database connection), and each request goes to a worker
drawn at random (a fixed seed), as gunicorn's workers take connections. It counts the
requests that rendered a page (Flask's template_rendered signal: a stored page renders
none) and times every request. The render counts are the figure: wall time on shared
cores moves between runs, the counts do not. The page store's lifetime is set long
enough that no entry expires while this runs (the bench's warm-up and measurement fit in
its 60 s).

    DATABASE_URL=sqlite:////tmp/tb100k.sqlite3 .venv/bin/python bench/store_renders.py
    .venv/bin/python bench/store_renders.py --workers 2,4 --warm 6000 --requests 2000

It asserts nothing and writes nothing but the shared stores' temporary folders, removed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.run import realistic_urls, skewed, targets  # noqa: E402

HEADERS = {"Accept-Encoding": "gzip, br"}
MEASURED_FROM = 100_000  # where bench/run.py measures in the draw


def serve(traffic: list[str], workers: int, shared: bool, warm: int, requests: int) -> dict:
    from flask import template_rendered

    from webapp import create_app

    folder = tempfile.mkdtemp(prefix="store-renders-")
    try:
        config = {"PAGE_CACHE_SECONDS": 3600, "SHARED_PAGE_STORE": folder if shared else None}
        apps = [create_app(dict(config)) for _ in range(workers)]
        renders = [0]

        def rendered(_sender, **_extra) -> None:
            renders[0] += 1

        for app in apps:
            template_rendered.connect(rendered, app)
        clients = [app.test_client() for app in apps]
        deal = random.Random(3)
        for url in traffic[:warm]:
            clients[deal.randrange(workers)].get(url, headers=HEADERS)
        renders[0] = 0
        sample = traffic[MEASURED_FROM:MEASURED_FROM + requests]
        start = time.perf_counter()
        for url in sample:
            clients[deal.randrange(workers)].get(url, headers=HEADERS)
        elapsed = time.perf_counter() - start
        for app in apps:
            template_rendered.disconnect(rendered, app)
        return {"renders": renders[0], "requests": len(sample),
                "ms": elapsed / len(sample) * 1000}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="2", help="worker counts, comma-separated")
    parser.add_argument("--warm", type=int, default=6000, help="requests to warm the stores")
    parser.add_argument("--requests", type=int, default=2000, help="requests counted")
    args = parser.parse_args(argv)
    os.environ.setdefault("TRUSTBENCH_RATE_LIMITS_ENABLED", "0")
    from webapp import create_app

    target = targets(create_app().config["SQLALCHEMY_DATABASE_URI"])
    traffic = skewed(realistic_urls(target), 200_000)
    print(f"realistic draw: {args.warm:,} requests to warm, then {args.requests:,} counted "
          f"(from request {MEASURED_FROM:,} of the draw)")
    for workers in (int(count) for count in args.workers.split(",")):
        for shared in (False, True):
            found = serve(traffic, workers, shared, args.warm, args.requests)
            share = found["renders"] / found["requests"]
            kind = "sharing their pages" if shared else "each its own pages"
            print(f"  {workers} workers, {kind:20s}: {found['renders']:5,} renders "
                  f"({share:.1%} of requests), {found['ms']:.2f} ms per request in-process")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
