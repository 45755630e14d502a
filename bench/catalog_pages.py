"""Catalog pages at depth, rendered anew (page store off), in-process: p50 and min of page 1,
page 2,000 and the last page, in each sort, warm (the worker's memo of counts and page
starts filled, as on every request after the first in a data version and minute) and cold
(the memo emptied before every request: the first visit after a decision).

    DATABASE_URL=sqlite:////tmp/cat/db.sqlite3 SECRET_KEY=x .venv/bin/flask --app webapp db upgrade
    DATABASE_URL=… SECRET_KEY=x .venv/bin/flask --app webapp seed-demo --rows 100000 --seed 7
    DATABASE_URL=… SECRET_KEY=x .venv/bin/python bench/catalog_pages.py [--requests 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ["TRUSTBENCH_PAGE_CACHE_SECONDS"] = "0"

from webapp import create_app  # noqa: E402 - the page store is switched off first

PATHS = {
    "page 1": "/",
    "page 2,000": "/?page=2000",
    "last page": "/?page=1000000",
    "two filters": "/?hardware=rtx-4090&quant=gguf-q4_k_m",
    "share, page 2,000": "/?sort=share&page=2000",
    "trust, page 2,000": "/?sort=trust&page=2000",
    "search 'llama'": "/?q=llama",
}


def measure(client, app, path: str, requests: int, cold: bool) -> tuple[float, float]:
    times = []
    for _ in range(requests):
        if cold:
            app.extensions.pop("catalog_memos", None)
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}")
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    app = create_app()
    client = app.test_client()
    client.get("/")  # first-use work (templates, reference lists) out of the figures
    print(f"{'page':20} {'path':40} {'warm p50':>9} {'min':>7} {'cold p50':>9} {'min':>7}")
    for name, path in PATHS.items():
        warm = measure(client, app, path, args.requests, cold=False)
        cold = measure(client, app, path, args.requests, cold=True)
        print(f"{name:20} {path:40} {warm[0]:7.1f}ms {warm[1]:5.1f}ms "
              f"{cold[0]:7.1f}ms {cold[1]:5.1f}ms")


if __name__ == "__main__":
    main()
