"""The bandwidth ceiling and memory checks of a submission (SPEC §7).

Caps come from the declared hardware and quant, never from one fixed number. `of_row`
(a stored row) and `assess` (the setup a form describes) are the entry points every
page (the row tables too), the exports, the API, the feed, the embeddable badge, the
live warning, the dashboard and the demo use; `check` is the rule itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from webapp.services.divergence import positive, ratio
from webapp.services.labels import quant_label
from webapp.services.rules import (
    CEILING_MARGIN,
    REASON_EXCEEDS_CEILING,
    REJECTION_REASON_MAX,
    TENSOR_PARALLEL_MIN_DEVICES,
    FlagCode,
)

BYTES_PER_GB = 1e9  # bandwidth is quoted in GB/s, 10^9 bytes per second
MIB_PER_GIB = 1024


# A flag's name where room is short: a table's cell, the embeddable badge.
SHORT_LABELS = {
    FlagCode.EXCEEDS_CEILING: "Above ceiling",
    FlagCode.VRAM_EXCEEDS_MEMORY: "Above memory",
}


@dataclass(frozen=True)
class Flag:
    code: FlagCode
    message: str
    rejection_reason: str

    @property
    def label(self) -> str:
        return self.code.label

    @property
    def short_label(self) -> str:
        return SHORT_LABELS[self.code]


@dataclass(frozen=True)
class Plausibility:
    ceiling_tps: float | None
    share_of_ceiling: float | None
    memory_mib: float | None
    flags: tuple[Flag, ...]
    bandwidth_summed: bool = False  # tensor parallel across devices: bandwidths add up

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


def model_bytes(active_params_b: float, bits_per_weight: float) -> float:
    """Bytes of weights read per decoded token: active parameters × bits per weight / 8."""
    params = positive("active parameters (billions)", active_params_b)
    bits = positive("bits per weight", bits_per_weight)
    return params * 1e9 * bits / 8


def _device_count(hardware_count: object) -> int:
    if isinstance(hardware_count, bool) or not isinstance(hardware_count, int):
        raise ValueError(f"hardware count must be a whole number, got {hardware_count!r}")
    if hardware_count < 1:
        raise ValueError(f"hardware count must be at least 1, got {hardware_count!r}")
    return hardware_count


def tensor_parallel_counts(hardware_count: int, tensor_parallel: bool) -> bool:
    """Whether a declared tensor parallelism is one: it needs at least two devices."""
    return tensor_parallel and _device_count(hardware_count) >= TENSOR_PARALLEL_MIN_DEVICES


def ceiling_tps(
    bandwidth_gb_s: float,
    hardware_count: int,
    tensor_parallel: bool,
    active_params_b: float,
    bits_per_weight: float,
) -> float:
    """Single-stream decode ceiling in tokens per second.

    Tensor parallel reads each token's weights from every device at once, so bandwidths
    add up; a layer split reads the layers one device after another, so they do not.
    """
    bandwidth = positive("memory bandwidth (GB/s)", bandwidth_gb_s)
    devices = _device_count(hardware_count)
    summed = devices if tensor_parallel_counts(devices, tensor_parallel) else 1
    return bandwidth * summed * BYTES_PER_GB / model_bytes(active_params_b, bits_per_weight)


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _hardware(hardware_count: int | None, hardware_name: str) -> str:
    if not hardware_name:
        return ""
    return f"{hardware_count}× {hardware_name}" if hardware_count else hardware_name


def _setup(hardware_count: int | None, hardware_name: str, quant_name: str) -> str:
    return ", ".join(
        part for part in (_hardware(hardware_count, hardware_name), quant_name) if part
    )


def _one_line(text: str, fallback: str) -> str:
    """`text` if it fits the rejection-reason limit, else `fallback`, else truncated."""
    for candidate in (text, fallback):
        if len(candidate) <= REJECTION_REASON_MAX:
            return candidate
    return fallback[: REJECTION_REASON_MAX - 1] + "…"


def _ceiling_flag(decode_tps: float, ceiling: float, share: float, setup: str) -> Flag:
    on = f" on {setup}" if setup else ""
    message = (
        f"Decode speed {_num(decode_tps)} tok/s is {share:.2f}× the bandwidth ceiling of "
        f"{_num(ceiling)} tok/s{on}: single-stream decode cannot read the weights faster "
        f"than memory bandwidth allows, and more than {CEILING_MARGIN:.2f}× the ceiling is "
        "implausible."
    )
    numbers = (
        f"{REASON_EXCEEDS_CEILING}: {_num(decode_tps)} tok/s decode vs "
        f"{_num(ceiling)} tok/s ceiling"
    )
    reason = _one_line(f"{numbers}{on} ({share:.2f}×)", f"{numbers} ({share:.2f}×)")
    return Flag(FlagCode.EXCEEDS_CEILING, message, reason)


def _memory_flag(vram_peak_mib: float, memory_mib: float, hardware: str) -> Flag:
    on = f" of {hardware}" if hardware else ""
    message = (
        f"Memory peak {_num(vram_peak_mib)} MiB is more than the {_num(memory_mib)} MiB "
        f"memory{on}."
    )
    numbers = (
        f"Memory peak exceeds the hardware's memory: {_num(vram_peak_mib)} MiB peak vs "
        f"{_num(memory_mib)} MiB"
    )
    reason = _one_line(f"{numbers}{on}", numbers)
    return Flag(FlagCode.VRAM_EXCEEDS_MEMORY, message, reason)


@dataclass(frozen=True)
class _Limits:
    """What a configuration allows, whatever it measured."""

    ceiling_tps: float | None
    memory_mib: float | None
    declared: bool  # speculative decoding, batch > 1 or tensor parallelism that counts
    bandwidth_summed: bool


# Kept per configuration: a table, an export or the feed checks rows against a few
# hundred configurations, and each row then costs only its own comparisons. typed: a
# hardware count of True is not the count 1 (it is refused). A refused input is not kept.
@lru_cache(maxsize=4096, typed=True)
def _limits(bandwidth_gb_s: float | None, memory_gib: float | None, hardware_count: int | None,
            tensor_parallel: bool, speculative: bool, batch_gt1: bool,
            active_params_b: float | None, bits_per_weight: float | None) -> _Limits:
    ceiling = None
    declared = summed = False
    if None not in (bandwidth_gb_s, hardware_count, active_params_b, bits_per_weight):
        ceiling = ceiling_tps(
            bandwidth_gb_s, hardware_count, tensor_parallel, active_params_b, bits_per_weight
        )
        summed = tensor_parallel_counts(hardware_count, tensor_parallel)
        # Speculative decoding, batching and tensor parallelism each legitimately beat the
        # single-stream ceiling, so a declared one silences the check; tensor parallelism
        # only where there are devices to split across.
        declared = bool(speculative or batch_gt1 or summed)
    memory_mib = None
    if memory_gib is not None and hardware_count is not None:
        memory_mib = (
            positive("hardware memory (GiB)", memory_gib) * MIB_PER_GIB
            * _device_count(hardware_count)
        )
    return _Limits(ceiling, memory_mib, declared, summed)


def check(
    *,
    decode_tps: float | None,
    vram_peak_mib: float | None,
    bandwidth_gb_s: float | None,
    memory_gib: float | None,
    hardware_count: int | None,
    tensor_parallel: bool,
    speculative: bool,
    batch_gt1: bool,
    active_params_b: float | None,
    bits_per_weight: float | None,
    hardware_name: str = "",
    quant_name: str = "",
) -> Plausibility:
    """Ceiling and memory checks; each one is skipped when an input it needs is missing."""
    flags: list[Flag] = []
    limits = _limits(bandwidth_gb_s, memory_gib, hardware_count, tensor_parallel, speculative,
                     batch_gt1, active_params_b, bits_per_weight)

    ceiling = limits.ceiling_tps
    share = None
    if ceiling is not None and decode_tps is not None:
        decode = positive("decode speed", decode_tps)
        share = ratio(decode / ceiling)
        if share > CEILING_MARGIN and not limits.declared:
            setup = _setup(hardware_count, hardware_name, quant_name)
            flags.append(_ceiling_flag(decode, ceiling, share, setup))

    memory_mib = limits.memory_mib
    if memory_mib is not None and vram_peak_mib is not None:
        peak = positive("memory peak (MiB)", vram_peak_mib)
        if peak > memory_mib:
            flags.append(
                _memory_flag(peak, memory_mib, _hardware(hardware_count, hardware_name))
            )

    return Plausibility(
        ceiling_tps=ceiling, share_of_ceiling=share, memory_mib=memory_mib, flags=tuple(flags),
        bandwidth_summed=limits.bandwidth_summed,
    )


# --- the entry points -------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """A configuration as far as a form has picked it. A Submission row has the same
    attributes, so a stored row is a Setup too. model, hardware and quant are reference
    rows (or None while not picked)."""

    model: Any = None
    hardware: Any = None
    hardware_count: int | None = None
    quant: Any = None
    other_quant: str | None = None
    speculative: bool = False
    batch_gt1: bool = False
    tensor_parallel: bool = False


def assess(setup: Any, *, decode_tps: float | None, vram_peak_mib: float | None
           ) -> Plausibility:
    """The ceiling, the share of it and the flags of `decode_tps` on `setup`."""
    hardware, model, quant = setup.hardware, setup.model, setup.quant
    return check(
        decode_tps=decode_tps,
        vram_peak_mib=vram_peak_mib,
        bandwidth_gb_s=hardware.bandwidth_gb_s if hardware else None,
        memory_gib=hardware.memory_gib if hardware else None,
        hardware_count=setup.hardware_count if hardware else None,
        tensor_parallel=setup.tensor_parallel,
        speculative=setup.speculative,
        batch_gt1=setup.batch_gt1,
        active_params_b=model.active_params_b if model else None,
        bits_per_weight=quant.bits_per_weight if quant else None,
        hardware_name=hardware.name if hardware else "",
        quant_name=quant_label(setup) if quant else "",
    )


def of_row(row: Any) -> Plausibility:
    """A stored row's plausibility: its headline decode speed and memory peak."""
    return assess(row, decode_tps=row.decode_tps, vram_peak_mib=row.vram_peak_mib)
