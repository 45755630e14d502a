"""The baseline: TechEmpower's "Fortunes" test as a minimal Flask + SQLAlchemy + Jinja app.

Each request reads the 12 fortunes from its own SQLite table, adds one, sorts them by
message and renders an autoescaped HTML table (one message carries a <script> tag).
It is served exactly like Trustbench (gunicorn.conf.py, two sync workers, loopback),
so Trustbench's figures can be read as ratios to it on the same machine in the same run.

    BASELINE_DATABASE=/tmp/fortunes.sqlite3 python -m bench.baseline_app   # create the table
    BASELINE_DATABASE=... gunicorn --config gunicorn.conf.py 'bench.baseline_app:create_app()'
"""

from __future__ import annotations

import os

from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Fortune(db.Model):
    __tablename__ = "fortune"

    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(String(2048))


FORTUNES = (
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
)
ADDED = "Additional fortune added at request time."

TEMPLATE = """<!DOCTYPE html>
<html><head><title>Fortunes</title></head><body><table>
<tr><th>id</th><th>message</th></tr>
{% for fortune in fortunes %}<tr><td>{{ fortune.id }}</td><td>{{ fortune.message }}</td></tr>
{% endfor %}</table></body></html>
"""


class _Added:
    id = 0
    message = ADDED


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{os.environ['BASELINE_DATABASE']}"
    app.jinja_loader = DictLoader({"fortunes.html": TEMPLATE})  # .html: autoescaped
    db.init_app(app)

    @app.get("/fortunes")
    def fortunes():
        rows = list(db.session.scalars(select(Fortune)))
        rows.append(_Added())
        rows.sort(key=lambda fortune: fortune.message)
        return render_template("fortunes.html", fortunes=rows)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


def create_database() -> None:
    app = create_app()
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.add_all(Fortune(id=i, message=m) for i, m in enumerate(FORTUNES, start=1))
        db.session.commit()


if __name__ == "__main__":
    create_database()
