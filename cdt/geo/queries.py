"""Queries on the unit tree."""
from __future__ import annotations

from flask import abort
from sqlalchemy import select

from cdt.auth.scope import area_condition
from cdt.extensions import db
from cdt.geo.models import LEVEL_DEPTH, AdminUnit


def ancestors(unit: AdminUnit) -> list[AdminUnit]:
    """The unit's ancestors, top-down, in one query (not the unit itself)."""
    ids = [i for i in (unit.province_id, unit.district_id, unit.commune_id) if i and i != unit.id]
    if not ids:
        return []
    found = db.session.scalars(select(AdminUnit).where(AdminUnit.id.in_(ids))).all()
    return sorted(found, key=lambda u: LEVEL_DEPTH[u.level])


def breadcrumbs(unit: AdminUnit) -> list[AdminUnit]:
    """Ancestors and the unit itself, top-down."""
    return [*ancestors(unit), unit]


def unit_in_area_or_404(code: str) -> AdminUnit:
    """The unit with this GSO code when it lies in the user's area; 404 otherwise."""
    unit = db.session.scalar(select(AdminUnit).where(AdminUnit.code == code, area_condition(AdminUnit)))
    if unit is None:
        abort(404)
    return unit
