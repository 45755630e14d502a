"""The day a run was measured: as typed on a form (YYYY-MM-DD, checked against today, the
runtimes' age and a reproduction's original) and as stored (a moment on that day).

Split from webapp/fields.py, whose field rules it shares (`error`, `is_blank`): the public
forms' schemas, the editorial form and the live check all read a date through here.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from webapp.fields import error, is_blank

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# The local inference runtimes the site lists date from 2023 on (llama.cpp's first release
# is from March 2023), so an earlier date is a slip of the keyboard, not a measurement. The
# demo seeder dates its rows at most about 1,000 days before its clock, well after this.
MEASURED_ON_MIN = date(2023, 1, 1)


def parse_measured_on(value: object, *, today: date, not_before: date | None = None) -> date:
    """The day a run was measured, typed as YYYY-MM-DD; blank means `today` (UTC).

    Never after `today`, never before MEASURED_ON_MIN, and never before `not_before` (a
    reproduction's original). The one parser of a measurement date: the public forms'
    schemas, the editorial form and the live check all call it.
    """
    if is_blank(value):
        return today
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    else:
        text = value.strip() if isinstance(value, str) else ""
        try:
            if not _ISO_DAY.fullmatch(text):
                raise ValueError(text)
            day = date.fromisoformat(text)
        except ValueError:
            raise error("date", "Enter the date as YYYY-MM-DD, e.g. "
                                f"{today.isoformat()}.") from None
    if day > today:
        raise error("future", "The measurement date cannot be in the future (today is "
                              f"{today.isoformat()}, UTC).")
    if day < MEASURED_ON_MIN:
        raise error("too_early", f"The measurement date cannot be before "
                                 f"{MEASURED_ON_MIN.isoformat()} (the runtimes this site "
                                 "lists are younger): enter the day you ran it.")
    if not_before is not None and day < not_before:
        raise error(
            "before_original",
            f"A reproduction cannot be measured before the original was "
            f"({not_before.isoformat()}): enter the day you ran it.",
        )
    return day


def measured_moment(day: date, now: datetime) -> datetime:
    """The stored moment of a run measured on `day`: noon UTC of that day, or `now` when
    that is still to come (a run measured today)."""
    return min(now, datetime.combine(day, time(12, 0), tzinfo=UTC))
