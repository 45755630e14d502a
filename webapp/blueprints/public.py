"""Public, read-only pages: the catalog, a row's detail, hardware, models, operators, rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache, partial
from typing import Protocol
from urllib.parse import quote_plus

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from webapp.extensions import database_problem, db
from webapp.models import utcnow
from webapp.services import labels, network, reference_pages, rules, runner_file
from webapp.services.catalog import (
    QUERY_ARGS,
    catalog_page,
    is_canonical,
    parse_catalog_query,
)
from webapp.services.detail import detail as benchmark_detail
from webapp.services.operators import operators_page
from webapp.services.page_memo import worker_memos
from webapp.services.paging import page_number
from webapp.services.reference_index import IndexPage, hardware_index_page, models_index_page
from webapp.web.htmx import FRAGMENT_HEADERS, wants_fragment
from webapp.web.page_cache import not_stored, shared_page
from webapp.web.vary import add_vary

bp = Blueprint("public", __name__)

# name in the URL -> (template, page title)
RESOURCES = {
    "reproduction-guide": ("public/resources/reproduction_guide.html",
                           "How to reproduce a benchmark"),
    "verification-policy": ("public/resources/verification_policy.html",
                            "Verification policy"),
    "confidence-methodology": ("public/resources/confidence_methodology.html",
                               "Confidence methodology"),
    "reproduction-network": ("public/resources/reproduction_network.html",
                             "Reproduction network"),
}

bp.add_app_template_filter(labels.number, "number")
bp.add_app_template_filter(rules.percent, "percent")


@bp.app_template_filter("day")
def _day(moment: datetime) -> str:
    """A moment's date as YYYY-MM-DD (a filter: cheaper per row than two method calls)."""
    return moment.date().isoformat()


def _per_page() -> int:
    return int(current_app.config["PER_PAGE"])


def _show_demo_banner(shown: bool) -> None:
    if shown:
        g.demo_data_shown = True


class _Shown(Protocol):
    @property
    def demo_shown(self) -> bool: ...


def _paged(template: str, find: Callable[..., _Shown | None]) -> str | Response:
    """A paged page: `find(page, per_page=…)` gives what it shows, or None for a 404.

    One spelling per page, as the catalog's: a page number that is not the page's own
    (0, negative, junk, 1, given twice) redirects to the address without it or with the
    page it means."""
    page = page_number(request.args)
    respelled = _respelled_page(page)
    if respelled is not None:
        return respelled
    found = find(page, per_page=_per_page())
    if found is None:
        abort(404)
    _show_demo_banner(found.demo_shown)
    return render_template(template, page=found, rules=rules)


def _respelled_page(page: int) -> Response | None:
    """A 301 to the page's own spelling when the query string spells `page` otherwise
    (0, negative, junk, 1, 02, given twice); None when it is already the page's own."""
    if request.args.getlist("page") == ([str(page)] if page > 1 else []):
        return None
    return redirect(url_for(str(request.endpoint), **(request.view_args or {}),
                            page=page if page > 1 else None), 301)


# werkzeug's own query encoding (what url_for writes after the path), so that an address
# built by QueryHrefs reads exactly as url_for spells it.
_QUERY_SAFE = "!$'()*,/:;?@"


@lru_cache(maxsize=4096)
def _quoted(text: str) -> str:
    """One name or value as urlencode(…, safe=_QUERY_SAFE) writes it. A catalog page
    writes the same few slugs, sorts and page numbers into some twenty links."""
    return quote_plus(text, safe=_QUERY_SAFE)


class QueryHrefs:
    """href(endpoint, args): url_for(endpoint, **args) for endpoints without path
    arguments, with one url_for per endpoint. A catalog page links itself and its exports
    some twenty times, differing only in the query string."""

    def __init__(self) -> None:
        self._paths: dict[str, str] = {}

    def __call__(self, endpoint: str, args: Mapping[str, object]) -> str:
        path = self._paths.get(endpoint)
        if path is None:
            path = self._paths[endpoint] = url_for(endpoint)
        query = "&".join(f"{_quoted(str(name))}={_quoted(str(value))}"
                         for name, value in args.items() if value is not None)
        return f"{path}?{query}" if query else path


