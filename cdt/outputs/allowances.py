"""The allowance sheet: what each team active in a month is paid, from its province's rate.

Definitions (README, "Allowance sheet"):
- the rate: the province's rate valid on the month's last day (per team, optionally per member);
- the teams: those inside the unit active on at least one day of the month (as the outputs report);
- days active: from the later of the month's first day and the team's establishment, to the
  earlier of the month's last day and the day before its dissolution (a team is not active on the
  day it is dissolved); a team active the whole month has all the month's days;
- members: the team's memberships that overlap the month (joined on or before its last day, not
  left on or before its first day);
- amount = (per_team + per_member x members) x days active / days in the month, rounded to the
  whole đồng (half up). A team established or dissolved mid-month is paid pro rata.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, func, or_, select

from cdt.audit.service import record
from cdt.core.transactions import commit_or_retry
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.within import within
from cdt.outputs import periods
from cdt.outputs.models import AllowanceRate
from cdt.outputs.queries import team_expected
from cdt.privacy.rules import exportable
from cdt.registry.models import Membership, Person, Team


def rate_for(province_id: int, period: str) -> AllowanceRate | None:
    day = periods.month_end(period)
    return db.session.scalar(select(AllowanceRate).where(
        AllowanceRate.province_id == province_id, AllowanceRate.valid_from <= day,
        or_(AllowanceRate.valid_to.is_(None), AllowanceRate.valid_to >= day),
    ).order_by(AllowanceRate.valid_from.desc()).limit(1))


def rates_of(province_id: int) -> list[AllowanceRate]:
    return list(db.session.scalars(select(AllowanceRate).where(AllowanceRate.province_id == province_id)
                                   .order_by(AllowanceRate.valid_from.desc())))


def add_rate(province: AdminUnit, per_team: int, per_member: int | None, valid_from: date,
             valid_to: date | None) -> AllowanceRate:
    def work() -> AllowanceRate:
        rate = AllowanceRate(province_id=province.id, per_team=per_team, per_member=per_member,
                             valid_from=valid_from, valid_to=valid_to)
        db.session.add(rate)
        db.session.flush()
        record("outputs.allowance_rate", rate, details={"fields": ["per_team", "per_member", "valid_from",
                                                                   "valid_to"]})
        return rate

    return commit_or_retry(work)


@dataclass
class AllowanceLine:
    team_id: int
    team_name: str
    village_name: str
    commune_id: int
    commune_code: str
    commune_name: str
    leader: str | None
    members: int
    days: int
    month_days: int
    amount: int

    @property
    def prorated(self) -> bool:
        return self.days < self.month_days


def active_days(established_on: date | None, dissolved_on: date | None, period: str) -> int:
    start, end = periods.month_start(period), periods.month_end(period)
    first = max(start, established_on) if established_on else start
    last = min(end, dissolved_on - timedelta(days=1)) if dissolved_on else end
    return max((last - first).days + 1, 0)


def amount(rate: AllowanceRate, members: int, days: int, month_days: int) -> int:
    monthly = Decimal(rate.per_team) + Decimal(rate.per_member or 0) * members
    return int((monthly * days / month_days).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def sheet(unit: AdminUnit, period: str, rate: AllowanceRate | None) -> list[AllowanceLine]:
    """The teams inside `unit` active in the month, with leader, members, days and amount: three
    statements (teams with places, member counts, leaders)."""
    start, end = periods.month_start(period), periods.month_end(period)
    village, commune = db.aliased(AdminUnit), db.aliased(AdminUnit)
    teams = db.session.execute(
        select(Team.id, Team.name, Team.established_on, Team.dissolved_on, village.name, commune.id, commune.code,
               commune.name)
        .join(village, village.id == Team.village_id).join(commune, commune.id == Team.commune_id)
        .where(within(Team, unit, end), team_expected(start, end))
        .order_by(commune.code, village.code, Team.id)
    ).all()
    ids = [row[0] for row in teams]
    overlap = and_(Membership.joined_on <= end, or_(Membership.left_on.is_(None), Membership.left_on > start))
    members: dict[int, int] = {}
    leaders: dict[int, str] = {}
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        members.update(db.session.execute(
            select(Membership.team_id, func.count(func.distinct(Membership.person_id)))
            .where(Membership.team_id.in_(chunk), overlap).group_by(Membership.team_id)).all())
        for team_id, name in db.session.execute(
                # A leader who withdrew their consent is not named on the sheet (issue 13).
                select(Membership.team_id, case((exportable(), Person.full_name), else_=None))
                .join(Person, Person.id == Membership.person_id)
                .where(Membership.team_id.in_(chunk), Membership.role == "leader", overlap)
                .order_by(Membership.team_id, Membership.joined_on)):
            leaders[team_id] = name  # the latest leader of the month wins
    month_days = periods.days_in(period)
    lines = []
    for team_id, name, established, dissolved, village_name, commune_id, commune_code, commune_name in teams:
        days = active_days(established, dissolved, period)
        count = members.get(team_id, 0)
        lines.append(AllowanceLine(team_id, name, village_name, commune_id, commune_code, commune_name,
                                   leaders.get(team_id), count, days, month_days,
                                   amount(rate, count, days, month_days) if rate else 0))
    return lines


def commune_totals(lines: list[AllowanceLine]) -> list[tuple[str, str, int, int]]:
    """(commune code, name, teams, amount) per commune of the sheet, in the sheet's order."""
    totals: dict[str, list] = {}
    for line in lines:
        entry = totals.setdefault(line.commune_code, [line.commune_code, line.commune_name, 0, 0])
        entry[2] += 1
        entry[3] += line.amount
    return [tuple(t) for t in totals.values()]
