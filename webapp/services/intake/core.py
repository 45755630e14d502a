"""The intake's data types: reference entries, the result, the one error, and a builder.

Plain frozen dataclasses the caller fills from ORM rows or from the reference CSV files,
the `Intake` every parser returns, `IntakeError` (its message is for the operator), and
`Draft`, the small builder parsers use so that every pre-filled value carries the line
or JSON key it came from.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

OTHER = "other"

# The rule set's counts (webapp/services/rules.py, SPEC §2). Copied, not imported, so this
# package stays importable without the app; tests/intake checks they still agree.
MIN_RUNS = 3
MAX_RUNS = 10

# Form fields of one timed run: runs-<i>-ttft_ms, runs-<i>-tokens_generated, ...
RUN_FIELDS = ("ttft_ms", "tokens_generated", "decode_tps")


# What a result file can make doubtful about its own numbers, by code: the sentence the
# operator reads at the import, and reviewers and readers beside the row's provenance.
DOUBTS = {
    "edited": "The result file's own timestamps disagree with its decode speed: it may "
              "have been edited.",
    "other-runner": "The result file was not written by the runner this site serves (its "
                    "runner sha256 differs or is missing): an older or edited copy.",
    "no-prompt": "The result file does not name the prompt it measured (no prompt sha256), "
                 "so it cannot be checked to be the runner's.",
}


class IntakeError(ValueError):
    """A file the intake refuses. The message is written for the operator at the form."""


_COMPACT_MOMENT = re.compile(r"(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][0-9:.,]{5,40}(?:Z|[+-]\d{2}:?\d{2})?)?",
                         re.IGNORECASE)


def measured_day(value: Any) -> date | None:
    """The UTC day of a date or moment a tool wrote: "2025-01-01", "2025-01-01T10:00:00Z",
    "2025-01-01T10:00:00.123456789+02:00" (Ollama's nanoseconds), vLLM's
    "20250101-100000"; None when it is none of these."""
    if not isinstance(value, str) or len(value) > 60:
        return None
    text = value.strip()
    compact = _COMPACT_MOMENT.fullmatch(text)
    if compact:
        text = "{}-{}-{}T{}:{}:{}".format(*compact.groups())
    elif not _ISO_MOMENT.fullmatch(text):
        return None
    # Python reads at most six decimals of a second: Ollama writes nine.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace(",", "."))
    try:
        moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def run_field(index: int, name: str) -> str:
    return f"runs-{index}-{name}"


# --- reference data ---------------------------------------------------------------------


def _get(row: Any, key: str, default: Any = "") -> Any:
    value = row.get(key, default) if isinstance(row, Mapping) else getattr(row, key, default)
    return default if value is None else value


def _aliases(row: Any) -> tuple[str, ...]:
    value = _get(row, "aliases", ())
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split("|") if part.strip())
    return tuple(str(part) for part in value)


def _ref(kind: type, row: Any) -> Any:
    """A reference entry of `kind` from an ORM row or a CSV dict (same field names)."""
    values = {item.name: str(_get(row, item.name)) for item in fields(kind)
              if item.name != "aliases"}
    return kind(**values, aliases=_aliases(row))


@dataclass(frozen=True)
class HardwareRef:
    slug: str
    name: str
    vendor: str = ""
    kind: str = ""  # gpu | unified | cpu | other
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelRef:
    slug: str
    name: str
    family: str = ""
    variant: str = ""  # instruct | base | other
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuantRef:
    slug: str
    name: str
    family: str = ""  # GGUF | AWQ | GPTQ | MLX | FP8 | ...
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuntimeRef:
    slug: str
    name: str
    engine_family: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class References:
    """The four reference tables, as far as the intake needs them."""

    hardware: tuple[HardwareRef, ...] = ()
    models: tuple[ModelRef, ...] = ()
    quants: tuple[QuantRef, ...] = ()
    runtimes: tuple[RuntimeRef, ...] = ()

    @classmethod
    def from_rows(
        cls,
        *,
        hardware: Iterable[Any] = (),
        models: Iterable[Any] = (),
        quants: Iterable[Any] = (),
        runtimes: Iterable[Any] = (),
    ) -> References:
        """Build from ORM rows or CSV dicts: anything with slug, name, ... as attributes
        or keys. An optional `aliases` (sequence, or text split on "|") adds names."""
        return cls(
            hardware=tuple(_ref(HardwareRef, row) for row in hardware),
            models=tuple(_ref(ModelRef, row) for row in models),
            quants=tuple(_ref(QuantRef, row) for row in quants),
            runtimes=tuple(_ref(RuntimeRef, row) for row in runtimes),
        )

    @classmethod
    def from_csv_dir(cls, folder: str | Path) -> References:
        """Read hardware.csv, models.csv, quants.csv and runtimes.csv from `folder`."""
        base = Path(folder)

        def rows(name: str) -> list[dict[str, str]]:
            with (base / name).open(newline="", encoding="utf-8") as handle:
                return list(csv.DictReader(handle))

        return cls.from_rows(
            hardware=rows("hardware.csv"),
            models=rows("models.csv"),
            quants=rows("quants.csv"),
            runtimes=rows("runtimes.csv"),
        )

    def runtime(self, slug: str) -> RuntimeRef | None:
        return next((entry for entry in self.runtimes if entry.slug == slug), None)


# --- the result --------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A value the tool did not measure, derived from what it did. Offered beside the
    form, never pre-filled: the operator decides whether to use it."""

    value: str
    basis: str


@dataclass
class Intake:
    """What one file or paste gave: form values to pre-fill, each with its source.

    - `values`: form field name -> text (e.g. "runs-0-ttft_ms" -> "412.5");
    - `sources`: the same field -> the source line or JSON key it came from;
    - `notes`: what the operator must know before sending (missing TTFT, batch > 1, ...);
    - `estimates`: form field -> Estimate, shown apart and never filled silently;
    - `unmapped`: dimension -> raw name that matched no reference entry (sent to "other");
    - `facts`: details worth showing or keeping that are not form fields
      (prompt sha256, how tokens were counted, the tool's model id, ...);
    - `device`: "cpu" when the file says the model ran on the CPU only, "gpu" when it
      names the GPU that ran it, None when it does not say;
    - `doubts`: what the file itself makes doubtful (DOUBTS codes: its timestamps
      disagree with its speeds, another runner wrote it, it names no prompt). The row
      keeps them with its provenance, for reviewers and readers.
    """

    format: str
    format_version: str | None
    sha256: str
    tool: str
    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    estimates: dict[str, Estimate] = field(default_factory=dict)
    unmapped: dict[str, str] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)
    device: str | None = None
    doubts: list[str] = field(default_factory=list)

    @property
    def run_count(self) -> int:
        return sum(1 for key in self.values if key.endswith("-decode_tps"))

    @property
    def provenance(self) -> str:
        """How the numbers got there, for the detail page."""
        verb = "measured with" if self.format == "trustbench-result" else "imported from"
        version = f" {self.format_version}" if self.format_version else ""
        return f"{verb} {self.tool}{version}"


