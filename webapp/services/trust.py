"""The facts a hub row is judged on, operator identity, the badge ladder and rings (SPEC §5,
§11): a reproduction sits in a ring only when it landed within tolerance.

The badge is never stored as truth: callers recompute it from the evidence on every
render, so a revoked reproduction lowers it again at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache

from confusable_homoglyphs import confusables

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
# A dot above an i or a j, which already carry one, draws nothing new ("audi\u0307tor"
# reads "auditor"); case folding writes the Turkish "İ" that way too.
_DOT_ON_A_DOTTED_LETTER = re.compile("(?<=[ij])\u0307+")


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

    @cached_property
    def key(self) -> tuple[str, str, str]:
        # Kept on the instance (frozen fields never change): a hub's key is compared with
        # each of its reproductions', twice per assessment.
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


# --- operator identity ------------------------------------------------------------

# Operators without a handle are keyed "anon:<random>"; the editors count as one operator
# keyed "editorial". No handle may normalise to either (reserved_handle).
ANONYMOUS_PREFIX = "anon:"
EDITORIAL_OPERATOR = "editorial"

# Direction controls reorder what is shown ("\u202eecila" displays as "alice"), so a handle
# carrying one is refused outright, not only ignored when compared (SPEC §11).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")
# Invisible code points outside category Cf (Unicode's other default-ignorables: the
# combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian free
# variation selectors, variation selectors) and the blank Braille pattern, which draws
# nothing: ignored when comparing, like Cf.
_IGNORABLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800\u3164\uffa0"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
    + "".join(chr(c) for c in range(0xE0100, 0xE01F0))
)
# Format characters, private-use code points (no font of the reader's need draw them as
# the writer's did), unassigned code points and noncharacters (U+FFFE), surrogates: none
# shows a letter another handle lacks.
_SHOWS_NOTHING = frozenset({"Cf", "Co", "Cn", "Cs"})
# Latin small capitals read as their letters ("ᴅave" is "Dave" set small); NFKC leaves
# them, and Unicode's confusables pair only some of them with a letter.
_SMALL_CAPITALS = str.maketrans("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡʏᴢ", "abcdefghijklmnopqrstuvwyz")


def _visible(text: str) -> str:
    return "".join(ch for ch in text
                   if unicodedata.category(ch) not in _SHOWS_NOTHING and ch not in _IGNORABLE)


def _spelling(handle: str, *, fold: bool) -> str | None:
    # NFKC folds look-alike forms (full-width letters, ligatures); format characters
    # (zero-width spaces and joiners, soft hyphens, bidi controls) are dropped; the second
    # pass keeps the result stable after casefold.
    text = _visible(unicodedata.normalize("NFKC", handle))
    if fold:
        text = _visible(unicodedata.normalize("NFKC", text.casefold()
                                              .translate(_SMALL_CAPITALS)))
    text = _DOT_ON_A_DOTTED_LETTER.sub("", text)
    text = _LEADING_DECORATION.sub("", " ".join(text.split()))
    return text or None


def normalise_handle(handle: str | None) -> str | None:
    """The identity key of a pseudonymous handle: '  @Alice  Smith ' -> 'alice smith'.

    Compared after Unicode NFKC, case folding and removing format characters (SPEC §11),
    so a handle that renders like another's is the same operator."""
    if handle is None:
        return None
    return _spelling(handle, fold=True)


def has_bidi_control(text: str) -> bool:
    return any(ch in BIDI_CONTROLS for ch in text)


@lru_cache(maxsize=4096)
def _glyphs(ch: str) -> frozenset[str]:
    """`ch` and the characters Unicode's confusables data says it can be mistaken for."""
    found = confusables.is_confusable(ch, greedy=True) or ()
    return frozenset({ch, *(glyph["c"] for item in found for glyph in item["homoglyphs"])})


def _alike(a: str, b: str, glyphs: Callable[[str], frozenset[str]] = _glyphs) -> bool:
    return a != b and len(a) == len(b) and all(
        x == y or glyphs(x) & glyphs(y) for x, y in zip(a, b, strict=True))


