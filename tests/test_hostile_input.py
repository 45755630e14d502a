"""Hostile input against every form, CSRF on every POST, and no GET that writes.

Every text field of the public forms (fresh benchmark, reproduce, feedback) and of the
reviewer forms is posted with markup, attribute-breaking, `javascript:` and very long
payloads: the answer is a success or a 4xx, never a 500, and every page that echoes a
value (the re-rendered form, the status page, the dashboard, the public detail page
once approved) renders it inert. Number fields get NaN, infinities, negatives, zero,
overflowing, huge and non-numeric values: 422 with the message beside the field.
Every POST route in the URL map refuses a request without its CSRF token, and no GET
route changes a single row of any table.
"""

from __future__ import annotations

import contextlib
import functools
import html
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import html5lib
import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import select, text

from webapp import schemas
from webapp.extensions import db
from webapp.models import FeedbackNote, Hardware, ModelVariant, Submission
from webapp.services import accounts, evidence, pick_lists, tokens
from webapp.services.rules import State
from webapp.web import forms

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
SINGLE_QUOTE = "'><svg onload=alert(1)>"
JS_URL = "javascript:alert(1)"
LONG = ("<b>" + "A" * 9990 + SCRIPT)[:10_000]
TEXT_PAYLOADS = (SCRIPT, ATTRIBUTE, LONG)
URL_PAYLOADS = (
    JS_URL,
    SINGLE_QUOTE,
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    'https://example.com/"onmouseover="alert(1)',
    "https://example.com/" + "a" * 10_000,
)
URL_FIELDS = frozenset({"url"})
# Raw fragments that must never appear in a page: each could only be there unescaped.
RAW_MARKERS = (SCRIPT, "<img src=x onerror", "<svg onload", '"onmouseover="')

NUMBER_PAYLOADS = ("NaN", "inf", "-inf", "-1", "-0.5", "0", "1e309", "1e300",
                   "99999999999999999999999", "abc", "12abc", "1,5")
NUMBER_FIELDS = frozenset({
    "hardware_count", "concurrent_users", "prompt_tokens", "max_tokens", "seed",
    "vram_peak_mib", "prefill_tps",
})
RUN_NUMBER = re.compile(r"^runs-\d+-(ttft_ms|tokens_generated|decode_tps)$")
# Values that are valid for a field although the list above calls them bad.
VALID_NUMBERS = {"seed": {"0"}}
NEVER_TYPED = frozenset({"csrf_token"})

VALID_MEASUREMENT = {
    "runtime_version": "b4500",
    "driver_version": "NVIDIA 560.35.03 / CUDA 12.6",
    "os_label": "Ubuntu 24.04",
    "concurrent_users": "1",
    "prompt_tokens": "500",
    "max_tokens": "512",
    "seed": "42",
    "quant_provider": "bartowski",
    "vram_peak_mib": "6200",
    "runs-0-ttft_ms": "250", "runs-0-tokens_generated": "512", "runs-0-decode_tps": "100",
    "runs-1-ttft_ms": "252", "runs-1-tokens_generated": "512", "runs-1-decode_tps": "101",
    "runs-2-ttft_ms": "248", "runs-2-tokens_generated": "512", "runs-2-decode_tps": "99",
}
VALID_FRESH = {
    "model": "llama-3.1-8b-instruct", "hardware": "rtx-4090", "hardware_count": "1",
    "quant": "gguf-q4_k_m", "runtime": "llama-cpp", **VALID_MEASUREMENT,
}
REVIEWER = ("hostile-tester", "a long enough password for tests 123")


# --- parsing pages -------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def parse(body: str):
    """The page as a browser's parser builds it (cached: html5lib is slow, pages repeat)."""
    return html5lib.parse(body, namespaceHTMLElements=False)


@dataclass
class Input:
    tag: str
    name: str
    type: str
    value: str
    options: list[str] = field(default_factory=list)
    checked: bool = False

    @property
    def is_text(self) -> bool:
        return self.tag == "textarea" or (self.tag == "input" and self.type in (
            "text", "search", "url", "email", "tel", "password", "number", "hidden"))


