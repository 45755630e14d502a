"""Build context and VRAM peak, with stand-ins for nvidia-smi, rocm-smi and amdgpu sysfs."""

from __future__ import annotations

import json
import stat
import sys

import pytest

from tests.runner.loader import tm

NVIDIA_BANNER = """\
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 550.54.14              Driver Version: 550.54.14      CUDA Version: 12.4     |
|-----------------------------------------+------------------------+----------------------+
"""

# Readings per loop iteration (MiB) on GPU 0; GPU 1 shows half. The simultaneous sum peaks
# at 4000 + 2000 = 6000 on the third reading, then falls back.
FAKE_NVIDIA_SMI = """\
import sys, time
args = sys.argv[1:]
if "--query-gpu=index,memory.used" in args:
    assert any(a.startswith("--loop-ms=") for a in args), args
    readings = [1000, 1500, 4000, 3500, 2000]
    i = 0
    try:
        while True:
            value = readings[min(i, len(readings) - 1)]
            sys.stdout.write("0, %d\\n1, %d\\n" % (value, value // 2))
            if not BUFFERED:
                sys.stdout.flush()
            i += 1
            time.sleep(0.04)
    except KeyboardInterrupt:  # Ctrl+C ends the loop; what was buffered is written
        sys.stdout.flush()
elif "--query-gpu=name,driver_version,memory.total" in args:
    print("NVIDIA GeForce RTX 4090, 550.54.14, 24564")
    print("NVIDIA GeForce RTX 4090, 550.54.14, 24564")
elif not args:
    sys.stdout.write(BANNER)
else:
    sys.exit(9)
"""


