"""The registry's rules for a person's data, shared by the forms, the import and the CLI.

Each check raises ValueError with a translated message, or returns the normalised value.
Identifiers are normalised by cdt/registry/identifiers.py (ASCII digits whatever script they were
typed in), which the Person model runs on every write, so the duplicate rules compare like with like.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select

from cdt.auth.scope import ids_in_area
from cdt.core import clock
from cdt.core.text import ascii_digits, fold
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.registry.models import Person

MIN_AGE, MAX_AGE = 15, 80


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def check_birth_date(birth: date | None, today: date | None = None) -> date | None:
    if birth is None:
        return None
    today = today or clock.today()
    if birth > today:
        raise ValueError(_("The birth date is in the future."))
    age = age_on(birth, today)
    if age < MIN_AGE or age > MAX_AGE:
        raise ValueError(
            _("The birth date gives an age of %(age)s; members must be between %(min)s and %(max)s.",
              age=age, min=MIN_AGE, max=MAX_AGE)
        )
    return birth


def find_duplicates(province_id: int, *, phone: str | None = None, citizen_id: str | None = None,
                    full_name: str | None = None, birth_date: date | None = None,
                    exclude_id: int | None = None) -> list[Person]:
    """People already recorded who match: same citizen ID (anywhere), or in the same province the
    same phone, or the same name (without diacritics) and birth date.

    Not narrowed to any user's area (a duplicate anywhere must be refused): pass the result
    through `split_by_area` before anything about these people reaches a user."""
    conditions = []
    phone = ascii_digits(phone) if phone else None
    citizen_id = ascii_digits(citizen_id) if citizen_id else None
    if citizen_id:
        conditions.append(Person.citizen_id == citizen_id)
    if phone:
        conditions.append((Person.province_id == province_id) & (Person.phone == phone))
    if full_name and birth_date:
        conditions.append(
            (Person.province_id == province_id)
            & (Person.search_name == fold(full_name))
            & (Person.birth_date == birth_date)
        )
    if not conditions:
        return []
    stmt = select(Person).where(or_(*conditions))
    if exclude_id is not None:
        stmt = stmt.where(Person.id != exclude_id)
    return list(db.session.scalars(stmt.order_by(Person.id).limit(10)))


def split_by_area(people: list[Person], user: Any = None) -> tuple[list[Person], bool]:
    """The matching people the user may see (cdt.auth.scope's rule), and whether anyone else
    matched too. Of the others a user learns only that they exist: see `registered_elsewhere`."""
    inside = ids_in_area(Person, [p.id for p in people], user)
    return [p for p in people if p.id in inside], len(inside) < len(people)


def registered_elsewhere(unit: AdminUnit | None) -> str:
    """What a user working in `unit` is told about a matching person outside their area: that the
    person is already registered, and whom to ask. Never who, where, or any of their details."""
    province = db.session.get(AdminUnit, unit.province_id) if unit is not None and unit.province_id else None
    if province is None:
        return _("This person is already registered in another area. To have them join a team here, ask the "
                 "administrator to move their record here.")
    return _("This person is already registered in another area. To have them join a team here, ask the province "
             "staff of %(province)s to move their record here (or the administrator, if they are registered in "
             "another province).", province=province.name)
