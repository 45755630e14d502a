"""The API through HTTP: the list and its cursor, one row, the reference lists, rules,
the problems a client gets for bad input, validators and CORS, and the /api page."""

from __future__ import annotations

import html5lib
import pytest

from tests.api.conftest import publish
from tests.factories import counted_statements
from webapp.extensions import db
from webapp.services import rules
from webapp.services.rules import Badge, Kind, State, Tier
from webapp.services.sorting import Sort

LIST = "/api/v1/benchmarks"


def problem(response, status: int, parameter: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["type"] == "about:blank"
    if parameter is not None:
        assert body["parameter"] == parameter
        assert parameter in body["detail"]
    return body


def walk(client, url: str) -> list[dict]:
    """Every item, following `next` links to the end."""
    items: list[dict] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        items.extend(body["items"])
        url = body["next"]
        assert len(items) <= body.get("total", len(items))
    return items


# --- the list ----------------------------------------------------------------------------


def test_list_items_carry_what_the_catalog_shows(client, catalog):
    response = client.get(LIST)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.get_json()
    assert body["total"] == 2 and body["next"] is None and body["limit"] == 25
    first = body["items"][0]
    hub = catalog.hub
    assert first["id"] == hub.id  # fastest decode first
    assert first["urls"] == {"html": f"http://localhost/benchmarks/{hub.id}",
                             "api": f"http://localhost/api/v1/benchmarks/{hub.id}"}
    assert first["model"]["slug"] == "llama-3.1-8b-instruct"
    assert first["hardware"]["slug"] == "rtx-4090" and first["hardware"]["devices"] == 1
    assert first["medians"]["decode_tps"] == hub.decode_tps
    assert first["medians"]["ttft_ms"] == hub.ttft_ms
    assert first["badge"] == Badge.INDEPENDENT.value
    assert first["tier"] in {tier.value for tier in Tier}
    assert first["reproductions"] == 3
    assert 0 < first["share_of_ceiling"] < 1
    assert first["measured_at"].startswith(hub.measured_at.date().isoformat())
    second = body["items"][1]
    assert second["id"] == catalog.other.id and second["reproductions"] == 0
    assert second["badge"] == Badge.COMMUNITY.value


def test_medians_are_sent_without_float_noise(client, make_row):
    # As rows stored an even number of runs' median before it was rounded.
    noisy_ttft, noisy_decode = (54.6 + 54.7) / 2, (85.9 + 86.2) / 2
    assert repr(noisy_ttft) == "54.650000000000006"
    hub = publish(make_row(ttft_ms=noisy_ttft, decode_tps=noisy_decode))
    publish(make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="ringo",
                     ttft_ms=noisy_ttft, decode_tps=noisy_decode))
    publish(hub)
    db.session.commit()
    listed = client.get(f"{LIST}?limit=100&stale=1")
    assert listed.get_json()["items"][0]["medians"]["ttft_ms"] == 54.65
    one = client.get(f"{LIST}/{hub.id}")
    for response in (listed, one):
        assert "54.65" in response.get_data(as_text=True)
        assert "00000" not in response.get_data(as_text=True)
    (reproduction,) = one.get_json()["reproductions"]
    assert (reproduction["ttft_ms"], reproduction["decode_tps"]) == (54.65, 86.05)


def test_other_entries_are_named_as_typed_in_every_dimension(client, make_row):
    """An "other" model, hardware, quant and runtime: the slug says other and the name is
    what the operator typed, alike in the list and one row's answer (the model and the
    quant carried the pages' "Other model: " prefix, the hardware and runtime did not)."""
    row = publish(make_row(model="other", other_model="Qwen3-Next 80B",
                           hardware="other", other_hardware="Radeon AI PRO R9700",
                           quant="other", other_quant="IQ2_KS",
                           runtime="other", other_runtime="ik_llama.cpp"))
    db.session.commit()
    listed = client.get(LIST).get_json()["items"][0]
    one = client.get(f"{LIST}/{row.id}").get_json()["summary"]
    for answer in (listed, one):
        assert {dimension: (answer[dimension]["slug"], answer[dimension]["name"])
                for dimension in ("model", "hardware", "quant", "runtime")} == {
            "model": ("other", "Qwen3-Next 80B"),
            "hardware": ("other", "Radeon AI PRO R9700"),
            "quant": ("other", "IQ2_KS"),
            "runtime": ("other", "ik_llama.cpp")}


