"""Malformed requests and oversized bodies against a real gunicorn (issue 10, items 11, 14).

gunicorn answers a malformed request itself, before the app sees it, and its error log
used to write `Invalid request from ip=<address>: <the raw request line>`, token and
control characters included. The client here connects from an address of its own
(127.0.0.2) so that any trace of it in either log is the client's, not the bind address.
A chunked body over MAX_CONTENT_LENGTH used to be cut and its tail fields dropped while
the row was stored; it is refused with the 413 page like a declared length.
"""

from __future__ import annotations

import http.client
import re
import socket
from urllib.parse import quote, urlencode

import pytest

from tests.deploy.conftest import unique_marker
from tests.deploy.test_workers import SERVER_ERRORS, fresh_form

pytestmark = pytest.mark.slow

CLIENT_ADDRESS = "127.0.0.2"
TOKEN = "eyJpZCI6OTksIm5vbmNlIjoic2VjcmV0In0.aw-zzz.c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw"
PATH = f"/submissions/{TOKEN}"
MALFORMED = {
    "request line too long": f"GET {PATH}/{'a' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    "bare line feeds": f"GET {PATH} HTTP/1.1\nHost: x\n\n".encode(),
    "non-ASCII request line": f"GET {PATH}/café HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    "raw UTF-8 bidi override": f"GET {PATH}/\u202egpj.exe HTTP/1.1\r\nHost: x\r\n\r\n"
                               .encode(),
    "control characters": f"GET {PATH}/\x1b[2J\x00 HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    "a forged log line": (f"GET {PATH}\r\n[2026-01-01 00:00:00 +0000] [1] [CRITICAL] "
                          "forged HTTP/1.1\r\nHost: x\r\n\r\n").encode(),
    "bad method": f"G\x01T {PATH} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    "bad header": f"GET {PATH} HTTP/1.1\r\nHost: x\r\nBad\x00Header: {TOKEN}\r\n\r\n".encode(),
    "bad chunk size": (f"POST {PATH}/withdraw HTTP/1.1\r\nHost: x\r\n"
                       "Transfer-Encoding: chunked\r\n\r\nzz\r\n").encode(),
}
# Anything a log line should never hold raw: controls, DEL, C1, and any non-ASCII.
UNSAFE = re.compile(r"[^\x20-\x7e\n]")


def send_raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10,
                                  source_address=(CLIENT_ADDRESS, 0)) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    return reply


def test_malformed_requests_leave_no_address_token_or_raw_byte_in_any_log(deployment):
    server = deployment(workers=1)
    for name, data in MALFORMED.items():
        reply = send_raw(server.port, data)
        assert reply.startswith(b"HTTP/1.1 4"), (name, reply[:200])
        # the site's page and headers, not gunicorn's bare page echoing the request
        head, _, body = reply.partition(b"\r\n\r\n")
        for header in (b"Content-Security-Policy: ", b"X-Content-Type-Options: nosniff",
                       b"X-Frame-Options: DENY", b"Cache-Control: private, no-store"):
            assert header in head, (name, header, head)
        assert body.lower().startswith(b"<!doctype html>"), (name, body[:200])
        assert TOKEN.encode() not in reply, (name, body)  # the request's text not echoed
    reply = send_raw(server.port, f"GET {PATH} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert reply.startswith(b"HTTP/1.1 404")  # a well-formed request, for the access log
    server.stop()  # flushes and closes both logs
    logs = server.logs()
    assert "Invalid request from" in logs, logs  # the lines are there, only cleaned
    assert '"GET /submissions/[token] HTTP/1.1" 404' in logs
    assert CLIENT_ADDRESS not in logs, logs
    assert TOKEN not in logs and TOKEN[:24] not in logs, logs
    body = "\n".join(line for line in logs.splitlines() if not line.startswith("--- "))
    assert not UNSAFE.search(body), [line for line in body.splitlines()
                                     if UNSAFE.search(line)]
    assert not any(line.startswith("[2026-01-01") for line in body.splitlines())


def test_the_apis_longest_documented_cursor_reaches_the_app(deployment):
    """The OpenAPI document allows a cursor of 400 characters: 400 non-ASCII ones take
    4,800 bytes percent-encoded, past gunicorn's default request line (4094 bytes, a bare
    414 without the app's headers). The app answers it, with its problem document."""
    server = deployment(workers=1)
    cursor = "é" * 400
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", "/api/v1/operators?cursor=" + quote(cursor) + "&limit=5")
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    assert response.status == 400, body[:500]
    assert response.getheader("Content-Type") == "application/problem+json"
    assert '"parameter":"cursor"' in body.replace(" ", "")
    assert response.getheader("Content-Security-Policy")


def _post_chunked(server, client, path: str, body: bytes) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        chunks = (body[i:i + 8192] for i in range(0, len(body), 8192))
        connection.request("POST", path, body=chunks, encode_chunked=True, headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-For": client.address,
            "Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items()),
        })
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", errors="replace")
    finally:
        connection.close()


def test_a_chunked_body_over_the_cap_is_refused_under_gunicorn(deployment, deploy_database):
    server = deployment(workers=1)
    client = server.client()
    marker = unique_marker("chunked")
    form = fresh_form(client, marker)
    head = urlencode({**form, "notes": ""})
    # the fresh form's cap: the import's (intake.MAX_BYTES + web.intake.FORM_OVERHEAD), as
    # the form carries the paste box too
    cap = 2 * 1024 * 1024 + 64 * 1024
    oversized = (f"{head}&padding={'x' * (cap - len(head))}&notes=tail+{marker}").encode()
    status, page = _post_chunked(server, client, "/submit/benchmark", oversized)
    assert status == 413, page[:2000]
    assert "too large" in page and "<title>" in page
    assert deploy_database.scalar(
        "SELECT count(*) FROM submissions WHERE notes LIKE :m", m=f"%{marker}%") == 0

    status, page = _post_chunked(server, client, "/submit/benchmark",
                                 urlencode({**form, "notes": f"chunked {marker}"}).encode())
    assert status == 303, page[:2000]
    assert deploy_database.scalar(
        "SELECT count(*) FROM submissions WHERE notes = :n", n=f"chunked {marker}") == 1
    assert not SERVER_ERRORS.search(server.logs()), server.logs()[-5000:]
