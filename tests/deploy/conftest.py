"""The real deployment under test: gunicorn with several workers on a fresh database.

Each test gets a database built the way a self-hoster builds one (`flask db upgrade`,
`flask seed-reference`) plus a few public rows, and a `Deployment` that runs
`gunicorn --config gunicorn.conf.py --workers N 'webapp:create_app()'` against it.
The suite's backend decides which database: SQLite (two workers) by default, or
PostgreSQL (four workers) in a schema of its own when TEST_DATABASE_URL is set.
Servers are always stopped (SIGTERM, then SIGKILL) and their output is kept for
assertions. Clients talk plain HTTP with their own cookie jar and CSRF token, and
each claims its own address through X-Forwarded-For (TRUSTED_PROXY_COUNT=1), so rate
limits can be tested per client across workers.
"""

from __future__ import annotations

import contextlib
import functools
import html
import http.client
import itertools
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.conftest import POSTGRES_URL, _postgres_reachable

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "deploy-test-secret-key-not-for-production"
STARTUP_SECONDS = 30
STOP_SECONDS = 10
WORKERS = {"sqlite": 2, "postgresql": 4}
# Rate limits the deployment tests configure through TRUSTBENCH_CONFIG: small enough
# that a handful of requests per client crosses them.
TEST_RATE_LIMITS = {"submissions": (3, 3600), "feedback": (2, 3600), "login": (10, 900)}
_schema_numbers = itertools.count()


# --- the database ----------------------------------------------------------------------


@dataclass
class DeployDatabase:
    url: str
    backend: str  # "sqlite" | "postgresql"
    public_ids: list[int] = field(default_factory=list)

    def engine(self):
        return create_engine(self.url, poolclass=NullPool)

    def scalar(self, sql: str, **params):
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql), params).scalar()
        finally:
            engine.dispose()

    def rows(self, sql: str, **params) -> list:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(sql), params))
        finally:
            engine.dispose()


