"""Timed runs into a row's fields: the headline medians and spreads (SPEC §2) and the
stored run rows. Fresh rows, reproductions, editorial rows and the demo all use it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from webapp.models import RunSample
from webapp.services.divergence import summarise_runs

Run = tuple[float, int, float]  # (ttft_ms, tokens_generated, decode_tps)


def headline_fields(runs: Sequence[Run]) -> dict[str, Any]:
    """The row's headline numbers: medians of the runs and their spreads."""
    summary = summarise_runs(runs)
    return {
        "ttft_ms": summary.ttft_median,
        "decode_tps": summary.decode_median,
        "tokens_generated": round(summary.tokens_median),
        "ttft_spread": summary.ttft_spread,
        "decode_spread": summary.decode_spread,
    }


def row_fields(runs: Sequence[Run]) -> dict[str, Any]:
    """The headline numbers and the run rows, ready for a new Submission."""
    return {
        **headline_fields(runs),
        "runs": [RunSample(position=index, ttft_ms=ttft, tokens_generated=tokens,
                           decode_tps=decode)
                 for index, (ttft, tokens, decode) in enumerate(runs)],
    }
