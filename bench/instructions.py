"""Instructions a page costs per request, counted by valgrind's callgrind (`make instructions`).

Wall time on a shared two-core machine moves from run to run; the instructions a request
executes do not (the same interpreter, code, data and environment give the same count,
whatever else the machine is doing). So this is the figure to compare two commits of one
page by: check each out, run this against the same database, compare.

For each URL it runs the app in-process (Flask's test client, the page store off unless
--store, gzip and brotli accepted as the bench's clients do) under callgrind twice: once
serving the URL FEW times and once MANY times, after the same warm-up (templates
compiled, per-worker memos filled), and prints (instructions of the second run − the
first) ÷ (MANY − FEW): the cost of one more request, start-up and warm-up cancelled out.
Both runs pin the app's clock (webapp.models.utcnow) to one instant and Python's hash
seed, so memos keyed by the minute and set orderings are the same in both.

    make instructions URL=/ [DATABASE_URL=…]
    .venv/bin/python bench/instructions.py / /benchmarks/18 --store

It writes nothing but valgrind's output files, in a temporary folder it removes.
Needs valgrind (Debian's package).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FEW, MANY = 10, 30
_COLLECTED = re.compile(r"Collected : (\d+)")


def _pinned_now() -> datetime:
    return PINNED_AT  # type: ignore[name-defined]  # noqa: F821  # webapp.models' global


def serve(url: str, count: int, at: str, fragment: bool) -> None:
    """The measured program: `count` requests for `url`, after three to warm up."""
    sys.path.insert(0, str(REPO))
    from webapp import models

    # Every module imported utcnow by name; replacing its code pins all of them at once
    # (the code reads PINNED_AT from webapp.models' globals, set here for this process).
    models.PINNED_AT = datetime.fromisoformat(at)  # type: ignore[attr-defined]
    models.utcnow.__code__ = _pinned_now.__code__
    from webapp import create_app

    client = create_app().test_client()
    headers = {"Accept-Encoding": "gzip, br"}
    if fragment:
        headers["HX-Request"] = "true"
    for _ in range(3):
        status = client.get(url, headers=headers).status_code
    if status != 200:
        raise SystemExit(f"{url} answered {status}, not 200")
    for _ in range(count):
        client.get(url, headers=headers)


def counted(url: str, count: int, at: str, fragment: bool, folder: str,
            env: dict[str, str]) -> int:
    command = ["valgrind", "--tool=callgrind",
               f"--callgrind-out-file={folder}/callgrind.%p", sys.executable, __file__,
               "--serve", str(count), "--at", at, url]
    if fragment:
        command.append("--htmx")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"callgrind failed on {url}:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+", help="paths to request, e.g. / or /benchmarks/7")
    parser.add_argument("--store", action="store_true", help="with the page store on (60 s)")
    parser.add_argument("--htmx", action="store_true", help="send HX-Request (a fragment)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--at", help="the instant the app's clock is pinned to (ISO 8601, "
                        "UTC; default: the current minute)")
    args = parser.parse_args()
    at = args.at or datetime.now(UTC).replace(second=0, microsecond=0).isoformat()
    if args.serve is not None:
        serve(args.urls[0], args.serve, at, args.htmx)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    env = dict(os.environ, PYTHONHASHSEED="0")
    # Without DATABASE_URL, the app's own default: the instance database `make run` serves.
    env.setdefault("TRUSTBENCH_RATE_LIMITS_ENABLED", "0")
    env.setdefault("SECRET_KEY", "instructions-secret-key-not-for-production")
    env["TRUSTBENCH_PAGE_CACHE_SECONDS"] = "60" if args.store else "0"
    print(f"clock pinned at {at}; page store {'on' if args.store else 'off'}; "
          f"(instructions of {MANY} requests - of {FEW}) / {MANY - FEW}")
    with tempfile.TemporaryDirectory(prefix="callgrind-") as folder:
        for url in args.urls:
            few = counted(url, FEW, at, args.htmx, folder, env)
            many = counted(url, MANY, at, args.htmx, folder, env)
            print(f"{url}: {(many - few) / (MANY - FEW) / 1e6:.2f} M instructions per request",
                  flush=True)


if __name__ == "__main__":
    main()
