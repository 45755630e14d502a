"""How a row's configuration and numbers read on a page: one label per dimension,
a measured number, an operator's name and link.

Every page, the dashboard and the plausibility messages use these, so a model or a
quant is named the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import idna

from webapp.services.rules import METADATA_FIELDS, Kind

# Who measured an editorial row (SPEC §4): the editors, never a handle or "anonymous".
EDITORS_LABEL = "the editors"


def number(value: float | int | None) -> str:
    """A measured value for reading: '1,234', '87.3'; an em dash when absent."""
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}".removesuffix(".0")


def safe_url(url: str | None) -> str | None:
    """The operator's URL when it is an absolute http(s) address, else None (not a link);
    an internationalised host name in its ASCII form (ascii_host)."""
    if not url:
        return None
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        return None
    return ascii_host(text)


def ascii_host(url: str) -> str | None:
    """`url` with an internationalised host name written in its ASCII form (IDNA 2008,
    "xn--…"), as browsers show a host that mixes scripts: "https://еxample.com/" (a
    Cyrillic е) reads "https://xn--xample-2of.com/", not as example.com. None when the
    host cannot be written so (a label too long, or empty)."""
    if url.isascii():
        return url
    parts = urlsplit(url)
    host = parts.hostname
    if not host or host.isascii():
        return url  # letters beyond ASCII in the path or query only: no other site
    try:  # IDNA 2008 with UTS #46 mapping, as browsers: "straße.de" stays itself
        encoded = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None
    userinfo, at, _host_port = parts.netloc.rpartition("@")  # rebuilt: host encoded
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}{at}{encoded}{port}"))


# The label functions take a Submission, or anything with the same attributes (a
# configuration a form describes): model, hardware, hardware_count, quant, runtime and
# the "other" names.


def _named(row: Any, dimension: str, prefix: str, listed: str) -> str:
    """The typed name of an "other" entry (after `prefix`), else the listed name."""
    typed = getattr(row, f"other_{dimension}")
    if getattr(row, dimension).is_other and typed:
        return f"{prefix}{typed}"
    return listed


def model_label(row: Any) -> str:
    return _named(row, "model", "Other model: ", row.model.name)


def hardware_label(row: Any) -> str:
    name = _named(row, "hardware", "other: ", row.hardware.name)
    if row.hardware.kind == "cpu" and row.cpu_family:
        name = f"{name} ({row.cpu_family})"
    return f"{row.hardware_count}× {name}"


def quant_label(row: Any) -> str:
    return _named(row, "quant", "Other quant: ", row.quant.label)


def runtime_label(row: Any) -> str:
    name = _named(row, "runtime", "Other runtime: ", row.runtime.name)
    return f"{name} {row.runtime_version}" if row.runtime_version else name


def operator_label(row: Any) -> str:
    if row.kind == Kind.EDITORIAL:
        return EDITORS_LABEL
    handle = (row.handle or "").strip()
    return handle or "anonymous"


def shown(value: object) -> str | None:
    """A build-context value as a page shows it: yes/no for flags, None when not given."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).strip()
    return text or None


# --- the build-context block ---------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    label: str
    value: str | None  # None renders as "not given"


def build_context(row: Any) -> tuple[Fact, ...]:
    """What a reproducer must read to match the run (SPEC §1), in reading order."""
    names = dict(METADATA_FIELDS)
    return (
        Fact("Model", model_label(row)),
        Fact("Hardware", hardware_label(row)),
        Fact("Quant", quant_label(row)),
        Fact("Runtime engine", row.runtime.name),
        Fact(names["runtime_version"], shown(row.runtime_version)),
        Fact(names["driver_version"], shown(row.driver_version)),
        Fact(names["os_label"], shown(row.os_label)),
        Fact("CPU family", shown(row.cpu_family)),
        Fact("Concurrent users", shown(row.concurrent_users)),
        Fact(names["prompt_tokens"], shown(row.prompt_tokens)),
        Fact(names["max_tokens"], shown(row.max_tokens)),
        Fact("Seed", shown(row.seed)),
        Fact(names["quant_provider"], shown(row.quant_provider)),
        Fact("Model file sha256 (prefix)", shown(row.model_sha256_prefix)),
        Fact("Speculative decoding", shown(bool(row.speculative))),
        Fact("Batch larger than 1", shown(bool(row.batch_gt1))),
        Fact("Tensor parallel", shown(bool(row.tensor_parallel))),
    )
