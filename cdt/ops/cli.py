"""`flask cdt backup PATH` and `flask cdt restore PATH [--force]` (one line on error, status 1)."""
from __future__ import annotations

import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from cdt.extensions import db
from cdt.ops import backup as service


def _url() -> str:
    return current_app.config["SQLALCHEMY_DATABASE_URI"]


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a consistent backup of the database to PATH, safe while the app runs
    (SQLite: online backup API; PostgreSQL: pg_dump custom format)."""
    started = time.perf_counter()
    try:
        result = service.backup(_url(), path)
    except service.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup written: {result.path} ({result.kind}, {result.size / 1e6:.1f} MB, schema "
               f"{', '.join(sorted(result.revisions))}) in {time.perf_counter() - started:.1f} s.")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the content of a database that is not empty.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Restore a backup made by `flask cdt backup` into the configured database, which must be
    empty (or --force). Stop the app servers first."""
    started = time.perf_counter()
    db.engine.dispose()  # no pooled connection of this process holds the target
    try:
        result = service.restore(_url(), path, force=force)
    except service.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {result.path} ({result.kind}, schema {', '.join(sorted(result.revisions))}) "
               f"in {time.perf_counter() - started:.1f} s.")
    if result.note:
        click.echo(f"Note: {result.note}")