@dataclass
class PageForm:
    action: str
    method: str
    inputs: list[Input]

    def defaults(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for item in self.inputs:
            if item.type in ("submit", "button", "reset", "image", "file"):
                continue
            if item.type in ("checkbox", "radio"):
                if item.checked:
                    values[item.name] = item.value or "on"
                elif item.type == "radio" and item.name not in values:
                    values[item.name] = item.value
                continue
            if item.tag == "select":
                values[item.name] = item.value or next((o for o in item.options if o), "")
                continue
            values[item.name] = item.value
        return values

    def text_fields(self) -> list[str]:
        """Every field a crafted POST can fill with text: text inputs and areas, hidden
        fields, and the pick-lists, radios and checkboxes too."""
        seen = []
        for item in self.inputs:
            if (item.is_text or item.tag == "select" or item.type in ("radio", "checkbox")) \
                    and item.name not in NEVER_TYPED and item.name not in seen:
                seen.append(item.name)
        return seen


def forms_of(body: str) -> list[PageForm]:
    found = []
    for form in parse(body).iter("form"):
        inputs = []
        for element in form.iter():
            name = element.get("name")
            if not name:
                continue
            if element.tag == "input":
                inputs.append(Input("input", name, (element.get("type") or "text").lower(),
                                    element.get("value") or "",
                                    checked=element.get("checked") is not None))
            elif element.tag == "textarea":
                inputs.append(Input("textarea", name, "textarea", element.text or ""))
            elif element.tag == "select":
                options = [o.get("value") if o.get("value") is not None else (o.text or "")
                           for o in element.iter("option")]
                chosen = next((o.get("value") or "" for o in element.iter("option")
                               if o.get("selected") is not None), "")
                inputs.append(Input("select", name, "select", chosen, options))
            elif element.tag == "button":
                inputs.append(Input("button", name, "submit", element.get("value") or ""))
        found.append(PageForm(form.get("action") or "", (form.get("method") or "get").lower(),
                              inputs))
    return found


def post_forms(body: str) -> list[PageForm]:
    return [f for f in forms_of(body) if f.method == "post"]


def the_form(body: str, path: str) -> PageForm:
    matching = [f for f in post_forms(body) if urlsplit(f.action).path == path]
    assert matching, f"no POST form to {path}; forms: {[f.action for f in post_forms(body)]}"
    return matching[0]


URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data", "poster")


class _Inertness(HTMLParser):
    """Collects what could run: inline scripts, handler attributes, script URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            if not attributes.get("src"):
                self.found.append("an inline <script>")
            self._script = []
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r:.80}>")
            if name in URL_ATTRIBUTES:
                squashed = re.sub(r"[\s\x00-\x1f]", "", value).lower()
                if squashed.startswith(("javascript:", "data:text", "vbscript:")):
                    self.found.append(f"<{tag} {name}={value!r:.80}>")

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            if "".join(self._script).strip():
                self.found.append("a <script> with a body")
            self._script = None


def assert_inert(body: str, where: str) -> None:
    """Nothing the visitor typed can run: no inline script, no handler attribute, no
    script URL, and none of the raw payload fragments anywhere in the page."""
    for marker in RAW_MARKERS:
        assert marker not in body, f"{where}: raw {marker!r} in the page"
    checker = _Inertness()
    checker.feed(body)
    checker.close()
    assert not checker.found, f"{where}: {checker.found[:3]}"


# --- the world the forms work on ----------------------------------------------------------


class IsolatedClient(FlaskClient):
    """A test client whose every request starts with an empty `g`.

    The suite's `app` fixture keeps one app context pushed for the whole test, and Flask
    reuses it for test-client requests, so `g` would carry Flask-WTF's CSRF token and
    Flask-Login's user from one request (and one client) to the next.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for name in list(vars(g)):
                delattr(g, name)
        return super().open(*args, **kwargs)


def new_client(app) -> FlaskClient:
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def client(app):
    return new_client(app)


@dataclass
class World:
    hub: Submission
    queued: Submission
    repro: Submission
    note: FeedbackNote
    status_token: str
    counts: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def soft(self):
        try:
            yield
        except AssertionError as error:
            self.problems.append(str(error).splitlines()[0][:300])

    def assert_no_problems(self) -> None:
        unique = list(dict.fromkeys(self.problems))
        assert not unique, f"{len(unique)} problems:\n" + "\n".join(unique)


@pytest.fixture
def world(app, make_row, session):
    app.config["RATE_LIMITS_ENABLED"] = False  # these tests send hundreds of forms
    app.config["WTF_CSRF_ENABLED"] = True
    app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8, ARGON2_PARALLELISM=1)
    hub = make_row(handle="hub-operator")
    queued = make_row(state=State.QUEUED, handle="queued-operator")
    repro = make_row(state=State.QUEUED, kind="reproduction", hub=hub,
                     runs=((251.0, 512, 100.0), (252.0, 512, 99.0), (250.0, 512, 101.0)))
    evidence.refresh_derived(session, hub)
    note = FeedbackNote(submission_id=hub.id, kind="other", message="a note")
    session.add(note)
    accounts.add_reviewer(session, *REVIEWER)
    session.commit()
    return World(hub, queued, repro, note, tokens.status_token(queued))


