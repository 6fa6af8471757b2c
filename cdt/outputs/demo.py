"""The demo's monthly reports: every Lào Cai demo team, from January 2023 to last month, with
plausible figures (a few months missing, last month not yet complete), the province's and its
communes' targets for 2023 and this year, an allowance rate. Rows are inserted in bulk (Core
executemany) with explicit ids: a few seconds for ~70,000 reports."""
from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert, select, text

from cdt.core import clock
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.queries import unit_by_code
from cdt.outputs import periods, totals
from cdt.outputs.models import AllowanceRate, Indicator, OutputTarget, TeamReport, TeamReportValue
from cdt.outputs.services import seed_indicators
from cdt.registry.models import Team

FIRST = "2023-01"
CHUNK = 20000
# indicator code -> (monthly mean per team in 2023, yearly trend factor, share of months reported)
PROFILE = {
    "vneid_level2": (24, 0.6, 1.0),
    "public_service_dossiers": (9, 1.3, 1.0),
    "cashless_accounts": (6, 1.2, 0.9),
    "ecommerce_accounts": (2, 1.4, 0.7),
    "households_reached": (30, 1.0, 1.0),
    "digital_literacy": (12, 1.5, 0.8),
}


def _value(rng: random.Random, mean: float) -> int:
    return max(0, int(rng.gauss(mean, mean * 0.45) + 0.5)) if mean > 0 else 0


def build_outputs(province_code: str, seed: int = 12) -> int:
    """The demo's outputs for the province's teams; the number of reports made."""
    rng = random.Random(seed)
    seed_indicators()
    province = unit_by_code(province_code, level="province")  # the province with that code today
    if province is None:
        return 0
    indicators = {i.code: i.id for i in db.session.scalars(select(Indicator).where(Indicator.province_id.is_(None)))}
    last = periods.last_month()
    months = periods.months(FIRST, last)
    teams = db.session.execute(select(Team.id, Team.commune_id, Team.established_on, Team.dissolved_on, Team.status)
                               .where(Team.province_id == province.id).order_by(Team.id)).all()
    next_id = (db.session.scalar(text("SELECT COALESCE(MAX(id), 0) FROM team_report")) or 0) + 1
    reports, values = [], []
    made = 0
    by_commune: Counter[int] = Counter()
    table_r, table_v = TeamReport.__table__, TeamReportValue.__table__

    def flush() -> None:
        if reports:
            db.session.execute(insert(table_r), reports)
            reports.clear()
        if values:
            db.session.execute(insert(table_v), values)
            values.clear()

    for team_id, commune_id, established, dissolved, status in teams:
        if status == "dissolved" and dissolved is None:
            continue
        by_commune[commune_id] += 1
        activity = rng.uniform(0.5, 1.6)  # some teams do much more than others
        for period in months:
            start, end = periods.month_start(period), periods.month_end(period)
            if (established and established > end) or (dissolved and dissolved <= start):
                continue  # not expected this month (cdt.outputs.queries.team_expected)
            missing = 0.25 if period == last else 0.04
            if rng.random() < missing:
                continue
            year_index = int(period[:4]) - 2023 + (int(period[5:]) - 1) / 12
            due = end + timedelta(days=rng.choice([1, 2, 3, 3, 4, 4, 5, 5, 5, 7, 9, 12]))
            submitted = datetime.combine(due, time(9, rng.randrange(60)), tzinfo=clock.zone()).astimezone(UTC)
            reports.append({"id": next_id, "team_id": team_id, "period": period, "note": None, "source": "form",
                            "submitted_at": submitted, "updated_at": submitted})
            for code, (mean, trend, share) in PROFILE.items():
                if code in indicators and rng.random() < share:
                    values.append({"report_id": next_id, "indicator_id": indicators[code],
                                   "value": _value(rng, mean * activity * trend ** year_index)})
            next_id += 1
            made += 1
            if len(values) >= CHUNK:
                flush()
    flush()
    totals.rebuild()
    _targets(province, indicators, by_commune, rng)
    if db.session.scalar(select(AllowanceRate.id).where(AllowanceRate.province_id == province.id)) is None:
        db.session.add(AllowanceRate(province_id=province.id, per_team=500_000, per_member=None,
                                     valid_from=date(2023, 1, 1)))
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('team_report', 'id'), "
                                "COALESCE((SELECT MAX(id) FROM team_report), 0) + 1, false)"))
    return made


def _targets(province: AdminUnit, indicators: dict[str, int], by_commune: Counter, rng: random.Random) -> None:
    """Year targets for 2023 and this year: the province's, split over its communes by their teams."""
    rows = []
    teams = sum(by_commune.values()) or 1
    for year in sorted({2023, clock.today().year}):
        for code, (mean, trend, share) in PROFILE.items():
            if code not in indicators:
                continue
            per_team_year = mean * trend ** (year - 2023) * share * 12 * 1.1  # a little above the typical team
            rows.append({"unit_id": province.id, "province_id": province.id, "indicator_id": indicators[code],
                         "year": year, "month": None, "value": int(per_team_year * teams)})
            for commune_id, count in sorted(by_commune.items()):
                rows.append({"unit_id": commune_id, "province_id": province.id, "indicator_id": indicators[code],
                             "year": year, "month": None, "value": int(per_team_year * count * rng.uniform(0.9, 1.1))})
    if rows:
        db.session.execute(insert(OutputTarget.__table__), rows)
