"""The SQL the outputs pages need: indicators of a month, the commune's month, locks, deadlines,
late and missing reports. Every place question goes through `within` (the one "inside a unit, on a
date" rule), asked on the month's last day: a month is reported on the map valid then."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, func, or_, select

from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.within import within
from cdt.outputs import periods
from cdt.outputs.models import (
    DEFAULT_DEADLINE_DAY,
    Indicator,
    MonthLock,
    ReportingDeadline,
    TeamReport,
    TeamReportValue,
)
from cdt.registry.models import Team


def team_expected(start: date, end: date, team=Team):
    """SQL condition: the team was active on at least one day from `start` to `end` (established on
    or before `end`, or undated; not dissolved on or before `start`; a team marked dissolved without
    a date never counts). Such a team is expected to report the month."""
    return and_(
        or_(team.established_on.is_(None), team.established_on <= end),
        or_(team.dissolved_on.is_(None), team.dissolved_on > start),
        or_(team.status == "active", team.dissolved_on.is_not(None)),
    )


def indicator_condition(province_id: int | None, start: date, end: date):
    """Indicators a province reports for a period: the common ones and its own, active, valid then."""
    return and_(
        Indicator.active.is_(True),
        or_(Indicator.province_id.is_(None), Indicator.province_id == province_id),
        or_(Indicator.valid_from.is_(None), Indicator.valid_from <= end),
        or_(Indicator.valid_to.is_(None), Indicator.valid_to >= start),
    )


def indicators_for(province_id: int | None, period: str, last: str | None = None) -> list[Indicator]:
    """The indicators of a province for a month (or the months `period` .. `last`), in order."""
    start, end = periods.month_start(period), periods.month_end(last or period)
    return list(db.session.scalars(
        select(Indicator).where(indicator_condition(province_id, start, end))
        .order_by(Indicator.position, Indicator.code)
    ))


def indicator_list(province_id: int | None = None, everything: bool = False) -> list[Indicator]:
    """The catalogue as a manager sees it: common indicators and the province's own (all: every one)."""
    stmt = select(Indicator).order_by(Indicator.province_id.is_not(None), Indicator.position, Indicator.code)
    if not everything:
        stmt = stmt.where(or_(Indicator.province_id.is_(None), Indicator.province_id == province_id))
    return list(db.session.scalars(stmt))


def is_locked(province_id: int, period: str) -> bool:
    return db.session.get(MonthLock, (province_id, period)) is not None


def locked_periods(province_id: int) -> set[str]:
    return set(db.session.scalars(select(MonthLock.period).where(MonthLock.province_id == province_id)))


def deadline_day(province_id: int) -> int:
    row = db.session.get(ReportingDeadline, province_id)
    return row.day if row is not None else DEFAULT_DEADLINE_DAY


def deadline(province_id: int, period: str) -> date:
    """The date by which a month is due: the province's day of the following month (default the 5th)."""
    following = periods.month_start(periods.shift(period, 1))
    return following.replace(day=deadline_day(province_id))


@dataclass
class EntryRow:
    team: Team
    village_name: str
    village_code: str
    report: TeamReport | None
    values: dict[int, int] = field(default_factory=dict)


def expected_teams(unit: AdminUnit, period: str):
    """SELECT of the teams inside `unit` expected to report `period` (on the month's map)."""
    start, end = periods.month_start(period), periods.month_end(period)
    return select(Team).where(within(Team, unit, end), team_expected(start, end))


def commune_month(commune: AdminUnit, period: str) -> list[EntryRow]:
    """The commune's teams expected in the month, each with its report and values: three queries."""
    rows = db.session.execute(
        expected_teams(commune, period).add_columns(AdminUnit.name, AdminUnit.code)
        .join(AdminUnit, AdminUnit.id == Team.village_id).order_by(AdminUnit.code, Team.id)
    ).all()
    ids = [team.id for team, _name, _code in rows]
    reports = {r.team_id: r for r in db.session.scalars(
        select(TeamReport).where(TeamReport.team_id.in_(ids), TeamReport.period == period))} if ids else {}
    values: dict[int, dict[int, int]] = {}
    if reports:
        by_report = {r.id: r.team_id for r in reports.values()}
        for report_id, indicator_id, value in db.session.execute(
                select(TeamReportValue.report_id, TeamReportValue.indicator_id, TeamReportValue.value)
                .where(TeamReportValue.report_id.in_(list(by_report)))):
            values.setdefault(by_report[report_id], {})[indicator_id] = value
    return [EntryRow(team, name, code, reports.get(team.id), values.get(team.id, {})) for team, name, code in rows]


def team_month(team: Team, period: str) -> tuple[TeamReport | None, dict[int, int]]:
    report = db.session.scalar(select(TeamReport).where(TeamReport.team_id == team.id, TeamReport.period == period))
    if report is None:
        return None, {}
    return report, {v.indicator_id: v.value for v in report.values}


def team_history(team: Team, last: str, count: int = 12) -> list[tuple[str, dict[int, int], bool]]:
    """(period, {indicator_id: value}, reported) for the team's last `count` months up to `last`."""
    first = periods.shift(last, -(count - 1))
    found: dict[str, dict[int, int]] = {}
    for period, indicator_id, value in db.session.execute(
            select(TeamReport.period, TeamReportValue.indicator_id, TeamReportValue.value)
            .join(TeamReportValue, TeamReportValue.report_id == TeamReport.id)
            .where(TeamReport.team_id == team.id, TeamReport.period.between(first, last))):
        found.setdefault(period, {})[indicator_id] = value
    return [(p, found.get(p, {}), p in found) for p in reversed(periods.months(first, last))]


def late_and_missing(unit: AdminUnit, period: str, province_id: int):
    """SELECT (team, village name, commune name, submitted_at) of the teams inside `unit` expected in
    the month whose report is missing or came after the deadline, missing first."""
    due = deadline(province_id, period)
    from cdt.core.clock import day_start

    late_from = day_start(date.fromordinal(due.toordinal() + 1))
    village = db.aliased(AdminUnit)
    commune = db.aliased(AdminUnit)
    return (
        expected_teams(unit, period)
        .add_columns(village.name, commune.name, TeamReport.submitted_at)
        .join(village, village.id == Team.village_id)
        .join(commune, commune.id == Team.commune_id)
        .outerjoin(TeamReport, and_(TeamReport.team_id == Team.id, TeamReport.period == period))
        .where(or_(TeamReport.id.is_(None), TeamReport.submitted_at >= late_from))
        .order_by(TeamReport.id.is_not(None), commune.code, village.code, Team.id)
    ), due


def count_of(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
