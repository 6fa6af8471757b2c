"""`flask cdt privacy ...`: key rotation of the citizen ID, and the retention purge."""
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
