"""The outputs report: the one definition read by the page, the CSV, the XLSX and the CLI.

For a unit U (None: the whole country), the months FIRST..LAST and a row level (province,
district, commune or team), every figure is counted in SQL, grouped by the teams' ancestor
column of that level (the README's table says the same):
- expected: team-months expected to report: for each month, the teams inside the row's unit that
  were active on at least one day of the month (established on or before its last day or undated,
  not dissolved on or before its first day);
- reported: the reports received for those months from the unit's teams (a report holds at least
  one figure; 0 counts; only a team expected that month can send one);
- reporting_rate_pct: 100 x reported / expected, one decimal (DHIS2's "reporting rate");
- value: the sum of the indicator's figures reported for the months by the teams of the row's unit;
- target: the sum over the months of the unit's month target for the indicator, or, for a month
  without one, its year target / 12; rounded to a whole number; blank when neither is set
  (targets are set for provinces and communes only);
- achieved_pct: 100 x value / target, one decimal; blank without a target (or a target of 0).
Units and places are read on the map valid on the last day of LAST (a month is reported on the map
valid on its last day), through `within` and `valid_on`.

Speed: rows of provinces, districts and communes (and a unit's total) read the per-commune monthly
counters (cdt/outputs/totals.py) instead of the values; "expected" is one pass over the teams
grouped by the months they start and end; rows of teams read the values (`live`, the definition).
tests/test_outputs.py proves both give the same numbers.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, literal_column, or_, select

from cdt.core.clock import today
from cdt.core.data_version import cached
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.within import place_column, valid_on, within
from cdt.outputs import periods
from cdt.outputs.models import (
    CommuneMonthReports,
    CommuneMonthTotal,
    Indicator,
    OutputTarget,
    ProvinceMonthReports,
    ProvinceMonthTotal,
    TeamReport,
    TeamReportValue,
)
from cdt.outputs.queries import team_expected
from cdt.registry.models import Team
from cdt.reports.queries import pct  # the one rounding of a percentage (one decimal, half up)

ROW_LEVELS = ("province", "district", "commune", "team")

CSV_COLUMNS = [
    "level", "code", "name", "parent_code", "period_from", "period_to", "indicator", "expected",
    "reported", "reporting_rate_pct", "value", "target", "achieved_pct",
]


@dataclass
class OutputRow:
    level: str
    unit_id: int
    code: str
    name: str
    parent_code: str | None
    expected: int = 0
    reported: int = 0
    values: dict[int, int] = field(default_factory=dict)
    targets: dict[int, int | None] = field(default_factory=dict)

    @property
    def reporting_rate_pct(self) -> Decimal | None:
        return pct(self.reported, self.expected)

    def value(self, indicator_id: int) -> int:
        return self.values.get(indicator_id, 0)

    def target(self, indicator_id: int) -> int | None:
        return self.targets.get(indicator_id)

    def achieved_pct(self, indicator_id: int) -> Decimal | None:
        return pct(self.value(indicator_id), self.target(indicator_id))

    def csv_values(self, indicator: Indicator, first: str, last: str) -> dict:
        found = {
            "level": self.level, "code": self.code, "name": self.name, "parent_code": self.parent_code,
            "period_from": first, "period_to": last, "indicator": indicator.code, "expected": self.expected,
            "reported": self.reported, "reporting_rate_pct": self.reporting_rate_pct,
            "value": self.value(indicator.id), "target": self.target(indicator.id),
            "achieved_pct": self.achieved_pct(indicator.id),
        }
        return {key: ("" if value is None else value) for key, value in found.items()}


def map_day(last: str) -> date:
    return periods.month_end(last)


def default_level(unit: AdminUnit | None, last: str) -> str:
    """The level of the rows under `unit`: provinces for the country, teams inside a commune; a
    province's districts, or its communes on a map without districts."""
    if unit is None:
        return "province"
    if unit.level in ("commune", "village"):
        return "team"
    child = unit.child_level
    if child == "district":
        day = map_day(last)
        has_districts = db.session.scalar(select(AdminUnit.id).where(
            AdminUnit.level == "district", within(AdminUnit, unit, day), valid_on(AdminUnit, day)).limit(1))
        if has_districts is None:
            return "commune"
    return child


def _group(level: str | None, day: date):
    if level is None:
        return literal_column("0")
    if level == "team":
        return Team.id
    return place_column(Team, level, day)


