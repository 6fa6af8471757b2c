"""Unit pages: a unit's totals and its children, counted in SQL."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from cdt.auth.scope import area_condition
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.queries import breadcrumbs
from cdt.reports.queries import coverage, summary

bp = Blueprint("geo", __name__)


def unit_in_area_or_404(code: str) -> AdminUnit:
    unit = db.session.scalar(select(AdminUnit).where(AdminUnit.code == code, area_condition(AdminUnit)))
    if unit is None:
        abort(404)
    return unit


@bp.get("/units")
@login_required
def units():
    """The provinces loaded (admin), or a redirect to the user's own area."""
    if current_user.area is not None:
        return redirect(url_for("geo.unit", code=current_user.area.code))
    rows = coverage(None, "province")
    return render_template("geo/units.html", rows=rows)


@bp.get("/units/<code>")
@login_required
def unit(code: str):
    unit = unit_in_area_or_404(code)
    totals = summary(unit)
    rows = coverage(unit, unit.child_level) if unit.child_level else []
    return render_template("geo/unit.html", unit=unit, totals=totals, rows=rows, crumbs=breadcrumbs(unit))
