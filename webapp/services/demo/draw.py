"""Drawing a demo row's parts from one seeded generator: configuration, operator handles,
moments, build context (runtime version, driver, OS, quant provider) and numbers (runs,
time to first token, memory peak)."""

from __future__ import annotations

import hashlib
import random
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from webapp.services.demo.configs import Config
from webapp.services.demo.world import (
    ADJECTIVES,
    AMD_DRIVERS,
    APPLE,
    BLACKWELL_DRIVERS,
    BLACKWELL_PREFIXES,
    CPU_DRIVERS,
    CPU_FAMILIES,
    DATACENTER,
    DESKTOP,
    LINUX,
    NOUNS,
    NVIDIA_DRIVERS,
    PROMPT_TOKENS,
    PROVIDERS,
    RUNTIME_VERSIONS,
    SERVER,
    SPREAD_NOTES,
)
from webapp.services.trust import normalise_handle

# Value lists and their cumulative weights (rng.choices is much faster given those).
MAX_TOKENS, MAX_TOKENS_CUM = (256, 512, 1024), (3, 9, 10)
RUN_COUNTS, RUN_COUNTS_CUM = (3, 4, 5, 6, 7, 8, 10), (50, 60, 85, 89, 92, 95, 100)


class Draw:
    """Every random choice of one demo catalog; the same seed draws the same catalog."""

    def __init__(self, random_seed: int, now: datetime, configs: Sequence[Config],
                 weights: Sequence[float], handle_count: int):
        self.rng = random.Random(random_seed)  # noqa: S311 - demo data, reproducible  # nosec B311
        self.now = now
        self.configs = configs
        self.cum_weights = list(accumulate(weights))
        self.handles = self._draw_handles(handle_count)
        self.handle_index = {handle: index for index, handle in enumerate(self.handles)}

    # -- handles and configurations ---

    def _draw_handles(self, count: int) -> list[str]:
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

    def config(self) -> Config:
        return self.rng.choices(self.configs, cum_weights=self.cum_weights)[0]

    # -- timestamps ---

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def after(self, moment: datetime, max_days: float, min_days: float = 0.02) -> datetime:
        """A moment after `moment` and before now (both bounds respected)."""
        room = (self.now - moment).total_seconds() / 86400
        upper = max(0.0, min(max_days, room * 0.9))
        lower = min(min_days, upper)
        return moment + timedelta(days=self.rng.uniform(lower, upper))

    # -- build context ---

    def versions(self, config: Config) -> Sequence[str]:
        return RUNTIME_VERSIONS.get(config.runtime_slug, ("1.0",))

    def environment(self, config: Config, age_days: float) -> dict[str, Any]:
        rng = self.rng
        versions = self.versions(config)
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
            env["driver_version"] = rng.choice(_drivers(config))
            env["os_label"] = rng.choice(_os_labels(config))
        return env

    def other_environment(self, config: Config, env: dict, newer_runtime: bool) -> dict:
        """The hub's environment with one of OS, driver or runtime version changed."""
        rng = self.rng
        changed = dict(env)
        versions = self.versions(config)
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
            pool = _os_labels(config)
            changed["os_label"] = rng.choice([o for o in pool if o != env["os_label"]])
        else:
            pool = _drivers(config)
            changed["driver_version"] = rng.choice([d for d in pool if d != env["driver_version"]])
        return changed

    def context(self, config: Config, env: dict, complete: bool) -> dict[str, Any]:
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

    def runs(self, count: int, ttft: float, decode: float, tokens: int,
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

    def run_count(self) -> int:
        return self.rng.choices(RUN_COUNTS, cum_weights=RUN_COUNTS_CUM)[0]

    def vram(self, config: Config) -> float:
        rng = self.rng
        if config.serving:
            return round(config.memory_mib * rng.uniform(0.86, 0.92), 0)
        peak = config.weights_mib * 1.02 + config.count * rng.uniform(350, 1400)
        return round(min(peak, config.memory_mib * 0.97), 0)

    def ttft(self, config: Config) -> float:
        prefill = config.prefill_tps * self.rng.uniform(0.8, 1.2)
        return PROMPT_TOKENS / prefill * 1000 + self.rng.uniform(15, 60)


def _drivers(config: Config) -> Sequence[str]:
    """The driver labels a configuration's hardware runs with (Apple's come with the OS)."""
    if config.hardware_kind == "cpu":
        return CPU_DRIVERS
    if config.vendor == "AMD":
        return AMD_DRIVERS
    if config.hardware_slug.startswith(BLACKWELL_PREFIXES):
        return BLACKWELL_DRIVERS
    return NVIDIA_DRIVERS


def _os_labels(config: Config) -> Sequence[str]:
    return SERVER if config.hardware_slug in DATACENTER or config.serving else DESKTOP