def _flask(database_url: str, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY}
    env.pop("TRUSTBENCH_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120,
    )
    if result.returncode != 0:
        pytest.fail(
            f"flask {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def _seed_public_rows(database_url: str) -> list[int]:
    """A few approved-public rows, made with the suite's row factory."""
    from tests.factories import RowFactory
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import AuditEvent
    from webapp.services.evidence import refresh_derived

    app = create_app({"TESTING": True, "SECRET_KEY": SECRET_KEY,
                      "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        make_row = RowFactory()
        rows = [
            make_row(handle="deploy-hub-one"),
            make_row(model="qwen2.5-7b-instruct", handle="deploy-hub-two"),
            make_row(hardware="rtx-3090", runs=((300.0, 512, 80.0), (310.0, 512, 81.0),
                                                (305.0, 512, 79.0))),
        ]
        for row in rows:
            # The trail a real row has: arrival, then a reviewer's approval.
            db.session.add_all([
                AuditEvent(submission_id=row.id, actor="submitter", from_state=None,
                           to_state="queued", reason="", created_at=row.created_at),
                AuditEvent(submission_id=row.id, actor="reviewer:seed", from_state="queued",
                           to_state=row.state, reason="", created_at=row.created_at),
            ])
            refresh_derived(db.session, row)
        db.session.commit()
        ids = [row.id for row in rows]
        db.session.remove()
        db.engine.dispose()
    return ids


@pytest.fixture
def deploy_database(tmp_path):
    """A migrated, seeded database: SQLite in tmp_path, or a private PostgreSQL schema."""
    if POSTGRES_URL:
        problem = _postgres_reachable(POSTGRES_URL)
        if problem:
            if os.environ.get("TRUSTBENCH_REQUIRE_POSTGRES"):
                pytest.fail(f"PostgreSQL required but not reachable at {POSTGRES_URL}: {problem}")
            pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {problem}")
        schema = f"deploy_{os.getpid()}_{next(_schema_numbers)}"
        admin = create_engine(POSTGRES_URL, poolclass=NullPool)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        separator = "&" if "?" in POSTGRES_URL else "?"
        database = DeployDatabase(
            f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}", "postgresql"
        )
    else:
        admin = None
        database = DeployDatabase(f"sqlite:///{tmp_path / 'deploy.sqlite3'}", "sqlite")
    try:
        _flask(database.url, "db", "upgrade")
        _flask(database.url, "seed-reference")
        database.public_ids = _seed_public_rows(database.url)
        yield database
    finally:
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            admin.dispose()


@pytest.fixture
def add_reviewer(deploy_database):
    """add_reviewer(name, password, cli=True): `flask --app webapp reviewer add NAME` with
    the password on stdin, as a self-hoster does it; cli=False is the same service
    called in-process (a second process start costs seconds on a busy CI machine)."""

    def add(name: str, password: str, cli: bool = True) -> None:
        if cli:
            _flask(deploy_database.url, "reviewer", "add", name, stdin=password + "\n")
            return
        from webapp import create_app
        from webapp.extensions import db
        from webapp.services import accounts

        app = create_app({"SECRET_KEY": SECRET_KEY,
                          "SQLALCHEMY_DATABASE_URI": deploy_database.url})
        with app.app_context():
            accounts.add_reviewer(db.session, name, password)
            db.session.commit()
            db.session.remove()
            db.engine.dispose()

    return add


# --- the server --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gunicorn() -> list[str]:
    script = Path(sys.executable).parent / "gunicorn"
    return [str(script)] if script.exists() else [sys.executable, "-m", "gunicorn"]


@functools.cache
def _control_socket_options() -> list[str]:
    # gunicorn >= 25 opens a control socket at one fixed path per user; concurrent
    # test servers (and a developer's `make run`) would fight over it.
    help_text = subprocess.run([*_gunicorn(), "--help"], capture_output=True, text=True,
                               cwd=ROOT, timeout=60).stdout
    return ["--no-control-socket"] if "--no-control-socket" in help_text else []


@dataclass
class Deployment:
    database: DeployDatabase
    folder: Path
    workers: int
    rate_limits: dict = field(default_factory=lambda: dict(TEST_RATE_LIMITS))
    extra_env: dict = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None
    starts: int = 0
    _logs: list[Path] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _config_file(self) -> Path:
        path = self.folder / "trustbench_test_config.py"
        path.write_text(f"RATE_LIMITS = {self.rate_limits!r}\n")
        return path

    def start(self) -> Deployment:
        assert self.process is None, "already running"
        self.starts += 1
        self.port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": self.database.url,
            "SECRET_KEY": SECRET_KEY,
            "TRUSTBENCH_CONFIG": str(self._config_file()),
            "TRUSTED_PROXY_COUNT": "1",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("TRUSTBENCH_RATE_LIMITS_ENABLED", None)  # a developer's shell must not
        env.update(self.extra_env)  # switch off what these tests check
        stdout = self.folder / f"gunicorn-{self.starts}.out.log"
        stderr = self.folder / f"gunicorn-{self.starts}.err.log"
        self._logs += [stdout, stderr]
        command = [
            *_gunicorn(), "--config", "gunicorn.conf.py", "--workers", str(self.workers),
            "--bind", f"127.0.0.1:{self.port}", *_control_socket_options(),
            "webapp:create_app()",
        ]
        with stdout.open("wb") as out, stderr.open("wb") as err:
            # A session of its own: the master and its workers share one process group,
            # so a fault can kill all of them at once, and only them.
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                            stderr=err, start_new_session=True)
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                logs = self.logs()
                self.process = None
                pytest.fail(f"gunicorn exited during startup:\n{logs}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                connection.close()
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"gunicorn did not answer /healthz within {STARTUP_SECONDS}s:\n{self.logs()}")

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def stop(self) -> None:
        """SIGTERM to the master (graceful), then SIGKILL to whatever is left of the group."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_SECONDS)
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=STOP_SECONDS)
        self.process = None

    def kill(self) -> None:
        """A fault: SIGKILL the master and every worker at the same moment."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=STOP_SECONDS)
        self.process = None

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')}"
            for path in self._logs if path.exists()
        )

    def client(self, address: str | None = None) -> WebClient:
        return WebClient(self, address or next_test_address())


@pytest.fixture
def deployment(deploy_database, tmp_path):
    """A factory: deployment(workers=None, rate_limits=None, start=True) -> Deployment.

    Every deployment it made is stopped at teardown, and its logs are printed when
    the test failed (pytest shows captured output)."""
    made: list[Deployment] = []

    def make(workers: int | None = None, rate_limits: dict | None = None,
             start: bool = True, **extra_env: str) -> Deployment:
        folder = tmp_path / f"deployment-{len(made)}"
        folder.mkdir()
        server = Deployment(
            database=deploy_database, folder=folder,
            workers=workers or WORKERS[deploy_database.backend],
            rate_limits=dict(rate_limits or TEST_RATE_LIMITS), extra_env=extra_env,
        )
        made.append(server)
        return server.start() if start else server

    yield make
    for server in made:
        server.stop()
        print(server.logs())


