"""Rule set v1: every threshold, state, badge and tier the rules engine uses.

This is the only place these numbers live. Services decide with them and pages render
their explanations from them, so the methodology pages can never drift from the code.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

RULE_SET_VERSION = "v1"


def percent(fraction: float) -> str:
    """0.1 -> '10%', 0.125 -> '12.5%'; more decimals where one would round a value onto a
    limit of the rules it is not: 0.1001 -> '10.01%', so a divergence past a limit never
    reads as on it ("diverge 10%", refused as over 10%)."""
    value = fraction * 100
    text = f"{value:.1f}"
    whole = round(value)
    if (abs(whole) in _LIMIT_PERCENTS and text.removeprefix("-") == f"{abs(whole)}.0"
            and abs(value - whole) > 1e-6):
        for places in range(2, 8):  # ratios are kept to 1e-9: seven places tell them apart
            text = f"{value:.{places}f}"
            if float(text) != whole:
                return text.rstrip("0") + "%"
    return text.removesuffix(".0") + "%"


# --- measurement (SPEC §2) ---------------------------------------------------------

MIN_RUNS = 3
MAX_RUNS = 10
SPREAD_LIMIT = 0.10
# Upper bounds are exclusive: a value must be strictly below them.
TTFT_MAX_MS = 600_000  # 10 minutes
DECODE_MAX_TPS = 100_000
PREFILL_MAX_TPS = 1_000_000  # prompt processing runs far faster than decode
VRAM_MAX_MIB = 4 * 1024 * 1024  # 4 TiB

# --- divergence (SPEC §3) ----------------------------------------------------------

TOLERANCE = 0.10
RELATED_LIMIT = 0.25
# Ratios are rounded before comparing with a threshold, so that 110 against 100 is
# exactly 10% and not 10.000000000000009%.
RATIO_DECIMALS = 9

# --- plausibility (SPEC §7) --------------------------------------------------------

CEILING_MARGIN = 1.10
# Tensor parallelism splits every layer across devices; on one device there is nothing to
# split, so it neither sums bandwidth nor excuses a run from the ceiling (SPEC §11).
TENSOR_PARALLEL_MIN_DEVICES = 2

# --- trust badge (SPEC §5) ---------------------------------------------------------

REPRODUCED_OPERATORS = 1
INDEPENDENT_OPERATORS = 2

# --- confidence (SPEC §6) ----------------------------------------------------------

CV_LIMIT = 0.10
# The limits a shown percentage may be compared with (percent() never rounds onto one).
_LIMIT_PERCENTS = frozenset(round(limit * 100) for limit in (
    SPREAD_LIMIT, TOLERANCE, RELATED_LIMIT, CV_LIMIT, CEILING_MARGIN))
VERY_HIGH_OPERATORS = 4
HIGH_OPERATORS = 2
MODERATE_OPERATORS = 1
# Months are counted as days so that the catalog's SQL filter and this code agree:
# 12 months = 365 days; 18 months = 365 + 183 = 548 days. A row is lowered when it is
# *more than* AGE_LOWER_DAYS old (day 366) and stale when *more than* STALE_DAYS old
# (day 549).
EDITORIAL_FRESH_DAYS = 365
AGE_LOWER_DAYS = 365
STALE_DAYS = 548

# --- moderation (SPEC §4) ----------------------------------------------------------

REJECTION_REASON_MAX = 160
REASON_MISSING_METADATA = "Missing runtime metadata"
REASON_EXCEEDS_CEILING = "Exceeds the hardware's bandwidth ceiling"
REASON_DISHONEST_FRAMING = "Dishonest framing"
REASON_DUPLICATE = "Duplicate"
REASON_OUT_OF_SCOPE = "Out of scope"
REJECTION_REASONS: tuple[str, ...] = (
    REASON_MISSING_METADATA,
    REASON_EXCEEDS_CEILING,
    REASON_DISHONEST_FRAMING,
    REASON_DUPLICATE,
    REASON_OUT_OF_SCOPE,
)

FEEDBACK_KINDS = MappingProxyType({
    "numbers-look-wrong": "The numbers look wrong",
    "stale": "The row looks stale",
    "metadata-error": "The metadata has an error",
    "other": "Something else",
})

# The six build-context fields whose presence makes a row's metadata complete.
METADATA_FIELDS = MappingProxyType({
    "runtime_version": "Runtime version",
    "driver_version": "Driver / CUDA / ROCm / Metal version",
    "os_label": "OS label",
    "prompt_tokens": "Prompt length (tokens)",
    "max_tokens": "Max tokens",
    "quant_provider": "Quant provider",
})


# --- rate limits (SPEC §8) ---------------------------------------------------------


class RateLimit(NamedTuple):
    # A NamedTuple so configuration may also give a plain (limit, window_seconds) pair.
    limit: int
    window_seconds: int

    @property
    def label(self) -> str:
        return f"{self.limit} per {_window_label(self.window_seconds)}"


def _window_label(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "hour" if hours == 1 else f"{hours} hours"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds} seconds"


RATE_LIMITS = MappingProxyType({
    "submissions": RateLimit(10, 3600),
    "feedback": RateLimit(20, 3600),
    "login": RateLimit(10, 15 * 60),
})


# --- enums -------------------------------------------------------------------------


class State(StrEnum):
    QUEUED = "queued"
    APPROVED = "approved-public"
    REPRODUCED = "reproduced"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]

    @property
    def is_public(self) -> bool:
        return self in PUBLIC_STATES


_STATE_LABELS = {
    State.QUEUED: "Queued",
    State.APPROVED: "Approved (public)",
    State.REPRODUCED: "Reproduced",
    State.REJECTED: "Rejected",
    State.WITHDRAWN: "Withdrawn",
}

PUBLIC_STATES = frozenset({State.APPROVED, State.REPRODUCED})
HIDDEN_STATES = frozenset({State.QUEUED, State.REJECTED, State.WITHDRAWN})
# Only a reproduction a reviewer judged clean counts towards badge and tier.
EVIDENCE_STATES = frozenset({State.REPRODUCED})
# A reproduction that fragmented into its own row still tells of runtime drift.
DRIFT_STATES = frozenset({State.REPRODUCED, State.APPROVED})
DECISION_STATES = frozenset({State.APPROVED, State.REPRODUCED, State.REJECTED})


class Kind(StrEnum):
    FRESH = "fresh"
    REPRODUCTION = "reproduction"
    EDITORIAL = "editorial"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    Kind.FRESH: "Fresh benchmark",
    Kind.REPRODUCTION: "Reproduction",
    Kind.EDITORIAL: "Editorial measurement",
}


class Band(StrEnum):
    WITHIN = "within"
    RELATED = "related"
    NOT_REPRODUCTION = "not-reproduction"

    @property
    def label(self) -> str:
        return _BAND_LABELS[self]

    @property
    def explanation(self) -> str:
        return _BAND_EXPLANATIONS[self]

    @property
    def css(self) -> str:
        return f"band-{self.value}"

    @property
    def allows_reproduce_flow(self) -> bool:
        return self is not Band.NOT_REPRODUCTION

    @property
    def needs_note(self) -> bool:
        return self is Band.RELATED

    @property
    def range_label(self) -> str:
        return _BAND_RANGES[self]


_BAND_LABELS = {
    Band.WITHIN: "Within tolerance",
    Band.RELATED: "Related",
    Band.NOT_REPRODUCTION: "Not a reproduction",
}
_BAND_RANGES = {
    Band.WITHIN: f"≤ {percent(TOLERANCE)}",
    Band.RELATED: f"> {percent(TOLERANCE)} and ≤ {percent(RELATED_LIMIT)}",
    Band.NOT_REPRODUCTION: f"> {percent(RELATED_LIMIT)}",
}
_BAND_EXPLANATIONS = {
    Band.WITHIN: (
        f"Both TTFT and decode speed are within {percent(TOLERANCE)} of the original. "
        "This run may go through the reproduce flow and is eligible to be marked reproduced."
    ),
    Band.RELATED: (
        f"The larger divergence is above {percent(TOLERANCE)} but not above "
        f"{percent(RELATED_LIMIT)}. This run may go through the reproduce flow only with a "
        "note explaining the difference; a reviewer decides whether it counts as a "
        "reproduction or becomes a fresh row."
    ),
    Band.NOT_REPRODUCTION: (
        f"The larger divergence is above {percent(RELATED_LIMIT)}, so this is not a "
        "reproduction. Submit it as a fresh benchmark with these numbers instead, and "
        "consider sending feedback against the original."
    ),
}


class Badge(StrEnum):
    EDITORIAL = "editorial"
    COMMUNITY = "community-submitted"
    REPRODUCED = "reproduced"
    INDEPENDENT = "independently-reproduced"

    @property
    def label(self) -> str:
        return _BADGE_LABELS[self]

    @property
    def rank(self) -> int:
        return _BADGE_RANKS[self]

    @property
    def css(self) -> str:
        return f"badge-{self.value}"

    @property
    def explanation(self) -> str:
        return _BADGE_EXPLANATIONS[self]


_BADGE_LABELS = {
    Badge.EDITORIAL: "Editorial",
    Badge.COMMUNITY: "Community-submitted",
    Badge.REPRODUCED: "Reproduced",
    Badge.INDEPENDENT: "Independently reproduced",
}
# Editorial and community rows sit on the same rung: who measured is not evidence.
_BADGE_RANKS = {
    Badge.EDITORIAL: 0,
    Badge.COMMUNITY: 0,
    Badge.REPRODUCED: 1,
    Badge.INDEPENDENT: 2,
}
_BADGE_EXPLANATIONS = {
    Badge.EDITORIAL: "Measured by the editors; not yet reproduced by another operator.",
    Badge.COMMUNITY: (
        "Submitted by an operator and approved by a reviewer; not yet reproduced by "
        "another operator."
    ),
    Badge.REPRODUCED: (
        f"At least {REPRODUCED_OPERATORS} operator other than the original one re-ran this "
        "configuration and a reviewer judged it a clean reproduction."
    ),
    Badge.INDEPENDENT: (
        f"Clean reproductions from at least {INDEPENDENT_OPERATORS} distinct operators "
        "other than the original one."
    ),
}


class Tier(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    VERY_HIGH = "very-high"

    @property
    def rank(self) -> int:
        return _TIER_ORDER.index(self)

    @property
    def label(self) -> str:
        return _TIER_LABELS[self]

    @property
    def css(self) -> str:
        return f"tier-{self.value}"

    @property
    def explanation(self) -> str:
        return _TIER_EXPLANATIONS[self]

    @classmethod
    def from_rank(cls, rank: int) -> Tier:
        """The tier at `rank`, clamped to LOW..VERY_HIGH: a tier is never below low."""
        return _TIER_ORDER[min(max(rank, 0), len(_TIER_ORDER) - 1)]

    def lowered(self, steps: int = 1) -> Tier:
        return Tier.from_rank(self.rank - steps)

    def capped(self, at: Tier) -> Tier:
        return self if self.rank <= at.rank else at


_TIER_ORDER = (Tier.LOW, Tier.MODERATE, Tier.HIGH, Tier.VERY_HIGH)
_TIER_LABELS = {
    Tier.LOW: "Low",
    Tier.MODERATE: "Moderate",
    Tier.HIGH: "High",
    Tier.VERY_HIGH: "Very high",
}
# What a tier says about any row that has it, however the row got there: a tier is its
# starting tier (SPEC §6) after the cap and the steps down, so each sentence names every
# way into the tier, and the row's own reasons say which one it was.
_LOWERED_BY = "inconsistent numbers, runtime drift or age"
_TIER_EXPLANATIONS = {
    Tier.VERY_HIGH: (
        f"Reproduced by at least {VERY_HIGH_OPERATORS} distinct independent operators, with "
        f"consistent numbers, no runtime drift and the newest measurement within "
        f"{AGE_LOWER_DAYS} days (12 months)."
    ),
    Tier.HIGH: (
        f"Reproduced by at least {HIGH_OPERATORS} distinct independent operators, or "
        f"measured by the editors within {EDITORIAL_FRESH_DAYS} days (12 months), with "
        "consistent numbers."
    ),
    Tier.MODERATE: (
        f"Reproduced by {MODERATE_OPERATORS} independent operator, or complete build "
        f"metadata; or a higher starting tier lowered by {_LOWERED_BY}."
    ),
    Tier.LOW: (
        "A single source with incomplete build metadata; or a higher starting tier lowered "
        f"by {_LOWERED_BY}."
    ),
}


class Ring(StrEnum):
    INNER = "inner"
    OUTER = "outer"

    @property
    def label(self) -> str:
        return _RING_LABELS[self]

    @property
    def explanation(self) -> str:
        return _RING_EXPLANATIONS[self]

    @property
    def css(self) -> str:
        return f"ring-{self.value}"


_RING_LABELS = {Ring.INNER: "Inner ring", Ring.OUTER: "Outer ring"}
_RING_EXPLANATIONS = {
    Ring.INNER: (
        "Same environment as the original (OS label, driver version and runtime "
        f"version), within {percent(TOLERANCE)}: shows the result is repeatable."
    ),
    Ring.OUTER: (
        "A different OS, driver branch or runtime version than the original, and still "
        f"within {percent(TOLERANCE)}: shows the result holds beyond one machine's setup."
    ),
}


# A reproduction outside tolerance that a reviewer still marked reproduced (SPEC §11): it
# counts for the badge as decided, and is shown apart from the rings under this name.
NOTED_LABEL = "Accepted with a note"
NOTED_EXPLANATION = (
    f"Reproductions that diverged more than {percent(TOLERANCE)} (and not more than "
    f"{percent(RELATED_LIMIT)}) from the original, which a reviewer accepted with the "
    "operator's note explaining the difference. They count for the badge as the reviewer "
    f"decided, but they are not ring evidence: the rings hold runs within {percent(TOLERANCE)}."
)

# A reproduction by the operator who published the row, which a reviewer still marked
# reproduced: an operator cannot reproduce their own row (SPEC §5), so it is listed apart.
OWN_LABEL = "Re-runs by the original operator"
OWN_EXPLANATION = (
    "Runs of this configuration by the operator who published this row. They were "
    "accepted, but an operator cannot reproduce their own row: they count for neither the "
    "badge nor the tier, and they are not drawn in the rings or the divergence strip."
)


class FlagCode(StrEnum):
    EXCEEDS_CEILING = "exceeds-ceiling"
    VRAM_EXCEEDS_MEMORY = "vram-exceeds-memory"

    @property
    def label(self) -> str:
        return _FLAG_LABELS[self]

    @property
    def css(self) -> str:
        return f"flag-{self.value}"

    @property
    def explanation(self) -> str:
        return _FLAG_EXPLANATIONS[self]


_FLAG_LABELS = {
    FlagCode.EXCEEDS_CEILING: "Exceeds the bandwidth ceiling",
    FlagCode.VRAM_EXCEEDS_MEMORY: "Memory peak exceeds the hardware's memory",
}
_FLAG_EXPLANATIONS = {
    FlagCode.EXCEEDS_CEILING: (
        "Single-stream decode cannot read the weights faster than memory bandwidth "
        "allows: ceiling = bandwidth ÷ (active parameters × bits per weight ÷ 8). Decode "
        f"above {CEILING_MARGIN:.2f}× the ceiling is flagged unless the run declares "
        "speculative decoding, batch > 1 or tensor parallelism across at least "
        f"{TENSOR_PARALLEL_MIN_DEVICES} devices."
    ),
    FlagCode.VRAM_EXCEEDS_MEMORY: (
        "The reported memory peak is larger than the memory of the declared hardware."
    ),
}
