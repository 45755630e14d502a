"""Trustbench: a catalog of reproduced local-inference benchmarks."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from webapp import cli, config, errors, security
from webapp.blueprints import api, compare, feedback, open_data, public, reproduce, review, submit
from webapp.extensions import csrf, db, login_manager, migrate
from webapp.services import privacy
from webapp.web import (
    catalog_table,
    compression,
    detail_tables,
    filter_options,
    id_spelling,
    intake,
    layout,
    live_get,
    operators_table,
    page_cache,
    pager,
    static_files,
    templating,
)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(overrides: dict | None = None, instance_path: str | None = None) -> Flask:
    """Wire configuration, extensions, blueprints, error pages and commands."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.jinja_environment = templating.Environment  # plain-dict template globals
    config.load(app, overrides)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    csrf.init_app(app)
    # Only the reviewers' pages show who is signed in (review's context processor);
    # public pages skip loading the user for every render.
    login_manager.init_app(app, add_context_processor=False)
    security.init_app(app)
    privacy.install_log_filter(app)
    page_cache.init_app(app)
    static_files.init_app(app)  # content-hashed static URLs, cached for a year
    id_spelling.init_app(app)  # /benchmarks/05 -> 301 /benchmarks/5
    layout.init_app(app)  # the layout's links, built once per worker
    filter_options.init_app(app)  # the catalog form's option lists, once per data version
    catalog_table.init_app(app)  # the catalog table's rows, in one pass
    operators_table.init_app(app)  # and the operators table's
    detail_tables.init_app(app)  # and the detail page's reproductions and strip
    pager.init_app(app)  # every paginated page's pager, in one pass
    compression.init_app(app)  # Flask-Compress, the codings a client refuses left out
    live_get.init_app(app)  # the live warning's GET parameters, for the forms' hx-get
    intake.install(app)  # the import views' body cap: before every hook that reads a form

    for blueprint in (public.bp, submit.bp, reproduce.bp, feedback.bp, review.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(open_data.bp)  # exports, snapshot, feed, badges (issue 12)
    app.register_blueprint(api.bp)  # the read-only JSON API and its /api page (issue 12)
    app.register_blueprint(compare.bp)  # /compare: rows side by side (issue 13)

    errors.init_app(app)
    cli.init_app(app)
    return app
