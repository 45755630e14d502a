"""The frame every page shares: navigation, footer, favicon, and what the logs keep."""

from __future__ import annotations

import importlib.util
import logging
import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote

import html5lib
import pytest

from webapp.services import privacy, tokens
from webapp.services.api import cursor as api_cursor
from webapp.services.rules import State
from webapp.web import static_files

NS = "{http://www.w3.org/1999/xhtml}"
REPO = Path(__file__).resolve().parent.parent


def nav_links(html: str, label: str) -> dict[str, dict[str, str]]:
    """The links of the <nav aria-label=label>, by text."""
    document = html5lib.parse(html)
    for nav in document.iter(f"{NS}nav"):
        if nav.get("aria-label") == label:
            return {"".join(a.itertext()).strip(): dict(a.attrib) for a in nav.iter(f"{NS}a")}
    raise AssertionError(f"no <nav aria-label={label!r}>")


@pytest.mark.parametrize(("path", "current"), [
    ("/", "Catalog"),
    ("/operators", "Operators"),
    ("/submit/benchmark", "Submit a benchmark"),
    ("/resources/reproduction-guide", "How to reproduce"),
    ("/resources/verification-policy", "Rules"),
])
def test_main_navigation_marks_the_page_you_are_on(client, path, current):
    links = nav_links(client.get(path).text, "Main")
    for text in ("Catalog", "Operators", "Submit a benchmark", "How to reproduce", "Rules"):
        assert text in links, f"{path}: the main navigation lacks {text!r}"
    marked = [text for text, attrs in links.items() if attrs.get("aria-current") == "page"]
    assert marked == [current]
    # every link in it leads somewhere real
    for text, attrs in links.items():
        assert client.get(attrs["href"]).status_code == 200, f"{text} -> {attrs['href']}"


def test_footer_leads_reviewers_to_their_login_and_everyone_to_the_rules(client):
    links = nav_links(client.get("/").text, "Footer")
    assert links["Reviewers"]["href"].endswith("/review/login")
    for text, attrs in links.items():
        assert client.get(attrs["href"]).status_code == 200, f"{text} -> {attrs['href']}"


def test_the_favicon_exists_so_browsers_log_no_404(client):
    html = client.get("/").text
    assert 'rel="icon"' in html
    with client.get("/static/favicon.svg") as response:
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"


# --- status tokens never reach a log ------------------------------------------------------


def test_redact_path_cuts_status_tokens_and_keeps_the_route():
    token = "eyJpZCI6MTJ9.aw7OnA.2U_b-BAULOJShee6JZ"
    assert privacy.redact_path(f"GET /submissions/{token} HTTP/1.1") == (
        "GET /submissions/[token] HTTP/1.1")
    assert privacy.redact_path(f"POST /submissions/{token}/withdraw?new=1 HTTP/1.1") == (
        "POST /submissions/[token]/withdraw?new=1 HTTP/1.1")
    assert privacy.redact_path("GET /benchmarks/12 HTTP/1.1") == "GET /benchmarks/12 HTTP/1.1"


def test_werkzeug_access_lines_lose_the_status_token(app):
    privacy.install_log_filter(app)
    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, '%s - - [%s] "%s" %s -',
        ("198.51.100.7", "date", "GET /submissions/secret-token-value HTTP/1.1", 200), None)
    for log_filter in logging.getLogger("werkzeug").filters:
        log_filter.filter(record)
    line = record.getMessage()
    assert "secret-token-value" not in line and "198.51.100.7" not in line
    assert "/submissions/[token]" in line


def gunicorn_conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", REPO / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    return conf


def test_gunicorn_access_log_loses_the_status_token_and_the_address():
    conf = gunicorn_conf()
    assert conf.control_socket_disable is True
    assert "%(h)s" not in conf.access_log_format
    logger = object.__new__(conf.RedactingLogger)  # atoms() needs no logging setup
    request = SimpleNamespace(
        method="GET", path="/submissions/secret-token-value", query="new=1",
        version=(1, 1), headers=[("USER-AGENT", "test"), ("REFERER", "-")],
    )
    response = SimpleNamespace(status="200 OK", response_length=10, sent=10, headers=[])
    environ = {"REMOTE_ADDR": "198.51.100.7", "RAW_URI": "/submissions/secret-token-value?new=1",
               "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_METHOD": "GET",
               "PATH_INFO": "/submissions/secret-token-value", "QUERY_STRING": "new=1"}
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=3))
    line = conf.access_log_format % atoms
    assert "secret-token-value" not in line and "198.51.100.7" not in line
    assert "/submissions/[token]" in line


