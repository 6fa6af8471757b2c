"""`flask cdt holidays list|add|remove`: the public holidays that privacy deadlines skip.

The shipped calendar (cdt/privacy/data/holidays-YYYY.csv, its source in the README there) is
read as is; `add` records a day off (or, with --work, a weekend day worked) in the database, which
wins over the shipped file on the same date; `remove` deletes such an added day.
"""
from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

holidays_group = AppGroup("holidays", help="Public holidays skipped by working-day deadlines.")


def _day(ctx, param, value):
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@holidays_group.command("list")
@click.option("--year", type=int, default=None, help="Only this year (default: every configured day).")
def list_command(year: int | None) -> None:
    """Every configured day: date, weekday, off/work, shipped/added, name."""
    from cdt.privacy.workdays import calendar

    first = date(year, 1, 1) if year else None
    last = date(year, 12, 31) if year else None
    days = calendar(first, last)
    if not days:
        click.echo("no holidays configured" + (f" for {year}" if year else ""))
        return
    for day in sorted(days):
        kind, name, source = days[day]
        click.echo(f"{day.isoformat()}  {day.strftime('%a')}  {kind:4}  {source:7}  {name}")


@holidays_group.command("add")
@click.argument("day", callback=_day)
@click.argument("name")
@click.option("--work", is_flag=True, help="A Saturday or Sunday worked (a make-up day), not a day off.")
def add_command(day: date, name: str, work: bool) -> None:
    """Add (or replace) a configured day."""
    from cdt.core.transactions import commit_or_retry
    from cdt.extensions import db
    from cdt.privacy.models import PublicHoliday

    name = " ".join(name.split())
    if not name or len(name) > 160:
        raise click.ClickException("the name must be 1 to 160 characters")

    def work_():
        row = db.session.get(PublicHoliday, day) or PublicHoliday(day=day)
        row.kind = "work" if work else "off"
        row.name = name
        db.session.add(row)

    commit_or_retry(work_)
    click.echo(f"{day.isoformat()} {'work' if work else 'off'}: {name}")


@holidays_group.command("remove")
@click.argument("day", callback=_day)
def remove_command(day: date) -> None:
    """Remove a day added with `add` (shipped days are changed by a file in cdt/privacy/data/)."""
    from cdt.core.transactions import commit_or_retry
    from cdt.extensions import db
    from cdt.privacy.models import PublicHoliday

    def work_():
        row = db.session.get(PublicHoliday, day)
        if row is None:
            return False
        db.session.delete(row)
        return True

    if not commit_or_retry(work_):
        raise click.ClickException(f"{day.isoformat()} was not added with `holidays add`")
    click.echo(f"{day.isoformat()} removed")
