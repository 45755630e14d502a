"""The demo catalog behind `flask --app webapp seed-demo [--rows N]`.

Everything it writes is marked is_demo. The numbers are plausible by construction:
only configurations whose weights fit the hardware's memory are picked, decode speed
lands at 43–66% of the configuration's bandwidth ceiling (plausibility.ceiling_tps),
and time to first token follows from a 500-token prompt at a prefill rate typical of
the hardware class.

A fixed set of showcase rows comes first, so that even a small catalog has every
badge, every tier, every submission state, both rings, runtime drift, an inconsistent
row, aged and stale rows and a revised decision; random rows fill up to `rows` public
rows. The badge/tier index columns are computed by the same functions
evidence.refresh_derived uses, from the in-memory plan, so no query runs per hub.

Rows go in with Core bulk inserts in batches with precomputed ids: 100 000 public
rows (with their reproductions, runs and audit events, about 1.5 million rows in all)
take well under two minutes on SQLite.
"""

from __future__ import annotations

import hashlib
import operator
import random
import secrets
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from webapp.models import (
    AuditEvent,
    FeedbackNote,
    Hardware,
    ModelVariant,
    Quant,
    RunSample,
    Runtime,
    Submission,
    utcnow,
)
from webapp.services import divergence, evidence, measurements, plausibility
from webapp.services.reference import OTHER_SLUG, load_reference
from webapp.services.rules import (
    AGE_LOWER_DAYS,
    FEEDBACK_KINDS,
    REASON_DUPLICATE,
    REASON_MISSING_METADATA,
    REASON_OUT_OF_SCOPE,
    Band,
    Kind,
    State,
)
from webapp.services.trust import normalise_handle

BATCH = 5_000
# Batches per commit: each SQLite commit of random index pages costs a WAL checkpoint,
# so a commit every 50 000 submissions keeps both the WAL and the checkpoints few.
COMMIT_EVERY = 10
SUBMITTER = "submitter"
EDITOR = "reviewer:demo-editor"
REVIEWERS = ("reviewer:demo-editor", "reviewer:demo-reviewer")  # moderation.reviewer_actor form
PROMPT_TOKENS = 500
# Share of the bandwidth ceiling a clean demo row reaches (the catalog promises 40–70%;
# the margin absorbs run noise and a reproduction's divergence).
SHARE_LOW, SHARE_HIGH = 0.43, 0.66
PUBLIC_SHARE_LOW, PUBLIC_SHARE_HIGH = 0.40, 0.70

# --- the world the demo lives in ---------------------------------------------------------

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
PROVIDERS = {
    "GGUF": ("bartowski", "unsloth", "lmstudio-community", "mradermacher", "ggml-org"),
    "MLX": ("mlx-community",),
    "AWQ": ("hugging-quants", "casperhansen"),
    "GPTQ": ("TheBloke", "ModelCloud"),
    "FP8": ("neuralmagic", "RedHatAI"),
    "BF16": ("original weights",),
    "FP16": ("original weights",),
}
GGUF_RUNTIMES = (
    ("ollama", 6.0), ("llama-cpp", 5.0), ("lm-studio-gguf", 2.0), ("koboldcpp", 1.0),
    ("llamafile", 0.5),
)
SERVING_RUNTIMES = {  # non-GGUF formats on discrete GPUs
    "AWQ": (("vllm", 4.0), ("sglang", 2.0), ("tgi", 1.0), ("tensorrt-llm", 1.0)),
    "GPTQ": (("vllm", 3.0), ("exllamav2", 3.0), ("tgi", 1.0)),
    "FP8": (("vllm", 4.0), ("sglang", 2.0), ("tensorrt-llm", 2.0)),
    "BF16": (("vllm", 4.0), ("sglang", 2.0), ("tgi", 1.0), ("tensorrt-llm", 1.0)),
    "FP16": (("vllm", 3.0), ("tgi", 1.0), ("tensorrt-llm", 1.0)),
}
NVIDIA_ONLY_RUNTIMES = frozenset({"tensorrt-llm", "exllamav2"})
TENSOR_PARALLEL_RUNTIMES = frozenset({"vllm", "sglang", "tgi", "tensorrt-llm"})
FP8_PREFIXES = ("rtx-40", "rtx-50", "rtx-6000-ada", "rtx-pro-6000", "l40s", "h100", "mi300x",
                "dgx-spark")
BLACKWELL_PREFIXES = ("rtx-50", "rtx-pro-6000", "dgx-spark")
DATACENTER = frozenset({"a100-80gb-sxm", "h100-pcie", "h100-sxm", "mi300x", "l40s"})

MODEL_WEIGHT = {
    "llama-3.1-8b-instruct": 10, "qwen2.5-7b-instruct": 5, "qwen3-30b-a3b": 5,
    "gpt-oss-20b": 5, "mistral-7b-instruct-v0.3": 4, "llama-3.3-70b-instruct": 4,
    "qwen2.5-14b-instruct": 3, "qwen2.5-32b-instruct": 3, "gemma-2-9b-it": 3,
    "llama-3.1-8b": 1, "phi-3-mini-4k-instruct": 2, "gpt-oss-120b": 2,
}
HARDWARE_WEIGHT = {
    "rtx-4090": 10, "rtx-3090": 9, "rtx-5090": 5, "rtx-3060-12gb": 5, "rtx-4060-ti-16gb": 3,
    "rtx-4070": 3, "rtx-4080": 3, "apple-m4-max": 4, "apple-m2-max": 3, "apple-m3-max": 3,
    "apple-m4-pro": 3, "apple-m2-ultra": 2, "apple-m1-max": 2, "rx-7900-xtx": 3,
    "ryzen-ai-max-395": 2, "dgx-spark": 2, "h100-sxm": 2, "a100-80gb-sxm": 2,
}
QUANT_WEIGHT = {
    "gguf-q4_k_m": 10, "gguf-q8_0": 4, "gguf-q5_k_m": 3, "gguf-q6_k": 2, "gguf-q4_k_s": 1.5,
    "gguf-iq4_xs": 1, "gguf-q3_k_s": 0.7, "gguf-q2_k": 0.4, "gguf-f16": 0.7, "awq-int4": 2,
    "gptq-int4": 1.2, "mlx-4bit": 3, "mlx-8bit": 1.5, "fp8": 1.5, "bf16": 2, "fp16": 0.8,
}
COUNT_WEIGHT = {1: 1.0, 2: 0.25, 4: 0.06, 8: 0.02}
# Effective prefill throughput per GB/s of memory bandwidth, in TFLOP/s: prefill is
# compute-bound, and these ratios stand in for each class's compute-to-bandwidth balance.
PREFILL_TFLOPS_PER_GBS = {"gpu": 0.12, "unified": 0.04, "cpu": 0.02}
PREFILL_TFLOPS_OVERRIDE = {"h100-sxm": 0.25, "h100-pcie": 0.3, "a100-80gb-sxm": 0.14,
                           "mi300x": 0.2, "dgx-spark": 0.3, "ryzen-ai-max-395": 0.1,
                           "tesla-p40": 0.03}

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

