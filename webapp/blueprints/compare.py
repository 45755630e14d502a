"""/compare: two to four public rows side by side, at one shareable address."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from webapp.extensions import db
from webapp.models import utcnow
from webapp.services import compare as comparing
from webapp.services import rules
from webapp.web.page_cache import shared_page

bp = Blueprint("compare", __name__)


def _address(ids: list[int], *, external: bool = False) -> str:
    """The comparison's one address: the user's order, repeats dropped, commas between."""
    return url_for("compare.compare", ids=",".join(map(str, ids)), _external=external)


def _problem(problem: comparing.Problem) -> tuple[str, int]:
    return render_template("public/compare.html", problem=problem, rules=rules), problem.status


@bp.get("/compare")
@shared_page(params=("ids",))
def compare() -> Response | str | tuple[str, int]:
    ids = comparing.parse_ids(request.args.getlist("ids"))
    if isinstance(ids, comparing.Problem):
        return _problem(ids)
    address = _address(ids)
    if request.full_path.rstrip("?") != address:
        # ids=3&ids=1 (the catalog's form), repeats, spaces or other parameters: one spelling
        # per comparison, so a shared link and the page store agree.
        return redirect(address, 301)
    found = comparing.compare(db.session, ids, now=utcnow())
    if isinstance(found, comparing.Problem):
        return _problem(found)
    if found.demo_shown:
        g.demo_data_shown = True
    return render_template("public/compare.html", comparison=found, rules=rules,
                           share_url=_address(ids, external=True))
