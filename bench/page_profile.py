"""Where a page's time goes: one URL served in-process, timed and profiled (`make profile`).

Serves `URL` through Flask's test client against the database in `DATABASE_URL` (else the
app's default, the one `make run` serves; the page store off, as the bench's uncached
rows), beside the Fortunes baseline
(bench/baseline_app.py) served the same way in the same process, and prints:

- the median milliseconds per request of each and their ratio (requests per second of
  the page over the baseline's: the in-process counterpart of the bench's ratio, without
  the HTTP server's fixed cost, so it reads lower than the bench's);
- with `--profile`, cProfile's top functions by cumulative and by own time;
- with `--calls`, the Python function calls one request makes (cProfile's count over
  `--repeat` requests, divided): like bench/instructions.py, a figure that does not move
  with the machine's load, quicker to take and blind to time spent in C;
- with `--statements`, each SQL statement a request runs and its mean time (SQLAlchemy's
  cursor events, around the driver's execute): on PostgreSQL every statement is a round
  trip, which on SQLite costs next to nothing;
- with `--split`, the median milliseconds a request spends rendering templates (Flask's
  before_render_template and template_rendered signals, around Jinja's render), the
  rest, and the ratio the page would read if rendering cost nothing: how far making
  templates cheaper alone could take it.

It asserts nothing and writes nothing but its own temporary baseline database.

    make profile URL=/                                   # the instance database
    make profile URL=/ DATABASE_URL=sqlite:////tmp/tb.sqlite3
    .venv/bin/python bench/page_profile.py /benchmarks/7 --repeat 200 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

HEADERS = {"Accept-Encoding": "gzip, br"}


def timed(client, url: str, repeat: int, headers: dict[str, str]) -> list[float]:
    for _ in range(max(3, repeat // 10)):  # warm: templates compiled, memos filled
        client.get(url, headers=headers)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        client.get(url, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
    return times


def baseline_client():
    folder = tempfile.mkdtemp(prefix="fortunes-")
    os.environ["BASELINE_DATABASE"] = str(Path(folder) / "fortunes.sqlite3")
    from bench import baseline_app

    baseline_app.create_database()
    return baseline_app.create_app().test_client()


def print_statements(app, client, url: str, repeat: int, headers: dict[str, str]) -> None:
    """Each statement `url` runs, by mean time per request, over `repeat` requests."""
    from sqlalchemy import event

    from webapp.extensions import db

    with app.app_context():
        engine = db.engine
    spent: dict[str, list[float]] = {}

    def before(conn, _cursor, _statement, _parameters, _context, _many):
        conn.info["bench.started"] = time.perf_counter()

    def after(conn, _cursor, statement, _parameters, _context, _many):
        text = " ".join(statement.split())
        spent.setdefault(text, []).append(time.perf_counter() - conn.info["bench.started"])

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        for _ in range(repeat):
            client.get(url, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    total = sum(sum(times) for times in spent.values()) / repeat * 1000
    count = sum(len(times) for times in spent.values()) / repeat
    print(f"{url}: {count:.1f} statements a request, {total:.3f} ms in them "
          f"(mean of {repeat} requests)")
    for text, times in sorted(spent.items(), key=lambda item: -sum(item[1])):
        print(f"  {sum(times) / repeat * 1000:7.3f} ms  x{len(times) / repeat:<4.1f} "
              f"{text[:140]}")


def print_split(client, url: str, repeat: int, headers: dict[str, str],
                fortunes: float) -> None:
    """The median time a request spends in template rendering and outside it."""
    from flask import before_render_template, template_rendered

    started: list[float] = []
    spent = [0.0]

    def before(_app, **_extra):
        started.append(time.perf_counter())

    def after(_app, **_extra):
        spent[0] += time.perf_counter() - started.pop()

    before_render_template.connect(before)
    template_rendered.connect(after)
    rendering, rest = [], []
    try:
        for _ in range(repeat):
            spent[0] = 0.0
            start = time.perf_counter()
            client.get(url, headers=headers)
            whole = (time.perf_counter() - start) * 1000
            rendering.append(spent[0] * 1000)
            rest.append(whole - spent[0] * 1000)
    finally:
        before_render_template.disconnect(before)
        template_rendered.disconnect(after)
    render_ms, rest_ms = statistics.median(rendering), statistics.median(rest)
    print(f"{url}: {render_ms:.2f} ms rendering templates, {rest_ms:.2f} ms the rest "
          f"(medians of {repeat}); with rendering free it would read "
          f"{fortunes / rest_ms:.2f}x the baseline in-process")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+", help="paths to request, e.g. / or /benchmarks/7")
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--calls", action="store_true",
                        help="print the Python function calls a request makes")
    parser.add_argument("--htmx", action="store_true", help="send HX-Request (a fragment)")
    parser.add_argument("--statements", action="store_true",
                        help="print each SQL statement a request runs and its mean time")
    parser.add_argument("--split", action="store_true",
                        help="print the time spent rendering templates and the rest")
    args = parser.parse_args()
    # Without DATABASE_URL, the app's own default: the instance database `make run` serves.
    os.environ.setdefault("TRUSTBENCH_PAGE_CACHE_SECONDS", "0")
    os.environ.setdefault("TRUSTBENCH_RATE_LIMITS_ENABLED", "0")
    os.environ.setdefault("SECRET_KEY", "profile-secret-key-not-for-production")

    # The baseline's table first: webapp's session hooks (the data version) would see
    # its commit once webapp is imported.
    fortunes_client = baseline_client()
    from webapp import create_app

    app = create_app()
    client = app.test_client()
    headers = dict(HEADERS)
    if args.htmx:
        headers["HX-Request"] = "true"
    fortunes = statistics.median(timed(fortunes_client, "/fortunes", args.repeat, {}))
    print(f"baseline /fortunes: {fortunes:.2f} ms (median of {args.repeat})")
    for url in args.urls:
        response = client.get(url, headers=headers)
        page = statistics.median(timed(client, url, args.repeat, headers))
        print(f"{url}: status {response.status_code}, {len(response.data):,} bytes sent, "
              f"{page:.2f} ms (median of {args.repeat}); "
              f"{fortunes / page:.2f}x the baseline's requests per second in-process")
        if args.profile or args.calls:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.repeat):
                client.get(url, headers=headers)
            profiler.disable()
            stats = pstats.Stats(profiler)
            print(f"{url}: {stats.total_calls / args.repeat:,.0f} Python function calls "
                  f"a request (cProfile, {args.repeat} requests)")
        if args.statements:
            print_statements(app, client, url, args.repeat, headers)
        if args.split:
            print_split(client, url, args.repeat, headers, fortunes)
        if args.profile:
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
                print(out.getvalue())


if __name__ == "__main__":
    main()