# Value lists and their cumulative weights (rng.choices is much faster given those).
MAX_TOKENS, MAX_TOKENS_CUM = (256, 512, 1024), (3, 9, 10)
RUN_COUNTS, RUN_COUNTS_CUM = (3, 4, 5, 6, 7, 8, 10), (50, 60, 85, 89, 92, 95, 100)
# Clean reproductions of a random hub: most rows are never reproduced.
CLEAN_REPRODUCTIONS = (0, 1, 2, 3, 4, 5, 6, 9, 14)
CLEAN_REPRODUCTIONS_CUM = (64, 82, 90, 94, 96.5, 98, 99, 99.7, 100)

_SUBMISSION_COLUMNS = tuple(column.key for column in Submission.__table__.columns)


# --- configurations ----------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """One plausible matching set, with the numbers that follow from it."""

    model_id: int
    model_slug: str
    hardware_id: int
    hardware_slug: str
    hardware_kind: str
    vendor: str
    memory_mib: float
    quant_id: int
    quant_family: str
    quant_slug: str
    runtime_id: int
    runtime_slug: str
    count: int
    tensor_parallel: bool
    ceiling_tps: float
    prefill_tps: float
    weights_mib: float
    serving: bool  # preallocates most of the memory (vLLM and friends)


def _hardware_weight(hw: Hardware) -> float:
    if hw.slug in HARDWARE_WEIGHT:
        return HARDWARE_WEIGHT[hw.slug]
    return {"gpu": 1.5, "unified": 1.5, "cpu": 1.0}.get(hw.kind, 1.0)


def _runtime_choices(hw: Hardware, quant: Quant) -> Sequence[tuple[str, float]]:
    if quant.family == "GGUF":
        return GGUF_RUNTIMES
    if quant.family == "MLX":
        return (("mlx-lm", 3.0), ("lm-studio-mlx", 3.0)) if hw.vendor == "Apple" else ()
    if hw.kind == "cpu" or hw.vendor == "Apple" or hw.slug == "tesla-p40":
        return ()
    if hw.kind == "unified" and hw.slug != "dgx-spark":
        return ()
    if quant.family == "FP8" and not hw.slug.startswith(FP8_PREFIXES):
        return ()
    choices = SERVING_RUNTIMES.get(quant.family, ())
    if hw.vendor != "NVIDIA":
        choices = tuple(c for c in choices if c[0] not in NVIDIA_ONLY_RUNTIMES)
    return choices


def _usable_gib(hw: Hardware, count: int, serving: bool) -> float:
    if hw.kind == "gpu":
        return hw.memory_gib * count * (0.8 if serving else 0.95) - 0.8 * count
    if hw.vendor == "Apple":
        return hw.memory_gib * 0.75 - 2
    return hw.memory_gib * 0.85 - 2


def _plain(row: Any, *names: str) -> SimpleNamespace:
    return SimpleNamespace(**{name: getattr(row, name) for name in names})


def build_configs(
    models: Sequence[ModelVariant],
    hardware: Sequence[Hardware],
    quants: Sequence[Quant],
    runtimes: Sequence[Runtime],
) -> tuple[list[Config], list[float]]:
    """Every plausible configuration of the reference data, with a popularity weight."""
    # Plain copies: ORM attribute access in these loops costs seconds.
    models = [_plain(m, "id", "slug", "params_b", "active_params_b") for m in models]
    hardware = [_plain(h, "id", "slug", "kind", "vendor", "memory_gib", "bandwidth_gb_s")
                for h in hardware]
    quants = [_plain(q, "id", "slug", "family", "bits_per_weight") for q in quants]
    runtime_by_slug = {r.slug: _plain(r, "id", "slug") for r in runtimes}
    configs: list[Config] = []
    weights: list[float] = []
    for hw in hardware:
        counts = (1,)
        if hw.kind == "gpu" and hw.memory_gib >= 16:
            counts = (1, 2, 4, 8) if hw.slug in DATACENTER else (1, 2, 4)
        for quant in quants:
            choices = [
                (runtime_by_slug[slug], weight)
                for slug, weight in _runtime_choices(hw, quant)
                if slug in runtime_by_slug
            ]
            if not choices:
                continue
            for model in models:
                total_gib = plausibility.model_bytes(model.params_b, quant.bits_per_weight) / 2**30
                for runtime, runtime_weight in choices:
                    serving = runtime.slug in TENSOR_PARALLEL_RUNTIMES
                    for count in counts:
                        if total_gib * 1.05 > _usable_gib(hw, count, serving):
                            continue
                        # A layer split only makes sense when the weights need the room.
                        if count > 1 and not serving and total_gib * 1.05 <= _usable_gib(
                            hw, count // 2, serving
                        ):
                            continue
                        tensor_parallel = serving and count > 1
                        ceiling = plausibility.ceiling_tps(
                            hw.bandwidth_gb_s, count, tensor_parallel,
                            model.active_params_b, quant.bits_per_weight,
                        )
                        ratio = PREFILL_TFLOPS_OVERRIDE.get(
                            hw.slug, PREFILL_TFLOPS_PER_GBS.get(hw.kind, 0.05)
                        )
                        compute = ratio * hw.bandwidth_gb_s * 1e12 * (
                            count if tensor_parallel else 1
                        )
                        prefill = 0.45 * compute / (2 * model.active_params_b * 1e9)
                        if ceiling < 2 or PROMPT_TOKENS / prefill > 180:
                            continue
                        configs.append(Config(
                            model_id=model.id, model_slug=model.slug,
                            hardware_id=hw.id, hardware_slug=hw.slug,
                            hardware_kind=hw.kind, vendor=hw.vendor,
                            memory_mib=hw.memory_gib * 1024 * count,
                            quant_id=quant.id, quant_family=quant.family,
                            quant_slug=quant.slug,
                            runtime_id=runtime.id, runtime_slug=runtime.slug,
                            count=count, tensor_parallel=tensor_parallel,
                            ceiling_tps=ceiling, prefill_tps=prefill,
                            weights_mib=total_gib * 1024, serving=serving,
                        ))
                        weights.append(
                            MODEL_WEIGHT.get(model.slug, 2) * _hardware_weight(hw)
                            * QUANT_WEIGHT.get(quant.slug, 1) * runtime_weight
                            * COUNT_WEIGHT[count]
                        )
    return configs, weights