# A status token pasted anywhere a request can carry it: a path gunicorn or the app
# spells another way (the app redirects "//" to the status page), another route, a
# search, a query parameter. "{t}" is the token, "{t%2E}" the token with its dots escaped.
LEAKING_FORMS = [
    "/submissions//{t}",
    "/submissions//{t}/withdraw",
    "/Submissions/{t}",
    "/SUBMISSIONS/{t}/withdraw",
    "/submissions/./{t}",
    "/submissions/%2e/{t}",
    "/submissions/{t}?x={t}",
    "/?q={t}",
    "/?q=%22{t}%22",
    "/?q={t%2E}",
    "/benchmarks/{t}",
    "/benchmarks/{t}.json",
    "/static/{t}",
    "/nope/{t}",
    "/nope/{t%2e}",
    "/api/v1/benchmarks?cursor={t}",
]


@pytest.fixture
def status_token(session, make_row):
    token = tokens.status_token(make_row(state=State.QUEUED))
    assert token.startswith("eyJ") and token.count(".") == 2  # itsdangerous's timed shape
    return token


def leaks(text: str, token: str) -> bool:
    """Whether any long part of the token (its payload, its signature) is in `text`."""
    return any(part in text for part in token.split(".") if len(part) > 8)


def spelled(form: str, token: str) -> str:
    return (form.replace("{t%2E}", token.replace(".", "%2E"))
            .replace("{t%2e}", token.replace(".", "%2e")).replace("{t}", token))


def gunicorn_atoms(conf, uri: str, referer: str = "-") -> dict:
    path, _, query = uri.partition("?")
    logger = object.__new__(conf.RedactingLogger)  # atoms() needs no logging setup
    request = SimpleNamespace(method="GET", path=path, query=query, version=(1, 1),
                              headers=[("USER-AGENT", "test"), ("REFERER", referer)])
    response = SimpleNamespace(status="404 NOT FOUND", response_length=10, sent=10,
                               headers=[])
    environ = {"REMOTE_ADDR": "198.51.100.7", "RAW_URI": uri, "SERVER_PROTOCOL": "HTTP/1.1",
               "REQUEST_METHOD": "GET", "PATH_INFO": unquote(path), "QUERY_STRING": query,
               "HTTP_REFERER": referer, "HTTP_USER_AGENT": f"agent {uri}"}
    return logger.atoms(response, request, environ, timedelta(milliseconds=3))


@pytest.mark.parametrize("form", LEAKING_FORMS)
def test_a_status_token_is_cut_wherever_the_request_carries_it(status_token, form):
    uri = spelled(form, status_token)
    line = privacy.scrub(f'"GET {uri} HTTP/1.1" 404 - "https://site.example{uri}"')
    assert not leaks(line, status_token), line
    assert "[token]" in line


@pytest.mark.parametrize("form", LEAKING_FORMS)
def test_gunicorn_access_atoms_never_hold_a_status_token(status_token, form):
    conf = gunicorn_conf()
    uri = spelled(form, status_token)
    atoms = gunicorn_atoms(conf, uri, referer=f"https://site.example{uri}")
    for key in ("r", "U", "q", "f", "a"):
        assert not leaks(atoms[key], status_token), (key, atoms[key])
    line = conf.access_log_format % atoms
    assert not leaks(line, status_token) and "[token]" in line


def test_the_apis_cursor_is_cut_too(app):
    cursor = api_cursor.page_cursor(app.config["SECRET_KEY"], 2)
    line = privacy.scrub(f"GET /api/v1/benchmarks?limit=5&cursor={cursor} HTTP/1.1")
    assert line == "GET /api/v1/benchmarks?limit=5&cursor=[token] HTTP/1.1"


def test_ordinary_paths_read_in_the_log_as_they_were(app):
    stylesheet = static_files.hashed_name("site.css")
    assert re.fullmatch(r"site\.[0-9a-f]{12}\.css", stylesheet)
    conf = gunicorn_conf()
    for uri in (f"/static/{stylesheet}", "/static/vendor/htmx-2.0.11.min.0123456789ab.js",
                "/benchmarks/12?sort=ttft&page=2", "/hardware/rtx-4090",
                "/?q=llama-3.1-8b.Q4_K_M.gguf", "/feed.atom?since=2026-12-03T10:00:00Z",
                "/benchmarks.csv?q=llama%203.1%2070b", "/review/submissions/851",
                "/review/submissions/851/history", "/review/submissions/851/approve"):
        line = f"GET {uri} HTTP/1.1"
        assert privacy.scrub(line) == line
        assert gunicorn_atoms(conf, uri)["r"] == line
