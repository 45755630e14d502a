"""The bandwidth ceiling and memory checks (SPEC §7), without an app or database.

Figures are from the shipped reference data: RTX 4090 1008 GB/s and 24 GiB, RTX 3090
936 GB/s and 24 GiB, Q4_K_M 4.8944 bits per weight, Llama-3.1-8B 8.03 B parameters,
Llama-3.1-70B 70.6 B, Qwen3-30B-A3B 30.5 B total with 3.3 B active.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.services.plausibility import Plausibility, ceiling_tps, check, model_bytes
from webapp.services.rules import (
    CEILING_MARGIN,
    REASON_EXCEEDS_CEILING,
    REJECTION_REASON_MAX,
    REJECTION_REASONS,
    FlagCode,
)

Q4_K_M = 4.8944
RTX_4090 = {"bandwidth_gb_s": 1008, "memory_gib": 24}
RTX_3090 = {"bandwidth_gb_s": 936, "memory_gib": 24}
LLAMA_8B = 8.03
LLAMA_70B = 70.6
QWEN3_30B_A3B_ACTIVE = 3.3
QWEN3_30B_A3B_TOTAL = 30.5


def run(**changes) -> Plausibility:
    inputs = {
        "decode_tps": 100.0,
        "vram_peak_mib": 6_000.0,
        **RTX_4090,
        "hardware_count": 1,
        "tensor_parallel": False,
        "speculative": False,
        "batch_gt1": False,
        "active_params_b": LLAMA_8B,
        "bits_per_weight": Q4_K_M,
        "hardware_name": "GeForce RTX 4090",
        "quant_name": "Q4_K_M",
    }
    inputs.update(changes)
    return check(**inputs)


def codes(result: Plausibility) -> set[str]:
    return {flag.code for flag in result.flags}


# --- the ceiling --------------------------------------------------------------------------


def test_model_bytes_of_the_worked_example():
    assert model_bytes(LLAMA_8B, Q4_K_M) == pytest.approx(4.9128e9, rel=1e-4)


def test_worked_example_llama_8b_q4_k_m_on_rtx_4090_is_about_205():
    ceiling = ceiling_tps(1008, 1, False, LLAMA_8B, Q4_K_M)
    assert ceiling == pytest.approx(205.18, abs=0.01)
    assert round(ceiling) == 205


def test_mixture_of_experts_reads_only_active_parameters():
    moe = ceiling_tps(1008, 1, False, QWEN3_30B_A3B_ACTIVE, Q4_K_M)
    dense_equivalent = ceiling_tps(1008, 1, False, QWEN3_30B_A3B_TOTAL, Q4_K_M)
    assert moe == pytest.approx(499.3, abs=0.1)
    assert moe > 9 * dense_equivalent
    # A MoE run at 300 tok/s is fine; measured against total parameters it would be flagged.
    assert not run(decode_tps=300, active_params_b=QWEN3_30B_A3B_ACTIVE).flags


def test_tensor_parallel_sums_bandwidth_across_devices():
    single = ceiling_tps(936, 1, False, LLAMA_70B, Q4_K_M)
    parallel = ceiling_tps(936, 2, True, LLAMA_70B, Q4_K_M)
    assert single == pytest.approx(21.67, abs=0.01)
    assert parallel == pytest.approx(2 * single)
    assert ceiling_tps(936, 4, True, LLAMA_70B, Q4_K_M) == pytest.approx(4 * single)


def test_layer_split_does_not_sum_bandwidth():
    assert ceiling_tps(936, 2, False, LLAMA_70B, Q4_K_M) == ceiling_tps(
        936, 1, False, LLAMA_70B, Q4_K_M
    )


def test_tensor_parallel_on_one_device_is_one_device():
    assert ceiling_tps(1008, 1, True, LLAMA_8B, Q4_K_M) == ceiling_tps(
        1008, 1, False, LLAMA_8B, Q4_K_M
    )


@pytest.mark.parametrize(
    ("params", "bits"), [(0, Q4_K_M), (-1, Q4_K_M), (LLAMA_8B, 0), (LLAMA_8B, -4), (None, 4)]
)
def test_model_bytes_needs_positive_inputs(params, bits):
    with pytest.raises(ValueError):
        model_bytes(params, bits)


@pytest.mark.parametrize(
    "args",
    [
        (0, 1, False, LLAMA_8B, Q4_K_M),
        (-5, 1, False, LLAMA_8B, Q4_K_M),
        (1008, 0, False, LLAMA_8B, Q4_K_M),
        (1008, 0, True, LLAMA_8B, Q4_K_M),
        (1008, 1.5, True, LLAMA_8B, Q4_K_M),
        (1008, 1, False, 0, Q4_K_M),
    ],
)
def test_ceiling_needs_sane_inputs(args):
    with pytest.raises(ValueError):
        ceiling_tps(*args)


@given(
    bandwidth=st.floats(min_value=10, max_value=10_000),
    count=st.integers(min_value=1, max_value=8),
    params=st.floats(min_value=0.1, max_value=700),
    bits=st.floats(min_value=1, max_value=32),
)
def test_tensor_parallel_never_lowers_the_ceiling_and_fewer_bits_never_do(
    bandwidth, count, params, bits
):
    split = ceiling_tps(bandwidth, count, False, params, bits)
    parallel = ceiling_tps(bandwidth, count, True, params, bits)
    assert parallel == pytest.approx(split * count)
    assert ceiling_tps(bandwidth, count, False, params, bits / 2) >= split


# --- check: the ceiling flag ----------------------------------------------------------------


def test_a_realistic_run_is_not_flagged():
    result = run(decode_tps=110.0)
    assert result.flags == ()
    assert not result.flagged
    assert result.ceiling_tps == pytest.approx(205.18, abs=0.01)
    assert result.share_of_ceiling == pytest.approx(110 / 205.18, abs=1e-3)
    assert result.memory_mib == 24 * 1024


def test_exactly_the_margin_is_not_flagged():
    ceiling = ceiling_tps(1008, 1, False, LLAMA_8B, Q4_K_M)
    assert run(decode_tps=CEILING_MARGIN * ceiling).flags == ()
    assert run(decode_tps=ceiling * 1.1001).flags != ()


def test_above_the_margin_is_flagged_with_the_numbers():
    result = run(decode_tps=412.0)
    assert codes(result) == {FlagCode.EXCEEDS_CEILING}
    flag = result.flags[0]
    assert flag.code == "exceeds-ceiling"
    assert "412 tok/s" in flag.message and "205 tok/s" in flag.message
    assert "GeForce RTX 4090" in flag.message
    assert flag.rejection_reason.startswith(REASON_EXCEEDS_CEILING)
    assert REASON_EXCEEDS_CEILING in REJECTION_REASONS
    assert "412 tok/s" in flag.rejection_reason and "205 tok/s" in flag.rejection_reason
    assert len(flag.rejection_reason) <= REJECTION_REASON_MAX
    assert "\n" not in flag.rejection_reason


@pytest.mark.parametrize(("declared", "devices"),
                         [("speculative", 1), ("batch_gt1", 1), ("tensor_parallel", 2)])
def test_declared_speedups_suppress_the_ceiling_flag_silently(declared, devices):
    result = run(decode_tps=1_000.0, hardware_count=devices, **{declared: True})
    assert result.flags == ()
    assert result.ceiling_tps is not None


def test_tensor_parallel_on_one_device_never_silences_the_ceiling():
    """SPEC §11: tensor parallelism needs at least two devices, so declaring it on one
    exempts nothing, and the ceiling it is checked against is one device's."""
    declared = run(decode_tps=1_000.0, hardware_count=1, tensor_parallel=True)
    plain = run(decode_tps=1_000.0, hardware_count=1)
    assert codes(declared) == {FlagCode.EXCEEDS_CEILING}
    assert declared.ceiling_tps == plain.ceiling_tps
    assert declared.flags[0].message == plain.flags[0].message


