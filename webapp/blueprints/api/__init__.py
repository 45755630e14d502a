"""The read-only JSON API under /api/v1/, and /api, its page for people.

Each view is declared with `endpoint(...)`, which routes it and describes it for the
OpenAPI document in the same breath: the document (and the /api page rendered from it)
can only list what is routed. Views parse strictly (services/api/query), call the
catalog's own services through services/api/build, and serialise the response models.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import pydantic_core
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from pydantic import BaseModel

from webapp.errors import problem_response
from webapp.extensions import db
from webapp.models import utcnow
from webapp.services.api import build, cursor, models, openapi
from webapp.services.api.query import ParameterError, parse_list, parse_paged
from webapp.services.catalog import filter_options, select_rows
from webapp.services.detail import MAX_ID
from webapp.services.page_memo import worker_memos
from webapp.web.page_cache import shared_page

bp = Blueprint("api", __name__)

PREFIX = "/api/v1"
JSON = "application/json; charset=utf-8"
OPERATIONS: list[openapi.Operation] = []
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def endpoint(rule: str, *, summary: str, description: str,
             response: type[BaseModel] | None,
             parameters: openapi.Parameters = openapi.no_parameters,
             examples: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Route a GET view under PREFIX and describe it in the OpenAPI document."""

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        OPERATIONS.append(openapi.Operation(
            path=PREFIX + _CONVERTER.sub(r"{\1}", rule), operation_id=view.__name__,
            summary=summary, description=description, response=response,
            parameters=parameters, examples=examples))
        return bp.get(PREFIX + rule)(view)

    return register


# An id no row has, standing in for a row's id: a page of rows builds each row's address
# around it (url_for twice per row cost more than the row's own data).
_ID_MARK = str(987_654_321)


def _around_id(endpoint: str) -> tuple[str, str]:
    """The absolute address of `endpoint` for a row, before and after the row's id."""
    head, _, tail = url_for(endpoint, benchmark_id=_ID_MARK, _external=True).partition(_ID_MARK)
    return head, tail


class _Links:
    """Absolute URLs for the response models."""

    def __init__(self) -> None:
        self._html: tuple[str, str] | None = None
        self._api: tuple[str, str] | None = None

    def benchmark(self, benchmark_id: int) -> dict[str, str]:
        # A plain dict: the answer's model validates it with the rest of the page, where
        # a Urls built per row of a list of 100 cost a model construction each.
        if self._html is None or self._api is None:
            self._html, self._api = _around_id("public.detail"), _around_id("api.benchmark")
        return {"html": f"{self._html[0]}{benchmark_id}{self._html[1]}",
                "api": f"{self._api[0]}{benchmark_id}{self._api[1]}"}

    def hardware(self, slug: str) -> models.Urls:
        return models.Urls(html=url_for("public.hardware", slug=slug, _external=True),
                           api=url_for("api.benchmarks", hardware=slug, _external=True))

    def model(self, slug: str) -> models.Urls:
        return models.Urls(html=url_for("public.model", slug=slug, _external=True),
                           api=url_for("api.benchmarks", model=slug, _external=True))

    def next_page(self, token: str) -> str:
        args = {**request.args.to_dict(), "cursor": token}
        return url_for(request.endpoint or "api.benchmarks", **(request.view_args or {}),
                       **args, _external=True)


def _json(model: BaseModel | dict[str, Any]) -> Response:
    body = (model.model_dump_json() if isinstance(model, BaseModel)
            else current_app.json.dumps(model))
    return Response(body, content_type=JSON)


def _json_fields(fields: dict[str, Any], model: type[BaseModel]) -> Response:
    """`fields` of `model`, built by services.api.build from the database and sent without
    validation (a page of 100 rows validated cost more than its queries), written by
    pydantic's encoder, the one model_dump_json uses (dates, enums, floats alike). Under
    TESTING they are validated first and must write the same, so a field that drifted
    from the model fails every test of that answer."""
    body = pydantic_core.to_json(fields)
    if current_app.testing:
        checked = model.model_validate(fields).model_dump_json().encode()
        if checked != body:
            raise AssertionError(f"{model.__name__}: the fields sent differ from the model")
    return Response(body, content_type=JSON)


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _refused(error: ParameterError) -> Response:
    return problem_response(400, "Bad Request", error.detail, parameter=error.parameter)


def _bad_cursor() -> Response:
    return _refused(ParameterError(
        "cursor", "“cursor” is not one this site gave out for this sort and these filters; "
                  "follow the “next” link of the previous page (a cursor belongs to the list "
                  "it came from)."))


@bp.after_app_request
def _validators(response: Response) -> Response:
    """An ETag on every API response (a hash of its body), and 304 for a matching
    If-None-Match. Weak, because the same body may be sent compressed."""
    if not request.path.startswith("/api/") or response.direct_passthrough:
        return response
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32], weak=True)
    response.cache_control.public = True
    response.cache_control.no_cache = True
    if response.status_code == 200:
        return response.make_conditional(request)
    return response


