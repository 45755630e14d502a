"""The runner's own cost per streamed token: CPU time to read, de-chunk and parse a
20,000-token vLLM-shaped answer (best of three). Issue 11's budget: below 0.1 ms.

    .venv/bin/python bench/runner_overhead.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.runner.test_standalone import stream_cpu_seconds  # noqa: E402

TOKENS = 20_000


def main() -> None:
    per_token_ms = stream_cpu_seconds(TOKENS) / TOKENS * 1000
    print(f"trustbench-measure overhead: {per_token_ms * 1000:.1f} µs CPU per token "
          f"({TOKENS:,} tokens, best of 3; budget 100 µs)")


if __name__ == "__main__":
    main()