@pytest.mark.parametrize(("drift", "error"), [
    ({"extra": 1}, "ValidationError"),  # a field the model does not have
    ({"reproductions": "3"}, "AssertionError"),  # one the model would coerce: not sent as is
])
def test_list_fields_sent_unvalidated_are_checked_under_testing(client, catalog, monkeypatch,
                                                                caplog, drift, error):
    """The list sends its fields without building the model (services.api.build); under
    TESTING each answer is validated and must write the same bytes, so a field drifting
    from the documented model fails the tests instead of reaching clients."""
    from webapp.services.api import build

    listed = build._listed
    monkeypatch.setattr(build, "_listed", lambda item, links: {**listed(item, links), **drift})
    problem(client.get(LIST), 500)
    assert any(record.exc_info and record.exc_info[0].__name__ == error
               for record in caplog.records)


def test_filters_and_sorts_use_the_catalogs_names(client, catalog):
    body = client.get(f"{LIST}?hardware=rtx-3090").get_json()
    assert [item["id"] for item in body["items"]] == [catalog.other.id]
    assert body["total"] == 1 and body["query"]["hardware"] == "rtx-3090"
    body = client.get(f"{LIST}?sort=ttft").get_json()
    assert [item["id"] for item in body["items"]] == [catalog.hub.id, catalog.other.id]
    body = client.get(f"{LIST}?badge=community-submitted").get_json()
    assert [item["id"] for item in body["items"]] == [catalog.other.id]
    assert client.get(f"{LIST}?stale=1").get_json()["total"] == 2
    assert client.get(f"{LIST}?stale=true&sort=newest").get_json()["query"] == {
        "q": None, "model": None, "hardware": None, "quant": None, "runtime": None,
        "badge": None, "tier": None, "sort": "newest", "stale": True}


def test_a_filtered_total_follows_a_new_public_row_at_once(client, catalog, make_row):
    """The worker counts a filtered total once per data version: a row made public
    changes the version, so the next answer counts it."""
    asked = f"{LIST}?hardware=rtx-3090&sort=ttft"
    assert client.get(asked).get_json()["total"] == 1
    assert client.get(f"{LIST}?hardware=rtx-3090").get_json()["total"] == 1
    added = publish(make_row(hardware="rtx-3090"))
    db.session.commit()
    body = client.get(asked).get_json()
    assert body["total"] == 2 and added.id in [item["id"] for item in body["items"]]
    assert client.get(f"{LIST}?hardware=rtx-3090").get_json()["total"] == 2


def test_the_whole_catalogs_total_is_read_once_a_minute_and_follows_a_decision(
        client, catalog, make_row):
    """Unfiltered, as filtered: the worker reads the total once per data version and
    minute (a second page of the same list reads no count), and a row made public moves
    the version, so the next answer counts it."""
    assert client.get(LIST).get_json()["total"] == 2
    with counted_statements() as statements:
        assert client.get(f"{LIST}?sort=ttft").get_json()["total"] == 2
    assert not [statement for statement in statements if "public_row_counts" in statement]
    publish(make_row())
    db.session.commit()
    assert client.get(LIST).get_json()["total"] == 3


def test_the_total_counts_stale_rows_only_when_asked(client, catalog, make_row):
    stale = publish(make_row(age_days=600, hardware="rtx-3090"))
    db.session.commit()
    body = client.get(LIST).get_json()
    assert body["total"] == 2 and stale.id not in [item["id"] for item in body["items"]]
    body = client.get(f"{LIST}?stale=true").get_json()
    assert body["total"] == 3
    assert [item["stale"] for item in body["items"] if item["id"] == stale.id] == [True]
    assert client.get(f"{LIST}?hardware=rtx-3090&stale=true").get_json()["total"] == 2


