"""Helpers shared by the submission, reproduce, feedback, status and privacy tests.

No tests live here: forms as an operator would fill them, tokens read from pages,
and a reader for what a re-rendered form still holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import html5lib

RUNS_OK = ((250.0, 512, 100.0), (252.0, 512, 101.0), (249.0, 512, 99.0))
NS = "{http://www.w3.org/1999/xhtml}"


def run_fields(runs: Iterable[tuple]) -> dict[str, str]:
    fields = {}
    for index, (ttft, tokens, decode) in enumerate(runs):
        fields[f"runs-{index}-ttft_ms"] = str(ttft)
        fields[f"runs-{index}-tokens_generated"] = str(tokens)
        fields[f"runs-{index}-decode_tps"] = str(decode)
    return fields


def same_runs(ttft: float, decode: float, count: int = 3) -> tuple[tuple, ...]:
    """Identical runs: no spread, so only the divergence speaks."""
    return tuple((ttft, 512, decode) for _ in range(count))


def fresh_form(runs: Iterable[tuple] = RUNS_OK, **overrides: str) -> dict[str, str]:
    form = {
        "model": "llama-3.1-8b-instruct",
        "hardware": "rtx-4090",
        "hardware_count": "1",
        "quant": "gguf-q4_k_m",
        "runtime": "llama-cpp",
        "runtime_version": "b4500",
        "driver_version": "NVIDIA 560.35.03 / CUDA 12.6",
        "os_label": "Ubuntu 24.04",
        "concurrent_users": "1",
        "prompt_tokens": "500",
        "max_tokens": "512",
        "seed": "42",
        "quant_provider": "bartowski",
        "vram_peak_mib": "6200",
        "notes": "",
        **run_fields(runs),
    }
    form.update(overrides)
    return form


def repro_form(lock_token: str, runs: Iterable[tuple] = RUNS_OK, **overrides: str
               ) -> dict[str, str]:
    form = {
        "lock_token": lock_token,
        "runtime": "llama-cpp",
        "runtime_version": "b4500",
        "driver_version": "NVIDIA 560.35.03 / CUDA 12.6",
        "os_label": "Ubuntu 24.04",
        "concurrent_users": "1",
        "prompt_tokens": "500",
        "max_tokens": "512",
        "seed": "42",
        "vram_peak_mib": "6100",
        "notes": "",
        **run_fields(runs),
    }
    form.update(overrides)
    return form


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} field on the page"
    return match.group(1)


def lock_token_of(client, hub_id: int) -> str:
    return hidden_value(client.get(f"/benchmarks/{hub_id}/reproduce").text, "lock_token")


def csrf_of(html: str) -> str:
    """The page's CSRF token (every page carries it in a meta tag for htmx)."""
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def form_values(html: str) -> dict[str, str]:
    """What each named control of the page's forms holds, as a browser would send it."""
    document = html5lib.parse(html)
    values: dict[str, str] = {}
    for element in document.iter(f"{NS}input"):
        name = element.get("name")
        if not name:
            continue
        if element.get("type") in ("checkbox", "radio"):
            if element.get("checked") is not None:
                values[name] = element.get("value", "on")
            continue
        values[name] = element.get("value", "")
    for element in document.iter(f"{NS}textarea"):
        values[element.get("name")] = element.text or ""
    for element in document.iter(f"{NS}select"):
        chosen = [option.get("value", "") for option in element.iter(f"{NS}option")
                  if option.get("selected") is not None]
        values[element.get("name")] = chosen[0] if chosen else ""
    return values


def assert_values_kept(html: str, sent: Mapping[str, str], skip: Iterable[str] = ()) -> None:
    """Every field the operator typed is back in the re-rendered form, as typed."""
    shown = form_values(html)
    skipped = {"csrf_token", "lock_token", "website", *skip}
    for name, value in sent.items():
        if name in skipped:
            continue
        assert name in shown, f"{name} is missing from the re-rendered form"
        if name in ("speculative", "batch_gt1", "tensor_parallel"):
            assert bool(shown[name]) == bool(value), name
            continue
        assert shown[name] == value, f"{name}: sent {value!r}, shown {shown[name]!r}"


def field_error(html: str, name: str) -> str | None:
    """The message shown beside a field (element id e-<name>), or None."""
    document = html5lib.parse(html)
    for element in document.iter(f"{NS}p"):
        if element.get("id") == f"e-{name}":
            return "".join(element.itertext()).replace("Error: ", "", 1).strip()
    return None
