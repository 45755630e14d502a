"""Intake benchmark: parse a ~1 MB `llama-bench -o jsonl` file, as an upload would.

Builds the file by repeating the real JSONL example from llama.cpp's README
(tests/intake/fixtures/llama_bench_rtx4080_b5163.jsonl) until it reaches the target
size, then times `webapp.services.intake.parse` on it. Issue 11's target is under
100 ms; this reports the figure and asserts nothing.

    .venv/bin/python bench/intake_parse.py [--size-kib 1024] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from webapp.services.intake import MAX_BYTES, References, parse  # noqa: E402

FIXTURE = REPO / "tests" / "intake" / "fixtures" / "llama_bench_rtx4080_b5163.jsonl"
TARGET_MS = 100.0


def build(size: int) -> bytes:
    lines = FIXTURE.read_bytes().strip().split(b"\n")
    out: list[bytes] = []
    total = 0
    while total < size:
        for line in lines:
            out.append(line)
            total += len(line) + 1
    return b"\n".join(out) + b"\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-kib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    raw = build(args.size_kib * 1024)
    if len(raw) > MAX_BYTES:
        sys.exit(f"{len(raw)} bytes is over the intake's limit of {MAX_BYTES}")
    refs = References.from_csv_dir(REPO / "webapp" / "data")
    intake = parse(raw, filename="bench.jsonl", references=refs)  # warm-up, and a check
    assert intake.run_count == 5 and intake.values["hardware"] == "rtx-4080"
    timings = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        parse(raw, filename="bench.jsonl", references=refs)
        timings.append((time.perf_counter() - start) * 1000)
    median = statistics.median(timings)
    records = raw.count(b"\n")
    print(f"llama-bench JSONL: {len(raw) / 1024:.0f} KiB, {records} records")
    print(f"parse: median {median:.1f} ms, min {min(timings):.1f} ms, "
          f"max {max(timings):.1f} ms over {args.repeat} runs")
    verdict = "under" if median < TARGET_MS else "OVER"
    print(f"target: {TARGET_MS:.0f} ms -> {verdict} target")


if __name__ == "__main__":
    main()