def test_a_row_whose_index_was_never_refreshed_is_shown_from_its_evidence(client, catalog,
                                                                          make_row):
    unindexed = make_row(hardware="rtx-3090")  # approved without a decision: no index
    db.session.commit()
    items = client.get(f"{LIST}?stale=true&hardware=rtx-3090").get_json()["items"]
    shown = next(item for item in items if item["id"] == unindexed.id)
    assert shown["badge"] == Badge.COMMUNITY.value and shown["stale"] is False
    assert shown["tier"] in {tier.value for tier in Tier}


@pytest.mark.parametrize("sort", [sort.value for sort in Sort])  # every sort, new ones too
def test_the_cursor_walks_every_row_once_in_order(client, make_row, sort):
    rows = []
    for index in range(23):
        decode = 50.0 + (index % 7)  # ties, so the id decides between equal values
        rows.append(publish(make_row(
            runs=((200.0 + index % 5, 512, decode),) * 3, age_days=index % 4,
            vram_peak_mib=6000.0 + 100 * (index % 3),
            hardware=("rtx-4090", "rtx-3090")[index % 2])))
    db.session.commit()
    items = walk(client, f"{LIST}?sort={sort}&limit=5")
    assert len(items) == 23
    assert sorted(item["id"] for item in items) == sorted(row.id for row in rows)
    key = {"decode": lambda i: (-i["medians"]["decode_tps"], -i["id"]),
           "ttft": lambda i: (i["medians"]["ttft_ms"], i["id"])}.get(sort)
    if key is not None:
        assert items == sorted(items, key=key)


def test_next_link_keeps_the_filters_and_is_absolute(client, catalog, make_row):
    for _ in range(3):
        publish(make_row(hardware="rtx-3090"))
    db.session.commit()
    body = client.get(f"{LIST}?hardware=rtx-3090&limit=2").get_json()
    assert body["next"].startswith("http://localhost/api/v1/benchmarks?")
    assert "hardware=rtx-3090" in body["next"] and "limit=2" in body["next"]
    assert body["total"] == 4
    items = walk(client, body["next"])
    assert len(items) == 2
    assert all(item["hardware"]["slug"] == "rtx-3090" for item in items)


@pytest.mark.parametrize(("query", "parameter"), [
    ("limit=0", "limit"),
    ("limit=101", "limit"),
    ("limit=ten", "limit"),
    ("limit=-1", "limit"),
    ("limit=99999999999999999999999", "limit"),
    ("badge=gold", "badge"),
    ("tier=ultra", "tier"),
    ("sort=price", "sort"),
    ("stale=maybe", "stale"),
    ("hardware=no-such-card", "hardware"),
    ("model=Not%20A%20Slug", "model"),
    ("model=", "model"),
    ("page=2", "page"),
    ("hardware=rtx-4090&hardware=rtx-3090", "hardware"),
    ("cursor=not-a-cursor", "cursor"),
    ("cursor=" + "x" * 500, "cursor"),
])
def test_bad_values_are_refused_naming_the_parameter(client, catalog, query, parameter):
    problem(client.get(f"{LIST}?{query}"), 400, parameter)


@pytest.mark.parametrize(("query", "parameter"), [
    ("x=1&x=2", "x"), ("limit=9999", "limit"), ("cursor=abc", "cursor"), ("q=", "q")])
def test_one_row_takes_no_parameters(client, catalog, query, parameter):
    """As the other addresses that take none: a parameter is refused, not ignored."""
    problem(client.get(f"{LIST}/{catalog.hub.id}?{query}"), 400, parameter)
    assert client.get(f"{LIST}/{catalog.hub.id}").status_code == 200


