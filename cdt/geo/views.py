"""Unit pages: a unit's totals and its children, counted in SQL (the coverage definitions)."""
from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from cdt.core.inputs import date_arg
from cdt.geo.blueprint import bp
from cdt.geo.queries import breadcrumbs, ended, succession_of, successors, unit_in_area_or_404
from cdt.reports.queries import country_summary, coverage, summary

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
    """A unit of the map valid on `on` (default today; a code is unique on a date), with its
    predecessors or successors. An ended unit shows what lay in it on its last day."""
    unit = unit_in_area_or_404(code, date_arg("on"))
    totals = summary(unit)
    rows = coverage(unit, unit.child_level) if unit.child_level else []
    before, after = succession_of(unit)
    # An abolished district has no successor of its own: the new communes its communes went into.
    district_successors = successors(unit) if unit.level == "district" and ended(unit) else []
    on = unit.valid_to.isoformat() if ended(unit) else None  # links stay on the unit's map
    return render_template("geo/unit.html", unit=unit, totals=totals, rows=rows, crumbs=breadcrumbs(unit),
                           predecessors=before, successors=after, district_successors=district_successors, on=on,
                           crumb_args={"on": on} if on else None)
