"""Unit pages (/units, /units/<code>): a unit's totals and its children, the coverage report's
figures (cdt/reports/queries.py), with the unit's predecessors or successors from geo.

They belong to reports, which computes them; their blueprint is `units` (no URL prefix: the
report pages live under /reports)."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required
from markupsafe import Markup

from cdt.core.clock import today
from cdt.core.data_version import cached
from cdt.core.inputs import date_arg
from cdt.geo.models import AdminUnit
from cdt.geo.queries import breadcrumbs, ended, succession_of, successors, unit_in_area_or_404
from cdt.reports.queries import country_summary, coverage, summary

bp = Blueprint("units", __name__)


@bp.get("/units")
@login_required
def units():
    """The provinces loaded (admin), or a redirect to the user's own area."""
    if current_user.area is not None:
        return redirect(url_for("units.unit", code=current_user.area.code))
    return render_template("reports/units/units.html", children=_children(None, None),
                           totals=country_summary())


@bp.get("/units/<code>")
@login_required
def unit(code: str):
    """A unit of the map valid on `on` (default today; a code is unique on a date), with its
    predecessors or successors. An ended unit shows what lay in it on its last day."""
    unit = unit_in_area_or_404(code, date_arg("on"))
    totals = summary(unit)
    before, after = succession_of(unit)
    # An abolished district has no successor of its own: the new communes its communes went into.
    district_successors = successors(unit) if unit.level == "district" and ended(unit) else []
    on = unit.valid_to.isoformat() if ended(unit) else None  # links stay on the unit's map
    return render_template("reports/units/unit.html", unit=unit, totals=totals, children=_children(unit, on),
                           crumbs=breadcrumbs(unit),
                           predecessors=before, successors=after, district_successors=district_successors, on=on,
                           crumb_args={"on": on} if on else None)


def _children(unit: AdminUnit | None, on: str | None) -> Markup:
    """The table of the unit's children (None: the provinces; empty when it has none), rendered once
    per data version, language and day (a province's unit page is many people's home page)."""
    def render() -> Markup:
        rows = coverage(unit, unit.child_level if unit is not None else "province") \
            if unit is None or unit.child_level else []
        return Markup(render_template("reports/units/_children.html", rows=rows, on=on)) if rows else Markup("")

    return cached("unit_children", (str(get_locale()), unit.id if unit is not None else None, on, today()), render)