def csrf_of(body: str) -> str:
    meta = [e for e in parse(body).iter("meta") if e.get("name") == "csrf-token"]
    assert meta, "no csrf-token meta"
    return meta[0].get("content")


def login(client) -> None:
    page = client.get("/review/login")
    form = the_form(page.get_data(as_text=True), "/review/login")
    values = form.defaults()
    values.update(name=REVIEWER[0], password=REVIEWER[1])
    response = client.post("/review/login", data=values)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]


def follow(client, response, where: str) -> None:
    """A success: the page it leads to renders what was sent inert too."""
    if response.status_code in (301, 302, 303):
        location = urlsplit(response.headers["Location"])
        path = location.path + (f"?{location.query}" if location.query else "")
        page = client.get(path)
        assert page.status_code < 500, f"{where}: following to {path} -> {page.status_code}"
        assert_inert(page.get_data(as_text=True), f"{where} -> {path}")


def send(client, path: str, values: dict, where: str, world: World):
    """POST a form; a 500 or a page that is not inert is recorded as a problem of the
    world (all of them are listed at the end of the test, not just the first)."""
    response = client.post(path, data=values)
    world.counts["payloads"] += 1
    body = response.get_data(as_text=True)
    with world.soft():
        assert response.status_code < 500, f"{where}: {response.status_code}"
        assert response.status_code in (200, 302, 303) or 400 <= response.status_code < 500
    with world.soft():
        assert_inert(body, where)
    with world.soft():
        follow(client, response, where)
    return response


def payloads_for(name: str) -> tuple[str, ...]:
    return URL_PAYLOADS + TEXT_PAYLOADS if name in URL_FIELDS else TEXT_PAYLOADS


def is_number_field(name: str) -> bool:
    return name in NUMBER_FIELDS or bool(RUN_NUMBER.match(name))


# --- the public forms ----------------------------------------------------------------------


def public_forms(world: World) -> dict[str, tuple[str, str, dict]]:
    """name -> (page, form action path, valid values to start from)."""
    hub = world.hub
    return {
        "fresh": ("/submit/benchmark", "/submit/benchmark", VALID_FRESH),
        "reproduce": (f"/benchmarks/{hub.id}/reproduce", f"/benchmarks/{hub.id}/reproduce",
                      {**VALID_MEASUREMENT, "runtime": "llama-cpp"}),
        "feedback": (f"/submit/feedback?benchmark={hub.id}", "/submit/feedback",
                     {"kind": "other", "message": "The numbers look fine to me."}),
    }