def install_tool(folder, name: str, body: str, **constants) -> None:
    lines = [f"#!{sys.executable}"]
    lines += [f"{key} = {value!r}" for key, value in constants.items()]
    path = folder / name
    path.write_text("\n".join(lines) + "\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_nvidia_gpu_driver_cuda_and_vram_peak(fake_engine, measure, tools_dir):
    install_tool(tools_dir, "nvidia-smi", FAKE_NVIDIA_SMI, BANNER=NVIDIA_BANNER, BUFFERED=False)
    engine = fake_engine(ttft=0.15, itl=0.002)
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8")
    assert outcome.code == 0, outcome.err
    result = outcome.result
    environment = result["environment"]
    assert environment["gpu_vendor"] == "nvidia"
    assert environment["gpu_name"] == "NVIDIA GeForce RTX 4090"
    assert environment["gpu_count"] == 2
    assert environment["gpu_memory_total_mib"] == [24564, 24564]
    assert environment["driver_version"] == "550.54.14"
    assert environment["cuda_version"] == "12.4"
    vram = result["vram"]
    assert vram["tool"] == "nvidia-smi"
    assert vram["peak_mib"] == 6000
    assert vram["per_gpu_peak_mib"] == [4000, 2000]
    assert vram["first_sample_mib"] == 1500
    assert vram["samples"] >= 5
    assert vram["max_interval_ms"] < 250
    for key in ("gpu_name", "driver_version", "cuda_version", "vram_peak_mib"):
        assert key not in result["missing"]
    assert "VRAM peak: 6000 MiB (nvidia-smi" in outcome.out
    assert "GPU: 2 x NVIDIA GeForce RTX 4090" in outcome.out


def test_nvidia_readings_held_in_a_pipe_buffer_still_count(fake_engine, measure, tools_dir):
    # A tool that writes to a pipe may buffer its output until it exits: the runner stops it
    # as Ctrl+C would, so the buffered readings arrive and the peak is still found.
    install_tool(tools_dir, "nvidia-smi", FAKE_NVIDIA_SMI, BANNER=NVIDIA_BANNER, BUFFERED=True)
    engine = fake_engine(ttft=0.15, itl=0.002)
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8")
    assert outcome.code == 0, outcome.err
    assert outcome.result["vram"]["peak_mib"] == 6000
    assert outcome.result["vram"]["samples"] >= 3


def test_amd_vram_from_the_driver_counters(fake_engine, measure, tmp_path, monkeypatch):
    drm = tmp_path / "drm"
    device = drm / "card1" / "device"
    device.mkdir(parents=True)
    (device / "vendor").write_text("0x1002\n")
    (device / "mem_info_vram_used").write_text(str(3 * 1024**3) + "\n")
    (device / "mem_info_vram_total").write_text(str(24 * 1024**3) + "\n")
    (drm / "card1-DP-1").mkdir()  # connectors are not cards
    version = tmp_path / "rocm-version"
    version.write_text("6.2.1-112\n")
    monkeypatch.setattr(tm, "DRM_ROOT", str(drm))
    monkeypatch.setattr(tm, "ROCM_VERSION_FILE", str(version))
    engine = fake_engine(ttft=0.12, itl=0.002)
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8")
    assert outcome.code == 0, outcome.err
    result = outcome.result
    assert result["vram"]["tool"] == "amdgpu-sysfs"
    assert result["vram"]["peak_mib"] == 3072
    assert result["vram"]["max_interval_ms"] < 250
    assert result["environment"]["gpu_vendor"] == "amd"
    assert result["environment"]["gpu_count"] == 1
    assert result["environment"]["gpu_memory_total_mib"] == [24576]
    assert result["environment"]["rocm_version"] == "6.2.1-112"
    assert "vram_peak_mib" not in result["missing"]


ROCM_SMI_MEMINFO = {
    "card0": {"VRAM Total Memory (B)": "25753026560", "VRAM Total Used Memory (B)": "1073741824"},
    "card1": {"VRAM Total Memory (B)": "25753026560", "VRAM Total Used Memory (B)": "2147483648"},
}
ROCM_SMI_PRODUCT = {
    "card0": {
        "Card Series": "Radeon RX 7900 XTX",
        "Card Model": "0x744c",
        "GFX Version": "gfx1100",
    },
    "card1": {
        "Card Series": "Radeon RX 7900 XTX",
        "Card Model": "0x744c",
        "GFX Version": "gfx1100",
    },
}


def test_rocm_smi_json_is_read():
    readings = tm._rocm_vram_readings(json.dumps(ROCM_SMI_MEMINFO))
    assert readings == {"0": 1024.0, "1": 2048.0}
    assert tm._rocm_product_names(json.dumps(ROCM_SMI_PRODUCT)) == ["Radeon RX 7900 XTX"] * 2
    assert tm._rocm_vram_readings("not json") == {}
    assert tm._rocm_product_names(None) == []


def test_rocm_smi_is_polled_when_there_is_no_sysfs(fake_engine, measure, tools_dir):
    body = """\
import json, sys
args = sys.argv[1:]
if args[:2] == ["--showmeminfo", "vram"]:
    print(json.dumps(MEMINFO))
elif args[:1] == ["--showproductname"]:
    print(json.dumps(PRODUCT))
elif args[:1] == ["--showdriverversion"]:
    print(json.dumps({"system": {"Driver version": "6.8.5"}}))
else:
    sys.exit(2)
"""
    install_tool(tools_dir, "rocm-smi", body, MEMINFO=ROCM_SMI_MEMINFO, PRODUCT=ROCM_SMI_PRODUCT)
    engine = fake_engine(ttft=0.1, itl=0.002)
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8")
    assert outcome.code == 0, outcome.err
    result = outcome.result
    assert result["vram"]["tool"] == "rocm-smi"
    assert result["vram"]["peak_mib"] == 3072
    assert result["vram"]["per_gpu_peak_mib"] == [1024, 2048]
    assert result["environment"]["gpu_names"] == ["Radeon RX 7900 XTX"] * 2
    assert result["environment"]["gpu_count"] == 2
    # the kernel driver's version when the module does not publish one, else the module's
    assert result["environment"]["driver_version"]


def test_a_gpu_tool_that_gives_no_readings(fake_engine, measure, tools_dir):
    install_tool(tools_dir, "nvidia-smi", "import sys\nsys.exit(6)\n")
    engine = fake_engine(ttft=0.05, itl=0.002)
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8")
    assert outcome.code == 0, outcome.err
    assert outcome.result["vram"]["peak_mib"] is None
    assert outcome.result["vram"]["note"] == "nvidia-smi gave no readings"
    assert "vram_peak_mib" in outcome.result["missing"]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ('NAME="Ubuntu"\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\n', "Ubuntu 22.04.4 LTS"),
        ("PRETTY_NAME='Debian GNU/Linux 12 (bookworm)'\n", "Debian GNU/Linux 12 (bookworm)"),
    ],
)
def test_os_label_from_os_release(tmp_path, monkeypatch, text, label):
    if sys.platform != "linux":
        pytest.skip("the os-release file is read on Linux only")
    path = tmp_path / "os-release"
    path.write_text(text)
    monkeypatch.setattr(tm, "OS_RELEASE_FILE", str(path))
    assert tm.os_label() == label
