"""Coverage and outputs as a DHIS2 dataValueSet (JSON), read by /api/v1/dhis2/dataValueSets and
`flask cdt export dhis2`.

For a unit, a month and a level (default commune), each unit of that level inside the unit (on the
map valid at the month's end; the unit itself when it is of that level) is an orgUnit, named by its GSO code (orgUnitIdScheme CODE):
- coverage counts (cdt/reports/queries.py, the report's one definition) as they stood on the month's
  last day (today for the current month), sessions held counted within the month;
- the month's outputs (cdt/outputs/report.py): the sum of the values reported by the unit's teams.
Only counts are sent (DHIS2 computes percentages from them). Which of our indicators go out, and under
which data element, is the mapping file (cdt/api/data/dhis2_mapping.json, or the file named by the
CDT_DHIS2_MAPPING setting): {"coverage": {our key: data element}, "outputs": {indicator code: data
element}, "dataSet": optional, "dataElementIdScheme": "CODE" or "UID"}.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from cdt.core import clock
from cdt.geo.models import LEVEL_DEPTH, AdminUnit
from cdt.geo.queries import levels_on
from cdt.geo.within import placement_day

DEFAULT_MAPPING = Path(__file__).parent / "data" / "dhis2_mapping.json"
_PERIOD = re.compile(r"(\d{4})-?(\d{2})")


class DhisError(ValueError):
    pass


def parse_period(text: str) -> str | None:
    """'2025-03' from '2025-03' or '202503'; None when it is not a month the registry knows."""
    from cdt.outputs import periods

    match = _PERIOD.fullmatch(text or "")
    if match is None:
        return None
    return periods.parse(f"{match.group(1)}-{match.group(2)}")


def mapping() -> dict:
    path = current_app.config.get("CDT_DHIS2_MAPPING") or DEFAULT_MAPPING
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return {"coverage": dict(data.get("coverage") or {}), "outputs": dict(data.get("outputs") or {}),
            "dataSet": data.get("dataSet"), "dataElementIdScheme": data.get("dataElementIdScheme") or "CODE",
            "orgUnitIdScheme": data.get("orgUnitIdScheme") or "CODE"}


def data_value_set(unit: AdminUnit | None, period: str, level: str = "commune") -> dict:
    """The dataValueSet of `unit` (None: everything) for the month `period` ('YYYY-MM')."""
    from cdt.outputs import periods
    from cdt.outputs import queries as outputs_queries
    from cdt.outputs import report as outputs_report
    from cdt.reports import queries as coverage_queries

    day = min(periods.month_end(period), clock.today())
    if unit is not None and LEVEL_DEPTH[level] < unit.depth:
        raise DhisError(_("by=%(level)s is above the unit %(code)s.", level=level, code=unit.code))
    if level not in levels_on(placement_day(unit, day)):
        raise DhisError(_("There is no %(level)s on the map of %(date)s.", level=level, date=day.isoformat()))
    config = mapping()
    dhis_period = period.replace("-", "")
    values: list[dict] = []
    if config["coverage"]:
        rows = coverage_queries.coverage(unit, level, day, periods.month_start(period), day)
        for row in rows:
            figures = row.__dict__
            for key, element in config["coverage"].items():
                if key in figures:
                    values.append({"dataElement": element, "period": dhis_period, "orgUnit": row.code,
                                   "value": str(figures[key])})
    if config["outputs"]:
        indicators = [i for i in outputs_queries.indicators_for(unit.province_id if unit else None, period)
                      if i.code in config["outputs"]]
        if indicators:
            rows, _total = outputs_report.outputs(unit, level, period, period, indicators)
            for row in rows:
                for indicator in indicators:
                    if indicator.id in row.values:
                        values.append({"dataElement": config["outputs"][indicator.code], "period": dhis_period,
                                       "orgUnit": row.code, "value": str(row.value(indicator.id))})
    body: dict = {"dataElementIdScheme": config["dataElementIdScheme"],
                  "orgUnitIdScheme": config["orgUnitIdScheme"], "period": dhis_period}
    if config["dataSet"]:
        body["dataSet"] = config["dataSet"]
    body["dataValues"] = values
    return body
