"""The OpenAPI 3.1 document, generated: schemas from the response models (models.py),
operations from the descriptions the blueprint declares beside each view.

Nothing here is written twice: a parameter's constraints come from the same constants
the query parser enforces (limit bounds, the sorts, badges and tiers, the slug lists of
the reference data), a response's schema from the model the view serialises.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from webapp.services.api import models
from webapp.services.api.query import CURSOR_MAX_LENGTH, LIMIT_DEFAULT, LIMIT_MAX, STALE_VALUES
from webapp.services.catalog import (
    SEARCH_MAX_LENGTH,
    SEARCH_MAX_WORDS,
    SLUG_PATTERN,
    FilterOptions,
)
from webapp.services.rules import RULE_SET_VERSION, Badge, Tier
from webapp.services.sorting import Sort

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
PROBLEM_MEDIA_TYPE = "application/problem+json"
JSON_MEDIA_TYPE = "application/json"
# Every operation may answer these; their bodies are Problems.
ERROR_STATUSES = {
    400: "A parameter's value was refused; “parameter” names it.",
    404: "Nothing public at this address.",
    405: "Only GET (and HEAD) are answered here.",
    429: "Too many requests; wait and try again.",
    503: "The database cannot be reached just now; try again shortly.",
}


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str  # "query" | "path"
    schema: dict[str, Any]
    description: str
    required: bool = False
    example: str | None = None

    def as_openapi(self) -> dict[str, Any]:
        described: dict[str, Any] = {"name": self.name, "in": self.where,
                                     "required": self.required or self.where == "path",
                                     "description": self.description, "schema": self.schema}
        if self.example is not None:
            described["example"] = self.example
        return described


Parameters = Callable[[FilterOptions], tuple[Parameter, ...]]


def no_parameters(_options: FilterOptions) -> tuple[Parameter, ...]:
    return ()


@dataclass(frozen=True)
class Operation:
    """One GET endpoint, as the document describes it."""

    path: str  # OpenAPI form: /api/v1/benchmarks/{benchmark_id}
    operation_id: str
    summary: str
    description: str
    response: type[BaseModel] | None  # None: a free-form JSON object (the document itself)
    parameters: Parameters = no_parameters
    examples: tuple[str, ...] = field(default_factory=tuple)


# --- the parameters ------------------------------------------------------------------------


def _enum(values: Iterable[str]) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def paged_parameters(_options: FilterOptions) -> tuple[Parameter, ...]:
    return (
        Parameter("limit", "query",
                  {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX,
                   "default": LIMIT_DEFAULT},
                  f"Items per page, 1 to {LIMIT_MAX}."),
        Parameter("cursor", "query",
                  {"type": "string", "minLength": 1, "maxLength": CURSOR_MAX_LENGTH},
                  "Opaque: copy it from the previous page's “next” link, never build it."),
    )


def list_parameters(options: FilterOptions) -> tuple[Parameter, ...]:
    """The catalog's own query string, plus `limit` and `cursor`."""
    def slugs(choices) -> dict[str, Any]:
        return {**_enum(choice.slug for choice in choices), "pattern": SLUG_PATTERN}

    return (
        Parameter("q", "query",
                  {"type": "string", "minLength": 1, "maxLength": SEARCH_MAX_LENGTH},
                  f"Text search, as the catalog's search box: at most {SEARCH_MAX_WORDS} "
                  "words, each of which must appear in the row's model, hardware or runtime "
                  "name (in any case; “%” and “_” match themselves).",
                  example="llama 4090"),
        Parameter("model", "query", slugs(options.models), "A model's slug.",
                  example=options.models[0].slug if options.models else None),
        Parameter("hardware", "query", slugs(options.hardware), "A hardware entry's slug.",
                  example=options.hardware[0].slug if options.hardware else None),
        Parameter("quant", "query", slugs(options.quants), "A quant's slug."),
        Parameter("runtime", "query", slugs(options.runtimes), "A runtime's slug."),
        Parameter("badge", "query", _enum(badge.value for badge in Badge), "Trust badge."),
        Parameter("tier", "query", _enum(tier.value for tier in Tier), "Confidence tier."),
        Parameter("sort", "query", {**_enum(sort.value for sort in Sort),
                                    "default": Sort.DECODE.value},
                  "; ".join(f"{sort.value}: {sort.label}" for sort in Sort) + "."),
        Parameter("stale", "query", {**_enum(STALE_VALUES), "default": "false"},
                  "Include rows whose newest accepted measurement is over 18 months old."),
        *paged_parameters(options),
    )


def path_id(name: str, maximum: int) -> Parameters:
    def parameters(_options: FilterOptions) -> tuple[Parameter, ...]:
        return (Parameter(name, "path", {"type": "integer", "minimum": 1, "maximum": maximum},
                          "A public row's id.", required=True),)

    return parameters


# --- the document --------------------------------------------------------------------------


def _schemas(operations: Iterable[Operation]) -> dict[str, Any]:
    wanted = {models.Problem, *(op.response for op in operations if op.response is not None)}
    return _schemas_of(tuple(sorted(wanted, key=lambda m: m.__name__)))


@functools.cache
def _schemas_of(wanted: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    """The JSON schemas of the response models, which are code: generated once per process
    (generating them was most of the /api page's time, about 10 ms a render). Every
    document shares these dicts: nothing writes to them (it is read and serialised)."""
    _refs, definitions = models_json_schema([(model, "serialization") for model in wanted],
                                            ref_template=REF)
    return definitions.get("$defs", {})


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _responses(operation: Operation) -> dict[str, Any]:
    body = _ref(operation.response) if operation.response is not None else {"type": "object"}
    responses: dict[str, Any] = {
        "200": {"description": "OK",
                "headers": {"ETag": {"schema": {"type": "string"},
                                     "description": "Send it back in If-None-Match."}},
                "content": {JSON_MEDIA_TYPE: {"schema": body}}},
        "304": {"description": "Not modified: your copy (If-None-Match) is current."},
    }
    for status, text in ERROR_STATUSES.items():
        responses[str(status)] = {"description": text,
                                  "content": {PROBLEM_MEDIA_TYPE: {"schema": _ref(models.Problem)}}}
    return responses


def document(operations: Iterable[Operation], options: FilterOptions, *,
             server: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `operations`; `server` is the site's mount point."""
    operations = list(operations)
    paths: dict[str, Any] = {}
    for operation in operations:
        paths[operation.path] = {"get": {
            "operationId": operation.operation_id,
            "summary": operation.summary,
            "description": operation.description,
            "parameters": [p.as_openapi() for p in operation.parameters(options)],
            "responses": _responses(operation),
        }}
    described: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Trustbench API",
            "version": API_VERSION,
            "description": (
                "Read-only JSON for the public rows of Trustbench, under rule set "
                f"{RULE_SET_VERSION}. Only approved-public rows and the fields their pages "
                "show. Errors are application/problem+json (RFC 9457)."),
            "license": {"name": "CC-BY-4.0", "identifier": "CC-BY-4.0"},
        },
        "paths": paths,
        "components": {"schemas": _schemas(operations)},
    }
    if server:  # mounted under a prefix; at the root the paths stand as they are
        described["servers"] = [{"url": server}]
    return described
