"""What each brotli and gzip level costs on the real pages (config.py's COMPRESS_*_LEVEL).

Renders each URL once, uncompressed, through the test client against the database in
`DATABASE_URL` (else the app's default, the one `make run` serves), then compresses that
body at each level as Flask-Compress would and prints the median milliseconds and the
bytes sent. Asserts nothing, writes nothing.

    DATABASE_URL=sqlite:////tmp/tb.sqlite3 .venv/bin/python bench/compression_levels.py \
        / /benchmarks/18 /hardware/rtx-4090 [--repeat 200]
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import brotli

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.charts_cost import median_ms  # noqa: E402

LEVELS = [("br", q) for q in range(5)] + [("gzip", level) for level in (1, 3, 6)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    from webapp import create_app

    client = create_app().test_client()
    for url in args.urls:
        response = client.get(url, headers={"Accept-Encoding": "identity"})
        body = response.get_data()
        print(f"{url}: status {response.status_code}, {len(body):,} bytes uncompressed")
        for name, level in LEVELS:
            if name == "br":  # Flask-Compress's call, with its default mode and window
                def squeeze(level=level, body=body):
                    return brotli.compress(body, quality=level, lgwin=22)
            else:
                def squeeze(level=level, body=body):
                    return gzip.compress(body, level)
            sent = len(squeeze())
            print(f"  {name:>4} {level}: {median_ms(squeeze, args.repeat):6.3f} ms, "
                  f"{sent:,} bytes ({sent / len(body):.1%})")


if __name__ == "__main__":
    main()
