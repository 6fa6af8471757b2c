"""Upkeep of the monthly counters per commune (CommuneMonthTotal, CommuneMonthReports) and per
province (ProvinceMonthTotal, ProvinceMonthReports) that the outputs report reads for provinces,
districts and communes: `add` in the same transaction as every
change of a team's values (cdt.outputs.services is the only writer), `rebuild` from the values
(after a bulk load: the demo, the bench; `flask cdt indicators rebuild-totals`). An atomic
"insert or add" (ON CONFLICT DO UPDATE, SQLite and PostgreSQL): two officers saving at once never
lose a count. tests/test_outputs.py proves the counters equal a recount from the values."""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, func, insert, select

from cdt.extensions import db
from cdt.outputs.models import (
    CommuneMonthReports,
    CommuneMonthTotal,
    ProvinceMonthReports,
    ProvinceMonthTotal,
    TeamReport,
    TeamReportValue,
)
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


def add(team: Team, period: str, deltas: Mapping[int, int], reports_delta: int) -> None:
    """Add the change of one team's month: {indicator id: new - old}, and +1/-1/0 report."""
    place = {"commune_id": team.commune_id, "period": period, "province_id": team.province_id,
             "district_id": team.district_id}
    province = {"province_id": team.province_id, "period": period}
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
    db.session.execute(insert(CommuneMonthTotal).from_select(
        ["commune_id", "period", "indicator_id", "province_id", "district_id", "total"],
        select(Team.commune_id, TeamReport.period, TeamReportValue.indicator_id, func.min(Team.province_id),
               func.min(Team.district_id), func.sum(TeamReportValue.value))
        .select_from(TeamReportValue).join(TeamReport, TeamReport.id == TeamReportValue.report_id)
        .join(Team, Team.id == TeamReport.team_id)
        .group_by(Team.commune_id, TeamReport.period, TeamReportValue.indicator_id)))
    db.session.execute(insert(CommuneMonthReports).from_select(
        ["commune_id", "period", "province_id", "district_id", "reports"],
        select(Team.commune_id, TeamReport.period, func.min(Team.province_id), func.min(Team.district_id),
               func.count()).select_from(TeamReport).join(Team, Team.id == TeamReport.team_id)
        .group_by(Team.commune_id, TeamReport.period)))
    db.session.execute(insert(ProvinceMonthTotal).from_select(
        ["province_id", "period", "indicator_id", "total"],
        select(CommuneMonthTotal.province_id, CommuneMonthTotal.period, CommuneMonthTotal.indicator_id,
               func.sum(CommuneMonthTotal.total))
        .group_by(CommuneMonthTotal.province_id, CommuneMonthTotal.period, CommuneMonthTotal.indicator_id)))
    db.session.execute(insert(ProvinceMonthReports).from_select(
        ["province_id", "period", "reports"],
        select(CommuneMonthReports.province_id, CommuneMonthReports.period, func.sum(CommuneMonthReports.reports))
        .group_by(CommuneMonthReports.province_id, CommuneMonthReports.period)))