def fast_path(unit: AdminUnit | None, level: str | None) -> bool:
    """Whether the figures come from the per-commune counters (rows of provinces, districts or
    communes, or a unit's total) rather than from the values themselves (rows of teams, a village)."""
    return level != "team" and (unit is None or unit.level != "village")


def _counters(unit: AdminUnit | None, level: str | None):
    """(values table, reports table): per province for the nation by province or in total, else per commune."""
    if unit is None and level in (None, "province"):
        return ProvinceMonthTotal, ProvinceMonthReports
    return CommuneMonthTotal, CommuneMonthReports


def _index(period: str) -> int:
    year, month = periods.year_month(period)
    return year * 12 + month - 1


def _month_text(column, day_before: bool = False):
    """SQL: 'YYYY-MM' of a date column (of the day before it with `day_before`), SQLite or PostgreSQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(column - literal_column("1") if day_before else column, "YYYY-MM")
    return func.substr(func.date(column, "-1 day") if day_before else column, 1, 7)


def _expected_statement(unit: AdminUnit | None, level: str | None, last: str):
    """SELECT (key, first month, last month, teams): the teams inside the unit that may count, grouped
    by the month they are established in and the month of the day before their dissolution (their
    last active month: a team is not active on the day it is dissolved); NULL: open."""
    day = map_day(last)
    key = _group(level, day).label("key")
    starts = _month_text(Team.established_on).label("starts")
    ends = _month_text(Team.dissolved_on, day_before=True).label("ends")
    return (
        select(key, starts, ends, func.count().label("teams"))
        .where(within(Team, unit, day), or_(Team.status == "active", Team.dissolved_on.is_not(None)))
        .group_by(*([key] if level is not None else []), starts, ends)
    )


def expected_counts(unit: AdminUnit | None, level: str | None, first: str, last: str
                    ) -> tuple[dict[int, int], dict[str, int]]:
    """({row unit id: team-months expected}, {month: teams expected, whole unit}): one statement over
    the teams grouped by their first and last active months, whatever the length of the period
    (month by month this is `queries.team_expected`)."""
    low, high = _index(first), _index(last)
    by_key: dict[int, int] = defaultdict(int)
    by_month: dict[int, int] = defaultdict(int)
    for key, starts, ends, teams in db.session.execute(_expected_statement(unit, level, last)):
        lo = low if starts is None else max(low, _index(starts))
        hi = high if ends is None else min(high, _index(ends))
        if hi >= lo:
            by_key[key] += (hi - lo + 1) * teams
            for index in range(lo, hi + 1):
                by_month[index] += teams
    return dict(by_key), {p: by_month.get(_index(p), 0) for p in periods.months(first, last)}


def _reported_statement(unit: AdminUnit | None, level: str | None, first: str, last: str):
    """SELECT (key, reports): the reports of the months received from the unit's teams."""
    day = map_day(last)
    if fast_path(unit, level):
        counter = _counters(unit, level)[1]
        key = (literal_column("0") if level is None else place_column(counter, level, day)).label("key")
        stmt = (select(key, func.sum(counter.reports))
                .where(counter.period.between(first, last), within(counter, unit, day)))
    else:
        key = _group(level, day).label("key")
        stmt = (select(key, func.count()).select_from(TeamReport).join(Team, Team.id == TeamReport.team_id)
                .where(TeamReport.period.between(first, last), within(Team, unit, day)))
    return stmt.group_by(key) if level is not None else stmt


def reporting_counts(unit: AdminUnit | None, level: str | None, first: str, last: str) -> dict[int, tuple[int, int]]:
    """{row unit id (0 for the total): (expected, reported)}: two statements."""
    expected, _by_month = expected_counts(unit, level, first, last)
    reported = {k: int(r or 0) for k, r in db.session.execute(_reported_statement(unit, level, first, last))}
    return {k: (expected.get(k, 0), reported.get(k, 0)) for k in set(expected) | set(reported)}


