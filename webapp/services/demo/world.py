"""The world the demo catalog lives in: runtime versions, drivers, OS labels, quant
providers, operator names, and the notes, rejections and feedback people write."""

from __future__ import annotations

from webapp.services.rules import REASON_DUPLICATE, REASON_MISSING_METADATA, REASON_OUT_OF_SCOPE

PROMPT_TOKENS = 500

RUNTIME_VERSIONS = {
    "llama-cpp": ("b4200", "b4500", "b4800", "b5200", "b5600"),
    "ollama": ("0.5.4", "0.5.7", "0.6.2", "0.6.8", "0.7.1"),
    "llamafile": ("0.8.17", "0.9.0", "0.9.2"),
    "koboldcpp": ("1.79", "1.82", "1.86"),
    "lm-studio-gguf": ("0.3.6", "0.3.9", "0.3.14"),
    "lm-studio-mlx": ("0.3.6", "0.3.9", "0.3.14"),
    "mlx-lm": ("0.20.4", "0.21.0", "0.22.1"),
    "vllm": ("0.6.4", "0.6.6", "0.7.3", "0.8.4"),
    "sglang": ("0.4.1", "0.4.3", "0.4.5"),
    "tensorrt-llm": ("0.15.0", "0.16.0", "0.17.0"),
    "exllamav2": ("0.2.6", "0.2.7", "0.2.8"),
    "tgi": ("2.4.1", "3.0.1", "3.2.0"),
}
NVIDIA_DRIVERS = (
    "NVIDIA 550.127.05 / CUDA 12.4",
    "NVIDIA 560.35.03 / CUDA 12.6",
    "NVIDIA 565.57.01 / CUDA 12.7",
    "NVIDIA 570.124.06 / CUDA 12.8",
)
BLACKWELL_DRIVERS = ("NVIDIA 570.124.06 / CUDA 12.8", "NVIDIA 575.57.08 / CUDA 12.9")
AMD_DRIVERS = ("ROCm 6.2.4", "ROCm 6.3.1", "ROCm 6.3.3")
LINUX = ("Ubuntu 22.04", "Ubuntu 24.04", "Debian 12", "Fedora 41", "Arch Linux")
DESKTOP = LINUX + ("Windows 11 23H2", "Windows 11 24H2")
SERVER = ("Ubuntu 22.04", "Ubuntu 24.04", "Rocky Linux 9.5")
APPLE = (
    ("macOS 14.7 Sonoma", "Metal 3.1 (macOS 14.7)"),
    ("macOS 15.2 Sequoia", "Metal 3.2 (macOS 15.2)"),
    ("macOS 15.4 Sequoia", "Metal 3.2 (macOS 15.4)"),
)
CPU_DRIVERS = ("none (CPU, AVX2)", "none (CPU, AVX-512)")
CPU_FAMILIES = {
    "cpu-ddr4-3200-2ch": ("AMD Ryzen 9 5950X", "Intel Core i7-11700K", "AMD Ryzen 7 5800X3D"),
    "cpu-ddr5-5600-2ch": ("AMD Ryzen 9 7950X", "Intel Core i9-14900K", "AMD Ryzen 9 9950X"),
    "cpu-ddr5-4800-12ch": ("AMD EPYC 9654", "AMD EPYC 9554"),
}
BLACKWELL_PREFIXES = ("rtx-50", "rtx-pro-6000", "dgx-spark")
DATACENTER = frozenset({"a100-80gb-sxm", "h100-pcie", "h100-sxm", "mi300x", "l40s"})
PROVIDERS = {
    "GGUF": ("bartowski", "unsloth", "lmstudio-community", "mradermacher", "ggml-org"),
    "MLX": ("mlx-community",),
    "AWQ": ("hugging-quants", "casperhansen"),
    "GPTQ": ("TheBloke", "ModelCloud"),
    "FP8": ("neuralmagic", "RedHatAI"),
    "BF16": ("original weights",),
    "FP16": ("original weights",),
}

ADJECTIVES = (
    "quiet", "amber", "brisk", "cobalt", "dusty", "eager", "fuzzy", "gentle", "hollow",
    "idle", "jolly", "keen", "lunar", "mellow", "nimble", "olive", "plucky", "rusty",
    "sandy", "tidal", "umber", "vivid", "wry", "zesty", "silver", "copper", "misty",
)
NOUNS = (
    "falcon", "otter", "badger", "heron", "lynx", "marten", "newt", "osprey", "puffin",
    "quokka", "raven", "stoat", "tern", "urchin", "vole", "wombat", "yak", "zebu",
    "kernel", "tensor", "shader", "warp", "cache", "fan", "rack", "bench",
)
SPREAD_NOTES = (
    "Runs {runs} were slower: the card hit its power limit after the first minutes; "
    "left in to show the throttled figure.",
    "The desktop session was active during runs {runs} (browser with video); the other "
    "runs had it closed.",
    "Runs {runs} ran while the laptop was on battery; the rest on mains power.",
)
RELATED_NOTES = (
    "My card runs a factory overclock (+150 MHz memory); that explains the higher decode.",
    "Same build, but the machine sits in a warm room and the GPU throttles a little.",
    "I used a different quant provider's file of the same level; the delta may come "
    "from that.",
    "Newer runtime build than the original; I could not pin back because of a driver "
    "dependency.",
)
PLAIN_NOTES = (
    "Measured after a fresh reboot, nothing else running.",
    "Power limit left at stock; fans on the default curve.",
    "Model file checked against the provider's published checksum.",
    "Default sampler settings; flash attention on.",
)
REPRO_REJECTIONS = (
    REASON_MISSING_METADATA,
    REASON_DUPLICATE,
    "The declared model file is a different quant level than the original's.",
    "The runs were taken with two concurrent users; the original is single-user.",
    "Driver version left blank and the OS label says 'latest': not enough to match.",
)
FRESH_REJECTIONS = (
    REASON_MISSING_METADATA,
    REASON_DUPLICATE,
    REASON_OUT_OF_SCOPE,
    "Dishonest framing: the notes advertise a hosted service rather than describe the run.",
)
FEEDBACK_MESSAGES = {
    "numbers-look-wrong": (
        "Decode looks about 10% high for this card compared with my own runs on the "
        "same build.",
        "TTFT seems too low for a 500-token prompt on this hardware; was the prompt cached?",
    ),
    "stale": (
        "This runtime version is old; current builds are noticeably faster here.",
        "The driver branch listed here is no longer supported by the runtime.",
    ),
    "metadata-error": (
        "The quant provider is listed as bartowski, but the sha256 prefix matches the "
        "unsloth file.",
        "OS label says Ubuntu 22.04 but the driver branch needs 24.04.",
    ),
    "other": ("Would be great to see a run of this at 8k context as well.",),
}