def _form_and_base(client, page_path: str, action: str, valid: dict):
    page = client.get(page_path)
    assert page.status_code == 200, f"GET {page_path} -> {page.status_code}"
    body = page.get_data(as_text=True)
    assert_inert(body, page_path)
    form = the_form(body, action)
    values = form.defaults()
    values.update(valid)
    return form, values


@pytest.mark.parametrize("which", ["fresh", "reproduce", "feedback"])
def test_public_forms_render_hostile_text_inert(world, client, which):
    page_path, action, valid = public_forms(world)[which]
    form, base = _form_and_base(client, page_path, action, valid)
    post_path = form.action or page_path
    # The untouched valid form is accepted: the payloads below are the only difference.
    send(client, post_path, base, f"{which} valid", world)
    for name in form.text_fields():
        if is_number_field(name):
            continue
        for payload in payloads_for(name):
            send(client, post_path, {**base, name: payload}, f"{which}.{name}={payload[:30]!r}",
                 world)
    world.assert_no_problems()
    print(f"{which}: {world.counts['payloads']} hostile posts")


@pytest.mark.parametrize("which", ["fresh", "reproduce"])
def test_bad_numbers_get_422_with_the_message(world, client, app, which):
    page_path, action, valid = public_forms(world)[which]
    form, base = _form_and_base(client, page_path, action, valid)
    post_path = form.action or page_path
    context = pick_lists.reference_choices(db.session).by_slug if which == "fresh" else {
        "runtimes": pick_lists.family_runtimes(db.session, world.hub.runtime)}
    schema = schemas.FreshSubmission if which == "fresh" else schemas.ReproductionSubmission
    number_fields = [n for n in form.text_fields() if is_number_field(n)]
    assert {"vram_peak_mib", "runs-0-ttft_ms", "runs-0-decode_tps",
            "runs-0-tokens_generated", "runs-9-decode_tps"} <= set(number_fields), number_fields
    # Every number field of the first run rows, of one later row, and of the form.
    fields = [n for n in number_fields if not RUN_NUMBER.match(n)
              or n.startswith(("runs-0-", "runs-1-", "runs-2-", "runs-4-"))]
    later_row = {"runs-4-ttft_ms": "250", "runs-4-tokens_generated": "512",
                 "runs-4-decode_tps": "100"}
    # One field at a time for a few, then every field at once, for each bad value.
    attempts = [({name: payload}, [name]) for payload in NUMBER_PAYLOADS
                for name in ("vram_peak_mib", "runs-1-decode_tps", "runs-4-tokens_generated")]
    attempts += [({name: payload for name in fields
                   if payload not in VALID_NUMBERS.get(name, ())},
                  [name for name in fields if payload not in VALID_NUMBERS.get(name, ())])
                 for payload in NUMBER_PAYLOADS]
    for changes, checked in attempts:
        values = {**base, **later_row, **changes}
        where = f"{which} {changes if len(changes) == 1 else sorted(set(changes.values()))}"
        response = send(client, post_path, values, where, world)
        world.counts["number payloads"] += len(changes)
        with world.soft():
            assert response.status_code == 422, f"{where}: {response.status_code}"
        body = response.get_data(as_text=True)
        shown = html.unescape(body)
        _, errors, _ = forms.parse_form(schema, values, context)
        typed = {e.get("name"): e.get("value") or e.text or "" for e in parse(body).iter()
                 if e.tag in ("input", "textarea") and e.get("name")}
        for name in checked:
            message = errors.get(name)
            with world.soft():
                assert message, f"{where}: the schema gave no message for {name} ({errors})"
                assert message in shown, f"{where}: message {message!r} for {name} not shown"
                assert typed.get(name) == values[name], (
                    f"{where}: the typed value of {name} was not kept ({typed.get(name)!r})")
    world.assert_no_problems()
    print(f"{which}: {world.counts['number payloads']} bad numbers in "
          f"{world.counts['payloads']} posts")


