"""`flask cdt indicators seed` (the common output indicators, idempotent)."""
from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from cdt.outputs.services import seed_indicators

indicators_group = AppGroup("indicators", help="Output indicators.")


@indicators_group.command("seed")
def seed_command() -> None:
    """Add the common output indicators that are missing (safe to run again)."""
    added = seed_indicators()
    click.echo(f"{added} indicators added.")


def _month(ctx, param, value):
    if value is None:
        return None
    from cdt.outputs import periods

    parsed = periods.parse(value)
    if parsed is None:
        raise click.BadParameter(f"not a month (YYYY-MM): {value}")
    return parsed


@click.command("outputs")
@click.option("--unit", "unit_code", metavar="CODE", help="GSO code of the unit (default: the whole country).")
@click.option("--from", "first", callback=_month, metavar="YYYY-MM", help="First month (default: January of --to's year).")
@click.option("--to", "last", callback=_month, metavar="YYYY-MM", help="Last month (default: last month).")
@click.option("--by", "level", type=click.Choice(["province", "district", "commune", "team"]),
              help="One row per unit at this level (default: the level below the unit).")
@click.option("--indicator", "indicator_code", metavar="CODE", help="Only this indicator.")
@with_appcontext
def outputs_command(unit_code, first, last, level, indicator_code) -> None:
    """Outputs, one CSV row per unit and indicator (same columns and figures as /reports/outputs.csv)."""
    import csv
    import sys

    from cdt.geo.models import LEVEL_DEPTH
    from cdt.geo.queries import unit_by_code
    from cdt.outputs import periods, queries, report

    last = last or periods.last_month()
    unit = None
    if unit_code:
        # A code names a unit on a date: the one it named at the end of the last month asked.
        unit = unit_by_code(unit_code, periods.month_end(last))
        if unit is None:
            raise click.ClickException(f"unknown unit code: {unit_code}")
    first = first or f"{last[:4]}-01"
    if first > last:
        raise click.ClickException("--from is after --to")
    level = level or report.default_level(unit, last)
    if unit is not None and level != "team" and LEVEL_DEPTH[level] <= unit.depth:
        raise click.ClickException(f"--by {level} is not below the unit {unit_code} ({unit.level})")
    indicators = queries.indicators_for(unit.province_id if unit else None, first, last)
    chosen = indicators
    if indicator_code:
        chosen = [i for i in indicators if i.code == indicator_code]
        if not chosen:
            raise click.ClickException(f"unknown indicator for this unit and period: {indicator_code}")
    rows, total = report.outputs(unit, level, first, last, indicators)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(report.CSV_COLUMNS)
    writer.writerows(report.csv_lines(rows, total, chosen, first, last))


@indicators_group.command("rebuild-totals")
def rebuild_totals_command() -> None:
    """Recount the outputs report's per-commune monthly counters from the reported values."""
    from cdt.extensions import db
    from cdt.outputs import totals

    totals.rebuild()
    db.session.commit()
    click.echo("Counters rebuilt.")
