"""Naming a request header a response varies on, without parsing Vary each time.

Every page passes through four places that name one (the page store: HX-Request and
Cookie; the security headers: HX-Request; the session: Cookie; Flask-Compress:
Accept-Encoding). werkzeug's `response.vary.add` parses the header into a set and writes
it back on every call, even when the name is already there, which it usually is; this
reads the header once and writes it only when a name is new. Names are compared without
case, as HTTP compares them, and kept in the order they were added.
"""

from __future__ import annotations

from werkzeug.wrappers import Response


def add_vary(response: Response, *names: str) -> None:
    headers = response.headers
    current = headers.get("Vary")
    if not current:
        headers["Vary"] = ", ".join(names)
        return
    present = {part.strip().lower() for part in current.split(",")}
    missing = [name for name in names if name.lower() not in present]
    if missing:
        headers["Vary"] = ", ".join((current, *missing))