# --- clients ------------------------------------------------------------------------------

_addresses = itertools.count(1)


def next_test_address() -> str:
    """A distinct documentation address (RFC 5737 TEST-NET-3) for each client."""
    n = next(_addresses)
    return f"203.0.{113 + n // 250}.{n % 250 + 1}"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def path(self) -> str:
        parts = urlsplit(self.location)
        return parts.path + (f"?{parts.query}" if parts.query else "")


class WebClient:
    """One visitor: a cookie jar, the page's CSRF token and a claimed address."""

    def __init__(self, server: Deployment, address: str):
        self.server = server
        self.address = address
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form=None, headers: dict | None = None,
                timeout: float = 60) -> Reply:
        body = urlencode(form, doseq=True) if form is not None else None
        sent = {"X-Forwarded-For": self.address, "User-Agent": "trustbench-deploy-test"}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update(headers or {})
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read().decode("utf-8", errors="replace")
            for header in response.msg.get_all("Set-Cookie") or []:
                jar = SimpleCookie()
                jar.load(header)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0" or (
                        morsel["expires"] and "1970" in morsel["expires"]
                    ):
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            headers_out = {k.lower(): v for k, v in response.getheaders()}
            return Reply(response.status, headers_out, data)
        finally:
            connection.close()

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form, **kwargs) -> Reply:
        return self.request("POST", path, form=form, **kwargs)

    def form(self, path: str, action: str | None = None) -> tuple[Reply, Form]:
        """GET a page and return its POST form (the one posting to `action`, if given)."""
        page = self.get(path)
        assert page.status == 200, f"GET {path} -> {page.status}\n{page.body[:2000]}"
        forms = parse_forms(page.body)
        candidates = [f for f in forms if f.method == "post"]
        if action is not None:
            candidates = [f for f in candidates if urlsplit(f.action).path == action]
        assert candidates, f"no POST form{' to ' + action if action else ''} on {path}"
        return page, candidates[0]


# --- forms as a browser sees them --------------------------------------------------------


@dataclass
class Field:
    tag: str  # input | textarea | select
    name: str
    type: str
    value: str
    options: list[str] = field(default_factory=list)
    checked: bool = False


@dataclass
class Form:
    action: str
    method: str
    fields: list[Field]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def defaults(self) -> dict[str, str]:
        """What a browser would send untouched: hidden values, typed values, first options."""
        values: dict[str, str] = {}
        for item in self.fields:
            if item.type in ("submit", "button", "reset", "image", "file"):
                continue
            if item.type in ("checkbox", "radio"):
                if item.checked:
                    values[item.name] = item.value or "on"
                continue
            if item.tag == "select":
                values[item.name] = item.value or (item.options[0] if item.options else "")
                continue
            values[item.name] = item.value
        return values


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None
        self._option_value: str | None = None
        self._option_text = ""
        self._option_selected = False

    def handle_starttag(self, tag, attrs):
        attr = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(attr.get("action", ""), attr.get("method", "get").lower(), [])
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        if tag == "input" and attr.get("name"):
            self._form.fields.append(Field(
                "input", attr["name"], attr.get("type", "text").lower(), attr.get("value", ""),
                checked="checked" in attr,
            ))
        elif tag == "textarea" and attr.get("name"):
            self._textarea = Field("textarea", attr["name"], "textarea", "")
            self._form.fields.append(self._textarea)
        elif tag == "select" and attr.get("name"):
            self._select = Field("select", attr["name"], "select", "")
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option_value = attr.get("value")
            self._option_text = ""
            self._option_selected = "selected" in attr
        elif tag == "button" and attr.get("name"):
            self._form.fields.append(Field("button", attr["name"], "submit",
                                           attr.get("value", "")))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data
        if self._option_value is None and self._select is not None:
            self._option_text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "option" and self._select is not None:
            value = self._option_value if self._option_value is not None else (
                self._option_text.strip())
            self._select.options.append(value)
            if self._option_selected:
                self._select.value = value
            self._option_value = None
        elif tag == "select":
            self._select = None


def parse_forms(page: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_from(page: str) -> str:
    match = CSRF_META.search(page)
    assert match, "page has no csrf-token meta"
    return html.unescape(match.group(1))


def unique_marker(prefix: str = "deploy") -> str:
    return f"{prefix}-{secrets.token_hex(6)}"