@endpoint("/benchmarks", response=models.BenchmarkList,
          summary="Public benchmark rows, filtered and sorted as the catalog does",
          description=(
              "The catalog's search, filters and sorts, by the same names as the "
              "catalog's query string: the same rows in the same order. Pages are cut by "
              "a cursor: follow “next” until it is null. Unlike the HTML catalog, which "
              "drops a bad value with a notice, the API refuses it: 400 with a problem "
              "naming the parameter."),
          parameters=openapi.list_parameters,
          examples=(f"{PREFIX}/benchmarks?hardware=rtx-4090&sort=ttft&limit=10",
                    f"{PREFIX}/benchmarks?q=llama+4090",
                    f"{PREFIX}/benchmarks?badge=independently-reproduced&stale=true"))
def benchmarks() -> Response:
    now = utcnow()  # one moment for the filters (stale, tier) and the badges shown
    try:
        asked = parse_list(dict(request.args.lists()), filter_options(db.session))
        selection = select_rows(db.session, asked.query, (), now=now)
        found = build.benchmark_list(db.session, selection, asked, now=now,
                                     secret=_secret(), links=_Links(),
                                     memos=worker_memos(current_app.extensions))
    except ParameterError as error:
        return _refused(error)
    except cursor.InvalidCursor:
        return _bad_cursor()
    return _json_fields(found, models.BenchmarkList)


@endpoint("/benchmarks/<int:benchmark_id>", response=models.BenchmarkDetail,
          summary="One public row: numbers, evidence and how they were derived",
          description=(
              "Build context, timed runs, medians and spread, badge and tier with the "
              "reasons they were derived from, the bandwidth ceiling and the share of it, "
              "clean reproductions with ring, band and signed divergence, related rows, "
              "and how the numbers got there. 404 when the row is not public."),
          parameters=openapi.path_id("benchmark_id", MAX_ID),
          examples=(f"{PREFIX}/benchmarks/1",))
def benchmark(benchmark_id: int) -> Response:
    try:
        _no_parameters()
    except ParameterError as error:
        return _refused(error)
    found = build.benchmark_detail(db.session, benchmark_id, now=utcnow(), links=_Links())
    if found is None:
        abort(404)
    return _json(found)


@endpoint("/hardware", response=models.HardwareList,
          summary="The hardware list, with each entry's count of public rows",
          description="Every hardware entry of the reference list (it is short: one page).",
          examples=(f"{PREFIX}/hardware",))
def hardware() -> Response:
    try:
        _no_parameters()
    except ParameterError as error:
        return _refused(error)
    return _json(build.hardware_list(db.session, _Links()))


@endpoint("/models", response=models.ModelList,
          summary="The model list, with each model's count of public rows",
          description="Every model of the reference list (it is short: one page).",
          examples=(f"{PREFIX}/models",))
def model_list() -> Response:
    try:
        _no_parameters()
    except ParameterError as error:
        return _refused(error)
    return _json(build.model_list(db.session, _Links()))


@endpoint("/operators", response=models.OperatorList,
          summary="Operators who gave a handle, with the public rows they reproduced",
          description=("Ranked as the operators page ranks them: by public rows reproduced. "
                       "Anonymous operators are never listed."),
          parameters=openapi.paged_parameters,
          examples=(f"{PREFIX}/operators?limit=50",))
def operators() -> Response:
    try:
        asked = parse_paged(dict(request.args.lists()))
        found = build.operator_list(db.session, asked, secret=_secret(), links=_Links())
    except ParameterError as error:
        return _refused(error)
    except cursor.InvalidCursor:
        return _bad_cursor()
    return _json(found)


@endpoint("/rules", response=models.Rules,
          summary="The rule set: its version and every threshold",
          description="From the same constants the site decides with (services/rules.py).",
          examples=(f"{PREFIX}/rules",))
def rules() -> Response:
    try:
        _no_parameters()
    except ParameterError as error:
        return _refused(error)
    return _json(build.rule_set())


@endpoint("/openapi.json", response=None,
          summary="This document: OpenAPI 3.1",
          description="Generated from the response models the views serialise with.",
          examples=(f"{PREFIX}/openapi.json",))
def openapi_document() -> Response:
    try:
        _no_parameters()
    except ParameterError as error:
        return _refused(error)
    return _json(_document())


def _no_parameters() -> None:
    for name in request.args:
        raise ParameterError(name[:40], f"This address takes no parameters (“{name[:40]}”).")


def _document() -> dict[str, Any]:
    return openapi.document(OPERATIONS, filter_options(db.session),
                            server=request.script_root)


@bp.get("/api")
@shared_page
def docs() -> str:
    """The API described for people, rendered on the server from the OpenAPI document
    (which lists the filters' slugs: a shared page, its ETag moving with the data)."""
    return render_template("api/index.html", document=_document(), operations=OPERATIONS,
                           base=request.host_url.rstrip("/"))