@lru_cache(maxsize=4096)
def _any_case_glyphs(ch: str) -> frozenset[str]:
    """What `ch` may have been typed as before case folding (itself, its capital), and
    everything those can be mistaken for: a key's "i" was perhaps an "I", which looks
    like an "l"."""
    cases = {ch, *(variant for variant in (ch.upper(), ch.title()) if len(variant) == 1)}
    return frozenset().union(*(_glyphs(variant) for variant in cases))


def look_alike(a: str | None, b: str | None) -> bool:
    """Whether two handles are different operators that differ only by characters that
    look alike (a Cyrillic 'о' for a Latin 'o', '1' for 'l'), as spelled, case-folded,
    or in some capitalisation of their keys ("WiII", two capital I's, and "Will")."""
    if not a or not b:
        return False
    key_a, key_b = normalise_handle(a), normalise_handle(b)
    if key_a is None or key_b is None or key_a == key_b:
        return False
    # A key keeps no case, so each of its characters stands for every capitalisation of
    # it: "wiii" and "will" were perhaps typed "WiII" and "Will".
    return (_alike(key_a, key_b, _any_case_glyphs)
            or _alike(_spelling(a, fold=False) or "", _spelling(b, fold=False) or ""))


def differing_characters(a: str, b: str) -> list[tuple[str, str]]:
    """The characters in which two look-alike handles differ, each with its code point
    and name ("U+043E CYRILLIC SMALL LETTER O"), as a reviewer needs them spelled out."""
    left, right = _spelling(a, fold=False) or "", _spelling(b, fold=False) or ""
    if len(left) != len(right) or not _alike(left, right):
        left, right = normalise_handle(a) or "", normalise_handle(b) or ""
    return [(_named(x), _named(y)) for x, y in zip(left, right, strict=False) if x != y]


def _named(ch: str) -> str:
    return f"“{ch}” U+{ord(ch):04X} {unicodedata.name(ch, 'UNNAMED')}"


def reserved_handle(handle: str, reviewer_names: Iterable[str] = ()) -> bool:
    """Whether a handle collides with (or looks like) a key the site keeps for itself: the
    editors' operator, the anonymous prefix, a reviewer's name (SPEC §11)."""
    key = normalise_handle(handle)
    if key is None:
        return False
    start = len(ANONYMOUS_PREFIX)
    spelled = _spelling(handle, fold=False) or ""
    if key.startswith(ANONYMOUS_PREFIX) or any(
            _alike(text[:start], ANONYMOUS_PREFIX) for text in (key, spelled)):
        return True  # "anon∶x", with a ratio sign for the colon, too
    reserved = {EDITORIAL_OPERATOR, *(k for name in reviewer_names
                                      if (k := normalise_handle(name)))}
    # As typed, not only folded: "editoriaI" (a capital I) looks like "editorial", while
    # its folded "editoriai" does not.
    return key in reserved or any(look_alike(handle, name) for name in reserved)


@lru_cache(maxsize=65_536)  # pure; asked for each pair of a hub's operators per view
def same_operator(a: str, b: str) -> bool:
    """Whether two operator keys name one operator: the same key, or handles that differ
    only by characters that look alike ("dave" and "dаve" with a Cyrillic а, "bob1" and
    "bobl"), so that text rendering the same cannot pass for a second operator (SPEC
    §11). Keys are case-folded, so a key stands for every capitalisation of it: "wiii"
    (typed "WiII") is "will". Anonymous keys are random, never typed: equal or not."""
    if a == b:
        return True
    if len(a) != len(b) or a.startswith(ANONYMOUS_PREFIX) or b.startswith(ANONYMOUS_PREFIX):
        return False  # look-alikes are spelled with as many characters
    return look_alike(a, b)


def independent_operators(hub: HubFacts, repros: Iterable[ReproFacts]) -> frozenset[str]:
    """Distinct operators other than the hub's with a reproduction in an evidence state.
    Keys that look alike count once (same_operator; the first one seen stands for them),
    and not at all when they look like the hub's own."""
    return _distinct(hub.operator, tuple(repro.operator for repro in repros
                                         if repro.state in EVIDENCE_STATES))


@lru_cache(maxsize=4_096)  # pure; a hub's operators are asked again on every view of it
def _distinct(own: str, keys: tuple[str, ...]) -> frozenset[str]:
    found: list[str] = []
    for key in keys:
        if not same_operator(key, own) and not any(same_operator(key, seen) for seen in found):
            found.append(key)
    return frozenset(found)


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
