"""`flask cdt units load --province CODE | --all`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

units_group = AppGroup("units", help="Administrative units (GSO codes).")


@units_group.command("load")
@click.option("--province", "provinces", multiple=True, metavar="CODE", help="GSO province code, e.g. 10 (repeatable).")
@click.option("--all", "load_all", is_flag=True, help="Load all 63 provinces.")
def load_command(provinces: tuple[str, ...], load_all: bool) -> None:
    """Load provinces, districts and communes from the vietnam-provinces package."""
    from cdt.geo.units import load_units

    if bool(provinces) == load_all:
        raise click.UsageError("give --province CODE or --all")
    for code in provinces:
        if not code.isdigit():
            raise click.ClickException(f"unknown province code: {code}")
    created = load_units(None if load_all else list(provinces), progress=True)
    click.echo(
        f"provinces: {created['province']} new, districts: {created['district']} new, "
        f"communes: {created['commune']} new"
    )
