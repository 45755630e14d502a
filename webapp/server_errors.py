"""The errors gunicorn answers itself, before the app sees the request (a malformed request
line, a header too large, a bad chunk size): a page of the site's, with its security
headers, instead of gunicorn's bare one that echoed the request's text and carried none.

gunicorn offers no hook for these answers: its workers write them through
gunicorn.util.write_error. `Worker` (gunicorn.conf.py's worker_class) is the sync worker
with that function replaced by `write_error` below when the worker starts, in its own
process only. What the log says of such a request is gunicorn's, redacted as every line
(gunicorn.conf.py).
"""

from __future__ import annotations

import html
import socket

from gunicorn import util
from gunicorn.workers.sync import SyncWorker

from webapp.security import PRIVATE, SECURITY_HEADERS

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{status} {reason} · Trustbench</title></head>
<body>
<main>
<h1>{status} · {reason}</h1>
<p>{message}</p>
<p><a href="/">Go to the catalog</a></p>
</main>
</body>
</html>
"""
# What each status means to the person who sent it; the request's own text is not echoed.
_MESSAGES = {
    400: "The request could not be understood: its first line or a header is not "
         "well-formed HTTP.",
    403: "This request is not allowed.",
    414: "The address is too long for this server. Shorten the search or the filters.",
    417: "The server cannot meet the request's Expect header.",
    431: "The request's headers are too large (often a cookie grown too big). Clear this "
         "site's cookies and try again.",
    500: "Something went wrong on our side. Please try again.",
    501: "The request's transfer coding is not one this server supports.",
}


def page(status: int, reason: str) -> bytes:
    """The response gunicorn's error `status` sends: status line, headers and body."""
    message = _MESSAGES.get(status, _MESSAGES[400 if status < 500 else 500])
    body = _PAGE.format(status=status, reason=html.escape(reason),
                        message=html.escape(message)).encode()
    headers = [("Connection", "close"), ("Content-Type", "text/html; charset=utf-8"),
               ("Content-Length", str(len(body))), ("Cache-Control", PRIVATE),
               *SECURITY_HEADERS]
    head = f"HTTP/1.1 {int(status)} {reason}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
    return head.encode("latin-1") + body


def write_error(sock: socket.socket, status_int: int, reason: str, _message: str) -> None:
    """gunicorn.util.write_error's signature; the message (the request's text) unused."""
    util.write_nonblock(sock, page(status_int, reason))


class Worker(SyncWorker):
    """gunicorn's sync worker, answering the errors it meets itself with `page`."""

    def init_process(self) -> None:
        util.write_error = write_error
        super().init_process()
