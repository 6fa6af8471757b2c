"""The coverage report's parameters, read and validated once for the page, its CSV and XLSX
(cdt/reports/views.py) and the API's /api/v1/coverage (cdt/api/views.py): the same arguments give
the same report and the same errors everywhere."""
from __future__ import annotations

from datetime import date

from flask import request
from flask_babel import gettext as _

from cdt.core import clock
from cdt.core.templating import short_date
from cdt.geo.models import LEVEL_DEPTH, LEVEL_LABELS, AdminUnit
from cdt.geo.queries import ended, levels_on, unit_arg_or_area, unit_in_area_or_404
from cdt.geo.within import placement_day
from cdt.reports.forms import CoverageFilterForm


class Report:
    """The parsed, validated parameters of a coverage request."""

    def __init__(self, form: CoverageFilterForm, unit: AdminUnit | None, level: str | None, as_of: date):
        self.form = form
        self.unit = unit
        self.level = level
        self.as_of = as_of
        self.period_from = form.period_from.data
        self.period_to = form.period_to.data
        self.map_day = form.map_day.data  # None: the map valid on as_of
        self.ended = False  # the code names a unit that had ended by the report's date

    def args(self, **overrides) -> dict:
        """Query arguments that reproduce this report (for links), with overrides."""
        args = {
            "unit": self.unit.code if self.unit else None,
            "by": request.args.get("by") or None,
            "as_of": request.args.get("as_of") or None,
            "from": request.args.get("from") or None,
            "to": request.args.get("to") or None,
            "map": request.args.get("map") or None,
            "sort": request.args.get("sort") or None,
        }
        args.update(overrides)
        return {k: v for k, v in args.items() if v}


def default_unit() -> AdminUnit | None:
    """The user's area; None (everything loaded) for an admin without one."""
    return unit_arg_or_area(None)


def parse_report() -> Report:
    """Read the filter from the query string; 404 for a unit outside the user's area. A unit code
    is read on the report's map date (`map`, else `as_of`, else today): a code is unique on a date."""
    form = CoverageFilterForm(formdata=request.args)
    valid = form.validate()
    as_of = form.as_of.data or clock.today()
    day = form.map_day.data or as_of
    code = (request.args.get("unit") or "").strip()
    unit = unit_in_area_or_404(code, day) if code else default_unit()
    level = None
    child = unit.child_level if unit is not None else "province"
    if valid:
        level = form.by.data or child
        if level is not None and unit is not None and LEVEL_DEPTH[level] <= unit.depth:
            form.by.errors.append(_("Choose a level below %(unit)s.", unit=unit.name))
            valid = False
        elif level is not None:
            existing = levels_on(placement_day(unit, day))
            if level not in existing:
                form.by.errors.append(_(
                    "There is no %(level)s on the map of %(date)s; choose one of: %(levels)s.",
                    level=str(LEVEL_LABELS[level]).lower(), date=short_date(placement_day(unit, day)),
                    levels=", ".join(str(LEVEL_LABELS[lv]).lower() for lv in existing)))
                valid = False
    if not valid:
        level = None
    report = Report(form, unit, level, as_of)
    report.valid = valid
    report.child_level = child
    report.ended = bool(code) and unit is not None and ended(unit, day)
    return report
