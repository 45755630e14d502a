"""A queued fresh submission or reproduction appears nowhere public."""

from __future__ import annotations

import itertools
import re

from sqlalchemy import select

from tests.test_submit_support import fresh_form, lock_token_of, repro_form
from webapp.models import Submission
from webapp.services.rules import Kind, State

MARK_FRESH = "queued-fresh-marker"
# An ISO 8601 moment as pages and feeds write it (datetime attributes, <updated>).
MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?")
MARK_REPRO = "queued-repro-marker"


def public_urls(app, values: dict[str, list]) -> list[str]:
    """Every GET page any blueprint serves without login, its arguments filled in."""
    urls = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        if rule.endpoint.startswith(("review.", "submit.status")):
            continue
        names = sorted(rule.arguments)
        if any(name not in values for name in names):
            continue
        for combination in itertools.product(*(values[name] for name in names)):
            urls.append(adapter.build(rule.endpoint, dict(zip(names, combination, strict=True))))
    return urls


def test_queued_submissions_appear_nowhere_public(app, client, session, make_row):
    app.config["WTF_CSRF_ENABLED"] = False
    hub = make_row(handle="hub-operator")
    session.commit()
    assert client.post("/submit/benchmark", data=fresh_form(
        handle=MARK_FRESH, notes=MARK_FRESH, url="https://example.org/" + MARK_FRESH,
        runs=((777.7, 512, 55.5), (777.7, 512, 55.5), (777.7, 512, 55.5)),
    )).status_code == 303
    assert client.post(f"/benchmarks/{hub.id}/reproduce", data=repro_form(
        lock_token_of(client, hub.id), handle=MARK_REPRO, notes=MARK_REPRO,
    )).status_code == 303
    fresh = session.scalars(select(Submission).where(Submission.handle == MARK_FRESH)).one()
    repro = session.scalars(select(Submission).where(Submission.handle == MARK_REPRO)).one()
    assert fresh.state == repro.state == State.QUEUED and repro.kind == Kind.REPRODUCTION

    urls = public_urls(app, {
        "benchmark_id": [hub.id, fresh.id, repro.id],
        "slug": ["rtx-4090", "llama-3.1-8b-instruct"],
        "name": ["reproduction-guide", "verification-policy", "confidence-methodology"],
    })
    # page 1 of the operators is spelt without its number (?page=1 redirects there)
    urls += ["/?sort=newest", "/?hardware=rtx-4090", "/operators?page=2"]
    assert "/" in urls and f"/benchmarks/{hub.id}" in urls
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 400, 404), url
        # downloads are walked too (the snapshot is a binary file): markers are ASCII
        body = response.get_data().decode("utf-8", errors="replace")
        response.close()
        for marker in (MARK_FRESH, MARK_REPRO):
            assert marker not in body, (url, marker)
        # the queued row's numbers, outside the page's timestamps (a moment such as
        # 23:07:55.516663 holds "55.5" by chance)
        numbers = MOMENT.sub("", body)
        for marker in ("777.7", "55.5"):
            assert marker not in numbers, (url, marker)
        for hidden in (fresh.id, repro.id):
            assert f'href="/benchmarks/{hidden}"' not in body, url
    assert client.get(f"/benchmarks/{fresh.id}").status_code == 404
    assert client.get(f"/benchmarks/{repro.id}").status_code == 404
    assert client.get(f"/benchmarks/{fresh.id}/reproduce").status_code == 404
    assert client.get(f"/submit/feedback?benchmark={fresh.id}").status_code == 404