# --- plan objects ------------------------------------------------------------------------


class _View:
    """Attribute access over a row dict, so evidence.assess can read a planned row."""

    __slots__ = ("_row",)

    def __init__(self, row: dict[str, Any]):
        self._row = row

    def __getattr__(self, name: str) -> Any:
        try:
            return self._row[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class ReproPlan:
    """One reproduction of a hub, before numbers are drawn."""

    state: State
    ring: str = "inner"  # inner | outer | newer-runtime
    band: Band = Band.WITHIN
    operator: str | None = None  # a handle, "hub" (the hub's own), or None (draw one)
    revised_from: State | None = None  # e.g. REPRODUCED for a revoked reproduction
    divergence: float | None = None  # forced worst divergence
    sign: int = 0  # +1 faster, -1 slower than the hub; 0 draws it


@dataclass
class HubPlan:
    kind: Kind = Kind.FRESH
    state: State = State.APPROVED
    complete: bool = True
    handle: bool = False
    newest_age: float = 30.0  # days since the newest accepted measurement
    noisy: bool = False
    repros: list[ReproPlan] = field(default_factory=list)
    config: Config | None = None
    rejection: str | None = None
    exceeds_ceiling: bool = False
    revised_from: State | None = None
    share: float | None = None  # forced share of the bandwidth ceiling


# --- the generator -----------------------------------------------------------------------


class _Seeder:
    def __init__(self, session: Session, rows: int, random_seed: int, now: datetime):
        self.session = session
        self.rows = rows
        self.rng = random.Random(random_seed)  # noqa: S311 - demo data, reproducible  # nosec B311
        self.now = now
        self.dialect = session.get_bind().dialect.name
        models = _reference(session, ModelVariant)
        hardware = _reference(session, Hardware)
        quants = _reference(session, Quant)
        runtimes = _reference(session, Runtime)
        self.refs = {(type(row), row.id): row for row in (*models, *hardware, *quants, *runtimes)}
        self.configs, weights = build_configs(models, hardware, quants, runtimes)
        if not self.configs:
            raise RuntimeError("no plausible configuration in the reference data")
        self.cum_weights = _cumulative(weights)
        self.handles = self._handles(max(24, min(4000, rows // 8)))
        self.handle_index = {handle: index for index, handle in enumerate(self.handles)}
        self.next_id = {
            table: (session.scalar(select(func.max(table.id))) or 0) + 1
            for table in (Submission, RunSample, AuditEvent, FeedbackNote)
        }
        self.submissions: list[dict] = []
        self.runs: list[dict] = []
        self.events: list[dict] = []
        self.notes: list[dict] = []
        self.public_hubs: list[tuple[int, datetime]] = []
        self.stats: Counter[str] = Counter()
        self.flushes = 0

    # -- ids, handles, configurations ---

    def _id(self, table) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _handles(self, count: int) -> list[str]:
        seen: set[str] = set()
        handles: list[str] = []
        while len(handles) < count:
            handle = (
                f"{self.rng.choice(ADJECTIVES)}{self.rng.choice(NOUNS)}"
                f"{self.rng.randrange(10, 1000)}"
            )
            key = normalise_handle(handle)
            if key not in seen:
                seen.add(key)
                handles.append(handle)
        return handles

    def _config(self) -> Config:
        return self.rng.choices(self.configs, cum_weights=self.cum_weights)[0]

    # -- timestamps ---

    def _ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def _after(self, moment: datetime, max_days: float, min_days: float = 0.02) -> datetime:
        """A moment after `moment` and before now (both bounds respected)."""
        room = (self.now - moment).total_seconds() / 86400
        upper = max(0.0, min(max_days, room * 0.9))
        lower = min(min_days, upper)
        return moment + timedelta(days=self.rng.uniform(lower, upper))

    # -- build context ---

    def _versions(self, config: Config) -> Sequence[str]:
        return RUNTIME_VERSIONS.get(config.runtime_slug, ("1.0",))

    def _environment(self, config: Config, age_days: float) -> dict[str, Any]:
        rng = self.rng
        versions = self._versions(config)
        # Older measurements ran older runtimes.
        position = max(0.0, 1.0 - age_days / 700) * (len(versions) - 1)
        index = min(len(versions) - 1, max(0, round(position + rng.uniform(-1, 0.6))))
        env: dict[str, Any] = {"runtime_version": versions[index], "cpu_family": None}
        if config.vendor == "Apple":
            env["os_label"], env["driver_version"] = rng.choice(APPLE)
        elif config.hardware_kind == "cpu":
            env["os_label"] = rng.choice(LINUX)
            env["driver_version"] = rng.choice(CPU_DRIVERS)
            env["cpu_family"] = rng.choice(CPU_FAMILIES.get(config.hardware_slug, ("x86-64",)))
        else:
            if config.vendor == "AMD":
                env["driver_version"] = rng.choice(AMD_DRIVERS)
            elif config.hardware_slug.startswith(BLACKWELL_PREFIXES):
                env["driver_version"] = rng.choice(BLACKWELL_DRIVERS)
            else:
                env["driver_version"] = rng.choice(NVIDIA_DRIVERS)
            servers = config.hardware_slug in DATACENTER or config.serving
            env["os_label"] = rng.choice(SERVER if servers else DESKTOP)
        return env

    def _other_environment(self, config: Config, env: dict, newer_runtime: bool) -> dict:
        """The hub's environment with one of OS, driver or runtime version changed."""
        rng = self.rng
        changed = dict(env)
        versions = self._versions(config)
        version = env["runtime_version"]
        current = versions.index(version) if version in versions else 0
        if newer_runtime and current + 1 < len(versions):
            changed["runtime_version"] = versions[rng.randrange(current + 1, len(versions))]
            return changed
        options = ["os", "driver"] + (["runtime"] if len(versions) > 1 else [])
        what = rng.choice(options)
        if what == "runtime":
            others = [v for v in versions if v != env["runtime_version"]]
            changed["runtime_version"] = rng.choice(others)
        elif config.vendor == "Apple":
            others = [pair for pair in APPLE if pair[0] != env["os_label"]]
            changed["os_label"], changed["driver_version"] = rng.choice(others)
        elif what == "os":
            pool = SERVER if config.hardware_slug in DATACENTER or config.serving else DESKTOP
            changed["os_label"] = rng.choice([o for o in pool if o != env["os_label"]])
        else:
            if config.hardware_kind == "cpu":
                pool = CPU_DRIVERS
            elif config.vendor == "AMD":
                pool = AMD_DRIVERS
            elif config.hardware_slug.startswith(BLACKWELL_PREFIXES):
                pool = BLACKWELL_DRIVERS
            else:
                pool = NVIDIA_DRIVERS
            changed["driver_version"] = rng.choice([d for d in pool if d != env["driver_version"]])
        return changed

    def _context(self, config: Config, env: dict, complete: bool) -> dict[str, Any]:
        rng = self.rng
        providers = PROVIDERS.get(config.quant_family, ("original weights",))
        provider = rng.choice(providers)
        context = {
            "cpu_family": env.get("cpu_family"),
            "runtime_version": env["runtime_version"],
            "driver_version": env["driver_version"],
            "os_label": env["os_label"],
            "prompt_tokens": PROMPT_TOKENS,
            "max_tokens": rng.choices(MAX_TOKENS, cum_weights=MAX_TOKENS_CUM)[0],
            "seed": rng.choice((42, 42, 1234, 0, rng.randrange(1, 2**31))),
            "quant_provider": provider,
            "model_sha256_prefix": (
                hashlib.sha256(
                    f"{config.model_slug}/{config.quant_slug}/{provider}".encode()
                ).hexdigest()[:12]
                if rng.random() < 0.4 else None
            ),
        }
        if not complete:
            missing = rng.sample(
                ("driver_version", "os_label", "quant_provider", "prompt", "runtime_version"),
                rng.choice((1, 1, 2, 3)),
            )
            for name in missing:
                if name == "prompt":
                    context["prompt_tokens"] = context["max_tokens"] = None
                    context["seed"] = None
                else:
                    context[name] = None
            context["model_sha256_prefix"] = None
        return context

    # -- numbers ---

    def _draw_runs(self, count: int, ttft: float, decode: float, tokens: int,
                   noisy: bool) -> tuple[list[tuple[float, int, float]], str]:
        """Timed runs whose medians are `ttft` and `decode`; a noisy set spreads > 10%."""
        rng = self.rng
        width_d = rng.uniform(0.004, 0.03)
        width_t = rng.uniform(0.008, 0.04)
        decodes = [1 + rng.uniform(-width_d, width_d) for _ in range(count)]
        ttfts = [1 + rng.uniform(-width_t, width_t) for _ in range(count)]
        slow: list[int] = []
        if noisy:
            slow = sorted(rng.sample(range(count), 1 if count < 5 else 2))
            for index in slow:
                decodes[index] *= 1 - rng.uniform(0.12, 0.2)
                ttfts[index] *= 1 + rng.uniform(0.12, 0.25)
        decode_scale = decode / statistics.median(decodes)
        ttft_scale = ttft / statistics.median(ttfts)
        runs = [
            (round(t * ttft_scale, 1), tokens, round(d * decode_scale, 2))
            for t, d in zip(ttfts, decodes, strict=True)
        ]
        note = ""
        if noisy:
            numbers = " and ".join(str(i + 1) for i in slow)
            note = rng.choice(SPREAD_NOTES).format(runs=numbers)
        return runs, note

    def _run_count(self) -> int:
        return self.rng.choices(RUN_COUNTS, cum_weights=RUN_COUNTS_CUM)[0]

    def _vram(self, config: Config) -> float:
        rng = self.rng
        if config.serving:
            return round(config.memory_mib * rng.uniform(0.86, 0.92), 0)
        peak = config.weights_mib * 1.02 + config.count * rng.uniform(350, 1400)
        return round(min(peak, config.memory_mib * 0.97), 0)

    def _ttft(self, config: Config) -> float:
        prefill = config.prefill_tps * self.rng.uniform(0.8, 1.2)
        return PROMPT_TOKENS / prefill * 1000 + self.rng.uniform(15, 60)

    # -- rows ---

    def _submission(self, **values: Any) -> dict[str, Any]:
        row = dict.fromkeys(_SUBMISSION_COLUMNS)
        row.update(
            concurrent_users=1, speculative=False, batch_gt1=False, notes="",
            is_demo=True, derived_repro_count=0, status_nonce=secrets.token_urlsafe(32),
        )
        row.update(values)
        return row

    def _row(self, *, config: Config, kind: Kind, state: State, hub_id: int | None,
             context: dict, ttft: float, decode: float, noisy: bool, operator: str | None,
             measured: datetime, created: datetime, decided: datetime | None,
             note: str = "", vram: float | None = None) -> dict[str, Any]:
        sub_id = self._id(Submission)
        tokens = context["max_tokens"] or 512
        runs, spread_note = self._draw_runs(self._run_count(), ttft, decode, tokens, noisy)
        headline = measurements.headline_fields(runs)
        handle = operator if operator and not operator.startswith("anon:") else None
        url = None
        if handle and self.handle_index.get(handle, 1) % 3 == 0:
            url = f"https://{normalise_handle(handle)}.example.net/"
        row = self._submission(
            id=sub_id, kind=kind.value, state=state.value, hub_id=hub_id,
            model_id=config.model_id, hardware_id=config.hardware_id,
            hardware_count=config.count, quant_id=config.quant_id,
            runtime_id=config.runtime_id, tensor_parallel=config.tensor_parallel,
            **headline,
            vram_peak_mib=vram if vram is not None else self._vram(config),
            prefill_tps=(
                round(PROMPT_TOKENS / (headline["ttft_ms"] / 1000) * 1.08, 1)
                if self.rng.random() < 0.6 else None
            ),
            notes=" ".join(part for part in (spread_note, note) if part),
            handle=handle, url=url,
            operator_key=normalise_handle(handle) if handle else f"anon:demo-{sub_id}",
            created_at=created, measured_at=measured, decided_at=decided,
            **context,
        )
        for position, (t, n, d) in enumerate(runs):
            self.runs.append({
                "id": self._id(RunSample), "submission_id": sub_id, "position": position,
                "ttft_ms": t, "tokens_generated": n, "decode_tps": d,
            })
        self.submissions.append(row)
        return row

    def _event(self, row: dict, actor: str, from_state: State | None, to_state: State,
               at: datetime, reason: str = "") -> None:
        self.events.append({
            "id": self._id(AuditEvent), "submission_id": row["id"], "actor": actor,
            "from_state": from_state.value if from_state else None,
            "to_state": to_state.value, "reason": reason, "created_at": at,
        })

    def _history(self, row: dict, kind: Kind, steps: Sequence[tuple[State, str]]) -> None:
        """Audit events: the arrival, then each (state, reason) step after it.

        Two steps are a decision and its revision: the first half-way to decided_at,
        the revision at decided_at.
        """
        created, decided = row["created_at"], row["decided_at"]
        if kind == Kind.EDITORIAL:
            self._event(row, EDITOR, None, State.APPROVED, created)
            previous = State.APPROVED
        else:
            self._event(row, SUBMITTER, None, State.QUEUED, created)
            previous = State.QUEUED
        reviewer = self.rng.choice(REVIEWERS)
        for number, (state, reason) in enumerate(steps):
            if state == State.WITHDRAWN:
                actor, at = SUBMITTER, self._after(created, 3)
            elif number + 1 < len(steps):
                actor, at = reviewer, created + (decided - created) / 2
            else:
                actor, at = reviewer, decided
            self._event(row, actor, previous, state, at, reason)
            previous = state

    # -- a hub and its evidence ---

    def hub(self, plan: HubPlan) -> dict:
        rng = self.rng
        config = plan.config or self._config()
        newest_at = self._ago(plan.newest_age)
        has_evidence = any(r.state == State.REPRODUCED for r in plan.repros)
        hub_age = plan.newest_age + (rng.uniform(3, 90) if has_evidence else 0)
        measured = self._ago(hub_age)
        env = self._environment(config, hub_age)
        if any(r.ring == "newer-runtime" for r in plan.repros):
            versions = self._versions(config)
            if env["runtime_version"] == versions[-1] and len(versions) > 1:
                env["runtime_version"] = versions[rng.randrange(len(versions) - 1)]
        context = self._context(config, env, plan.complete or plan.kind == Kind.EDITORIAL)
        share = plan.share or rng.uniform(SHARE_LOW, SHARE_HIGH)
        if plan.exceeds_ceiling:
            share = rng.uniform(1.3, 2.2)
        created = self._after(measured, 3)
        decided = None if plan.state in (State.QUEUED, State.WITHDRAWN) else self._after(
            created, 5)
        taken = {r.operator for r in plan.repros}
        handle = None
        if plan.handle:
            handle = rng.choice(self.handles)
            while handle in taken:
                handle = rng.choice(self.handles)
        row = self._row(
            config=config, kind=plan.kind, state=plan.state, hub_id=None, context=context,
            ttft=self._ttft(config), decode=config.ceiling_tps * share, noisy=plan.noisy,
            operator=handle, measured=measured, created=created, decided=decided,
            note=rng.choice(PLAIN_NOTES) if rng.random() < 0.08 else "",
        )
        if plan.state == State.REJECTED:
            if plan.exceeds_ceiling:
                plan.rejection = self._ceiling_reason(config, row["decode_tps"])
            row["rejection_reason"] = plan.rejection
        steps: list[tuple[State, str]] = []
        if plan.revised_from is not None:
            steps.append((plan.revised_from, ""))
        if plan.state != State.QUEUED and not (
            plan.kind == Kind.EDITORIAL and plan.state == State.APPROVED
        ):
            steps.append((plan.state, plan.rejection or ""))
        self._history(row, plan.kind, steps)
        self.stats[f"{plan.kind.value} {plan.state.value}"] += 1

        evidence_rows: list[dict] = []
        first_clean = True
        for repro in plan.repros:
            exactly = None
            if repro.state == State.REPRODUCED:
                exactly = newest_at if first_clean else None
                first_clean = False
            repro_row = self.reproduction(row, config, env, repro, newest_at, exactly)
            if repro_row["state"] in evidence.EVIDENCE_STATES:
                evidence_rows.append(repro_row)
        if plan.state == State.APPROVED or plan.revised_from == State.APPROVED:
            row.update(evidence.derived_values(_View(row), [
                _View(r) for r in sorted(evidence_rows, key=lambda r: r["created_at"])]))
        if plan.state == State.APPROVED:
            self.public_hubs.append((row["id"], row["created_at"]))
        return row

    def _ceiling_reason(self, config: Config, decode: float) -> str:
        setup = plausibility.Setup(
            model=self.refs[(ModelVariant, config.model_id)],
            hardware=self.refs[(Hardware, config.hardware_id)],
            hardware_count=config.count, quant=self.refs[(Quant, config.quant_id)],
        )
        result = plausibility.assess(setup, decode_tps=decode, vram_peak_mib=None)
        return result.flags[0].rejection_reason if result.flags else REASON_OUT_OF_SCOPE

    def reproduction(self, hub: dict, config: Config, hub_env: dict, plan: ReproPlan,
                     newest_at: datetime, exactly_at: datetime | None) -> dict:
        """One reproduction of `hub`. Clean ones are measured no later than `newest_at`
        (the first one exactly then), so the hub's age is what its plan says."""
        rng = self.rng
        hub_measured = hub["measured_at"]
        if exactly_at is not None:
            measured = exactly_at
        elif plan.state == State.REPRODUCED:
            span = (newest_at - hub_measured).total_seconds()
            measured = hub_measured + timedelta(seconds=rng.uniform(0.1, 1.0) * span)
        elif plan.state == State.QUEUED:
            measured = max(self._ago(rng.uniform(0.5, 12)), hub_measured + timedelta(hours=1))
        else:
            measured = self._after(hub_measured, 400, 1)
        if plan.ring == "inner":
            env = dict(hub_env)
        else:
            env = self._other_environment(config, hub_env, plan.ring == "newer-runtime")
        context = self._context(config, env, True)
        for name in ("prompt_tokens", "max_tokens", "seed"):
            context[name] = hub[name] or context[name]
        if rng.random() < 0.8:
            context["quant_provider"] = hub["quant_provider"] or context["quant_provider"]
            context["model_sha256_prefix"] = hub["model_sha256_prefix"]
        if plan.state == State.REJECTED and rng.random() < 0.5:
            context["driver_version"] = None

        # A divergence in the planned band, towards the side that keeps the row inside
        # 40–70% of the ceiling.
        if plan.divergence is not None:
            worst = plan.divergence
        elif plan.band == Band.RELATED:
            worst = rng.uniform(0.115, 0.235)
        else:
            worst = min(abs(rng.gauss(0, 0.035)), 0.09)
        share = hub["decode_tps"] / config.ceiling_tps
        up = share * (1 + worst) <= SHARE_HIGH + 0.03
        down = share * (1 - worst) >= SHARE_LOW - 0.02
        sign = plan.sign or (rng.choice((1, -1)) if up and down else 1 if up else -1)
        decode = hub["decode_tps"] * (1 + sign * worst)
        ttft = hub["ttft_ms"] * (1 + rng.uniform(-1, 1) * min(worst, 0.09) * 0.9)

        note = ""
        if plan.band == Band.RELATED:
            note = rng.choice(RELATED_NOTES)
        elif rng.random() < 0.05:
            note = rng.choice(PLAIN_NOTES)
        operator = hub["handle"] if plan.operator == "hub" else plan.operator
        created = self._after(measured, 2)
        undecided = plan.state in (State.QUEUED, State.WITHDRAWN)
        decided = None if undecided else self._after(created, 6)
        row = self._row(
            config=config, kind=Kind.REPRODUCTION, state=plan.state, hub_id=hub["id"],
            context=context, ttft=ttft, decode=decode, noisy=False, operator=operator,
            measured=measured, created=created, decided=decided, note=note,
        )
        comparison = divergence.compare(hub["ttft_ms"], hub["decode_tps"], row["ttft_ms"],
                                        row["decode_tps"])
        row["worst_divergence"] = comparison.worst
        row["band"] = comparison.band.value

        reason = ""
        if plan.state == State.REJECTED:
            reason = rng.choice(REPRO_REJECTIONS)
            if plan.revised_from is not None:
                reason = ("Revised: the reproducer confirmed a different quant file was used; "
                          "no longer counted.")
            row["rejection_reason"] = reason
        elif plan.state == State.APPROVED:
            reason = ("Related, not a clean reproduction: published as a row of its own, "
                      "linked to the original.")
        elif plan.state == State.REPRODUCED and plan.revised_from == State.REJECTED:
            reason = "Revised on appeal: the operator supplied the missing driver version."
        elif plan.state == State.REPRODUCED and comparison.band == Band.RELATED:
            reason = "Counted as a reproduction: the note explains the delta."
        steps: list[tuple[State, str]] = []
        if plan.revised_from is not None:
            first = REPRO_REJECTIONS[0] if plan.revised_from == State.REJECTED else ""
            steps.append((plan.revised_from, first))
        if plan.state != State.QUEUED:
            steps.append((plan.state, reason))
        self._history(row, Kind.REPRODUCTION, steps)
        self.stats[f"reproduction {plan.state.value}"] += 1
        if plan.state in (State.REPRODUCED, State.APPROVED):
            self.stats["outer ring" if plan.ring != "inner" else "inner ring"] += 1

        if plan.state == State.APPROVED:
            # A fragment is a catalog row of its own, with its own (empty) evidence.
            row.update(evidence.derived_values(_View(row), []))
            self.public_hubs.append((row["id"], row["created_at"]))
        return row

    # -- random plans ---

    def random_plan(self) -> HubPlan:
        rng = self.rng
        roll = rng.random()
        if roll < 0.83:
            age = rng.uniform(1, AGE_LOWER_DAYS - 5)
        elif roll < 0.965:
            age = rng.uniform(AGE_LOWER_DAYS + 2, 546)
        else:
            age = rng.uniform(551, 900)
        kind = Kind.EDITORIAL if rng.random() < 0.06 else Kind.FRESH
        clean = rng.choices(CLEAN_REPRODUCTIONS, cum_weights=CLEAN_REPRODUCTIONS_CUM)[0]
        repros = []
        for _ in range(clean):
            ring = "outer" if rng.random() < 0.4 else "inner"
            band = Band.RELATED if rng.random() < 0.04 else Band.WITHIN
            repros.append(ReproPlan(State.REPRODUCED, ring=ring, band=band))
        for state, chance in ((State.QUEUED, 0.04), (State.REJECTED, 0.05),
                              (State.WITHDRAWN, 0.025)):
            if rng.random() < chance:
                repros.append(ReproPlan(state, ring=rng.choice(("inner", "outer"))))
        if rng.random() < 0.03:
            ring = "newer-runtime" if rng.random() < 0.5 else "outer"
            repros.append(ReproPlan(State.APPROVED, ring=ring, band=Band.RELATED))
        if clean and rng.random() < 0.01:
            repros.append(ReproPlan(State.REJECTED, revised_from=State.REPRODUCED))
        return HubPlan(
            kind=kind,
            complete=rng.random() < 0.7,
            handle=rng.random() < 0.35,
            newest_age=age,
            noisy=rng.random() < 0.04,
            repros=repros,
        )

    def hidden_plan(self) -> HubPlan:
        rng = self.rng
        state = rng.choices((State.QUEUED, State.REJECTED, State.WITHDRAWN), (4, 4, 2))[0]
        plan = HubPlan(state=state, handle=rng.random() < 0.3, complete=rng.random() < 0.6,
                       newest_age=rng.uniform(0.5, 20) if state != State.REJECTED
                       else rng.uniform(2, 500))
        if state == State.REJECTED:
            if rng.random() < 0.35:
                plan.exceeds_ceiling = True
            else:
                plan.rejection = rng.choice(FRESH_REJECTIONS)
                if plan.rejection == REASON_MISSING_METADATA:
                    plan.complete = False
        elif state == State.QUEUED and rng.random() < 0.15:
            plan.exceeds_ceiling = True
        return plan

    # -- feedback ---

    def feedback(self, count: int) -> None:
        if not self.public_hubs:
            return
        for hub_id, created in self.rng.sample(self.public_hubs, min(count,
                                                                     len(self.public_hubs))):
            kind = self.rng.choice(tuple(FEEDBACK_KINDS))
            messages = FEEDBACK_MESSAGES.get(kind) or FEEDBACK_MESSAGES["other"]
            self.notes.append({
                "id": self._id(FeedbackNote), "submission_id": hub_id, "kind": kind,
                "message": self.rng.choice(messages), "ip_hash": None, "status": "open",
                "resolution_note": None, "resolved_by_id": None, "resolved_at": None,
                "is_demo": True, "created_at": self._after(created, 60),
            })
        self.stats["feedback notes"] += len(self.notes)

    # -- writing ---

    def flush(self, final: bool = False) -> None:
        if len(self.submissions) < BATCH and not final:
            return
        if self.dialect == "sqlite":
            # Index pages stay in memory between batches (the default cache is 2 MiB).
            self.session.execute(text("PRAGMA cache_size=-262144"))
        for table, rows in (
            (Submission.__table__, self.submissions),
            (RunSample.__table__, self.runs),
            (AuditEvent.__table__, self.events),
            (FeedbackNote.__table__, self.notes),
        ):
            for start in range(0, len(rows), BATCH * 2):
                self._insert(table, rows[start:start + BATCH * 2])
            self.stats[f"rows {table.name}"] += len(rows)
            rows.clear()
        self.flushes += 1
        if final or self.flushes % COMMIT_EVERY == 0:
            self.session.commit()

    def _insert(self, table: Table, rows: list[dict]) -> None:
        """Bulk-insert row dicts the fastest way the driver offers.

        SQLite: the driver's executemany over positional rows; PostgreSQL with psycopg:
        COPY. Each value still goes through its column type's bind processor (UTC
        datetimes, booleans); what is skipped is Core's per-row parameter handling, a
        third of the seeding time. Any other driver gets a Core executemany.
        """
        if not rows:
            return
        dialect = self.session.get_bind().dialect
        fast = dialect.name == "sqlite" or (
            dialect.name == "postgresql" and dialect.driver == "psycopg"
        )
        if not fast:
            self.session.execute(insert(table), rows)
            return
        columns = list(table.columns)
        getter = operator.itemgetter(*(c.key for c in columns))
        converters = [
            (position, processor)
            for position, column in enumerate(columns)
            if (processor := column.type.dialect_impl(dialect).bind_processor(dialect))
        ]
        params = []
        for row in rows:
            values = list(getter(row))
            for position, processor in converters:
                values[position] = processor(values[position])
            params.append(tuple(values))
        # Identifiers come from our own metadata, quoted; values travel separately.
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(c.name) for c in columns)
        connection = self.session.connection()
        if dialect.name == "sqlite":
            # Core writes the statement (qmark style, columns in table order).
            statement = str(insert(table).compile(
                dialect=dialect, column_keys=[c.key for c in columns]))
            connection.exec_driver_sql(statement, params)
            return
        driver_connection = connection.connection.driver_connection
        with driver_connection.cursor() as cursor, cursor.copy(
            f"COPY {quote(table.name)} ({names}) FROM STDIN"
        ) as copy:
            for values in params:
                copy.write_row(values)

    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load.

        Without them SQLite picks the catalog's indexes blind: at 100 000 rows it walks
        the "newest" index and sorts every public row for the first page (seconds per
        request) where the sort index answers in milliseconds.
        """
        tables = ("submissions", "run_samples", "audit_events", "feedback_notes")
        if self.dialect == "sqlite":
            self.session.execute(text("ANALYZE"))
        elif self.dialect == "postgresql":
            self.session.execute(text(f"ANALYZE {', '.join(tables)}"))
        self.session.commit()

    def fix_sequences(self) -> None:
        """PostgreSQL's id sequences do not see explicit ids; move them past the demo rows."""
        if self.dialect != "postgresql":
            return
        for table in (Submission, RunSample, AuditEvent, FeedbackNote):
            highest = select(func.coalesce(func.max(table.id), 1)).scalar_subquery()
            self.session.execute(select(func.setval(
                func.pg_get_serial_sequence(table.__tablename__, "id"), highest)))
        self.session.commit()

    def public_count(self) -> int:
        return self.stats[f"{Kind.FRESH.value} {State.APPROVED.value}"] + self.stats[
            f"{Kind.EDITORIAL.value} {State.APPROVED.value}"
        ] + self.stats[f"reproduction {State.APPROVED.value}"]


def _cumulative(weights: Sequence[float]) -> list[float]:
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _reference(session: Session, model) -> list:
    return list(session.scalars(
        select(model).where(model.slug != OTHER_SLUG).order_by(model.slug)
    ))


# --- the showcase: every badge, tier, state and ring, whatever the size -------------------


def _showcase(seeder: _Seeder) -> list[HubPlan]:
    rng = seeder.rng
    handles = seeder.handles
    inner, outer, newer = "inner", "outer", "newer-runtime"
    R, Q, J, W, A = (State.REPRODUCED, State.QUEUED, State.REJECTED, State.WITHDRAWN,
                     State.APPROVED)
    many = [ReproPlan(R, ring=inner if i % 3 else outer) for i in range(30)]
    many += [ReproPlan(Q), ReproPlan(Q, ring=outer), ReproPlan(Q),
             ReproPlan(J), ReproPlan(J, ring=outer), ReproPlan(J),
             ReproPlan(W), ReproPlan(W, ring=outer),
             ReproPlan(A, ring=outer, band=Band.RELATED),
             ReproPlan(J, revised_from=R)]
    plans = [
        # editorial, measured this year: editorial badge, high tier
        HubPlan(kind=Kind.EDITORIAL, newest_age=20),
        # one source, incomplete metadata: community, low
        HubPlan(complete=False, newest_age=30),
        # complete metadata: community, moderate
        HubPlan(handle=True, newest_age=12),
        # one clean reproduction (inner ring): reproduced, moderate; undecided ones beside it
        HubPlan(newest_age=45, repros=[ReproPlan(R), ReproPlan(Q), ReproPlan(W)]),
        # two operators, one in each ring: independently reproduced, high
        HubPlan(handle=True, newest_age=60,
                repros=[ReproPlan(R), ReproPlan(R, ring=outer), ReproPlan(J)]),
        # five operators, mostly outer ring: very high
        HubPlan(newest_age=25, repros=[ReproPlan(R, ring=outer) for _ in range(3)]
                + [ReproPlan(R) for _ in range(2)]),
        # the hub with many reproductions, in every state
        HubPlan(kind=Kind.EDITORIAL, newest_age=8, repros=many),
        # run spread over 10% with a note, one reproduction
        HubPlan(noisy=True, newest_age=90, repros=[ReproPlan(R, ring=outer)]),
        # four operators, two accepted from the related band: inconsistent, capped
        HubPlan(newest_age=40, share=0.55, repros=[
            ReproPlan(R, band=Band.RELATED, divergence=0.2, sign=1),
            ReproPlan(R, ring=outer, band=Band.RELATED, divergence=0.22, sign=-1),
            ReproPlan(R, divergence=0.03, sign=1),
            ReproPlan(R, ring=outer, divergence=0.05, sign=-1)]),
        # runtime drift: a fragment on a newer runtime diverges > 10%
        HubPlan(newest_age=70, repros=[
            ReproPlan(R), ReproPlan(R, ring=outer),
            ReproPlan(A, ring=newer, band=Band.RELATED, divergence=0.18)]),
        # aged 12–18 months
        HubPlan(newest_age=400, repros=[ReproPlan(R), ReproPlan(R, ring=outer)]),
        HubPlan(newest_age=470, handle=True),
        HubPlan(kind=Kind.EDITORIAL, newest_age=420),
        # stale: over 18 months
        HubPlan(newest_age=600, repros=[ReproPlan(R)]),
        HubPlan(newest_age=700, complete=False),
        # the hub's own operator reproducing does not count; a revoked one neither
        HubPlan(handle=True, newest_age=33, repros=[
            ReproPlan(R, operator="hub"), ReproPlan(R, ring=outer),
            ReproPlan(J, revised_from=R)]),
        # rejected, then reproduced on appeal
        HubPlan(newest_age=15, repros=[ReproPlan(R, revised_from=J)]),
        # never public: queued, rejected with reasons, withdrawn, revised out of public
        HubPlan(state=Q, newest_age=2),
        HubPlan(state=Q, newest_age=1, exceeds_ceiling=True, handle=True),
        HubPlan(state=J, newest_age=9, exceeds_ceiling=True),
        HubPlan(state=J, newest_age=14, rejection=REASON_MISSING_METADATA, complete=False),
        HubPlan(state=J, newest_age=50, rejection=REASON_DUPLICATE),
        HubPlan(state=W, newest_age=3),
        HubPlan(state=J, newest_age=120, revised_from=A,
                rejection="Revised: the operator says the numbers came from a batch-4 run."),
    ]
    # Handles on showcase reproductions make /operators worth a look.
    for plan in plans:
        for repro in plan.repros:
            if repro.operator is None and rng.random() < 0.6:
                repro.operator = rng.choice(handles)
    _distinct_operators(plans)
    return plans


def _distinct_operators(plans: list[HubPlan]) -> None:
    for plan in plans:
        used: set[str] = set()
        for repro in plan.repros:
            if repro.operator in used:
                repro.operator = None  # anonymous: a distinct operator of its own
            elif repro.operator not in (None, "hub"):
                used.add(repro.operator)


def _distinct_in_hub(seeder: _Seeder, plan: HubPlan) -> None:
    """Draw operators for a random hub: distinct, none the hub's own."""
    used: set[str] = set()
    for repro in plan.repros:
        if repro.operator is None and seeder.rng.random() < 0.45:
            handle = seeder.rng.choice(seeder.handles)
            repro.operator = handle if handle not in used else None
        if repro.operator not in (None, "hub"):
            used.add(repro.operator)


# --- entry points -------------------------------------------------------------------------


def catalog_has_rows(session: Session) -> bool:
    """True when any submission exists (demo or real): seed-demo --if-empty then stays out."""
    return session.scalar(select(Submission.id).limit(1)) is not None


def seed(session: Session, rows: int, random_seed: int, now: datetime | None = None) -> str:
    """Create a demo catalog of about `rows` public rows; return a one-line report.

    The one exception to "services never commit": rows are written in committed
    batches of BATCH submissions (with their runs and audit events), because a catalog
    of 100 000 rows is too large for one flush. Hubs are written before their
    reproductions, so every committed batch is consistent on its own.

    The same `random_seed` (and `now`) gives the same catalog, except each row's
    private status nonce, which is always random.
    """
    started = time.perf_counter()
    if rows < 0:
        raise ValueError("rows must not be negative")
    if session.scalar(select(func.count()).select_from(Hardware)) == 0:
        load_reference(session)
    session.commit()
    seeder = _Seeder(session, rows, random_seed, now or utcnow())
    if rows > 0:
        plans = _showcase(seeder)
        for plan in plans:
            seeder.hub(plan)
        rng = seeder.rng
        while seeder.public_count() < rows:
            plan = seeder.random_plan()
            _distinct_in_hub(seeder, plan)
            seeder.hub(plan)
            if rng.random() < 0.07:
                seeder.hub(seeder.hidden_plan())
            seeder.flush()
        seeder.feedback(max(3, min(2000, rows // 60)))
    seeder.flush(final=True)
    seeder.fix_sequences()
    seeder.analyze()
    return _report(seeder, time.perf_counter() - started)


def _report(seeder: _Seeder, seconds: float) -> str:
    s = seeder.stats
    fresh = s[f"{Kind.FRESH.value} {State.APPROVED.value}"]
    editorial = s[f"{Kind.EDITORIAL.value} {State.APPROVED.value}"]
    fragments = s[f"reproduction {State.APPROVED.value}"]
    hidden = sum(s[f"{Kind.FRESH.value} {state.value}"]
                 for state in (State.QUEUED, State.REJECTED, State.WITHDRAWN))
    repro_states = ", ".join(
        f"{s[f'reproduction {state.value}']} {state.value}"
        for state in (State.REPRODUCED, State.QUEUED, State.REJECTED, State.WITHDRAWN)
    )
    return (
        f"demo catalog: {fresh + editorial + fragments} public rows ({editorial} editorial, "
        f"{fresh} community, {fragments} fragmented reproductions); reproductions: "
        f"{repro_states} ({s['inner ring']} inner ring, {s['outer ring']} outer ring); "
        f"{hidden} hidden fresh rows; {s['rows run_samples']} runs, "
        f"{s['rows audit_events']} audit events, {s['feedback notes']} feedback notes; "
        f"{seconds:.1f} s"
    )