def test_a_cursor_is_bound_to_its_sort_and_cannot_be_forged(client, app, make_row):
    for _ in range(3):
        publish(make_row())
    db.session.commit()
    following = client.get(f"{LIST}?limit=1").get_json()["next"]
    token = following.split("cursor=")[1].split("&")[0]
    problem(client.get(f"{LIST}?limit=1&sort=ttft&cursor={token}"), 400, "cursor")
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    problem(client.get(f"{LIST}?limit=1&cursor={forged}"), 400, "cursor")
    # a cursor signed with another key (another site, or a guessed secret) is refused too
    from itsdangerous import URLSafeSerializer
    other = URLSafeSerializer("another-secret", salt="trustbench.api-cursor.v1").dumps(
        {"s": "decode", "k": [1e308, 2**62]})
    problem(client.get(f"{LIST}?cursor={other}"), 400, "cursor")


def test_a_cursor_is_bound_to_the_filters_it_was_made_under(client, make_row):
    """A cursor from one list carried to a filtered one used to be taken, silently
    skipping that list's rows before its key (its total still counting them)."""
    slow = [publish(make_row(model="gemma-2-9b-it", runs=((250.0, 512, 30.0 + i),) * 3))
            for i in range(3)]
    fast = [publish(make_row(runs=((250.0, 512, 300.0 + i),) * 3)) for i in range(3)]
    db.session.commit()
    unfiltered = client.get(f"{LIST}?limit=4").get_json()
    token = unfiltered["next"].split("cursor=")[1].split("&")[0]
    refused = problem(client.get(f"{LIST}?limit=4&model=gemma-2-9b-it&cursor={token}"), 400,
                      "cursor")
    assert "these filters" in refused["detail"]
    problem(client.get(f"{LIST}?limit=4&q=gemma&cursor={token}"), 400, "cursor")
    problem(client.get(f"{LIST}?limit=4&stale=true&cursor={token}"), 400, "cursor")
    # within its own list it walks on; a filtered list's cursor walks that list
    rest = client.get(f"{LIST}?limit=4&cursor={token}").get_json()
    assert [item["id"] for item in unfiltered["items"] + rest["items"]] == [
        row.id for row in [*reversed(fast), *reversed(slow)]]
    first = client.get(f"{LIST}?limit=2&model=gemma-2-9b-it").get_json()
    token = first["next"].split("cursor=")[1].split("&")[0]
    second = client.get(f"{LIST}?limit=2&model=gemma-2-9b-it&cursor={token}").get_json()
    assert [item["id"] for item in first["items"] + second["items"]] == [
        row.id for row in reversed(slow)]
    problem(client.get(f"{LIST}?limit=2&cursor={token}"), 400, "cursor")


def test_control_characters_are_a_problem_not_a_page(client, catalog):
    problem(client.get(f"{LIST}?hardware=rtx%00"), 400)
    problem(client.get(f"{LIST}?cursor=%01abc"), 400)


# --- one row -----------------------------------------------------------------------------


