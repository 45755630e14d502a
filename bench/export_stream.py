"""The streamed exports at scale: first byte and the worker's memory while it streams.

A fresh SQLite database in a temporary folder, `flask db upgrade`, `flask seed-demo --rows N`,
then gunicorn with one sync worker (gunicorn.conf.py, as `make run`). For each export URL:
the time to the response's first body byte, the whole download, and the worker's resident
memory (VmRSS from /proc, sampled every 5 ms during the download) against its RSS just
before. Then the public SQLite snapshot's first (building) and second (stored) request.

    .venv/bin/python -m bench.export_stream [--rows 100000] [--keep]

Prints a table; the issue's budgets (first byte < 200 ms, growth < 20 MiB) are printed
beside the figures, never asserted.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.run import BIN, REPO, Server, run

MiB = 1024 * 1024
PATHS = (
    "/benchmarks.csv",
    "/benchmarks.jsonl",
    "/benchmarks.csv?hardware=rtx-4090&sort=ttft",
    "/benchmarks.csv?stale=1",
)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def download(port: int, path: str, pid: int) -> dict:
    before = rss_kib(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Accept-Encoding": "identity"})
    response = conn.getresponse()
    first = response.read(1)
    first_byte = time.perf_counter() - started
    size, lines = len(first), first.count(b"\n")
    while chunk := response.read(64 * 1024):
        size += len(chunk)
        lines += chunk.count(b"\n")
    whole = time.perf_counter() - started
    conn.close()
    done.set()
    sampler.join()
    return {"path": path, "status": response.status, "first_byte_ms": first_byte * 1000,
            "whole_s": whole, "bytes": size, "lines": lines,
            "rss_before_mib": before / 1024, "rss_peak_mib": peak[0] / 1024,
            "growth_mib": (peak[0] - before) / 1024}


def timed_get(port: int, path: str) -> tuple[int, float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, time.perf_counter() - started, len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--database", type=Path,
                        help="a database seeded earlier (--keep); copied, not seeded again")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="trustbench-exports-"))
    database = folder / "bench.sqlite3"
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{database}",
               SECRET_KEY="bench-secret-key-not-for-production",
               TRUSTBENCH_RATE_LIMITS_ENABLED="0")
    instance = folder / "instance"  # the snapshot is built here, not in the repository's
    log = folder / "commands.log"
    flask = [str(BIN / "flask"), "--app", "webapp"]
    try:
        if options.database:
            shutil.copyfile(options.database, database)
            run([*flask, "db", "upgrade"], env, log)
        else:
            run([*flask, "db", "upgrade"], env, log)
            seconds = run([*flask, "seed-demo", "--rows", str(options.rows)], env, log)
            print(f"seed-demo --rows {options.rows}: {seconds:.1f} s", flush=True)
        server = Server(f"webapp:create_app(instance_path={str(instance)!r})", env,
                        folder / "gunicorn.log", workers=1)
        try:
            server.wait_ready()
            (pid,) = server.worker_pids()
            timed_get(server.port, "/")  # the worker imports and connects before measuring
            timed_get(server.port, "/benchmarks.csv?hardware=rtx-4090&badge=reproduced")
            print(f"{'export':48} {'status':>6} {'1st byte':>9} {'whole':>8} {'lines':>8} "
                  f"{'MiB':>7} {'RSS before':>10} {'peak':>7} {'growth':>7}")
            for path in PATHS:
                got = download(server.port, path, pid)
                print(f"{path:48} {got['status']:>6} {got['first_byte_ms']:>7.1f}ms "
                      f"{got['whole_s']:>7.2f}s {got['lines']:>8} {got['bytes'] / MiB:>7.1f} "
                      f"{got['rss_before_mib']:>9.1f}M {got['rss_peak_mib']:>6.1f}M "
                      f"{got['growth_mib']:>6.1f}M", flush=True)
            print("budgets (issue 12): first byte < 200 ms; worker memory growth < 20 MiB")
            started = time.perf_counter()
            status, first, size = timed_get(server.port, "/data/trustbench-public.sqlite3")
            print(f"snapshot, first request: {status} in {first:.2f} s "
                  "(200: built within the wait; 503: building in the background)")
            while status != 200 and time.perf_counter() - started < 600:
                time.sleep(2)
                status, _, size = timed_get(server.port, "/data/trustbench-public.sqlite3")
            print(f"snapshot ready after {time.perf_counter() - started:.1f} s: {status}, "
                  f"{size / MiB:.1f} MiB; worker RSS now {rss_kib(pid) / 1024:.1f} MiB")
            status, again, size = timed_get(server.port, "/data/trustbench-public.sqlite3")
            print(f"snapshot, next request (stored): {status} in {again:.2f} s")
        finally:
            server.stop()
    finally:
        if options.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
