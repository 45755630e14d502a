"""The facts a hub row is judged on, operator identity, the badge ladder and rings (SPEC §5,
§11): a reproduction sits in a ring only when it landed within tolerance.

The badge is never stored as truth: callers recompute it from the evidence on every
render, so a revoked reproduction lowers it again at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from webapp.services.divergence import compare
from webapp.services.rules import (
    EVIDENCE_STATES,
    INDEPENDENT_OPERATORS,
    REPRODUCED_OPERATORS,
    Badge,
    Band,
    Kind,
    Ring,
    State,
)

_LEADING_DECORATION = re.compile(r"^[@\s]+")


def comparable(text: str | None) -> str:
    """Text as compared: case, spacing and absence ignored (missing and blank both mean
    "not recorded")."""
    return " ".join((text or "").split()).casefold()


def _require_aware(name: str, moment: datetime) -> None:
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, got {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got {moment!r}")


@dataclass(frozen=True)
class Environment:
    """(OS label, driver version, runtime version), compared case- and space-insensitively."""

    os_label: str | None
    driver_version: str | None
    runtime_version: str | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (
            comparable(self.os_label),
            comparable(self.driver_version),
            comparable(self.runtime_version),
        )

    def matches(self, other: Environment) -> bool:
        return self.key == other.key


@dataclass(frozen=True)
class HubFacts:
    kind: Kind
    operator: str
    environment: Environment
    ttft_ms: float
    decode_tps: float
    ttft_spread: float
    decode_spread: float
    spread_explained: bool
    metadata: Mapping[str, object]
    measured_at: datetime

    def __post_init__(self) -> None:
        _require_aware("hub measured_at", self.measured_at)


@dataclass(frozen=True)
class ReproFacts:
    operator: str
    state: State
    environment: Environment
    ttft_ms: float
    decode_tps: float
    measured_at: datetime

    def __post_init__(self) -> None:
        _require_aware("reproduction measured_at", self.measured_at)


# Operators without a handle are keyed "anon:<random>"; schemas refuse handles like it.
ANONYMOUS_PREFIX = "anon:"


def normalise_handle(handle: str | None) -> str | None:
    """The identity key of a pseudonymous handle: '  @Alice  Smith ' -> 'alice smith'."""
    if handle is None:
        return None
    # NFKC folds look-alike forms (full-width letters, ligatures) so they cannot pose
    # as a distinct operator; the second pass keeps the result stable after casefold.
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", handle).casefold())
    text = _LEADING_DECORATION.sub("", " ".join(text.split()))
    return text or None


def independent_operators(hub: HubFacts, repros: Iterable[ReproFacts]) -> frozenset[str]:
    """Distinct operators other than the hub's with a reproduction in an evidence state."""
    return frozenset(
        repro.operator
        for repro in repros
        if repro.state in EVIDENCE_STATES and repro.operator != hub.operator
    )


def badge(hub: HubFacts, repros: Iterable[ReproFacts]) -> Badge:
    operators = len(independent_operators(hub, repros))
    if operators >= INDEPENDENT_OPERATORS:
        return Badge.INDEPENDENT
    if operators >= REPRODUCED_OPERATORS:
        return Badge.REPRODUCED
    # A fragmented reproduction is a community row of its own, so anything that is not
    # editorial starts on the community rung.
    return Badge.EDITORIAL if hub.kind == Kind.EDITORIAL else Badge.COMMUNITY


def ring(hub_env: Environment, repro_env: Environment) -> Ring:
    """The ring an environment decides: the hub's own (inner) or another (outer)."""
    return Ring.INNER if hub_env.matches(repro_env) else Ring.OUTER


def within_tolerance(hub: HubFacts, repro: ReproFacts) -> bool:
    comparison = compare(hub.ttft_ms, hub.decode_tps, repro.ttft_ms, repro.decode_tps)
    return comparison.band is Band.WITHIN


def placement(hub: HubFacts, repro: ReproFacts) -> Ring | None:
    """Where a reproduction is drawn: in a ring, by its environment, when it landed within
    tolerance; None otherwise (SPEC §11). A related-band run a reviewer accepted counts for
    the badge as decided, but is shown apart, "accepted with a note", never as ring
    evidence."""
    if not within_tolerance(hub, repro):
        return None
    return ring(hub.environment, repro.environment)
