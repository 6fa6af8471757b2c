"""`flask cdt report coverage [--unit CODE] --by LEVEL [--format csv|table] [--as-of DATE]`."""
from __future__ import annotations

import csv
import sys
from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import select

from cdt.extensions import db
from cdt.geo.models import LEVEL_DEPTH, LEVELS, AdminUnit
from cdt.reports.queries import CSV_COLUMNS, coverage

report_group = AppGroup("report", help="Reports.")


def _parse_date(ctx, param, value):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not a date (YYYY-MM-DD): {value}") from None


def _parse_level(ctx, param, value):
    if value not in LEVELS:
        # One line, as for an unknown unit (click's Choice prints a usage block).
        raise click.ClickException(f"unknown level: {value} (use {', '.join(LEVELS)})")
    return value


@report_group.command("coverage")
@click.option("--unit", "unit_code", metavar="CODE", help="GSO code of the unit to report on (default: all loaded).")
@click.option("--by", "level", required=True, callback=_parse_level, metavar="|".join(LEVELS),
              help="One row per unit at this level.")
@click.option("--format", "fmt", type=click.Choice(["csv", "table"]), default="table", show_default=True)
@click.option("--as-of", "as_of", callback=_parse_date, metavar="YYYY-MM-DD", help="Figures as they stood on a date.")
def coverage_command(unit_code: str | None, level: str, fmt: str, as_of: date | None) -> None:
    """Coverage indicators, one row per unit (same figures as /reports/coverage)."""
    parent = None
    if unit_code:
        parent = db.session.scalar(select(AdminUnit).where(AdminUnit.code == unit_code))
        if parent is None:
            raise click.ClickException(f"unknown unit code: {unit_code}")
        if LEVEL_DEPTH[level] < parent.depth:
            raise click.ClickException(f"--by {level} is above the unit {unit_code} ({parent.level})")
    rows = coverage(parent, level, as_of)
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row.csv_values())
        return
    widths = {"code": 9, "name": 32}
    header = f"{'code':<9} {'name':<32} {'villages':>8} {'teams':>7} {'cov%':>6} {'members':>8} {'trained':>8} {'tr%':>6} {'sessions':>8}"
    click.echo(header)
    for r in rows:
        click.echo(
            f"{r.code:<{widths['code']}} {r.name[:32]:<{widths['name']}} {r.villages:>8} {r.teams:>7} "
            f"{r.coverage_pct or '':>6} {r.members:>8} {r.trained_members:>8} {r.trained_pct or '':>6} {r.sessions_held:>8}"
        )
    total_v = sum(r.villages for r in rows)
    total_t = sum(r.teams for r in rows)
    click.echo(f"{len(rows)} rows; villages {total_v}, teams {total_t}")
