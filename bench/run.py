"""`make bench`: Trustbench under load at 1 000, 10 000 and 100 000 rows, against a baseline.

For each catalog size: a fresh SQLite database in a temporary folder, `flask db upgrade`,
`flask seed-demo --rows N` (timed), gunicorn with two workers on loopback, and a
fixed number of requests per endpoint from a Python load generator (threads, one
HTTP connection each). Between every two endpoints the TechEmpower "Fortunes"
baseline (bench/baseline_app.py, served the same way) is measured again, so every
figure is also a ratio to a baseline taken moments before and after it.

Prints readable tables and writes bench/results.json. See docs/performance.md.

    .venv/bin/python bench/run.py [--sizes 1000,10000,100000] [--requests 500] [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = REPO / "bench" / "results.json"
DEFAULT_SIZES = (1_000, 10_000, 100_000)
SEED = 7
# A page every catalog size has (the 1 000-row catalog shows about 38 pages of 25), so
# the scaling table compares like with like; OFFSET past it is measured separately.
DEEP_PAGE = 38
FILTERS = {"hardware": "rtx-4090", "quant": "gguf-q4_k_m"}
MiB = 1024 * 1024

BUDGETS_TEXT = """\
catalog first page and detail page at 100 000 rows: >= 0.5x the baseline's requests/s
live-warning fragment: >= 0.8x the baseline's requests/s, p95 < 20 ms
p50 of every read endpoint grows < 1.5x from 1 000 to 100 000 rows
worker peak memory < 150 MiB at 100 000 rows
seed-demo --rows 100000 < 2 minutes"""

READ_ENDPOINTS = ("catalog", "catalog_filtered", "catalog_deep", "detail", "live_warning")
LABELS = {
    "baseline": "baseline (Fortunes)",
    "catalog": "catalog, first page",
    "catalog_filtered": "catalog, two filters",
    "catalog_deep": f"catalog, page {DEEP_PAGE}",
    "catalog_middle": "catalog, middle page",
    "detail": "detail, most reproductions",
    "live_warning": "live-warning fragment",
    "submit": "fresh submission POST",
    "operators": "operators page (extra)",
    "catalog_miss": "catalog, first page, never stored (extra)",
    "detail_miss": "detail, never stored (extra)",
}
# Measured and shown, but not one of the endpoints: their budget lines say so.
# The *_miss rows add a throw-away query argument to every request, so each one misses
# the worker's page store (web/page_cache) and shows the cost of rendering anew.
EXTRA_ENDPOINTS = ("operators", "catalog_miss", "detail_miss")


# --- processes ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(args: list[str], env: dict[str, str], log: Path) -> float:
    """Run a command to completion; return its wall time. Output goes to `log`."""
    started = time.perf_counter()
    with log.open("ab") as out:
        out.write(f"$ {' '.join(args)}\n".encode())
        out.flush()
        result = subprocess.run(args, cwd=REPO, env=env, stdout=out, stderr=out, check=False)
    if result.returncode != 0:
        raise SystemExit(f"command failed ({result.returncode}): {' '.join(args)}; see {log}")
    return time.perf_counter() - started


class Server:
    """gunicorn with two sync workers on a loopback port, like `make run`."""

    def __init__(self, app: str, env: dict[str, str], log: Path, workers: int = 2):
        self.port = free_port()
        self.workers = workers
        self.log = log
        self._out = log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
            [str(BIN / "gunicorn"), "--config", str(REPO / "gunicorn.conf.py"),
             "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}", app],
            cwd=REPO, env=env, stdout=self._out, stderr=self._out,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited ({self.process.returncode}); see {self.log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                ok = conn.getresponse().status == 200
                conn.close()
                if ok and len(self.worker_pids()) >= self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"server on port {self.port} not ready; see {self.log}")

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...; comm may hold spaces, so split after ')'.
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.process.pid:
                pids.append(int(entry.name))
        return sorted(pids)

    def memory(self) -> dict[str, float]:
        """Peak (VmHWM) and current (VmRSS) resident memory of each worker, in MiB."""
        peaks, current = [], []
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            fields = dict(
                line.split(":", 1) for line in status.splitlines() if ":" in line
            )
            peaks.append(int(fields["VmHWM"].split()[0]) / 1024)
            current.append(int(fields["VmRSS"].split()[0]) / 1024)
        return {"peak_mib": max(peaks, default=0.0), "rss_mib": max(current, default=0.0),
                "workers": len(peaks)}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._out.close()


# --- the load generator ------------------------------------------------------------------


class Client:
    """One keep-alive HTTP connection with a cookie jar; reconnects when the server closes
    (gunicorn's sync workers close after every response)."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.lock = ""  # the reproduce form's signed lock token

    def request(self, method: str, path: str, body: dict | None = None,
                headers: dict | None = None) -> tuple[int, str]:
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=data, headers=sent)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn.request(method, path, body=data, headers=sent)
            response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text

    def fetch_form(self, path: str) -> str:
        status, text = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text) or re.search(
            r'name="csrf-token" content="([^"]+)"', text)
        self.csrf = found.group(1) if found else ""
        return text

    def close(self) -> None:
        self.conn.close()