def test_tensor_parallel_raises_the_ceiling_it_is_checked_against():
    result = run(decode_tps=30.0, hardware_count=2, tensor_parallel=True, **RTX_3090,
                 active_params_b=LLAMA_70B)
    assert result.ceiling_tps == pytest.approx(43.34, abs=0.01)
    assert result.memory_mib == 2 * 24 * 1024


def test_a_layer_split_beyond_one_device_is_flagged():
    result = run(decode_tps=30.0, hardware_count=2, **RTX_3090, active_params_b=LLAMA_70B,
                 vram_peak_mib=44_000)
    assert codes(result) == {FlagCode.EXCEEDS_CEILING}


# --- check: memory -----------------------------------------------------------------------------


def test_vram_over_memory_is_flagged_with_the_numbers():
    result = run(vram_peak_mib=30_000)
    assert codes(result) == {FlagCode.VRAM_EXCEEDS_MEMORY}
    flag = result.flags[0]
    assert flag.code == "vram-exceeds-memory"
    assert "30,000 MiB" in flag.message and "24,576 MiB" in flag.message
    assert "30,000 MiB" in flag.rejection_reason and "24,576 MiB" in flag.rejection_reason
    assert len(flag.rejection_reason) <= REJECTION_REASON_MAX


def test_vram_exactly_at_memory_is_not_flagged():
    assert run(vram_peak_mib=24 * 1024).flags == ()
    assert codes(run(vram_peak_mib=24 * 1024 + 1)) == {FlagCode.VRAM_EXCEEDS_MEMORY}


