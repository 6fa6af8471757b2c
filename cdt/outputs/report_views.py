"""The outputs report /reports/outputs (and .csv, .xlsx): parse, resolve the unit inside the user's
area (404 outside), call cdt.outputs.report (the one definition), render or export."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Response, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from cdt.audit.service import record_alone
from cdt.geo.models import LEVEL_DEPTH, AdminUnit
from cdt.geo.queries import unit_arg_or_area
from cdt.outputs import periods, queries, report
from cdt.outputs.models import Indicator

LEVEL_NAMES = {
    "country": _l("Country"), "province": _l("Province"), "district": _l("District"), "commune": _l("Commune"),
    "team": _l("Team"),
}

XLSX_COLUMNS = [
    ("level", _l("Level")), ("code", _l("Code")), ("name", _l("Name")), ("parent_code", _l("Parent unit code")),
    ("period_from", _l("From month")), ("period_to", _l("To month")), ("indicator", _l("Indicator")),
    ("expected", _l("Reports expected")), ("reported", _l("Reports received")),
    ("reporting_rate_pct", _l("Reporting rate (%)")), ("value", _l("Value")), ("target", _l("Target")),
    ("achieved_pct", _l("Achieved (%)")),
]


@dataclass
class OutputsRequest:
    unit: AdminUnit | None
    level: str
    first: str
    last: str
    indicators: list[Indicator]
    indicator: Indicator | None
    errors: list[str]

    def args(self, **overrides) -> dict:
        args = {"unit": self.unit.code if self.unit else None, "from": self.first, "to": self.last,
                "by": request.args.get("by") or None,
                "indicator": self.indicator.code if self.indicator else None}
        args.update(overrides)
        return {k: v for k, v in args.items() if v}


def parse() -> OutputsRequest:
    """The report's parameters from the query string; a unit outside the user's area is a 404, a
    wrong month or level an error shown on the page (400)."""
    unit = unit_arg_or_area((request.args.get("unit") or "").strip())
    errors: list[str] = []
    last = periods.last_month()
    raw_to, raw_from = request.args.get("to"), request.args.get("from")
    if raw_to:
        last = periods.parse(raw_to) or last
        if periods.parse(raw_to) is None:
            errors.append(_("Enter the months as YYYY-MM, for example 2025-03."))
    first = f"{last[:4]}-01"
    if raw_from:
        parsed = periods.parse(raw_from)
        if parsed is None:
            errors.append(_("Enter the months as YYYY-MM, for example 2025-03."))
        else:
            first = parsed
    if first > last:
        errors.append(_("The end of the period is before its start."))
        first = last
    if len(periods.months(first, last)) > 60:
        errors.append(_("Choose a period of at most 60 months."))
        first = periods.shift(last, -59)
    level = request.args.get("by") or report.default_level(unit, last)
    if level not in report.ROW_LEVELS or (unit is not None and level != "team"
                                          and LEVEL_DEPTH[level] <= unit.depth):
        errors.append(_("Choose a level below %(unit)s.", unit=unit.name if unit else ""))
        level = report.default_level(unit, last)
    indicators = queries.indicators_for(unit.province_id if unit else None, first, last)
    wanted = (request.args.get("indicator") or "").strip()
    indicator = next((i for i in indicators if i.code == wanted), None) if wanted else None
    if wanted and indicator is None:
        errors.append(_("Choose an indicator from the list."))
    if indicator is None and indicators:
        indicator = indicators[0]
    return OutputsRequest(unit, level, first, last, indicators, indicator, errors)


def export_rows(req: OutputsRequest) -> list[list]:
    """Rows of the CSV: one per row unit and indicator (the ?indicator given: that one only), then
    the unit's total rows. The same values as `flask cdt report outputs`."""
    chosen = [req.indicator] if request.args.get("indicator") and req.indicator else req.indicators
    rows, total = report.outputs(req.unit, req.level, req.first, req.last, req.indicators)
    return report.csv_lines(rows, total, chosen, req.first, req.last)


def audit(req: OutputsRequest, what: str, count: int) -> None:
    record_alone("export", details={"what": what, "unit": req.unit.code if req.unit else "all",
                                    "by": req.level, "from": req.first, "to": req.last, "rows": count})


def attachment(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