def test_accepted_hostile_values_render_escaped_once_public(world, client, app, session):
    """Values the forms accept reach the public pages; they must stay text there."""
    from webapp.services import moderation

    page_path, action, valid = public_forms(world)["fresh"]
    form, base = _form_and_base(client, page_path, action, valid)
    hostile = {
        "handle": SCRIPT[:40],
        "url": 'https://example.com/"onmouseover="alert(1)',
        "notes": f"{SCRIPT} {ATTRIBUTE} {SINGLE_QUOTE} {JS_URL}",
        "runtime_version": ATTRIBUTE,
        "driver_version": SCRIPT,
        "os_label": SINGLE_QUOTE,
        "quant_provider": ATTRIBUTE,
    }
    accepted = []
    for model in ("llama-3.1-8b-instruct", "other"):
        values = {**base, **hostile, "model": model}
        if model == "other":
            values["other_model"] = SCRIPT
        response = send(client, form.action or page_path, values, f"accepted {model}",
                        world)
        assert response.status_code == 303, response.get_data(as_text=True)[:3000]
        accepted.append(response.headers["Location"])
    rows = session.scalars(select(Submission).where(Submission.notes.contains(SCRIPT))).all()
    assert len(rows) == 2
    for row in rows:
        moderation.approve_public(session, row, actor="reviewer:test", now=row.created_at)
    session.commit()
    for row in rows:
        page = client.get(f"/benchmarks/{row.id}")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert_inert(body, f"detail #{row.id}")
        assert html.escape(SCRIPT) in body or "&lt;script&gt;" in body, (
            "the accepted text is not shown at all")
        links = [a for a in parse(body).iter("a") if (a.get("href") or "").startswith(
            "https://example.com/")]
        assert links, "the operator's URL is not linked"
        for link in links:
            rel = set((link.get("rel") or "").split())
            assert {"nofollow", "noopener", "ugc"} <= rel, link.attrib
    hardware = session.scalars(select(Hardware).where(Hardware.slug == "rtx-4090")).one()
    model = session.scalars(select(ModelVariant).where(
        ModelVariant.slug == "llama-3.1-8b-instruct")).one()
    for path in ("/", "/operators", f"/hardware/{hardware.slug}", f"/models/{model.slug}",
                 "/?q=" + SCRIPT, "/?model=" + ATTRIBUTE):
        page = client.get(path)
        assert page.status_code < 500, path
        assert_inert(page.get_data(as_text=True), path)


# --- the reviewer forms -------------------------------------------------------------------