def _value_statement(unit: AdminUnit | None, level: str | None, first: str, last: str, indicator_ids: list[int],
                     live: bool = False):
    """SELECT (key, indicator_id, sum of values) per row unit and indicator: from the per-commune
    counters (fast path), or from the values themselves (`live`, rows of teams: the definition)."""
    day = map_day(last)
    if fast_path(unit, level) and not live:
        counter = _counters(unit, level)[0]
        key = (literal_column("0") if level is None else place_column(counter, level, day)).label("key")
        stmt = (select(key, counter.indicator_id, func.sum(counter.total))
                .where(counter.period.between(first, last), counter.indicator_id.in_(indicator_ids),
                       within(counter, unit, day)))
        return stmt.group_by(*([key] if level is not None else []), counter.indicator_id)
    key = _group(level, day).label("key")
    return (
        select(key, TeamReportValue.indicator_id, func.sum(TeamReportValue.value))
        .select_from(TeamReportValue)
        .join(TeamReport, TeamReport.id == TeamReportValue.report_id)
        .join(Team, Team.id == TeamReport.team_id)
        .where(TeamReport.period.between(first, last), TeamReportValue.indicator_id.in_(indicator_ids),
               within(Team, unit, day))
        .group_by(*([key] if level is not None else []), TeamReportValue.indicator_id)
    )


def value_totals(unit: AdminUnit | None, level: str | None, first: str, last: str,
                 indicator_ids: list[int], live: bool = False) -> dict[int, dict[int, int]]:
    """{row unit id: {indicator id: sum of values}} in one statement."""
    found: dict[int, dict[int, int]] = defaultdict(dict)
    for k, indicator_id, total in db.session.execute(
            _value_statement(unit, level, first, last, indicator_ids, live)):
        found[k][indicator_id] = int(total or 0)
    return found


def targets_for(unit_ids: list[int], indicator_ids: list[int], first: str, last: str) -> dict[int, dict[int, int | None]]:
    """{unit id: {indicator id: target for the months}} (see the module's definition)."""
    months = periods.months(first, last)
    years = sorted({int(p[:4]) for p in months})
    if not unit_ids or not indicator_ids:
        return {}
    rows = db.session.execute(select(OutputTarget.unit_id, OutputTarget.indicator_id, OutputTarget.year,
                                     OutputTarget.month, OutputTarget.value)
                              .where(OutputTarget.unit_id.in_(unit_ids), OutputTarget.indicator_id.in_(indicator_ids),
                                     OutputTarget.year.in_(years))).all()
    yearly: dict[tuple[int, int, int], int] = {}
    monthly: dict[tuple[int, int, int, int], int] = {}
    for unit_id, indicator_id, year, month, value in rows:
        if month is None:
            yearly[(unit_id, indicator_id, year)] = value
        else:
            monthly[(unit_id, indicator_id, year, month)] = value
    found: dict[int, dict[int, int | None]] = defaultdict(dict)
    touched = {(u, i) for u, i, *_ in rows}
    for unit_id, indicator_id in touched:
        total = Decimal(0)
        any_set = False
        for p in months:
            year, month = periods.year_month(p)
            if (unit_id, indicator_id, year, month) in monthly:
                total += monthly[(unit_id, indicator_id, year, month)]
                any_set = True
            elif (unit_id, indicator_id, year) in yearly:
                total += Decimal(yearly[(unit_id, indicator_id, year)]) / 12
                any_set = True
        found[unit_id][indicator_id] = int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP)) if any_set else None
    return found


def row_units(unit: AdminUnit | None, level: str, first: str, last: str) -> list[OutputRow]:
    """The report's rows before figures: the units of `level` inside `unit` valid on the map day, or the
    teams inside `unit` expected in at least one of the months."""
    day = map_day(last)
    if level == "team":
        commune = db.aliased(AdminUnit)
        village = db.aliased(AdminUnit)
        stmt = (
            select(Team.id, village.code, Team.name, commune.code)
            .join(village, village.id == Team.village_id).join(commune, commune.id == Team.commune_id)
            .where(within(Team, unit, day), team_expected(periods.month_start(first), day))
            .order_by(village.code, Team.id)
        )
        return [OutputRow("team", i, code, name, parent) for i, code, name, parent in db.session.execute(stmt)]
    parent = db.aliased(AdminUnit)
    stmt = (
        select(AdminUnit.id, AdminUnit.code, AdminUnit.name, parent.code)
        .outerjoin(parent, parent.id == AdminUnit.parent_id)
        .where(AdminUnit.level == level, within(AdminUnit, unit, day), valid_on(AdminUnit, day))
        .order_by(AdminUnit.code)
    )
    return [OutputRow(level, i, code, name, parent_code) for i, code, name, parent_code in db.session.execute(stmt)]


