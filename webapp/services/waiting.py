"""When a rate-limited visitor may try again, in seconds and in words.

The limits count slot by slot over the window (services/privacy): each slot's attempts
stop counting at a known moment, so the first moment the next attempt fits is when
enough of the oldest slots have gone for the count to fall below the limit (nothing
else attempted meanwhile).

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
    allowed = privacy.limit_of(action).limit - 1  # the next attempt itself counts
    moment = int(now.timestamp())
    fits = moment
    counted = privacy.expiring(session, action, key, now)
    total = sum(count for _ends, count in counted)
    for ends, count in counted:
        if total <= allowed:
            break
        total -= count
        fits = ends
    seconds = max(fits - moment, 1)
    return Wait(seconds=seconds, at=_at(now, seconds))


def _at(now: datetime, seconds: int) -> datetime:
    return now + timedelta(seconds=seconds)


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
