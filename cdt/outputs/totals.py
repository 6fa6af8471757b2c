"""Upkeep of the monthly counters per commune (CommuneMonthTotal, CommuneMonthReports) and per
province (ProvinceMonthTotal, ProvinceMonthReports) that the outputs report reads for provinces,
districts and communes: `add` in the same transaction as every
change of a team's values (cdt.outputs.services is the only writer), `rebuild` from the values
(after a bulk load: the demo, the bench; `flask cdt indicators rebuild-totals`). An atomic
"insert or add" (ON CONFLICT DO UPDATE, SQLite and PostgreSQL): two officers saving at once never
lose a count. tests/test_outputs.py proves the counters equal a recount from the values.

A team's month counts where its village lay on the month's last day (cdt/geo/within.py
place_column): a month before July 2025 on the old map, later months on the new one, and a
village moved or merged later keeps its past months where they were."""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, func, insert, literal, select

from cdt.extensions import db
from cdt.geo.within import place_column
from cdt.outputs.models import (
    CommuneMonthReports,
    CommuneMonthTotal,
    ProvinceMonthReports,
    ProvinceMonthTotal,
    TeamReport,
    TeamReportValue,
)
from cdt.outputs.periods import month_end
from cdt.registry.models import Team


def _upsert(model, row: dict, column: str) -> None:
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = dialect_insert(model.__table__).values(**row)
    keys = [c.name for c in model.__table__.primary_key.columns]
    target = model.__table__.c[column]
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={column: target + stmt.excluded[column]})
    db.session.execute(stmt)


def _placement(period: str) -> tuple:
    """The (commune, province, district) id columns of a team on the month's last day."""
    day = month_end(period)
    return tuple(place_column(Team, level, day) for level in ("commune", "province", "district"))


def add(team: Team, period: str, deltas: Mapping[int, int], reports_delta: int) -> None:
    """Add the change of one team's month: {indicator id: new - old}, and +1/-1/0 report."""
    commune_id, province_id, district_id = db.session.execute(
        select(*_placement(period)).where(Team.id == team.id)).one()
    place = {"commune_id": commune_id, "period": period, "province_id": province_id, "district_id": district_id}
    province = {"province_id": province_id, "period": period}
    for indicator_id, delta in deltas.items():
        if delta:
            _upsert(CommuneMonthTotal, {**place, "indicator_id": indicator_id, "total": delta}, "total")
            _upsert(ProvinceMonthTotal, {**province, "indicator_id": indicator_id, "total": delta}, "total")
    if reports_delta:
        _upsert(CommuneMonthReports, {**place, "reports": reports_delta}, "reports")
        _upsert(ProvinceMonthReports, {**province, "reports": reports_delta}, "reports")


def rebuild() -> None:
    """Recount every counter from the values (no commit)."""
    for model in (CommuneMonthTotal, CommuneMonthReports, ProvinceMonthTotal, ProvinceMonthReports):
        db.session.execute(delete(model))
    for period in db.session.scalars(select(TeamReport.period).distinct().order_by(TeamReport.period)).all():
        commune, province, district = (c.label(n) for c, n in zip(_placement(period), ("c", "p", "d"), strict=True))
        db.session.execute(insert(CommuneMonthTotal).from_select(
            ["commune_id", "period", "indicator_id", "province_id", "district_id", "total"],
            select(commune, literal(period), TeamReportValue.indicator_id, func.min(province), func.min(district),
                   func.sum(TeamReportValue.value))
            .select_from(TeamReportValue).join(TeamReport, TeamReport.id == TeamReportValue.report_id)
            .join(Team, Team.id == TeamReport.team_id).where(TeamReport.period == period)
            .group_by(commune, TeamReportValue.indicator_id)))
        db.session.execute(insert(CommuneMonthReports).from_select(
            ["commune_id", "period", "province_id", "district_id", "reports"],
            select(commune, literal(period), func.min(province), func.min(district), func.count())
            .select_from(TeamReport).join(Team, Team.id == TeamReport.team_id).where(TeamReport.period == period)
            .group_by(commune)))
    db.session.execute(insert(ProvinceMonthTotal).from_select(
        ["province_id", "period", "indicator_id", "total"],
        select(CommuneMonthTotal.province_id, CommuneMonthTotal.period, CommuneMonthTotal.indicator_id,
               func.sum(CommuneMonthTotal.total))
        .group_by(CommuneMonthTotal.province_id, CommuneMonthTotal.period, CommuneMonthTotal.indicator_id)))
    db.session.execute(insert(ProvinceMonthReports).from_select(
        ["province_id", "period", "reports"],
        select(CommuneMonthReports.province_id, CommuneMonthReports.period, func.sum(CommuneMonthReports.reports))
        .group_by(CommuneMonthReports.province_id, CommuneMonthReports.period)))
