"""`flask cdt holidays list|add|remove`: the public holidays that privacy deadlines skip;
`flask cdt privacy rotate-key|purge`: the citizen ID's key rotation and the retention purge.

The shipped calendar (cdt/privacy/data/holidays-YYYY.csv, its source in the README there) is
read as is; `add` records a day off (or, with --work, a weekend day worked) in the database, which
wins over the shipped file on the same date; `remove` deletes such an added day.
"""
from __future__ import annotations

import sys
from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import exists, func, select

from cdt.core import clock
from cdt.core.inputs import parse_day
from cdt.extensions import db
from cdt.privacy import crypto
from cdt.registry.models import Membership, Person

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


# --------------------------------------------------------------------------- citizen ID keys, retention

privacy_group = AppGroup("privacy", help="Personal data: citizen ID keys, retention purge.")

# People are anonymised this many years after their last membership ended (README, "Retention").
RETENTION_YEARS = 5
CHUNK = 1000


@privacy_group.command("rotate-key")
def rotate_key_command() -> None:
    """Re-encrypt every citizen ID with the first key of CDT_CITIZEN_ID_KEY and recompute its keyed
    hash with CDT_CITIZEN_ID_HASH_KEY (any key listed in CDT_CITIZEN_ID_KEY may have encrypted it)."""
    table = Person.__table__
    total = db.session.scalar(select(func.count()).select_from(table).where(table.c.citizen_id_enc.is_not(None))) or 0
    last = 0
    with click.progressbar(length=total, label=f"Re-encrypting {total} citizen IDs", file=sys.stderr) as bar:
        while True:
            rows = db.session.execute(
                select(table.c.id, table.c.citizen_id_enc)
                .where(table.c.id > last, table.c.citizen_id_enc.is_not(None)).order_by(table.c.id).limit(CHUNK)).all()
            if not rows:
                break
            # Two passes for the hashes: a new hash key could give one row the old hash of another
            # (never in practice); the unique index is only checked against committed values per row.
            for person_id, token in rows:
                try:
                    plain = crypto.decrypt(token)
                except crypto.CitizenIdKeyError as error:
                    db.session.rollback()
                    raise click.ClickException(f"person {person_id}: {error}") from None
                db.session.execute(table.update().where(table.c.id == person_id).values(
                    citizen_id_enc=crypto.encrypt(plain), citizen_id_hash=crypto.blind_index(plain)))
            db.session.commit()
            bar.update(len(rows))
            last = rows[-1][0]
    click.echo(f"{total} citizen IDs re-encrypted with the current key. Remove the old keys from "
               f"{crypto.KEY_SETTING} now.")


def _retention_default() -> date:
    today = clock.today()
    try:
        return today.replace(year=today.year - RETENTION_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - RETENTION_YEARS, day=28)


def people_left_before(day: date) -> list[int]:
    """Ids of the people (not erased yet) who were members of a team, are in none today, and whose
    last membership ended before `day`. One aggregate statement."""
    current = select(Membership.id).where(Membership.person_id == Person.id, Membership.left_on.is_(None))
    last_left = (select(Membership.person_id, func.max(Membership.left_on).label("last_left"))
                 .group_by(Membership.person_id).subquery())
    stmt = (select(Person.id).join(last_left, last_left.c.person_id == Person.id)
            .where(Person.erased_at.is_(None), ~exists(current.correlate(Person)), last_left.c.last_left < day)
            .order_by(Person.id))
    return list(db.session.scalars(stmt))


@privacy_group.command("purge")
@click.option("--left-before", "left_before", metavar="YYYY-MM-DD",
              help=f"Anonymise people whose last membership ended before this date "
                   f"(default: today {RETENTION_YEARS} years ago).")
@click.option("--dry-run", is_flag=True, help="Only count who would be anonymised; change nothing.")
def purge_command(left_before: str | None, dry_run: bool) -> None:
    """Retention: anonymise (erase) the people whose last membership ended before a date, and
    delete the import uploads that were never confirmed and have expired."""
    from cdt.privacy.erasure import erase_people
    from cdt.registry.transfer import uploads

    if left_before:
        day = parse_day(left_before)
        if day is None:
            raise click.BadParameter("write the date as YYYY-MM-DD", param_hint="--left-before")
    else:
        day = _retention_default()
    if day > clock.today():
        raise click.BadParameter("the date cannot be in the future", param_hint="--left-before")
    ids = people_left_before(day)
    if dry_run:
        click.echo(f"{len(ids)} people left their last team before {day.isoformat()}: they would be anonymised "
                   "(dry run: nothing changed).")
        return
    erased = 0
    with click.progressbar(length=len(ids), label=f"Anonymising {len(ids)} people", file=sys.stderr) as bar:
        for start in range(0, len(ids), CHUNK):
            people = list(db.session.scalars(select(Person).where(Person.id.in_(ids[start:start + CHUNK]))
                                             .order_by(Person.id)))
            erased += erase_people(people, user=None, source="retention", progress=bar.update)
    removed = uploads.clean()
    click.echo(f"{erased} people anonymised (last membership ended before {day.isoformat()}); "
               f"{removed} expired upload files deleted.")
