"""`flask cdt report coverage [--unit CODE] --by LEVEL [--format csv|table] [--as-of DATE] [--map DATE]`."""
from __future__ import annotations

import csv
import sys
from datetime import date

import click
from flask.cli import AppGroup

from cdt.core.clock import today
from cdt.geo.models import LEVEL_DEPTH, LEVELS
from cdt.geo.queries import ended, levels_on, successors, unit_by_code
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
@click.option("--map", "map_day", callback=_parse_date, metavar="YYYY-MM-DD",
              help="Group the figures by the units of the map valid on this date (default: --as-of).")
def coverage_command(unit_code: str | None, level: str, fmt: str, as_of: date | None, map_day: date | None) -> None:
    """Coverage indicators, one row per unit (same figures as /reports/coverage), on the map valid
    on --as-of (or --map). Unit codes are read on that map's date."""
    day = map_day or as_of or today()
    parent = None
    if unit_code:
        parent = unit_by_code(unit_code, day)
        if parent is None:
            raise click.ClickException(f"unknown unit code: {unit_code}")
        if ended(parent, day):
            after = ", ".join(f"{u.code} {u.name}" for u in successors(parent)) or "none"
            raise click.ClickException(
                f"unit {unit_code} ({parent.name}) ended on {parent.valid_to.isoformat()}; on {day.isoformat()} "
                f"use its successors: {after}")
    if level not in levels_on(day):
        raise click.ClickException(f"no {level} on the map of {day.isoformat()}: use {', '.join(levels_on(day))}")
    if parent is not None and LEVEL_DEPTH[level] < parent.depth:
        raise click.ClickException(f"--by {level} is above the unit {unit_code} ({parent.level})")
    rows = coverage(parent, level, as_of, map_day=day)
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
