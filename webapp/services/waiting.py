"""When a rate-limited visitor may try again, in seconds and in words.

The limits count over a sliding window (services/privacy): the previous fixed window's
attempts weigh less as it slides out, so the count falls linearly inside each window and
reaches zero two windows on. `privacy.attempts` reads that count at any moment without
counting anything; read at a moment still to come, it is the count then, provided nothing
else is attempted meanwhile. So the first moment the next attempt fits is found on at most
three straight pieces: now to the next window boundary, that boundary to the one after,
and beyond it (nothing left).

Imports Flask through privacy (the configured limits); `now` is a parameter as in every rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from webapp.services import privacy


@dataclass(frozen=True)
class Wait:
    seconds: int  # until the next attempt fits under the limit; at least 1
    at: datetime  # that moment, UTC

    @property
    def words(self) -> str:
        return in_words(self.seconds)


def next_attempt(session: Session, action: str, key: str, now: datetime) -> Wait:
    """How long until one more attempt of `action` by `key` is within the limit."""
    limit = privacy.limit_of(action)
    window = limit.window_seconds
    allowed = limit.limit - 1  # the next attempt itself counts
    moment = int(now.timestamp())
    first_edge = (moment // window + 1) * window
    points = [(moment, privacy.attempts(session, action, key, now))]
    for edge in (first_edge, first_edge + window):
        points.append((edge, privacy.attempts(session, action, key, _at(now, edge - moment))))
    seconds = _first_fit(points, allowed) - moment
    seconds = max(seconds, 1)
    return Wait(seconds=seconds, at=_at(now, seconds))


def _at(now: datetime, seconds: int) -> datetime:
    return now + timedelta(seconds=seconds)


def _first_fit(points: list[tuple[int, float]], allowed: float) -> int:
    """The first moment on the piecewise-linear count through `points` at or below
    `allowed` (the count is never above it after the last point: it is zero there)."""
    for (start, high), (end, low) in zip(points, points[1:], strict=False):
        if high <= allowed:
            return start
        if low <= allowed:
            return start + math.ceil((high - allowed) / (high - low) * (end - start))
    return points[-1][0]


def in_words(seconds: int) -> str:
    """'in about a minute', 'in about 40 minutes', 'in about 2 hours': rounded up, so the
    visitor who waits as long as the words say is never refused again."""
    minutes = math.ceil(seconds / 60)
    if minutes <= 1:
        return "in about a minute"
    if minutes < 10:
        return f"in about {minutes} minutes"
    if minutes <= 55:
        return f"in about {math.ceil(minutes / 5) * 5} minutes"
    hours, rest = divmod(math.ceil(minutes / 10) * 10, 60)
    hours_text = "an hour" if hours == 1 else f"{hours} hours"
    if rest == 0:
        return f"in about {hours_text}"
    return f"in about {hours_text} and {rest} minutes"
