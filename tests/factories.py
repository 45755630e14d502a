"""Row factories shared by the suite (loaded as a pytest plugin)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from webapp.extensions import db
from webapp.models import Hardware, ModelVariant, Quant, RunSample, Runtime, Submission
from webapp.services.rules import Kind, State


def _ref(model, slug):
    return db.session.scalars(select(model).where(model.slug == slug)).one()


class RowFactory:
    """Builds submissions with sensible, complete defaults; any column can be overridden."""

    def __init__(self):
        self._anon = 0

    def __call__(
        self,
        *,
        model="llama-3.1-8b-instruct",
        hardware="rtx-4090",
        quant="gguf-q4_k_m",
        runtime="llama-cpp",
        kind=Kind.FRESH,
        state=State.APPROVED,
        hub=None,
        runs=((250.0, 512, 100.0), (255.0, 512, 101.0), (245.0, 512, 99.0)),
        handle=None,
        age_days=10,
        now=None,
        **columns,
    ) -> Submission:
        now = now or datetime.now(UTC)
        created = now - timedelta(days=age_days)
        ttfts = sorted(r[0] for r in runs)
        decodes = sorted(r[2] for r in runs)
        mid = len(runs) // 2
        self._anon += 1
        values = dict(
            kind=kind,
            state=state,
            hub=hub,
            model=_ref(ModelVariant, model),
            hardware=_ref(Hardware, hardware),
            quant=_ref(Quant, quant),
            runtime=_ref(Runtime, runtime),
            hardware_count=1,
            runtime_version="b4500",
            driver_version="NVIDIA 560.35.03 / CUDA 12.6",
            os_label="Ubuntu 24.04",
            concurrent_users=1,
            prompt_tokens=500,
            max_tokens=512,
            seed=42,
            quant_provider="bartowski",
            ttft_ms=ttfts[mid],
            decode_tps=decodes[mid],
            tokens_generated=512,
            ttft_spread=(ttfts[-1] - ttfts[0]) / ttfts[mid],
            decode_spread=(decodes[-1] - decodes[0]) / decodes[mid],
            vram_peak_mib=6200.0,
            handle=handle,
            operator_key=handle.strip().casefold() if handle else f"anon:test{self._anon}",
            status_nonce=secrets.token_urlsafe(24),
            created_at=created,
            measured_at=created,
        )
        values.update(columns)
        row = Submission(**values)
        row.runs = [
            RunSample(position=i, ttft_ms=t, tokens_generated=n, decode_tps=d)
            for i, (t, n, d) in enumerate(runs)
        ]
        db.session.add(row)
        db.session.flush()
        return row


@pytest.fixture
def make_row(app):
    return RowFactory()


@pytest.fixture
def runner_hub(make_row, session):
    """A public row the runner's fixture file (tests/intake/fixtures/
    trustbench_result_fake_engine.json) reproduces: same model, quant and engine family."""
    row = make_row(model="qwen2.5-7b-instruct", quant="gguf-q4_k_m", runtime="llama-cpp",
                   runs=((203.0, 512, 250.5), (201.3, 512, 250.5), (204.1, 512, 250.5)))
    session.commit()
    return row


@pytest.fixture
def no_csrf(app):
    """Forms post without a CSRF token (tests of what the form decides, not of CSRF)."""
    app.config["WTF_CSRF_ENABLED"] = False


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    """Every SQL statement run inside the block, as the database was sent it."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def publish(session, make_row, **columns):
    """A public row made by `make_row`, its stored index refreshed as a decision does."""
    from webapp.services import evidence

    row = make_row(**columns)
    evidence.refresh_derived(session, row)
    session.commit()
    return row


def listed_ids(body: bytes) -> list[int]:
    """Ids of the rows in the results table, in order."""
    text = body.decode()
    start = text.find('<table class="rows">')
    if start == -1:
        return []
    table = text[start:text.index("</table>", start)]
    return [int(m) for m in re.findall(r'href="/benchmarks/(\d+)"', table)]
