"""The side-by-side comparison: a reproduction next to its original, as a reviewer reads it.

The matching set, the build context field by field, the ring, the numbers with their
divergence, signals that the two may come from one operator, and why it cannot be marked
reproduced. Read-only: nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Submission
from webapp.services import divergence, evidence, labels, matching, moderation, trust
from webapp.services.rules import NOTED_EXPLANATION, NOTED_LABEL, Band, Kind, Ring, percent


def _comparable(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return trust.comparable(None if value is None else str(value))


@dataclass(frozen=True)
class ContextDiff:
    label: str
    hub_value: str | None
    repro_value: str | None
    differs: bool
    environment: bool  # one of the three fields that decide the ring


ENVIRONMENT_FIELDS = ("os_label", "driver_version", "runtime_version")
CONTEXT_FIELDS = (
    ("runtime_version", "Runtime version"),
    ("driver_version", "Driver / CUDA / ROCm / Metal version"),
    ("os_label", "OS label"),
    ("concurrent_users", "Concurrent users"),
    ("prompt_tokens", "Prompt length (tokens)"),
    ("max_tokens", "Max tokens"),
    ("seed", "Seed"),
    ("quant_provider", "Quant provider"),
    ("model_sha256_prefix", "Model file sha256 (prefix)"),
    ("speculative", "Speculative decoding"),
    ("batch_gt1", "Batch larger than 1"),
    ("tensor_parallel", "Tensor parallel"),
)


def context_differences(hub: Submission, repro: Submission) -> tuple[ContextDiff, ...]:
    diffs = [ContextDiff("Runtime", hub.other_runtime or hub.runtime.name,
                         repro.other_runtime or repro.runtime.name,
                         _comparable(hub.other_runtime or hub.runtime.name)
                         != _comparable(repro.other_runtime or repro.runtime.name), False)]
    for name, label in CONTEXT_FIELDS:
        a, b = getattr(hub, name), getattr(repro, name)
        diffs.append(ContextDiff(label, labels.shown(a), labels.shown(b),
                                 _comparable(a) != _comparable(b), name in ENVIRONMENT_FIELDS))
    return tuple(diffs)


@dataclass(frozen=True)
class MetricRow:
    label: str
    unit: str
    hub_value: float | None
    repro_value: float | None
    divergence: float | None
    band: Band | None

    @property
    def divergence_label(self) -> str:
        return percent(self.divergence) if self.divergence is not None else "—"


SHARED_HANDLE = "handle"
SHARED_IP = "same-day IP hash"
LOOK_ALIKE = "look-alike handle"


@dataclass(frozen=True)
class Signal:
    """A reason to suspect two submissions come from one operator."""

    other: Submission
    relation: str  # "the original row" or "another reproduction of the same original"
    shared: tuple[str, ...]  # SHARED_HANDLE, SHARED_IP, LOOK_ALIKE
    linked: bool  # already counted as one operator
    spellings: tuple[str, str] | None = None  # a look-alike handle: this one, the other
    differences: tuple[tuple[str, str], ...] = ()  # the characters that differ, named

    @property
    def look_alike(self) -> bool:
        return LOOK_ALIKE in self.shared

    @property
    def message(self) -> str:
        verdict = ("They already count as one operator." if self.linked
                   else "They count as different operators unless you link them.")
        shared = [what for what in self.shared if what != LOOK_ALIKE]
        parts = []
        if shared:
            parts.append(f"Shares a {' and '.join(shared)} with {self.relation} "
                         f"(#{self.other.id}).")
        if self.spellings is not None:
            mine, theirs = self.spellings
            differ = "; ".join(f"{a} where the other has {b}" for a, b in self.differences)
            parts.append(f"Its handle “{mine}” looks like “{theirs}” of {self.relation} "
                         f"(#{self.other.id}) but is spelled with other characters"
                         + (f" ({differ})" if differ else "") + ".")
        return " ".join([*parts, verdict])


def signals(
    repro: Submission, hub: Submission, siblings: Iterable[Submission]
) -> tuple[Signal, ...]:
    """Shared normalised handle, look-alike handle (SPEC §11) or same-day IP hash with the
    hub or another reproduction of it."""
    found: list[Signal] = []
    others = [(hub, "the original row")] + [
        (row, "another reproduction of the same original")
        for row in siblings if row.id not in (repro.id, hub.id)
    ]
    own_handle = trust.normalise_handle(repro.handle)
    for other, relation in others:
        shared: list[str] = []
        spellings = None
        differences: tuple[tuple[str, str], ...] = ()
        if own_handle and own_handle == trust.normalise_handle(other.handle):
            shared.append(SHARED_HANDLE)
        elif trust.look_alike(repro.handle, other.handle):
            shared.append(LOOK_ALIKE)
            spellings = (repro.handle, other.handle)
            differences = tuple(trust.differing_characters(repro.handle, other.handle))
        if (repro.ip_hash and repro.ip_day and repro.ip_hash == other.ip_hash
                and repro.ip_day == other.ip_day):
            shared.append(SHARED_IP)
        if shared:
            found.append(Signal(other, relation, tuple(shared),
                                trust.same_operator(other.operator_key, repro.operator_key),
                                spellings, differences))
    return tuple(found)


@dataclass(frozen=True)
class SideBySide:
    hub: Submission
    matching: tuple[matching.Dimension, ...]
    context: tuple[ContextDiff, ...]
    ring: Ring | None  # None: outside tolerance, shown apart from the rings if accepted
    comparison: divergence.Comparison | None
    metrics: tuple[MetricRow, ...]
    signals: tuple[Signal, ...]
    problems: tuple[str, ...]  # why it cannot be marked reproduced
    same_operator: bool  # counts as the original's operator: no evidence for the badge

    @property
    def matching_ok(self) -> bool:
        return all(check.matches for check in self.matching)

    @property
    def noted_label(self) -> str:
        return NOTED_LABEL

    @property
    def noted_explanation(self) -> str:
        return NOTED_EXPLANATION

    @property
    def environment_differences(self) -> tuple[ContextDiff, ...]:
        return tuple(diff for diff in self.context if diff.environment and diff.differs)


def _placement(hub: Submission, repro: Submission) -> Ring | None:
    try:
        return trust.placement(evidence.hub_facts(hub), evidence.repro_facts(repro))
    except ValueError:  # numbers that cannot be compared land in no ring
        return None


def side_by_side(session: Session, repro: Submission) -> SideBySide | None:
    hub = repro.hub
    if repro.kind != Kind.REPRODUCTION or hub is None:
        return None
    siblings = session.scalars(
        select(Submission).where(Submission.hub_id == hub.id, Submission.id != repro.id)
    ).all()
    comparison = moderation.compare_numbers(hub, repro)
    band = comparison.band if comparison else None
    metrics = (
        MetricRow("Time to first token", "ms", hub.ttft_ms, repro.ttft_ms,
                  comparison.ttft_divergence if comparison else None, band),
        MetricRow("Decode speed", "tok/s", hub.decode_tps, repro.decode_tps,
                  comparison.decode_divergence if comparison else None, band),
        MetricRow("Tokens generated", "tokens", hub.tokens_generated, repro.tokens_generated,
                  None, None),
        MetricRow("Memory peak", "MiB", hub.vram_peak_mib, repro.vram_peak_mib, None, None),
        MetricRow("Prefill speed", "tok/s", hub.prefill_tps, repro.prefill_tps, None, None),
    )
    return SideBySide(
        hub=hub,
        matching=matching.compare(hub, repro),
        context=context_differences(hub, repro),
        ring=_placement(hub, repro),
        comparison=comparison,
        metrics=metrics,
        signals=signals(repro, hub, siblings),
        problems=moderation.reproduction_problems(repro),
        same_operator=trust.same_operator(repro.operator_key, hub.operator_key),
    )
