"""`flask cdt units load --province CODE | --all`, `flask cdt units reform [--province CODE] [--dry-run]`."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import click
from flask.cli import AppGroup

units_group = AppGroup("units", help="Administrative units (GSO codes).")


@units_group.command("load")
@click.option("--province", "provinces", multiple=True, metavar="CODE", help="GSO province code, e.g. 10 (repeatable).")
@click.option("--all", "load_all", is_flag=True, help="Load all provinces (63 old, 34 new).")
def load_command(provinces: tuple[str, ...], load_all: bool) -> None:
    """Load provinces, districts and communes of the old map (to 2025-06-30) and the new map
    (from 2025-07-01) for these province codes, and the succession between them."""
    from cdt.geo.units import load_units

    if bool(provinces) == load_all:
        raise click.UsageError("give --province CODE or --all")
    for code in provinces:
        if not code.isdigit():
            raise click.ClickException(f"unknown province code: {code}")
    created = load_units(None if load_all else list(provinces), progress=True)
    click.echo(
        f"provinces: {created['province']} new, districts: {created['district']} new, "
        f"communes: {created['commune']} new, successions: {created['succession']} new"
    )


@units_group.command("reform")
@click.option("--province", "province_code", metavar="CODE", help="A province of the 2025 map, e.g. 15 (default: all).")
@click.option("--decisions", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV village_code,new_commune_code: where the villages of split communes go.")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
def reform_command(province_code: str | None, decisions: Path | None, dry_run: bool) -> None:
    """Apply the 2025 reform to existing data: place villages (and their teams and people) in the
    new communes from 2025-07-01, re-point accounts, list what needs a decision."""
    from cdt.extensions import db
    from cdt.geo import reform

    try:
        chosen = reform.read_decisions(decisions.read_text(encoding="utf-8")) if decisions else None
        plan = reform.plan(province_code, chosen)
    except reform.ReformError as error:
        raise click.ClickException(str(error)) from None
    if not dry_run:
        reform.apply(plan)
    moved = defaultdict(int)
    for _code, _old, new in plan.placements.values():
        moved[(new.code, new.name)] += 1
    verb = "would be" if dry_run else "were"
    click.echo(f"villages placed in a new commune: {len(plan.placements)} "
               f"(in {len(moved)} new communes; {len(plan.undecided)} waiting for a decision)")
    if not dry_run:
        click.echo(f"people moved to the new commune: {plan.people}"
                   + (f" ({plan.people_left} left in place: the same phone or name and birth date as "
                      "another person of the new province; resolve the duplicates, then run again)"
                      if plan.people_left else ""))
    for user, old, new in plan.accounts:
        click.echo(f"account {user.username} ({user.role}): {old.code} {old.name} -> {new.code} {new.name} "
                   f"({verb} re-pointed)")
    for user, old, after in plan.district_accounts:
        click.echo(f"account {user.username} ({user.role}) works on abolished district {old.code} {old.name}: "
                   f"reassign it (new communes: {', '.join(u.code for u in after)}); until then it reads the "
                   "district's villages")
    if plan.undecided:
        click.echo("villages of split communes, to decide in a CSV village_code,new_commune_code (--decisions):")
        for code, name, old, targets in plan.undecided:
            click.echo(f"  {code} {name} (of {old.code} {old.name}): one of {', '.join(t.code for t in targets)}")
    if dry_run:
        db.session.rollback()
        click.echo("dry run: nothing changed")
    else:
        db.session.commit()
