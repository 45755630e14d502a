"""Where the realistic traffic's time goes with the page store off: bench/run.py's draw of
20,000 public URLs, sampled as it measures them, served in-process and grouped by kind.

The bench's "realistic traffic" row sends this draw to gunicorn with the store on; a URL
not yet stored is rendered anew, and those renders are most of the row's cost. This
serves a sample of the same draw (store off, every request a render), times each
request, and prints per kind of URL (a detail page, the catalog with N filters, a page
number and/or a sort, a hardware or model page) how many there were, their share of the
time, the median and the slowest; then the slowest URLs, timed a second time (a first
visit also counts the selection and learns its page starts, per data version and minute).

    DATABASE_URL=sqlite:////tmp/tb100k.sqlite3 .venv/bin/python bench/realistic_mix.py
    .venv/bin/python bench/realistic_mix.py --requests 2000 --slowest 40

It asserts nothing and writes nothing.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.run import realistic_urls, skewed, targets  # noqa: E402

HEADERS = {"Accept-Encoding": "gzip, br"}


def kind_of(url: str) -> str:
    for prefix, name in (("/benchmarks/", "detail"), ("/hardware/", "hardware page"),
                         ("/models/", "model page"), ("/operators", "operators")):
        if url.startswith(prefix):
            return name
    filters = sum(f"{name}=" in url
                  for name in ("model", "hardware", "quant", "runtime", "badge", "tier"))
    extras = [word for word in ("page", "sort") if f"{word}=" in url]
    return f"catalog, {filters} filter{'s' if filters != 1 else ''}" + "".join(
        f" + {word}" for word in extras)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--slowest", type=int, default=25)
    args = parser.parse_args(argv)
    os.environ.setdefault("TRUSTBENCH_PAGE_CACHE_SECONDS", "0")
    os.environ.setdefault("TRUSTBENCH_RATE_LIMITS_ENABLED", "0")
    from webapp import create_app

    app = create_app()
    target = targets(app.config["SQLALCHEMY_DATABASE_URI"])
    traffic = skewed(realistic_urls(target), 200_000)
    sample = traffic[100_000:100_000 + args.requests]  # where the bench measures
    client = app.test_client()
    for url in sample[:20]:  # templates compiled
        client.get(url, headers=HEADERS)
    timed: dict[str, list[tuple[float, str]]] = collections.defaultdict(list)
    statuses: collections.Counter[int] = collections.Counter()
    for url in sample:
        start = time.perf_counter()
        status = client.get(url, headers=HEADERS).status_code
        timed[kind_of(url)].append(((time.perf_counter() - start) * 1000, url))
        statuses[status] += 1
    total = sum(ms for found in timed.values() for ms, _ in found)
    print(f"{len(sample)} requests, statuses {dict(statuses)}, "
          f"mean {total / len(sample):.2f} ms per request")
    for kind, found in sorted(timed.items(), key=lambda item: -sum(m for m, _ in item[1])):
        spent = [ms for ms, _ in found]
        print(f"  {kind:34s} {len(found):5d} requests  {sum(spent) / total:6.1%} of the time"
              f"  median {statistics.median(spent):7.2f} ms  slowest {max(spent):7.2f} ms")
    slowest = sorted((item for found in timed.values() for item in found), reverse=True)
    slowest = slowest[:args.slowest]
    print(f"the {len(slowest)} slowest: {sum(ms for ms, _ in slowest) / total:.1%} of the time"
          " (ms the first time, ms again)")
    for ms, url in slowest:
        start = time.perf_counter()
        client.get(url, headers=HEADERS)
        print(f"  {ms:7.1f} {(time.perf_counter() - start) * 1000:7.1f}  {url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
