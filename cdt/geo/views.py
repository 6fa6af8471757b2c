"""Unit pages: a unit's totals and its children, counted in SQL (the coverage definitions)."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from cdt.geo.queries import breadcrumbs, unit_in_area_or_404
from cdt.reports.queries import country_summary, coverage, summary

bp = Blueprint("geo", __name__)

__all__ = ["bp", "unit_in_area_or_404"]


@bp.get("/units")
@login_required
def units():
    """The provinces loaded (admin), or a redirect to the user's own area."""
    if current_user.area is not None:
        return redirect(url_for("geo.unit", code=current_user.area.code))
    rows = coverage(None, "province")
    return render_template("geo/units.html", rows=rows, totals=country_summary())


@bp.get("/units/<code>")
@login_required
def unit(code: str):
    unit = unit_in_area_or_404(code)
    totals = summary(unit)
    rows = coverage(unit, unit.child_level) if unit.child_level else []
    return render_template("geo/unit.html", unit=unit, totals=totals, rows=rows, crumbs=breadcrumbs(unit))
