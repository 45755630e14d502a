"""Every page of the site, for the browser tests that look at all of them (axe, widths).

`build_world` fills the database with what makes each page show its full shape: a hub
with reproductions in both rings, a queued reproduction and a queued fresh row, a
rejected row, a feedback note, a demo row, long unbroken text (a URL, a hash-like note)
that must wrap, and a reviewer. `public_paths` and `review_paths` walk the URL map, so a
page another change adds is covered without editing this file; rules whose arguments no
value here fills are listed by `unfilled_rules` (a test can assert that list is known).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from webapp.models import FeedbackNote
from webapp.services import accounts, evidence, tokens
from webapp.services.rules import Kind, State

REVIEWER = ("layout-reviewer", "a reviewer password for layout")
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
LONG_WORD = "sha256:" + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" * 2
LONG_URL = "https://example.com/" + "a-very-long-path-segment-without-breaks-" * 4

# Endpoints that answer something other than a page (a file, JSON, a feed, an image).
NOT_PAGES = {"static", "public.healthz", "public.measure"}
# Values for the URL map's arguments; anything else a new rule needs is reported.
RESOURCES = ("reproduction-guide", "verification-policy", "confidence-methodology",
             "reproduction-network")


@dataclass
class World:
    hub: object
    inner: object
    outer: object
    queued: object
    queued_fresh: object
    rejected: object
    note: object
    token: str
    queued_token: str
    values: dict = field(default_factory=dict)
    demo: object = None


def build_world(app, make_row, session) -> World:
    app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8, ARGON2_PARALLELISM=1)
    accounts.add_reviewer(session, *REVIEWER)
    hub = make_row(handle="alice", url=LONG_URL, notes=f"Checked with {LONG_WORD}.")
    inner = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="bob",
                     runs=((251.0, 512, 100.0), (252.0, 512, 99.0), (250.0, 512, 101.0)))
    outer = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="carol",
                     os_label="Fedora 41", driver_version="NVIDIA 565.57 / CUDA 12.7",
                     runs=((260.0, 512, 96.0), (262.0, 512, 95.0), (259.0, 512, 97.0)))
    queued = make_row(state=State.QUEUED, kind=Kind.REPRODUCTION, hub=hub, handle="dave",
                      notes=LONG_WORD)
    queued_fresh = make_row(state=State.QUEUED, model="llama-3.1-8b-instruct",
                            hardware="rtx-3090", handle="erin", url=LONG_URL)
    rejected = make_row(state=State.REJECTED, rejection_reason="The runs were not comparable.")
    demo = make_row(hardware="rtx-3090", handle="demo-operator", is_demo=True)
    evidence.refresh_derived(session, hub)
    note = FeedbackNote(submission_id=hub.id, kind="other", message=f"Wrong driver? {LONG_WORD}")
    session.add(note)
    session.commit()
    world = World(hub=hub, inner=inner, outer=outer, queued=queued, queued_fresh=queued_fresh,
                  rejected=rejected, note=note, token=tokens.status_token(rejected),
                  queued_token=tokens.status_token(queued))
    world.demo = demo
    world.values = {"benchmark_id": hub.id, "submission_id": queued.id, "note_id": note.id,
                    "token": world.token, "slug": "rtx-4090", "id": hub.id}
    return world


def _rules(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        if "/api/" in rule.rule:
            continue  # JSON; the /api page itself is walked
        if rule.endpoint.endswith((".check", ".import_file")):
            continue  # the forms' live check and import answer fragments of a page
        if any(rule.rule.endswith(suffix) for suffix in (".csv", ".jsonl", ".atom", ".svg",
                                                         ".json", ".py", ".sqlite", ".db")):
            continue
        yield rule


def unfilled_rules(app, world: World) -> list[str]:
    return sorted(rule.rule for rule in _rules(app) if rule.arguments - set(world.values)
                  and rule.endpoint != "public.resource")


def _paths(app, world: World) -> list[str]:
    paths = []
    for rule in _rules(app):
        if rule.endpoint == "public.resource":
            paths += [f"/resources/{name}" for name in RESOURCES]
            continue
        if rule.arguments - set(world.values):
            continue
        args = {name: world.values[name] for name in rule.arguments}
        if rule.endpoint == "public.model":
            args["slug"] = "llama-3.1-8b-instruct"
        paths.append(rule.build(args, append_unknown=False)[1])
    return paths


def public_paths(app, world: World) -> list[str]:
    """Every public page, with the states a visitor meets: filters, errors, forms."""
    paths = [p for p in _paths(app, world) if not p.startswith("/review")]
    paths += [
        "/?model=llama-3.1-8b-instruct&hardware=rtx-4090&sort=decode",
        "/?page=2",
        f"/benchmarks/{world.inner.id}",
        f"/submit/feedback?benchmark={world.hub.id}",
        f"/submissions/{world.queued_token}",
        f"/submissions/{world.queued_token}/withdraw",
        f"/compare?ids={world.hub.id},{world.demo.id}",
        "/does-not-exist",          # 404
        "/?model=%01",              # 400: a control character
    ]
    return sorted(set(paths))


def review_paths(app, world: World) -> list[str]:
    paths = [p for p in _paths(app, world) if p.startswith("/review")
             and p != "/review/login"]
    paths += [f"/review/submissions/{world.hub.id}", f"/review/submissions/{world.rejected.id}",
              f"/review/submissions/{world.queued_fresh.id}", "/review/?kind=reproduction"]
    return sorted(set(paths))


def log_in(page, base: str) -> None:
    page.goto(base + "/review/login")
    page.fill("#login-name", REVIEWER[0])
    page.fill("#login-password", REVIEWER[1])
    with page.expect_navigation():
        page.click("form[action='/review/login'] button[type=submit]")
    assert "/review/login" not in page.url, "the reviewer could not log in"


def is_page(page, url: str) -> bool:
    """Whether the address answers an HTML page (not a download, a feed, JSON or SVG),
    asked with HEAD through the browser's own cookies."""
    response = page.request.head(url, max_redirects=5)
    return response.headers.get("content-type", "").startswith("text/html")


def fill_runs(page, decodes) -> None:
    for index, decode in enumerate(decodes):
        page.fill(f"#f-runs-{index}-ttft_ms", "250")
        page.fill(f"#f-runs-{index}-tokens_generated", "512")
        page.fill(f"#f-runs-{index}-decode_tps", str(decode))
