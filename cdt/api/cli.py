"""`flask cdt export dhis2 --period YYYY-MM [--unit CODE] [--by commune] [--output FILE]`."""
from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from cdt.api import dhis2

export_group = AppGroup("export", help="Exports in other systems' formats.")


@export_group.command("dhis2")
@click.option("--period", required=True, metavar="YYYY-MM", help="The month (YYYY-MM or YYYYMM).")
@click.option("--unit", "unit_code", metavar="CODE", help="GSO code of the unit (default: everything loaded).")
@click.option("--by", "level", type=click.Choice(["province", "district", "commune"]), default="commune",
              show_default=True, help="The level of the orgUnits.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Write to this file (default: stdout).")
def dhis2_command(period: str, unit_code: str | None, level: str, output: str | None) -> None:
    """Coverage and outputs of a month as a DHIS2 dataValueSet (JSON), the same as
    /api/v1/dhis2/dataValueSets; import it in DHIS2 with orgUnitIdScheme=CODE."""
    from cdt.core import clock
    from cdt.geo.queries import unit_by_code
    from cdt.outputs import periods

    month = dhis2.parse_period(period.strip())
    if month is None:
        raise click.ClickException(f"not a month (YYYY-MM): {period}")
    unit = None
    if unit_code:
        unit = unit_by_code(unit_code, min(periods.month_end(month), clock.today()))
        if unit is None:
            raise click.ClickException(f"unknown unit code: {unit_code}")
    try:
        body = dhis2.data_value_set(unit, month, level)
    except dhis2.DhisError as error:
        raise click.ClickException(str(error)) from None
    text = json.dumps(body, ensure_ascii=False, indent=1)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        click.echo(f"{len(body['dataValues'])} data values written to {output}", err=True)
    else:
        click.echo(text)