def test_reviewer_forms_render_hostile_text_inert(world, client, app, make_row, session):
    # The login form, before logging in.
    page = client.get("/review/login")
    login_form = the_form(page.get_data(as_text=True), "/review/login")
    for name in login_form.text_fields():
        for payload in TEXT_PAYLOADS:
            values = {**login_form.defaults(), "name": "x", "password": "y", name: payload}
            response = send(client, "/review/login", values, f"login.{name}", world)
            with world.soft():
                assert response.status_code in (401, 422, 400, 429), (
                    f"login.{name}: {response.status_code}")
    login(client)

    # Every form on a queued fresh row's page and on a queued reproduction's page; each
    # attempt gets a row of its own, so a successful decision does not hide the next.
    def fresh_row():
        return make_row(state=State.QUEUED)

    def repro_row():
        return make_row(state=State.QUEUED, kind="reproduction", hub=world.hub,
                        runs=((251.0, 512, 100.0), (252.0, 512, 99.0), (250.0, 512, 101.0)))

    tried_actions = set()
    for make in (fresh_row, repro_row):
        probe = make()
        session.commit()
        body = client.get(f"/review/submissions/{probe.id}").get_data(as_text=True)
        assert_inert(body, f"review page #{probe.id}")
        for form in post_forms(body):
            suffix = urlsplit(form.action).path.rsplit("/", 1)[-1]
            if suffix == "logout":
                continue
            for name in form.text_fields():
                if name in ("other",):
                    payloads = TEXT_PAYLOADS + ("-1", "NaN", "1e309", "99999999999999999999")
                else:
                    payloads = TEXT_PAYLOADS
                for payload in payloads:
                    row = make()
                    session.commit()
                    path = urlsplit(form.action).path.replace(f"/{probe.id}/", f"/{row.id}/")
                    values = {**form.defaults(), name: payload}
                    send(client, path, values, f"review {suffix}.{name}", world)
                    tried_actions.add(suffix)
                    # The submitter's status page shows a rejection reason: inert too.
                    session.expire_all()
                    status = client.get(f"/submissions/{tokens.status_token(row)}")
                    with world.soft():
                        assert status.status_code == 200, f"status of #{row.id}"
                        assert_inert(status.get_data(as_text=True), f"status of #{row.id}")
    assert {"approve", "reject", "reproduced"} <= tried_actions, tried_actions

    # Feedback triage.
    body = client.get("/review/feedback").get_data(as_text=True)
    for form in post_forms(body):
        if "/resolve" not in form.action:
            continue
        for name in form.text_fields():
            for payload in TEXT_PAYLOADS:
                note = FeedbackNote(submission_id=world.hub.id, kind="other", message=SCRIPT)
                session.add(note)
                session.commit()
                path = re.sub(r"/feedback/\d+/", f"/feedback/{note.id}/",
                              urlsplit(form.action).path)
                send(client, path, {**form.defaults(), name: payload}, f"resolve.{name}",
                     world)
        break
    else:
        pytest.fail("no feedback resolution form on /review/feedback")

    # Editorial rows: every text field, and the number fields.
    body = client.get("/review/editorial").get_data(as_text=True)
    form = the_form(body, "/review/editorial")
    base = {**form.defaults(), **VALID_FRESH, "confirm_flags": "on"}
    for name in form.text_fields():
        if RUN_NUMBER.match(name) and not name.startswith(("runs-0-", "runs-1-", "runs-2-")):
            continue
        payloads = NUMBER_PAYLOADS if is_number_field(name) else payloads_for(name)
        for payload in payloads:
            if payload in VALID_NUMBERS.get(name, ()):
                continue
            response = send(client, "/review/editorial", {**base, name: payload},
                            f"editorial.{name}={payload[:20]!r}", world)
            if is_number_field(name):
                with world.soft():
                    assert response.status_code == 422, (
                        f"editorial.{name}={payload!r}: {response.status_code}")

    # Everything the dashboard shows after all that is still inert.
    for path in ("/review/", "/review/audit", "/review/feedback", "/review/?kind=fresh"):
        page = client.get(path)
        with world.soft():
            assert page.status_code == 200, path
            assert_inert(page.get_data(as_text=True), path)
    world.assert_no_problems()
    print(f"reviewer forms: {world.counts['payloads']} hostile posts")


# --- CSRF on every POST, and no GET that writes ---------------------------------------------


def url_arguments(world: World) -> dict[str, object]:
    return {
        "benchmark_id": world.hub.id,
        "submission_id": world.queued.id,
        "note_id": world.note.id,
        "token": world.status_token,
        "slug": "rtx-4090",
        "name": "reproduction-guide",
        "filename": "site.css",
    }


def rule_urls(app, world: World, method: str) -> list[tuple[str, str]]:
    """(endpoint, URL) for every rule accepting `method`, its arguments filled in."""
    values = url_arguments(world)
    urls = []
    for rule in app.url_map.iter_rules():
        if method not in rule.methods:
            continue
        missing = rule.arguments - set(values)
        assert not missing, f"{rule.rule}: no test value for {sorted(missing)}; add one"
        args = {name: values[name] for name in rule.arguments}
        if rule.endpoint == "public.model":
            args["slug"] = "llama-3.1-8b-instruct"
        urls.append((rule.endpoint, rule.build(args, append_unknown=False)[1]))
    return urls