# --- numbers -----------------------------------------------------------------------------


def fmt(number: float, places: int = 3) -> str:
    """A form-friendly number: 119.030 -> "119.03", 512.0 -> "512"."""
    if float(number).is_integer():
        return str(int(number))
    text = f"{number:.{places}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def positive_number(value: Any, where: str) -> float:
    """A finite number above zero, or an IntakeError naming `where`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise IntakeError(f"{where} should be a number; the file has {_show(value)}.")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        raise IntakeError(f"{where} is too large to be a measurement.") from None
    if not math.isfinite(number):
        raise IntakeError(f"{where} is not a finite number ({_show(value)}).")
    if number <= 0:
        raise IntakeError(
            f"{where} is {_show(value)}: timings and counts must be greater than zero."
        )
    return number


def computed(number: float, where: str) -> float:
    """A number worked out from the file's values (a speed from a duration): finite and
    above zero, or an IntakeError (values at the edge of what a float holds give inf or
    0 once divided)."""
    if not math.isfinite(number) or number <= 0:
        raise IntakeError(f"{where[:1].upper()}{where[1:]} works out to {_show(number)}, "
                          "which no run measures: check the numbers in the file.")
    return number


def digits(text: str, where: str) -> int:
    """A whole number the file writes in digits (a count in tool text), or an IntakeError
    when it is longer than any count (Python refuses to read past 4,300 digits)."""
    if len(text) > 18:
        raise IntakeError(f"{where} is too large to be a measurement.")
    return int(text)


def positive_int(value: Any, where: str) -> int:
    number = positive_number(value, where)
    if not number.is_integer():
        raise IntakeError(f"{where} should be a whole number; the file has {_show(value)}.")
    return int(number)


def optional_text(value: Any, limit: int = 200) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text[:limit] or None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- building a result -------------------------------------------------------------------


class Draft:
    """Collects values with their sources while a parser reads a file."""

    def __init__(self, fmt_name: str, tool: str) -> None:
        self.format = fmt_name
        self.tool = tool
        self.format_version: str | None = None
        self.values: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        self.notes: list[str] = []
        self.estimates: dict[str, Estimate] = {}
        self.unmapped: dict[str, str] = {}
        self.facts: dict[str, str] = {}
        self.device: str | None = None
        self.doubts: list[str] = []

    def put(self, name: str, value: str | float | int, source: str) -> None:
        text = fmt(value) if isinstance(value, float) else str(value)
        self.values[name] = text
        self.sources[name] = source

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def doubt(self, code: str) -> None:
        """The file is doubtful in this way (a DOUBTS code); its note says so to the
        operator."""
        if code not in self.doubts:
            self.doubts.append(code)
        self.note(DOUBTS[code])

    def put_measured_on(self, value: Any, source: str) -> None:
        """The day the file says its runs were measured (an ISO 8601 date or moment, in
        UTC when it names no offset; vLLM's YYYYMMDD-HHMMSS), as the form's measurement
        date. A date that cannot be read, or that is still to come, fills nothing: the
        form keeps the day typed (today by default), and a note says so. None (the
        file names no date) fills nothing and says nothing."""
        if value is None:
            return
        day = measured_day(value)
        if day is None:
            self.note(f"The file's date ({source}) could not be read: check the measurement "
                      "date.")
            return
        today = datetime.now(UTC).date()
        if day > today:
            self.note(f"The file's date ({source}: {day.isoformat()}) is after today "
                      f"({today.isoformat()}, UTC), so it was not used: check the "
                      "measurement date.")
            return
        self.put("measured_on", day.isoformat(), source)

    def estimate(self, name: str, value: float, basis: str) -> None:
        self.estimates[name] = Estimate(fmt(value, 1), basis)

    def put_runs(
        self,
        runs: list[tuple[float | None, int, float]],
        sources: list[str] | list[dict[str, str]],
    ) -> None:
        """Fill run rows (ttft may be None: the tool did not measure it); at most MAX_RUNS.
        Each run's source is one text for its three fields, or a text per field name."""
        if len(runs) > MAX_RUNS:
            self.note(
                f"The file holds {len(runs)} runs; the form takes at most {MAX_RUNS}, so "
                f"the first {MAX_RUNS} were filled."
            )
            runs, sources = runs[:MAX_RUNS], sources[:MAX_RUNS]
        elif len(runs) < MIN_RUNS:
            self.note(
                f"The file holds {len(runs)} timed run{'s' if len(runs) != 1 else ''}; "
                f"the rules ask for at least {MIN_RUNS}. Add runs before sending."
            )
        for index, (run, source) in enumerate(zip(runs, sources, strict=True)):
            for name, value in zip(RUN_FIELDS, run, strict=True):
                if value is None:
                    continue  # not measured by the tool: the operator enters it
                text = source if isinstance(source, str) else source[name]
                self.put(run_field(index, name), value, text)

    def finish(self, sha256: str) -> Intake:
        return Intake(
            format=self.format,
            format_version=self.format_version,
            sha256=sha256,
            tool=self.tool,
            values=self.values,
            sources=self.sources,
            notes=self.notes,
            estimates=self.estimates,
            unmapped=self.unmapped,
            facts=self.facts,
            device=self.device,
            doubts=self.doubts,
        )
