"""The embeddable badge of a public row: its trust badge, confidence tier and decode speed,
and its plausibility flags when it has any, laid out for a small SVG (open_data/badge.svg
renders it; every text is escaped there).

The badge and tier are recomputed from the evidence, and the flags from the row
(plausibility.of_row), as the detail page shows them. The colours are decided here, from
the badge's rung on the ladder (and the flags' own), never in the template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from webapp.models import Submission
from webapp.services import evidence, plausibility
from webapp.services.detail import MAX_ID
from webapp.services.labels import hardware_label, model_label, number
from webapp.services.rules import Badge, State

HEIGHT = 20
PADDING = 6
# Verdana at 11px averages about 6.5px a character; wide glyphs a little more.
CHAR_WIDTH = 6.5
WIDE = frozenset("MWmw@%")
LABEL_COLOUR = "#444444"
NUMBER_COLOUR = "#2b2b2b"
# By rung: editorial and community rows share the first (who measured is not evidence).
RUNG_COLOURS = {0: "#6b6b6b", 1: "#1f6fb2", 2: "#1e7e34"}
FLAG_COLOUR = "#b3261e"  # white on it: a contrast of about 6.5:1


def text_width(text: str) -> int:
    return round(sum(CHAR_WIDTH + (1.5 if ch in WIDE else 0) for ch in text)) + 2 * PADDING


@dataclass(frozen=True)
class Part:
    text: str
    x: int
    width: int
    colour: str

    @property
    def middle(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class BadgeImage:
    row_id: int
    title: str
    parts: tuple[Part, ...]
    height: int = HEIGHT

    @property
    def width(self) -> int:
        return sum(part.width for part in self.parts)


def _laid_out(texts: list[tuple[str, str]]) -> tuple[Part, ...]:
    parts, x = [], 0
    for text, colour in texts:
        width = text_width(text)
        parts.append(Part(text=text, x=x, width=width, colour=colour))
        x += width
    return tuple(parts)


def badge_for(session: Session, benchmark_id: int, *, now: datetime) -> BadgeImage | None:
    """The badge of a public row; None for a row that is not public (or not there)."""
    if not 0 < benchmark_id <= MAX_ID:  # beyond the id column's range: no such row
        return None
    row = session.get(Submission, benchmark_id)
    if row is None or row.state != State.APPROVED:
        return None
    assessment = evidence.assess_hubs(session, [row], now)[row.id]
    badge: Badge = assessment.badge
    tier = assessment.confidence.tier
    speed = f"{number(row.decode_tps)} tok/s"
    stale = " (stale)" if assessment.confidence.stale else ""
    flags = plausibility.of_row(row).flags
    flagged = ("; flagged: " + ", ".join(flag.label.lower() for flag in flags)) if flags else ""
    texts = [
        ("trustbench", LABEL_COLOUR),
        (badge.label.lower(), RUNG_COLOURS[badge.rank]),
        (f"{tier.label.lower()}{stale} · {speed}", NUMBER_COLOUR),
    ]
    if flags:
        texts.append((" · ".join(flag.short_label.lower() for flag in flags), FLAG_COLOUR))
    return BadgeImage(
        row_id=row.id,
        title=(f"Trustbench benchmark #{row.id}, {model_label(row)} on {hardware_label(row)}: "
               f"{badge.label}, confidence {tier.label}{stale}, decode {speed}{flagged}"),
        parts=_laid_out(texts),
    )