def test_every_post_route_refuses_a_request_without_its_csrf_token(world, client, app):
    assert app.config["WTF_CSRF_ENABLED"]
    posts = rule_urls(app, world, "POST")
    assert len(posts) >= 8, posts
    anonymous = new_client(app)
    anonymous.get("/")  # a session exists, so only the token is missing
    login(client)
    for endpoint, url in posts:
        for who, visitor in (("anonymous", anonymous), ("reviewer", client)):
            for headers, data in (({}, {}), ({}, {"csrf_token": "forged"}),
                                  ({"HX-Request": "true"}, {}),
                                  ({"HX-Request": "true", "X-CSRFToken": "forged"}, {})):
                response = visitor.post(url, data=data, headers=headers)
                assert response.status_code == 400, (
                    f"{who} POST {url} ({endpoint}) {headers} {data}: {response.status_code}")
    print(f"csrf: {len(posts)} POST routes refused without a token")


def snapshot() -> dict[str, list]:
    tables = {}
    for table in db.metadata.sorted_tables:
        order = ", ".join(column.name for column in table.primary_key.columns)
        tables[table.name] = [tuple(row) for row in db.session.execute(
            text(f'SELECT * FROM "{table.name}" ORDER BY {order}'))]
    db.session.rollback()
    return tables


def diff(before: dict, after: dict) -> dict[str, str]:
    return {name: f"{len(before[name])} rows -> {len(after[name])} rows, changed"
            for name in before if before[name] != after[name]}


QUERY_STRINGS = {
    "public.catalog": ("", "?model=llama-3.1-8b-instruct&sort=decode&page=2",
                       "?badge=reproduced&tier=high&stale=1"),
    "feedback.new": ("", "?benchmark={hub}"),
    "submit.benchmark": ("", "?model=llama-3.1-8b-instruct&runs-0-ttft_ms=250"),
    "review.login": ("", "?next=/review/audit"),
}


def test_no_get_route_writes_to_the_database(world, client, app):
    gets = rule_urls(app, world, "GET")
    anonymous = new_client(app)
    login(client)
    before = snapshot()
    requested = 0
    for endpoint, url in gets:
        for query in QUERY_STRINGS.get(endpoint, ("",)):
            full = url + query.format(hub=world.hub.id)
            for who, visitor in (("anonymous", anonymous), ("reviewer", client)):
                for headers in ({}, {"HX-Request": "true"}):
                    with visitor.get(full, headers=headers) as response:
                        status = response.status_code
                    requested += 1
                    assert status < 500, f"{who} GET {full}: {status}"
                    after = snapshot()
                    assert diff(before, after) == {}, f"{who} GET {full} {headers} wrote"
    assert {e for e, _ in gets} >= {"public.catalog", "public.detail", "submit.status",
                                    "review.queue", "review.submission"}
    print(f"GET: {len(gets)} routes, {requested} requests, no table changed")


def test_ids_beyond_the_database_integer_range_are_404_not_500(world, client, app):
    """A hand-typed /benchmarks/99999999999999999999999 is a page that does not exist."""
    login(client)
    token = csrf_of(client.get("/review/").get_data(as_text=True))
    huge = {name: 10**22 for name in ("benchmark_id", "submission_id", "note_id")}
    tried = 0
    for rule in app.url_map.iter_rules():
        ints = {name for name in rule.arguments if name in huge}
        if not ints:
            continue
        args = {**{k: v for k, v in url_arguments(world).items() if k in rule.arguments},
                **{name: huge[name] for name in ints}}
        url = rule.build(args, append_unknown=False)[1]
        for method in sorted(rule.methods & {"GET", "POST"}):
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": token})
            response.close()
            tried += 1
            with world.soft():
                assert response.status_code == 404, f"{method} {url}: {response.status_code}"
    assert tried >= 6
    world.assert_no_problems()