@dataclass
class Measurement:
    name: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    statuses: dict[str, int] = field(default_factory=dict)


# A request: given a client (with its own session), send one request; return the status.
Request = Callable[[Client, int], int]


def measure(name: str, port: int, request: Request, total: int, concurrency: int,
            setup: Callable[[Client], None] | None = None, expect: tuple[int, ...] = (200,),
            warmup: int = 10) -> Measurement:
    clients = [Client(port) for _ in range(concurrency)]
    for client in clients:
        if setup:
            setup(client)
        for number in range(warmup // concurrency + 1):
            request(client, -1 - number)
    counter = itertools.count()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    def worker(client: Client) -> None:
        local, seen = [], {}
        while (number := next(counter)) < total:
            started = time.perf_counter()
            status = request(client, number)
            local.append(time.perf_counter() - started)
            seen[str(status)] = seen.get(str(status), 0) + 1
        with lock:
            latencies.extend(local)
            for key, value in seen.items():
                statuses[key] = statuses.get(key, 0) + value

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    for client in clients:
        client.close()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    errors = sum(count for status, count in statuses.items() if int(status) not in expect)
    return Measurement(
        name=name, requests=total, seconds=seconds, rps=total / seconds,
        p50_ms=cuts[49] * 1000, p95_ms=cuts[94] * 1000, p99_ms=cuts[98] * 1000,
        errors=errors, statuses=statuses,
    )


# --- the endpoints -----------------------------------------------------------------------


def get(path: str) -> Request:
    def send(client: Client, _number: int) -> int:
        return client.request("GET", path)[0]
    return send


def get_never_stored(path: str) -> Request:
    """GET path with an argument the app ignores but its page store keys on."""
    counter = itertools.count()
    separator = "&" if "?" in path else "?"

    def send(client: Client, _number: int) -> int:
        return client.request("GET", f"{path}{separator}bench-miss={next(counter)}")[0]
    return send


def targets(database: Path) -> dict:
    """What to ask for: the hub with the most reproductions and its numbers."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        hub_id, count = conn.execute(
            "SELECT s.hub_id, COUNT(*) FROM submissions s JOIN submissions h "
            "ON h.id = s.hub_id WHERE s.kind = 'reproduction' AND h.state = 'approved-public' "
            "GROUP BY s.hub_id ORDER BY COUNT(*) DESC, s.hub_id LIMIT 1"
        ).fetchone()
        ttft, decode, tokens = conn.execute(
            "SELECT ttft_ms, decode_tps, tokens_generated FROM submissions WHERE id = ?",
            (hub_id,),
        ).fetchone()
        runtime = conn.execute(
            "SELECT r.slug FROM submissions s JOIN runtimes r ON r.id = s.runtime_id "
            "WHERE s.id = ?", (hub_id,)
        ).fetchone()[0]
        public = conn.execute(
            "SELECT COUNT(*) FROM submissions WHERE state = 'approved-public'"
        ).fetchone()[0]
    return {"hub_id": hub_id, "reproductions": count, "ttft_ms": ttft, "decode_tps": decode,
            "tokens": tokens, "runtime": runtime, "public_rows": public}


def live_warning(target: dict) -> tuple[Callable[[Client], None], Request]:
    hub = target["hub_id"]

    def setup(client: Client) -> None:
        page = client.fetch_form(f"/benchmarks/{hub}/reproduce")
        found = re.search(r'name="lock_token"[^>]*value="([^"]+)"', page)
        client.lock = found.group(1) if found else ""

    def send(client: Client, number: int) -> int:
        wobble = 1 + ((number % 7) - 3) / 100  # within tolerance: the common case
        form = {"csrf_token": client.csrf, "lock_token": client.lock,
                "runtime": target["runtime"], "concurrent_users": "1"}
        for run in range(3):
            form[f"runs-{run}-ttft_ms"] = f"{target['ttft_ms'] * wobble:.1f}"
            form[f"runs-{run}-tokens_generated"] = str(target["tokens"])
            form[f"runs-{run}-decode_tps"] = f"{target['decode_tps'] * wobble:.2f}"
        headers = {"HX-Request": "true", "X-CSRFToken": client.csrf}
        return client.request("POST", f"/benchmarks/{hub}/reproduce/check", form, headers)[0]

    return setup, send


def submission() -> tuple[Callable[[Client], None], Request]:
    def setup(client: Client) -> None:
        client.fetch_form("/submit/benchmark")

    def send(client: Client, number: int) -> int:
        decode = 95 + (number % 17)
        form = {
            "csrf_token": client.csrf, "model": "llama-3.1-8b-instruct",
            "hardware": "rtx-4090", "hardware_count": "1", "quant": "gguf-q4_k_m",
            "runtime": "llama-cpp", "runtime_version": "b4800",
            "driver_version": "NVIDIA 560.35.03 / CUDA 12.6", "os_label": "Ubuntu 24.04",
            "concurrent_users": "1", "prompt_tokens": "500", "max_tokens": "512",
            "seed": "42", "quant_provider": "bartowski", "vram_peak_mib": "6100",
            "notes": "", "handle": "", "url": "",
        }
        for run in range(3):
            form[f"runs-{run}-ttft_ms"] = str(180 + run)
            form[f"runs-{run}-tokens_generated"] = "512"
            form[f"runs-{run}-decode_tps"] = str(decode + run * 0.5)
        return client.request("POST", "/submit/benchmark", form)[0]

    return setup, send


# --- one catalog size --------------------------------------------------------------------


def bench_size(rows: int, args, baseline: Server, workdir: Path) -> dict:
    folder = workdir / f"rows-{rows}"
    folder.mkdir()
    database = folder / "trustbench.sqlite3"
    log = folder / "log.txt"
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "TRUSTBENCH_RATE_LIMITS_ENABLED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    flask = [str(BIN / "flask"), "--app", "webapp"]
    if any((REPO / "migrations" / "versions").glob("*.py")):
        run([*flask, "db", "upgrade"], env, log)
    else:
        run([sys.executable, "-c", "from webapp import create_app; from webapp.extensions "
             "import db; app = create_app(); app.app_context().push(); db.create_all()"],
            env, log)
    load_before = os.getloadavg()[0]
    seed_seconds = run([*flask, "seed-demo", "--rows", str(rows), "--seed", str(SEED)], env, log)
    report = [line for line in log.read_text().splitlines() if line.startswith("demo catalog")]
    print(f"  seed-demo --rows {rows}: {seed_seconds:.1f} s "
          f"(load average {load_before:.1f} before)", flush=True)
    target = targets(database)

    server = Server("webapp:create_app()", env, folder / "gunicorn.log")
    results: list[Measurement] = []
    try:
        server.wait_ready()
        pages = max(1, (target["public_rows"] + 24) // 25)
        filtered = "/?" + urllib.parse.urlencode(FILTERS)
        check_setup, check_send = live_warning(target)
        submit_setup, submit_send = submission()
        plan = [
            ("catalog", get("/"), None, (200,)),
            ("catalog_filtered", get(filtered), None, (200,)),
            ("catalog_deep", get(f"/?page={DEEP_PAGE}"), None, (200,)),
            ("catalog_middle", get(f"/?page={max(1, pages // 2)}"), None, (200,)),
            ("detail", get(f"/benchmarks/{target['hub_id']}"), None, (200,)),
            ("live_warning", check_send, check_setup, (200,)),
            ("submit", submit_send, submit_setup, (303,)),
            ("operators", get("/operators"), None, (200,)),
            ("catalog_miss", get_never_stored("/"), None, (200,)),
            ("detail_miss", get_never_stored(f"/benchmarks/{target['hub_id']}"), None, (200,)),
        ]
        baseline_request = get("/fortunes")

        def base() -> Measurement:
            return measure("baseline", baseline.port, baseline_request, args.requests,
                           args.concurrency)

        results.append(base())
        for name, request, setup, expect in plan:
            print(f"  {LABELS[name]} ...", flush=True)
            results.append(measure(name, server.port, request, args.requests,
                                   args.concurrency, setup, expect))
            results.append(base())
        memory = server.memory()
    finally:
        server.stop()
    return {
        "rows": rows, "public_rows": target["public_rows"], "seed_seconds": seed_seconds,
        "seed_report": report[-1] if report else "", "target": target,
        "load_average": [load_before, os.getloadavg()[0]],
        "memory": memory, "baseline_memory": baseline.memory(),
        "measurements": [asdict(m) for m in results],
    }


def with_ratios(size: dict) -> list[dict]:
    """Each endpoint with the mean of the baselines measured just before and after it."""
    rows = size["measurements"]
    out = []
    for index in range(1, len(rows) - 1, 2):
        before, endpoint, after = rows[index - 1], rows[index], rows[index + 1]
        base_rps = (before["rps"] + after["rps"]) / 2
        base_p50 = (before["p50_ms"] + after["p50_ms"]) / 2
        out.append({**endpoint, "baseline_rps": base_rps, "baseline_p50_ms": base_p50,
                    "rps_ratio": endpoint["rps"] / base_rps,
                    "p50_ratio": endpoint["p50_ms"] / base_p50})
    return out


# --- reporting ---------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]
    line = lambda cells: "  ".join(  # noqa: E731
        str(c).ljust(w) if i == 0 else str(c).rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def size_table(size: dict) -> str:
    baselines = [m for m in size["measurements"] if m["name"] == "baseline"]
    rows = [[LABELS["baseline"] + f" (x{len(baselines)})",
             f"{statistics.median(m['rps'] for m in baselines):.0f}",
             f"{statistics.median(m['p50_ms'] for m in baselines):.1f}",
             f"{statistics.median(m['p95_ms'] for m in baselines):.1f}",
             f"{statistics.median(m['p99_ms'] for m in baselines):.1f}", "1.00", "1.00", "0"]]
    for m in with_ratios(size):
        rows.append([LABELS[m["name"]], f"{m['rps']:.0f}", f"{m['p50_ms']:.1f}",
                     f"{m['p95_ms']:.1f}", f"{m['p99_ms']:.1f}", f"{m['rps_ratio']:.2f}",
                     f"{m['p50_ratio']:.2f}", str(m["errors"])])
    head = (f"{size['rows']:,} rows ({size['public_rows']:,} public): seed-demo "
            f"{size['seed_seconds']:.1f} s; worker peak RSS {size['memory']['peak_mib']:.0f} MiB "
            f"(baseline {size['baseline_memory']['peak_mib']:.0f} MiB); detail hub "
            f"#{size['target']['hub_id']} with {size['target']['reproductions']} reproductions")
    return head + "\n" + table(
        ["endpoint", "req/s", "p50 ms", "p95 ms", "p99 ms", "x base req/s", "x base p50",
         "errors"], rows)


def scaling(sizes: list[dict]) -> tuple[str, dict]:
    """p50 per endpoint per size, and its growth from the smallest to the largest size.

    Growth is given twice: raw, and over the baseline's p50 measured around it. The
    machine's load changes between sizes (seed-demo, other work), which moves every
    figure; the baseline-relative growth cancels that, so the budget reads it.
    """
    by_size = {s["rows"]: {m["name"]: m for m in with_ratios(s)} for s in sizes}
    ordered = sorted(by_size)
    names = [n for n in LABELS if n != "baseline" and n in by_size[ordered[0]]]
    growth = {}
    rows = []
    for name in names:
        p50s = [by_size[size][name]["p50_ms"] for size in ordered]
        relative = [by_size[size][name]["p50_ratio"] for size in ordered]
        raw = p50s[-1] / p50s[0]
        growth[name] = {"raw": raw, "relative": relative[-1] / relative[0]}
        rows.append([LABELS[name]] + [f"{p:.1f}" for p in p50s]
                    + [f"{raw:.2f}", f"{growth[name]['relative']:.2f}"])
    span = f"{ordered[-1]:,}/{ordered[0]:,}" if len(ordered) > 1 else "ratio"
    headers = (["p50 ms"] + [f"{size:,}" for size in ordered]
               + [f"{span} raw", f"{span} x base"])
    return table(headers, rows), growth


def budgets(sizes: list[dict], growth: dict) -> list[tuple[str, bool | None, str]]:
    largest = max(sizes, key=lambda s: s["rows"])
    smallest = min(sizes, key=lambda s: s["rows"])
    at = {m["name"]: m for m in with_ratios(largest)}
    full = largest["rows"] >= 100_000
    scaled = smallest["rows"] <= 1_000 and full
    checks: list[tuple[str, bool | None, str]] = []

    def check(name: str, ok: bool, detail: str, applies: bool) -> None:
        checks.append((name, ok if applies else None, detail))

    for name in ("catalog", "detail"):
        m = at[name]
        check(f"{LABELS[name]} >= 0.5x baseline req/s", m["rps_ratio"] >= 0.5,
              f"{m['rps_ratio']:.2f}x at {largest['rows']:,} rows", full)
    m = at["live_warning"]
    check("live warning >= 0.8x baseline req/s", m["rps_ratio"] >= 0.8,
          f"{m['rps_ratio']:.2f}x", full)
    check("live warning p95 < 20 ms", m["p95_ms"] < 20, f"{m['p95_ms']:.1f} ms", full)
    for name in (*READ_ENDPOINTS, *EXTRA_ENDPOINTS):
        change = growth.get(name, {"raw": 1.0, "relative": 1.0})
        check(f"{LABELS[name]} p50 growth < 1.5x (relative to baseline)",
              change["relative"] < 1.5,
              f"{change['relative']:.2f}x (raw {change['raw']:.2f}x)", scaled)
    check("worker peak memory < 150 MiB", largest["memory"]["peak_mib"] < 150,
          f"{largest['memory']['peak_mib']:.0f} MiB", full)
    check("seed-demo --rows 100000 < 120 s", largest["seed_seconds"] < 120,
          f"{largest['seed_seconds']:.1f} s", full)
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated catalog sizes (public rows)")
    parser.add_argument("--requests", type=int, default=500, help="requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=2, help="concurrent connections")
    parser.add_argument("--quick", action="store_true", help="1 000 rows only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary databases")
    parser.add_argument("--output", default=str(RESULTS), help="where to write the JSON")
    args = parser.parse_args(argv)
    sizes = [1_000] if args.quick else [int(s.replace("_", "")) for s in args.sizes.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix="trustbench-bench-"))
    started = time.perf_counter()
    baseline_env = dict(os.environ, BASELINE_DATABASE=str(workdir / "fortunes.sqlite3"))
    run([sys.executable, "-m", "bench.baseline_app"], baseline_env, workdir / "baseline.log")
    baseline = Server("bench.baseline_app:create_app()", baseline_env,
                      workdir / "baseline-gunicorn.log")
    results = []
    try:
        baseline.wait_ready()
        for rows in sizes:
            print(f"== {rows:,} rows", flush=True)
            results.append(bench_size(rows, args, baseline, workdir))
    finally:
        baseline.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    for size in results:
        print(size_table(size))
        print()
    scale_text, growth = scaling(results)
    print("Scaling of p50 latency with catalog size")
    print(scale_text)
    print()
    checks = budgets(results, growth)
    print("Budgets (docs/performance.md)")
    for name, ok, detail in checks:
        verdict = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        print(f"  {verdict}  {name}: {detail}")
    total = time.perf_counter() - started
    print(f"\ntotal {total:.0f} s; results in {args.output}"
          + (f"; databases kept in {workdir}" if args.keep else ""))

    Path(args.output).write_text(json.dumps({
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "settings": {"sizes": sizes, "requests": args.requests,
                     "concurrency": args.concurrency, "deep_page": DEEP_PAGE,
                     "filters": FILTERS, "seed": SEED},
        "sizes": [{**size, "endpoints": with_ratios(size)} for size in results],
        "scaling_p50_growth": growth,
        "budgets": [{"budget": n, "ok": ok, "measured": d} for n, ok, d in checks],
        "total_seconds": total,
    }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
