"""The live warning as a GET: only the typed numbers and the fields the check reads.

The submit and reproduce forms ask for the live warning as the operator types. It stores
nothing and changes nothing, so it is a GET whose query string carries only what the
check needs: the runs, the VRAM peak, the date, the flags, the configuration picked (the
fresh form) and whether each setup field is filled in. Never the handle, the note, a URL
or a token: whether a note was written travels as `note_given=1` (static/live_check.js).
It needs no session and no CSRF token, writes nothing (no rate-limit hit either), and
is cacheable: the same numbers give the same fragment for everyone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from flask import Flask, Response, request

from webapp.fields import FLAG_FIELDS, RUN_FIELDS
from webapp.services.matching import NAME_FIELDS
from webapp.services.rules import MAX_RUNS, METADATA_FIELDS
from webapp.web.htmx import FRAGMENT_HEADERS
from webapp.web.vary import add_vary

# What the check reads (services/live_check.py): the runs, the plausibility inputs, the
# date, the picked configuration (fresh form) and which setup fields are filled.
RUN_PARAMS = tuple(f"runs-{row}-{name}" for row in range(MAX_RUNS) for name in RUN_FIELDS)
PARAMS = (
    "model", "hardware", "hardware_count", "quant", "runtime", *NAME_FIELDS,
    "vram_peak_mib", "measured_on", *FLAG_FIELDS, *METADATA_FIELDS, *RUN_PARAMS,
)
NOTE_GIVEN = "note_given"
# The check only asks whether a note is there; this stands in for the one not sent.
NOTE_STAND_IN = "(a note was written)"
MAX_AGE = 60
CACHE_CONTROL = f"public, max-age={MAX_AGE}"
MAX_VALUE_LENGTH = 200


def init_app(app: Flask) -> None:
    app.add_template_global(",".join(PARAMS), "live_check_params")


def typed() -> dict[str, str]:
    """The typed values the GET carries, every other argument ignored."""
    args: Mapping[str, str] = request.args
    values = {name: args[name][:MAX_VALUE_LENGTH] for name in PARAMS if name in args}
    if args.get(NOTE_GIVEN) == "1":
        values["notes"] = NOTE_STAND_IN
    return values


def cacheable(response: Response) -> Response:
    """The same numbers give the same fragment: public for a minute, with an ETag."""
    response.set_etag(hashlib.blake2b(response.get_data(), digest_size=12).hexdigest(),
                      weak=True)
    response.headers["Cache-Control"] = CACHE_CONTROL
    add_vary(response, *FRAGMENT_HEADERS)
    return response.make_conditional(request)
