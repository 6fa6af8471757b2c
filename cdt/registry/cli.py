"""`flask cdt import members FILE --commune CODE [--dry-run]`: the web import, from the command line.

Same reading and checks as /members/import; every error on one line
(`row 7, Phone: ...`), exit status 1 and nothing written when there is any error;
otherwise all rows are written in one transaction (or, with --dry-run, none).
Rows are matched only with people registered in that commune; a row matching someone
registered elsewhere is an error that names nobody (the command runs without an account).
"""
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale

import_group = AppGroup("import", help="Import records from files.")


@import_group.command("members")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--commune", "commune_code", required=True, help="GSO code of the commune (5 digits).")
@click.option("--dry-run", is_flag=True, help="Check the file and report, write nothing.")
@click.option("--lang", default=None, help="Language of the messages (vi or en; default: the app's).")
def import_members(file: Path, commune_code: str, dry_run: bool, lang: str | None) -> None:
    """Import a member list (.xlsx or .csv) into the teams of one commune."""
    from cdt.core.text import ascii_digits
    from cdt.geo.queries import unit_by_code
    from cdt.registry.transfer.importing import MAX_FILE_BYTES, ImportConflict, ImportFileError, commit, prepare

    locale = lang or current_app.config.get("BABEL_DEFAULT_LOCALE", "vi")
    with force_locale(locale):
        commune = unit_by_code(ascii_digits(commune_code).strip(), level="commune")  # today's map first
        if commune is None:
            raise click.ClickException(f"unknown commune code: {commune_code}")
        if file.stat().st_size > MAX_FILE_BYTES:
            raise click.ClickException(f"{file.name}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        data = file.read_bytes()
        ext = file.suffix.lower().lstrip(".")
        state: dict = {}

        def on_rows(total: int) -> None:
            state["bar"] = click.progressbar(length=total, label=f"Checking {total} rows", file=sys.stderr)
            state["bar"].__enter__()

        try:
            result = prepare(commune, data, ext, progress=lambda n: state["bar"].update(n), on_rows=on_rows)
        except ImportFileError as error:
            raise click.ClickException(f"{file.name}: {error}") from None
        finally:
            if "bar" in state:
                state["bar"].__exit__(None, None, None)
        counts = result.counts
        for e in result.errors:
            column = f", {e.column_label}" if e.column_label else ""
            click.echo(f"row {e.row}{column}: {e.message}")
        summary = (f"{counts['rows']} rows: {counts['new']} new, {counts['join']} added to a team, "
                   f"{counts['present']} already present, {counts['error']} with errors")
        if not result.ok:
            click.echo(summary + " - nothing written", err=True)
            raise SystemExit(1)
        if dry_run:
            click.echo(summary + " - dry run, nothing written")
            return
        try:
            written = commit(result, filename=file.name, via="cli")
        except ImportConflict as error:
            raise click.ClickException(str(error)) from None
        if written["created"] or written["joined"]:
            click.echo(summary + f" - written: {written['created']} people registered, "
                                 f"{written['joined']} registered people added to a team")
        else:
            click.echo(summary + " - nothing to write")