def outputs(unit: AdminUnit | None, level: str, first: str, last: str, indicators: list[Indicator]
            ) -> tuple[list[OutputRow], OutputRow]:
    """The rows under `unit` and the unit's own total row (the sum of every group, not only of the
    rows shown): a fixed number of statements whatever the size; kept per data version
    (cdt/core/data_version.py)."""
    key = (unit.id if unit is not None else None, level, first, last, tuple(i.id for i in indicators), today())
    return cached("outputs", key, lambda: _outputs(unit, level, first, last, indicators))


def _outputs(unit: AdminUnit | None, level: str, first: str, last: str, indicators: list[Indicator]
             ) -> tuple[list[OutputRow], OutputRow]:
    ids = [i.id for i in indicators]
    rows = row_units(unit, level, first, last)
    counts = reporting_counts(unit, level, first, last)
    totals = value_totals(unit, level, first, last, ids)
    target_units = [r.unit_id for r in rows] if level in ("province", "commune") else []
    if unit is not None and unit.level in ("province", "commune"):
        target_units.append(unit.id)
    targets = targets_for(target_units, ids, first, last)
    for row in rows:
        row.expected, row.reported = counts.get(row.unit_id, (0, 0))
        row.values = totals.get(row.unit_id, {})
        if level in ("province", "commune"):
            row.targets = targets.get(row.unit_id, {})
    total = OutputRow(unit.level if unit else "country", unit.id if unit else 0, unit.code if unit else "",
                      unit.name if unit else "", None)
    # Every team of the unit is in exactly one group (a NULL key: no unit at that level on that map),
    # so the groups add up to the unit's own figures.
    total.expected = sum(e for e, _r in counts.values())
    total.reported = sum(r for _e, r in counts.values())
    total.values = {i: sum(v.get(i, 0) for v in totals.values()) for i in ids}
    if unit is not None:
        total.targets = targets.get(unit.id, {})
    return rows, total


def trend(unit: AdminUnit | None, indicator_id: int, first: str, last: str) -> list[tuple[str, int, int, int]]:
    """(month, value, expected, reported) for each month of the range, for the whole unit: three
    statements, kept per data version."""
    key = (unit.id if unit is not None else None, indicator_id, first, last, today())
    return cached("outputs_trend", key, lambda: _trend(unit, indicator_id, first, last))


def _trend(unit: AdminUnit | None, indicator_id: int, first: str, last: str) -> list[tuple[str, int, int, int]]:
    # grouped by the unit's own level (or by province for the nation): the index's order
    _by_key, expected = expected_counts(unit, unit.level if unit is not None else "province", first, last)
    day = map_day(last)
    if fast_path(unit, None):
        values, counts = _counters(unit, None)
        sums = dict(db.session.execute(
            select(values.period, func.sum(values.total))
            .where(values.period.between(first, last), values.indicator_id == indicator_id,
                   within(values, unit, day)).group_by(values.period)).all())
        reported = dict(db.session.execute(
            select(counts.period, func.sum(counts.reports))
            .where(counts.period.between(first, last), within(counts, unit, day))
            .group_by(counts.period)).all())
    else:
        sums = dict(db.session.execute(
            select(TeamReport.period, func.sum(TeamReportValue.value)).select_from(TeamReportValue)
            .join(TeamReport, TeamReport.id == TeamReportValue.report_id).join(Team, Team.id == TeamReport.team_id)
            .where(TeamReport.period.between(first, last), TeamReportValue.indicator_id == indicator_id,
                   within(Team, unit, day)).group_by(TeamReport.period)).all())
        reported = dict(db.session.execute(
            select(TeamReport.period, func.count()).join(Team, Team.id == TeamReport.team_id)
            .where(TeamReport.period.between(first, last), within(Team, unit, day))
            .group_by(TeamReport.period)).all())
    return [(p, int(sums.get(p) or 0), expected[p], int(reported.get(p) or 0)) for p in periods.months(first, last)]


def csv_lines(rows: list[OutputRow], total: OutputRow, indicators: list[Indicator], first: str, last: str
              ) -> list[list]:
    """The export's lines (CSV_COLUMNS): per indicator, one per row unit, then the unit's total."""
    lines = []
    for indicator in indicators:
        for row in [*rows, total]:
            values = row.csv_values(indicator, first, last)
            lines.append([values[key] for key in CSV_COLUMNS])
    return lines
