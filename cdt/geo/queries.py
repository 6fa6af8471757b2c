"""Queries on the unit tree."""
from __future__ import annotations

from datetime import date

from flask import abort
from sqlalchemy import case, exists, select
from sqlalchemy.orm import aliased

from cdt.auth.scope import area_condition
from cdt.core.clock import today
from cdt.core.data_version import cached
from cdt.extensions import db
from cdt.geo.models import LEVEL_DEPTH, LEVELS, AdminUnit, UnitSuccession
from cdt.geo.within import ancestor_ids, valid_on, within


def by_code(code: str, day: date | None = None, *conditions):
    """SELECT of the unit a GSO code names on a day (None: today): the one valid then, else the
    last one with that code that had ended by then (an ended unit: the caller answers with its
    successors). A code is unique on a date, not forever: never look a code up without a day."""
    day = day or today()
    return (
        select(AdminUnit)
        .where(AdminUnit.code == code, (AdminUnit.valid_from.is_(None)) | (AdminUnit.valid_from <= day), *conditions)
        .order_by(case((valid_on(AdminUnit, day), 0), else_=1), AdminUnit.valid_to.desc().nulls_first())
        .limit(1)
    )


def unit_by_code(code: str, day: date | None = None, level: str | None = None) -> AdminUnit | None:
    """The unit a code names on a day (see by_code), whatever the user's area (CLI, loaders)."""
    return db.session.scalar(by_code(code, day, *([AdminUnit.level == level] if level else [])))


def levels_on(day: date | None = None) -> list[str]:
    """The levels of the map valid on the day (None: today), top-down: the 2025 map has no
    districts. Villages are always a level (they outlive the maps)."""
    day = day or today()
    above = [level for level in LEVELS if level != "village"]

    def compute() -> list[str]:
        # One EXISTS per level (the level index: a few hundred rows, not the ~80,000 villages).
        found = db.session.execute(select(*[
            exists().where(AdminUnit.level == level, valid_on(AdminUnit, day)).label(level) for level in above
        ])).one()
        return [level for level, present in zip(above, found, strict=True) if present] + ["village"]

    return cached("levels_on", (day,), compute)  # every report page asks


def ended(unit: AdminUnit, day: date | None = None) -> bool:
    """Whether the unit had ended by the day (None: today)."""
    return unit.valid_to is not None and unit.valid_to < (day or today())


def successors(unit: AdminUnit) -> list[AdminUnit]:
    """The units that took over an ended unit's area, by code (a district, abolished in 2025 with
    no successor of its own: the successors of its communes)."""
    Old = aliased(AdminUnit)
    stmt = select(AdminUnit).join(UnitSuccession, UnitSuccession.successor_id == AdminUnit.id)
    if unit.level == "district":
        stmt = stmt.join(Old, Old.id == UnitSuccession.predecessor_id).where(Old.district_id == unit.id,
                                                                            Old.level == "commune")
    else:
        stmt = stmt.where(UnitSuccession.predecessor_id == unit.id)
    return list(db.session.scalars(stmt.distinct().order_by(AdminUnit.code)))


def succession_of(unit: AdminUnit) -> tuple[list[UnitSuccession], list[UnitSuccession]]:
    """(predecessors, successors) of a unit as succession rows, by code."""
    before = db.session.scalars(
        select(UnitSuccession).join(AdminUnit, AdminUnit.id == UnitSuccession.predecessor_id)
        .where(UnitSuccession.successor_id == unit.id).order_by(AdminUnit.code)).all()
    after = db.session.scalars(
        select(UnitSuccession).join(AdminUnit, AdminUnit.id == UnitSuccession.successor_id)
        .where(UnitSuccession.predecessor_id == unit.id).order_by(AdminUnit.code)).all()
    return list(before), list(after)


def ancestors(unit: AdminUnit) -> list[AdminUnit]:
    """The unit's ancestors, top-down, in one query (not the unit itself)."""
    ids = [i for i in ancestor_ids(unit) if i != unit.id]
    if not ids:
        return []
    found = db.session.scalars(select(AdminUnit).where(AdminUnit.id.in_(ids))).all()
    return sorted(found, key=lambda u: LEVEL_DEPTH[u.level])


def breadcrumbs(unit: AdminUnit) -> list[AdminUnit]:
    """Ancestors and the unit itself, top-down."""
    return [*ancestors(unit), unit]


def villages_of(commune: AdminUnit, day: date) -> list[AdminUnit]:
    """The villages of a commune on a day (valid then, and in the commune then), by code."""
    return list(db.session.scalars(
        select(AdminUnit)
        .where(AdminUnit.level == "village", within(AdminUnit, commune, day), valid_on(AdminUnit, day))
        .order_by(AdminUnit.code)
    ))


def _in_area_or_404(unit: AdminUnit | None) -> AdminUnit:
    if unit is None:
        abort(404)
    return unit


def unit_in_area(code: str, day: date | None = None) -> AdminUnit | None:
    """The unit this GSO code names on the day (by_code; None: today) when it lies in the user's
    area; None otherwise."""
    return db.session.scalar(by_code(code, day, area_condition(AdminUnit)))


def unit_in_area_or_404(code: str, day: date | None = None) -> AdminUnit:
    """The unit this GSO code names on the day when it lies in the user's area; 404 otherwise."""
    return _in_area_or_404(unit_in_area(code, day))


def commune_in_area(code: str | None = None, *, commune_id: int | None = None,
                    day: date | None = None) -> AdminUnit | None:
    """The commune this GSO code names on the day (None: today), or with this id, when it lies in
    the user's area; None otherwise."""
    if not code and commune_id is None:
        return None
    if code:
        return db.session.scalar(by_code(code, day, AdminUnit.level == "commune", area_condition(AdminUnit)))
    return db.session.scalar(select(AdminUnit).where(AdminUnit.id == commune_id, AdminUnit.level == "commune",
                                                     area_condition(AdminUnit)))


def commune_in_area_or_404(code: str | None = None, *, commune_id: int | None = None,
                           day: date | None = None) -> AdminUnit:
    """The commune this GSO code names on the day (or with this id) when it lies in the user's
    area; 404 otherwise."""
    return _in_area_or_404(commune_in_area(code, commune_id=commune_id, day=day))


def unit_arg_or_area(code: str | None) -> AdminUnit | None:
    """The unit a report page is about: the one with GSO code `code` inside the user's area (404
    outside), else the user's own area; None (everywhere) for an administrator without an area;
    404 for anyone else without one."""
    from flask_login import current_user

    if code:
        return unit_in_area_or_404(code)
    if current_user.area is not None:
        return current_user.area
    if current_user.role == "admin":
        return None
    abort(404)
