"""make bench writes docs/performance.md's generated section from what it measured: each
budget met or missed as the run says, SQLite and PostgreSQL side by side."""

from __future__ import annotations

from bench import run as bench


def m(name: str, rps: float, p50: float, errors: int = 0) -> dict:
    return {"name": name, "requests": int(rps * 4), "seconds": 4.0, "rps": rps,
            "p50_ms": p50, "p95_ms": p50 * 2, "p99_ms": p50 * 3, "errors": errors,
            "bytes_per_response": 9000.0, "statuses": {"200": int(rps * 4)}}


def size(kind: str, rows: int, catalog_rps: float, catalog_p50: float) -> dict:
    base = m("baseline", 1000, 2.0)
    measurements = [base, m("catalog", catalog_rps, catalog_p50), base,
                    m("detail_hub", 500, 4.0), base,
                    m("realistic", 600, 3.0), base, m("catalog_stored", 900, 2.0), base,
                    m("catalog_control", 600, 3.0), base, m("catalog_flooded", 300, 6.0), base,
                    m("live_warning", 900, 2.0), base]
    return {"database": kind, "rows": rows, "public_rows": rows, "seed_seconds": 1.0,
            "hub_id": 1, "reproductions": 3, "plain_id": 2, "paths": {"catalog": "/"},
            "memory_off": {"rss_mib": 100.0}, "memory_on": {"rss_mib": 160.0},
            "flood": {"catalog_flooded": 10, "catalog_control": 10},
            "baseline_memory": {"rss_mib": 70.0}, "measurements": measurements}


def report(runs: list[dict]) -> dict:
    out = {"runs": runs, "commit": "abc1234", "when": "2026-12-02 06:00 UTC",
           "machine": {"cpus": 2, "python": "3.11", "platform": "Linux"},
           "postgres_version": "15.8", "total_seconds": 10.0,
           "settings": {"concurrency": 2, "seconds": 4.0}}
    out["budgets"] = bench.budgets(runs)
    return out


def verdicts(checks: list[dict], database: str) -> dict[str, bool | None]:
    return {c["budget"].split(":")[0]: c["ok"] for c in checks if c["database"] == database}


def test_budgets_are_met_or_missed_as_measured():
    runs = [size("sqlite", 1_000, 400, 4.0), size("sqlite", 100_000, 400, 4.2),
            size("postgresql", 1_000, 400, 4.0), size("postgresql", 100_000, 100, 20.0)]
    checks = bench.budgets(runs)
    sqlite, postgres = verdicts(checks, "sqlite"), verdicts(checks, "postgresql")
    assert sqlite[bench.LABELS["catalog"]] is True  # 0.40x, p50 2.1x
    assert postgres[bench.LABELS["catalog"]] is False  # 0.10x
    growth = [c for c in checks if "growth" in c["budget"] and c["database"] == "postgresql"]
    assert growth and growth[0]["ok"] is False  # 20 ms against 4 ms
    flood = [c for c in checks if c["budget"].startswith("junk flood")]
    assert all(c["ok"] is False for c in flood)  # half the control's req/s
    memory = [c for c in checks if c["budget"].startswith("worker RSS")]
    assert all(c["ok"] is False and c["measured"] == "160 MiB" for c in memory)


def test_a_small_run_measures_no_budget():
    checks = bench.budgets([size("sqlite", 1_000, 400, 4.0)])
    assert checks and all(c["ok"] is None for c in checks)


def test_the_document_section_is_rewritten_between_its_markers(tmp_path, monkeypatch):
    document = tmp_path / "performance.md"
    document.write_text(f"# Performance\n\nprose\n\n{bench.BEGIN}\nold figures\n{bench.END}\n"
                        "\nafter\n")
    monkeypatch.setattr(bench, "DOCUMENT", document)
    runs = [size("sqlite", 100_000, 100, 20.0), size("postgresql", 100_000, 400, 4.0)]
    bench.write_document(bench.generated_section(report(runs)))
    text = document.read_text()
    assert text.startswith("# Performance\n\nprose\n") and text.rstrip().endswith("after")
    assert "old figures" not in text and text.count(bench.BEGIN) == 1
    assert "Commit `abc1234`" in text and "PostgreSQL 15.8" in text
    assert "| sqlite | catalog, first page" in text and "**missed**" in text
    assert "| postgresql | catalog, first page" in text and "**met**" in text
    header = next(line for line in text.splitlines() if line.startswith("| page | sqlite"))
    assert "postgresql req/s" in header  # side by side