def test_one_row_carries_its_evidence_and_reasons(client, catalog):
    hub = catalog.hub
    response = client.get(f"/api/v1/benchmarks/{hub.id}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == hub.id and body["summary"]["id"] == hub.id
    assert body["operator"] == "origin-olga"
    assert body["operator_url"] == "https://olga.example/bench"
    assert {fact["label"] for fact in body["build_context"]} >= {"Model", "Hardware", "Seed"}
    assert [run["position"] for run in body["runs"]] == [1, 2, 3]
    assert [spread["limit"] for spread in body["spreads"]] == [rules.SPREAD_LIMIT] * 2
    assert body["badge"]["value"] == Badge.INDEPENDENT.value
    assert body["badge"]["independent_operators"] == 3
    assert body["badge"]["explanation"] == Badge.INDEPENDENT.explanation
    assert body["tier"]["reasons"] and all(isinstance(r, str) for r in body["tier"]["reasons"])
    assert body["ceiling"]["ceiling_tps"] > body["summary"]["medians"]["decode_tps"]
    assert body["ceiling"]["share_of_ceiling"] == body["summary"]["share_of_ceiling"]
    assert body["provenance"]["kind"] == "typed" and body["provenance"]["text"]
    assert body["rule_set"] == rules.RULE_SET_VERSION
    reproductions = {r["operator"]: r for r in body["reproductions"]}
    assert set(reproductions) == {"ringo", "paula", None}
    ringo = reproductions["ringo"]
    assert ringo["ring"] == "inner" and ringo["band"] == "within"
    assert ringo["divergence"]["decode"] > 0  # faster than the original: positive
    assert ringo["divergence"]["ttft"] < 0  # a quicker first token: negative
    assert ringo["divergence"]["worst"] == max(abs(ringo["divergence"]["decode"]),
                                               abs(ringo["divergence"]["ttft"]))
    assert reproductions["paula"]["ring"] == "outer"


def test_a_fragment_and_its_origin_point_at_each_other(client, catalog, make_row):
    fragment = publish(make_row(kind=Kind.REPRODUCTION, state=State.APPROVED, hub=catalog.hub,
                                runs=((250.0, 512, 80.0),) * 3))
    db.session.commit()
    hub = client.get(f"/api/v1/benchmarks/{catalog.hub.id}").get_json()
    assert {"id": fragment.id, "relation": "fragment"}.items() <= hub["related"][0].items()
    row = client.get(f"/api/v1/benchmarks/{fragment.id}").get_json()
    assert row["related"][0]["id"] == catalog.hub.id
    assert row["related"][0]["relation"] == "origin"


@pytest.mark.parametrize("path", ["/api/v1/benchmarks/0", "/api/v1/benchmarks/99999999999",
                                  "/api/v1/benchmarks/-3", "/api/v1/benchmarks/abc",
                                  "/api/v1/nothing-here"])
def test_unknown_addresses_are_404_problems(client, catalog, path):
    problem(client.get(path), 404)


def test_private_rows_are_404(client, catalog):
    for row in catalog.private + catalog.clean_reproductions:
        problem(client.get(f"/api/v1/benchmarks/{row.id}"), 404)


def test_other_methods_are_405_problems_with_allow(client, catalog):
    response = client.post(LIST)
    problem(response, 405)
    assert "GET" in response.headers["Allow"]
    assert "Access-Control-Allow-Origin" not in response.headers


# --- reference lists, operators, rules ---------------------------------------------------


def test_hardware_and_models_count_public_rows(client, catalog):
    hardware = {item["slug"]: item for item in client.get("/api/v1/hardware").get_json()["items"]}
    assert hardware["rtx-4090"]["rows"] == 1 and hardware["rtx-3090"]["rows"] == 1
    assert hardware["rtx-4090"]["urls"]["html"] == "http://localhost/hardware/rtx-4090"
    models = {item["slug"]: item for item in client.get("/api/v1/models").get_json()["items"]}
    assert models["llama-3.1-8b-instruct"]["rows"] == 2
    problem(client.get("/api/v1/hardware?limit=5"), 400, "limit")


def test_operators_are_the_handled_ones_paged(client, catalog):
    body = client.get("/api/v1/operators?limit=1").get_json()
    assert len(body["items"]) == 1 and body["next"]
    items = walk(client, "/api/v1/operators?limit=1")
    assert {item["handle"] for item in items} == {"ringo", "paula"}
    assert all(item["recent"][0]["id"] == catalog.hub.id for item in items)
    problem(client.get("/api/v1/operators?cursor=abc"), 400, "cursor")


def test_rules_come_from_the_rules_module(client):
    body = client.get("/api/v1/rules").get_json()
    assert body["version"] == rules.RULE_SET_VERSION
    assert body["divergence"]["tolerance"] == rules.TOLERANCE
    assert body["measurement"]["spread_limit"] == rules.SPREAD_LIMIT
    assert body["confidence"]["stale_days"] == rules.STALE_DAYS
    assert [badge["value"] for badge in body["badges"]] == [badge.value for badge in Badge]


# --- validators and CORS -----------------------------------------------------------------


@pytest.mark.parametrize("path", [LIST, "/api/v1/rules", "/api/v1/hardware",
                                  "/api/v1/openapi.json", "/api/v1/operators"])
def test_etag_and_304(client, catalog, path):
    first = client.get(path)
    assert first.status_code == 200 and first.headers["ETag"]
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    other = client.get(path, headers={"If-None-Match": 'W/"something-else"'})
    assert other.status_code == 200


def test_etag_moves_when_the_data_does(client, catalog, make_row):
    before = client.get(LIST).headers["ETag"]
    publish(make_row(hardware="rtx-3090"))
    db.session.commit()
    after = client.get(LIST, headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["ETag"] != before


def test_cors_only_on_the_api(client, catalog):
    assert "Access-Control-Allow-Origin" not in client.get("/").headers
    assert "Access-Control-Allow-Origin" not in client.get("/api").headers
    assert client.get("/api/v1/nothing").headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in client.post("/api/v1/rules").headers


@pytest.mark.parametrize("path", [LIST, f"{LIST}/1", "/api/v1/hardware", "/api/v1/rules"])
def test_a_cross_site_revalidation_passes_the_browsers_preflight(client, catalog, path):
    """A script on another site sending If-None-Match (as /api invites) makes the browser
    send an OPTIONS preflight first; without these answers it blocked the request."""
    response = client.options(path, headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "if-none-match" in response.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Origin" not in client.options("/", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET"}).headers


def test_errors_elsewhere_stay_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


# --- the document and the page -----------------------------------------------------------


def test_openapi_document_lists_every_endpoint_with_its_constraints(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    routed = {rule.rule.replace("<int:benchmark_id>", "{benchmark_id}")
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    assert set(document["paths"]) == routed
    parameters = {p["name"]: p for p in document["paths"][LIST]["get"]["parameters"]}
    assert parameters["limit"]["schema"]["minimum"] == 1
    assert parameters["limit"]["schema"]["maximum"] == 100
    assert set(parameters["sort"]["schema"]["enum"]) >= {"decode", "ttft", "newest"}
    assert parameters["badge"]["schema"]["enum"] == [badge.value for badge in Badge]
    assert "rtx-4090" in parameters["hardware"]["schema"]["enum"]
    schemas = document["components"]["schemas"]
    assert {"Problem", "BenchmarkList", "BenchmarkDetail", "Rules"} <= set(schemas)
    assert set(schemas["Problem"]["required"]) >= {"title", "status", "detail"}
    error = document["paths"][LIST]["get"]["responses"]["400"]
    assert error["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"}


def test_api_page_is_rendered_from_the_document(client, catalog):
    response = client.get("/api")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    html5lib.HTMLParser(strict=False).parse(page)
    document = client.get("/api/v1/openapi.json").get_json()
    for path in document["paths"]:
        assert f"GET {path}" in page
    assert "stricter" in page.lower() and "curl -s" in page
    assert "<script>" not in page and " style=" not in page
    assert "csrf-token" not in page and "Set-Cookie" not in response.headers
    assert 'href="/api"' in client.get("/").get_data(as_text=True)


def test_a_database_that_cannot_be_reached_is_a_503_problem(client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from webapp.blueprints import api

    def unreachable(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("could not connect to server"))

    monkeypatch.setattr(api.build, "hardware_list", unreachable)
    response = client.get("/api/v1/hardware")
    problem(response, 503)
    assert response.headers["Retry-After"]


def test_an_unexpected_error_is_a_500_problem_not_a_page(client, monkeypatch):
    from webapp.blueprints import api

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(api.build, "rule_set", broken)
    body = problem(client.get("/api/v1/rules"), 500)
    assert "a bug" not in body["detail"]