@bp.get("/")
@shared_page(params=QUERY_ARGS)
def catalog() -> Response:
    query, notices = parse_catalog_query(request.args)
    if not notices and not is_canonical(query, request.args.items(multi=True)):
        # One spelling per view: empty fields, defaults and unknown names dropped, in
        # CatalogQuery.args() order (shared URLs and the page store's keys).
        return redirect(url_for("public.catalog", **query.args()), 301)
    memos = worker_memos(current_app.extensions)
    page = catalog_page(db.session, query, notices, now=utcnow(), per_page=_per_page(),
                        memos=memos)
    if notices or page.rows.pagination.page != query.page:
        not_stored()  # a value dropped, or a page past the last: not this page's address
    _show_demo_banner(page.demo_shown)
    template = "public/_catalog_table.html" if wants_fragment() else "public/catalog.html"
    response = make_response(render_template(template, page=page, rules=rules,
                                              query_href=QueryHrefs()))
    add_vary(response, *FRAGMENT_HEADERS)
    return response


@bp.get("/benchmarks/<int:benchmark_id>")
@shared_page(params=("page",))
def detail(benchmark_id: int) -> str | Response:
    """A row's page; `page` pages its reproductions (past the last one: the last, its
    canonical link naming it, as every paged page; a page number spelled otherwise than
    the page's own: redirected)."""
    page = page_number(request.args)
    respelled = _respelled_page(page)
    if respelled is not None:
        return respelled
    found = benchmark_detail(db.session, benchmark_id, now=utcnow(), page=page)
    if found is None:
        abort(404)
    _show_demo_banner(found.demo_shown)
    return render_template("public/detail.html", detail=found, rules=rules,
                           reproductions_href=_reproductions_href)


@bp.get("/hardware")
@shared_page
def hardware_index() -> str:
    return _index_page("public/hardware_index.html", hardware_index_page)


@bp.get("/models")
@shared_page
def models_index() -> str:
    return _index_page("public/models_index.html", models_index_page)


def _index_page(template: str, find: Callable[..., IndexPage]) -> str:
    found = find(db.session)
    _show_demo_banner(found.demo_shown)
    return render_template(template, page=found)


@bp.get("/hardware/<slug>")
@shared_page(params=("page",))
def hardware(slug: str) -> str | Response:
    return _paged("public/hardware.html", partial(
        reference_pages.reference_page, db.session, reference_pages.HARDWARE, slug, now=utcnow()))


@bp.get("/models/<slug>")
@shared_page(params=("page",))
def model(slug: str) -> str | Response:
    return _paged("public/model.html", partial(
        reference_pages.reference_page, db.session, reference_pages.MODEL, slug, now=utcnow()))


@bp.get("/operators")
@shared_page(params=("page",))
def operators() -> str | Response:
    return _paged("public/operators.html", partial(operators_page, db.session))


@bp.get("/resources/<name>")
@shared_page
def resource(name: str) -> str:
    if name not in RESOURCES:
        abort(404)
    template, title = RESOURCES[name]
    live = {}
    if name == "reproduction-network":  # the one resource drawn from live data
        live["network"] = network.network_page(db.session, now=utcnow())
        _show_demo_banner(live["network"].demo_shown)
    return render_template(template, title=title, rules=rules, resources=RESOURCES,
                           runner=runner_file.served(), **live)


@bp.get("/measure.py")
def measure() -> Response:
    """The runner operators download (trustbench_measure.py), as the guide's sha256 says."""
    served = runner_file.served()
    if served is None:
        abort(404)
    response = Response(served.data, content_type="text/x-python; charset=utf-8")
    # Inline: an operator can read the code in the browser before running it; a saved
    # copy (the guide's download link, `curl -O`-style tools) takes the file's own name.
    response.headers["Content-Disposition"] = f"inline; filename={runner_file.FILENAME}"
    response.set_etag(served.etag)
    response.cache_control.public = True
    response.cache_control.no_cache = True  # revalidate: a new release shows at once
    return response.make_conditional(request)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness, and the database: 503 naming what is wrong when it cannot be reached or
    written (a read-only file or mount, a full disk, a server that is down)."""
    problem = database_problem()
    if problem:
        return jsonify(status="unavailable", database=problem), 503
    return jsonify(status="ok")


@bp.get("/hardware/<slug>/configurations")
@shared_page(params=("page",))
def hardware_configurations(slug: str) -> str | Response:
    """Every configuration of the hardware page's chart, paginated: its data table whole."""
    return _paged("public/hardware_configurations.html", partial(
        reference_pages.chart_table_page, db.session, reference_pages.HARDWARE, slug))


@bp.get("/models/<slug>/hardware")
@shared_page(params=("page",))
def model_hardware(slug: str) -> str | Response:
    """Every hardware and device count of the model page's chart, paginated: its data
    table whole."""
    return _paged("public/model_hardware.html", partial(
        reference_pages.chart_table_page, db.session, reference_pages.MODEL, slug))


def _reproductions_href(endpoint: str, args: Mapping[str, object]) -> str:
    """A page of a row's reproductions, opened at them (the detail page's pager)."""
    return url_for(endpoint, **args) + "#h-repros"
