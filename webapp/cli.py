"""Command line: flask --app webapp <command>."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from webapp.extensions import db
from webapp.models import Submission, utcnow
from webapp.services import (
    accounts,
    backups,
    data_version,
    demo,
    evidence,
    moving,
    privacy,
    snapshot,
    summaries,
)
from webapp.services.reference import load_reference
from webapp.services.rules import State


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_reference)
    app.cli.add_command(seed_demo)
    app.cli.add_command(reviewer)
    app.cli.add_command(backup)
    app.cli.add_command(purge)
    app.cli.add_command(refresh)
    app.cli.add_command(export_public)
    app.cli.add_command(copy_database)


@click.command("seed-reference")
def seed_reference() -> None:
    """Load or update the reference data (hardware, models, quants, runtimes)."""
    changed = load_reference(db.session)
    db.session.commit()
    click.echo("reference data: " + ", ".join(f"{k} {v} changed" for k, v in changed.items()))


@click.command("seed-demo")
@click.option("--rows", default=300, show_default=True, type=click.IntRange(min=0, max=1_000_000),
              help="Public catalog rows to create.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the catalog has rows already.")
@click.option("--seed", "random_seed", default=7, show_default=True, help="Random seed.")
def seed_demo(rows: int, if_empty: bool, random_seed: int) -> None:
    """Create a demo catalog (labelled as demo data on every page that shows it)."""
    load_reference(db.session)
    if if_empty and demo.catalog_has_rows(db.session):
        click.echo("catalog has rows already; demo data not loaded")
        db.session.commit()
        return
    report = demo.seed(db.session, rows=rows, random_seed=random_seed)
    db.session.commit()
    data_version.bump(db.engine)  # bulk inserts bypass the ORM: running workers re-render
    click.echo(report)


reviewer = AppGroup("reviewer", help="Manage reviewer accounts.")


@reviewer.command("add")
@click.argument("name")
def reviewer_add(name: str) -> None:
    """Add a reviewer; the password comes from a prompt, or from stdin when piped."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    _account_change(accounts.add_reviewer, name, password)
    click.echo(f"reviewer {name} added")


@reviewer.command("disable")
@click.argument("name")
def reviewer_disable(name: str) -> None:
    """Disable a reviewer: their sessions end and they can no longer log in."""
    _account_change(accounts.disable_reviewer, name)
    click.echo(f"reviewer {name} disabled")


def _account_change(change, *args: str) -> None:
    """Run an account change and commit it, or say why it was refused."""
    try:
        change(db.session, *args)
    except accounts.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup(path: str) -> None:
    """Write a consistent copy of the live SQLite database to PATH."""
    try:
        size = backups.backup_sqlite(db.engine, path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"backup written to {path} ({size} bytes)")


@click.command("purge")
def purge() -> None:
    """Delete daily address keys past 48 hours and rate counters past their window.

    Writes do this on the first request of each UTC day; run it from cron or a systemd
    timer (hourly is plenty) so a quiet site forgets old keys on time as well.
    """
    now = utcnow()
    keys = privacy.purge_keys(db.session, now)
    counters = privacy.purge_counters(db.session, now)
    db.session.commit()
    click.echo(f"purged {keys} daily keys and {counters} rate counters")


@click.command("refresh")
@click.option("--if-needed", is_flag=True,
              help="Only when some public row's index predates the current columns.")
def refresh(if_needed: bool) -> None:
    """Recompute the catalog's stored badge and tier index of every public row.

    Decisions keep the index current, and it holds every moment at which time alone
    moves a row's tier, so this is for databases upgraded from an older version (make
    run does it with --if-needed) or edited by hand.
    """
    if if_needed:
        missing = db.session.scalar(
            select(func.count()).select_from(Submission).where(
                Submission.state == State.APPROVED,
                Submission.derived_tier_lifted_off.is_(None)))
        if not missing:
            click.echo("catalog index: up to date")
            return
    count = evidence.refresh_all(db.session)
    operators, entries = summaries.rebuild_all(db.session)
    db.session.commit()
    click.echo(f"catalog index: {count} public rows refreshed")
    click.echo(f"summaries: {operators} operators listed, {entries} row counts "
               "(hardware entries, models, quants, runtimes)")


@click.command("export-public")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--source-url", default="", help="The site's address, stated in the file's "
              "about table (e.g. https://bench.example.org/).")
def export_public(path: str, source_url: str) -> None:
    """Write the public data (CC-BY-4.0) to a SQLite file at PATH, replacing it atomically.

    Only public rows, their runs and clean reproductions, badge changes and the reference
    tables; the site serves the same file at /data/trustbench-public.sqlite3.
    """
    try:
        written = snapshot.write(db.session, path, now=utcnow(), source_url=source_url,
                                 version=data_version.current(db.session))
    except snapshot.SnapshotError as error:
        raise click.ClickException(str(error)) from error
    finally:
        db.session.rollback()
    click.echo(f"public data written to {written.path}: {written.benchmarks} benchmarks, "
               f"{written.reproductions} reproductions, {written.runs} runs "
               f"({written.size} bytes)")


@click.command("copy-database")
@click.argument("source_url")
def copy_database(source_url: str) -> None:
    """Copy every row of the database at SOURCE_URL (e.g. the SQLite file make run used:
    sqlite:////srv/trustbench/instance/trustbench.sqlite3) into this site's database
    (DATABASE_URL), which must be migrated (flask db upgrade) and empty.

    For moving a site from SQLite to PostgreSQL: submissions, runs, reproductions,
    reviewers, the audit log and everything else come along with their ids. Stop the
    server that writes to the source first. One transaction: on any error the target is
    left as it was.
    """
    try:
        source = create_engine(source_url)
    except (ArgumentError, ValueError) as error:
        raise click.ClickException(f"Not a database address: {source_url}") from error

    def progress(table: str, rows: int) -> None:
        if rows % (moving.BATCH * 25) == 0:
            click.echo(f"  {table}: {rows} rows …")

    try:
        copied = moving.copy_database(source, db.engine, db.metadata, progress=progress)
    except moving.MoveError as error:
        raise click.ClickException(str(error)) from error
    except SQLAlchemyError as error:
        first = str(getattr(error, "orig", error)).splitlines()[0]
        raise click.ClickException(f"The copy failed and nothing was kept: {first}") from error
    finally:
        source.dispose()
    for table, rows in copied.tables.items():
        click.echo(f"{table}: {rows} rows")
    click.echo(f"copied {copied.rows} rows; the source is unchanged. Start the site on the "
               "new database; run `flask refresh` only if you changed the code meanwhile.")
