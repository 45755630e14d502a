"""Public, read-only pages: the catalog, a row's detail, hardware, models, operators, rules."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
)

from webapp.extensions import db
from webapp.models import utcnow
from webapp.services import catalog as queries
from webapp.services import labels, rules
from webapp.web.htmx import wants_fragment
from webapp.web.page_cache import shared_page

bp = Blueprint("public", __name__)

# name in the URL -> (template, page title)
RESOURCES = {
    "reproduction-guide": ("public/resources/reproduction_guide.html",
                           "How to reproduce a benchmark"),
    "verification-policy": ("public/resources/verification_policy.html",
                            "Verification policy"),
    "confidence-methodology": ("public/resources/confidence_methodology.html",
                               "Confidence methodology"),
}

bp.add_app_template_filter(labels.number, "number")
bp.add_app_template_filter(rules.percent, "percent")


def _per_page() -> int:
    return int(current_app.config["PER_PAGE"])


def _show_demo_banner(shown: bool) -> None:
    if shown:
        g.demo_data_shown = True


@bp.get("/")
@shared_page
def catalog() -> Response:
    query, notices = queries.parse_catalog_query(request.args)
    page = queries.catalog_page(db.session, query, notices, now=utcnow(),
                                per_page=_per_page())
    _show_demo_banner(page.demo_shown)
    template = "public/_catalog_table.html" if wants_fragment() else "public/catalog.html"
    response = make_response(render_template(template, page=page, rules=rules))
    response.vary.add("HX-Request")
    return response


@bp.get("/benchmarks/<int:benchmark_id>")
@shared_page
def detail(benchmark_id: int) -> str:
    found = queries.detail(db.session, benchmark_id, now=utcnow())
    if found is None:
        abort(404)
    _show_demo_banner(found.demo_shown)
    return render_template("public/detail.html", detail=found, rules=rules)


@bp.get("/hardware/<slug>")
@shared_page
def hardware(slug: str) -> str:
    found = queries.hardware_page(db.session, slug, queries.page_number(request.args),
                                  now=utcnow(), per_page=_per_page())
    if found is None:
        abort(404)
    _show_demo_banner(found.demo_shown)
    return render_template("public/hardware.html", page=found, rules=rules)


@bp.get("/models/<slug>")
@shared_page
def model(slug: str) -> str:
    found = queries.model_page(db.session, slug, queries.page_number(request.args),
                               now=utcnow(), per_page=_per_page())
    if found is None:
        abort(404)
    _show_demo_banner(found.demo_shown)
    return render_template("public/model.html", page=found, rules=rules)


@bp.get("/operators")
@shared_page
def operators() -> str:
    found = queries.operators_page(db.session, queries.page_number(request.args),
                                   per_page=_per_page())
    _show_demo_banner(found.demo_shown)
    return render_template("public/operators.html", page=found)


@bp.get("/resources/<name>")
@shared_page
def resource(name: str) -> str:
    if name not in RESOURCES:
        abort(404)
    template, title = RESOURCES[name]
    return render_template(template, title=title, rules=rules, resources=RESOURCES)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")
