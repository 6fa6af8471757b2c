"""Queries on the unit tree."""
from __future__ import annotations

from datetime import date

from flask import abort
from sqlalchemy import select

from cdt.auth.scope import area_condition
from cdt.extensions import db
from cdt.geo.models import LEVEL_DEPTH, AdminUnit
from cdt.geo.within import ancestor_ids, valid_on, within


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


def unit_in_area(code: str) -> AdminUnit | None:
    """The unit with this GSO code when it lies in the user's area; None otherwise."""
    return db.session.scalar(select(AdminUnit).where(AdminUnit.code == code, area_condition(AdminUnit)))


def unit_in_area_or_404(code: str) -> AdminUnit:
    """The unit with this GSO code when it lies in the user's area; 404 otherwise."""
    return _in_area_or_404(unit_in_area(code))


def commune_in_area(code: str | None = None, *, commune_id: int | None = None) -> AdminUnit | None:
    """The commune with this GSO code (or id) when it lies in the user's area; None otherwise."""
    if not code and commune_id is None:
        return None
    condition = AdminUnit.code == code if code else AdminUnit.id == commune_id
    return db.session.scalar(select(AdminUnit).where(condition, AdminUnit.level == "commune",
                                                     area_condition(AdminUnit)))


def commune_in_area_or_404(code: str | None = None, *, commune_id: int | None = None) -> AdminUnit:
    """The commune with this GSO code (or id) when it lies in the user's area; 404 otherwise."""
    return _in_area_or_404(commune_in_area(code, commune_id=commune_id))


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
