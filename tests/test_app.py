"""Configuration and the command line a self-hoster uses."""

from __future__ import annotations

from sqlalchemy import func, select

from webapp import create_app
from webapp.extensions import db
from webapp.models import Hardware, ModelVariant, Quant, Runtime


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path))
    second = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path))
    key = first.config["SECRET_KEY"]
    assert len(key) == 64 and key != "dev"
    assert second.config["SECRET_KEY"] == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_overrides_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db.example/trustbench")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://someone@db.example/trustbench"
    )
    assert app.config["SECRET_KEY"] == "from-the-environment"
    monkeypatch.setenv("TRUSTBENCH_PAGE_CACHE_SECONDS", "0")
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/elsewhere.sqlite3")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["PAGE_CACHE_SECONDS"] == 0


def test_default_database_is_sqlite_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'trustbench.sqlite3'}"


def test_seed_reference_is_idempotent(app):
    runner = app.test_cli_runner()
    counts = []
    for _ in range(2):
        result = runner.invoke(args=["seed-reference"])
        assert result.exit_code == 0, result.output
        counts.append([
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Hardware, ModelVariant, Quant, Runtime)
        ])
    assert counts[0] == counts[1]
    assert counts[0] == [44, 16, 17, 14]  # the CSVs' rows plus one "other" entry each


def test_seed_reference_updates_changed_rows(app):
    gpu = db.session.scalars(select(Hardware).where(Hardware.slug == "rtx-4090")).one()
    gpu.bandwidth_gb_s = 1.0
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["seed-reference"])
    assert "hardware 1 changed" in result.output
    db.session.expire_all()
    assert db.session.get(Hardware, gpu.id).bandwidth_gb_s == 1008


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