def test_memory_adds_up_across_devices():
    result = run(hardware_count=2, vram_peak_mib=40_000)
    assert result.memory_mib == 49_152
    assert result.flags == ()


@pytest.mark.parametrize("declared", ["speculative", "batch_gt1", "tensor_parallel"])
def test_declared_speedups_never_excuse_memory(declared):
    assert codes(run(vram_peak_mib=30_000, **{declared: True})) == {
        FlagCode.VRAM_EXCEEDS_MEMORY
    }


def test_both_flags_together():
    assert codes(run(decode_tps=500, vram_peak_mib=30_000)) == set(FlagCode)


# --- check: missing inputs -----------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["bandwidth_gb_s", "active_params_b", "bits_per_weight"])
def test_missing_ceiling_inputs_skip_the_ceiling_check(missing):
    result = run(decode_tps=5_000, vram_peak_mib=30_000, **{missing: None})
    assert result.ceiling_tps is None and result.share_of_ceiling is None
    assert codes(result) == {FlagCode.VRAM_EXCEEDS_MEMORY}


def test_missing_decode_keeps_the_ceiling_but_skips_the_share():
    result = run(decode_tps=None)
    assert result.ceiling_tps is not None
    assert result.share_of_ceiling is None
    assert result.flags == ()


def test_missing_memory_inputs_skip_the_memory_check():
    assert run(memory_gib=None, vram_peak_mib=10**6).memory_mib is None
    assert run(memory_gib=None, vram_peak_mib=10**6).flags == ()
    result = run(vram_peak_mib=None)
    assert result.memory_mib == 24 * 1024 and result.flags == ()


def test_missing_hardware_count_skips_both_checks():
    result = run(hardware_count=None, decode_tps=5_000, vram_peak_mib=10**6)
    assert result == Plausibility(ceiling_tps=None, share_of_ceiling=None, memory_mib=None,
                                  flags=())


def test_everything_missing_is_simply_unchecked():
    result = check(decode_tps=None, vram_peak_mib=None, bandwidth_gb_s=None, memory_gib=None,
                   hardware_count=None, tensor_parallel=False, speculative=False,
                   batch_gt1=False, active_params_b=None, bits_per_weight=None)
    assert result.flags == ()


@pytest.mark.parametrize(
    "changes", [{"decode_tps": 0}, {"decode_tps": -3}, {"vram_peak_mib": -1},
                {"memory_gib": 0}, {"hardware_count": 0}, {"bandwidth_gb_s": -1}]
)
def test_present_but_impossible_inputs_are_errors(changes):
    with pytest.raises(ValueError):
        run(**changes)


# --- rejection reasons stay one short line --------------------------------------------------------


def test_rejection_reasons_fit_even_with_long_names():
    long_name = "Very Long Vendor Accelerator Name " * 10
    result = run(decode_tps=99_999.0, vram_peak_mib=4_000_000, hardware_name=long_name,
                 quant_name=long_name)
    assert len(result.flags) == 2
    for flag in result.flags:
        assert len(flag.rejection_reason) <= REJECTION_REASON_MAX
        assert any(char.isdigit() for char in flag.rejection_reason)


def test_flags_work_without_names():
    result = run(decode_tps=500, vram_peak_mib=30_000, hardware_name="", quant_name="")
    assert len(result.flags) == 2
    for flag in result.flags:
        assert " on " not in flag.rejection_reason and " of " not in flag.rejection_reason
        assert flag.label
