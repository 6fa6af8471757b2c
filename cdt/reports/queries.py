"""Coverage indicators: the one definition used by the pages, the exports and the CLI.

Every figure is counted in SQL: one statement per report, the child units LEFT JOINed to
aggregates grouped by the ancestor columns that teams and people carry.

Definitions (as of a date D, default today):
- villages: villages in the unit;
- teams: villages with a team active on D (established on or before D, not dissolved by D);
- coverage_pct: 100 x teams / villages;
- members: distinct people with a membership active on D (joined on or before D, not left
  by D) in a team active on D; memberships: those memberships;
- youth_union_members: members who are youth-union members;
- leaders: teams active on D with a leader on D;
- trained_members: members who attended a held session on or before D;
- sessions_held: held sessions serving the unit (or a unit inside it) that started in the
  period (default: ever) and on or before D.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, func, literal, or_, select

from cdt.extensions import db
from cdt.geo.models import LEVELS, AdminUnit
from cdt.registry.models import Membership, Person, Team
from cdt.training.models import TrainingSession

CSV_COLUMNS = [
    "level", "code", "name", "parent_code", "villages", "teams", "coverage_pct", "members",
    "memberships", "youth_union_members", "trained_members", "trained_pct", "sessions_held",
]


def pct(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class CoverageRow:
    level: str
    code: str
    name: str
    parent_code: str | None
    unit_id: int
    villages: int
    teams: int
    members: int
    memberships: int
    youth_union_members: int
    leaders: int
    trained_members: int
    sessions_held: int

    @property
    def coverage_pct(self) -> Decimal | None:
        return pct(self.teams, self.villages)

    @property
    def trained_pct(self) -> Decimal | None:
        return pct(self.trained_members, self.members)

    @property
    def youth_union_pct(self) -> Decimal | None:
        return pct(self.youth_union_members, self.members)

    @property
    def leaders_pct(self) -> Decimal | None:
        return pct(self.leaders, self.teams)

    @property
    def members_per_team(self) -> Decimal | None:
        if not self.teams:
            return None
        return (Decimal(self.members) / self.teams).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def csv_values(self) -> dict:
        values = asdict(self)
        values["coverage_pct"] = self.coverage_pct
        values["trained_pct"] = self.trained_pct
        return {key: ("" if values[key] is None else values[key]) for key in CSV_COLUMNS}


def _team_group(level: str):
    return Team.village_id if level == "village" else getattr(Team, f"{level}_id")


def _active_team(as_of: date):
    return and_(
        or_(Team.established_on.is_(None), Team.established_on <= as_of),
        or_(Team.dissolved_on.is_(None), Team.dissolved_on > as_of),
        or_(Team.status == "active", Team.dissolved_on.is_not(None)),
    )


def _active_membership(as_of: date):
    return and_(Membership.joined_on <= as_of, or_(Membership.left_on.is_(None), Membership.left_on > as_of))


def _within(column_owner, parent: AdminUnit | None):
    """Condition: rows of a model with ancestor columns that lie inside `parent`."""
    if parent is None:
        return literal(True)
    if parent.level == "village":
        return column_owner.village_id == parent.id
    return getattr(column_owner, f"{parent.level}_id") == parent.id


def coverage_statement(parent: AdminUnit | None, level: str, as_of: date,
                       period_from: date | None = None, period_to: date | None = None):
    """The single SELECT behind a coverage report: one row per unit at `level` under `parent`."""
    if level not in LEVELS:
        raise ValueError(level)
    Unit = AdminUnit.__table__.alias("unit")
    ParentUnit = AdminUnit.__table__.alias("parent_unit")

    # Villages per unit.
    village = AdminUnit.__table__.alias("village")
    vgroup = village.c.id if level == "village" else village.c[f"{level}_id"]
    villages = (
        select(vgroup.label("unit_id"), func.count().label("villages"))
        .where(village.c.level == "village")
        .where(or_(village.c.valid_from.is_(None), village.c.valid_from <= as_of))
        .where(or_(village.c.valid_to.is_(None), village.c.valid_to >= as_of))
    )
    if parent is not None:
        villages = villages.where(
            village.c.id == parent.id if parent.level == "village" else village.c[f"{parent.level}_id"] == parent.id
        )
    villages = villages.group_by(vgroup).subquery("villages")

    # Teams and leaders per unit.
    tgroup = _team_group(level)
    leader = Membership.__table__.alias("leader")
    has_leader = (
        select(leader.c.id)
        .where(leader.c.team_id == Team.id, leader.c.role == "leader",
               leader.c.joined_on <= as_of, or_(leader.c.left_on.is_(None), leader.c.left_on > as_of))
        .exists()
    )
    teams = (
        select(
            tgroup.label("unit_id"),
            func.count(func.distinct(Team.village_id)).label("teams"),
            func.count(case((has_leader, Team.id))).label("leaders"),
        )
        .where(_active_team(as_of), _team_scope(parent))
        .group_by(tgroup)
        .subquery("teams")
    )

    # Members per unit (a person in two teams of the unit counts once).
    members = (
        select(
            tgroup.label("unit_id"),
            func.count(func.distinct(Membership.person_id)).label("members"),
            func.count(Membership.id).label("memberships"),
            func.count(func.distinct(case((Person.youth_union.is_(True), Person.id)))).label("youth"),
            func.count(func.distinct(case((Person.first_trained_on <= as_of, Person.id)))).label("trained"),
        )
        .join(Team, Team.id == Membership.team_id)
        .join(Person, Person.id == Membership.person_id)
        .where(_active_membership(as_of), _active_team(as_of), _team_scope(parent))
        .group_by(tgroup)
        .subquery("members")
    )

    # Held sessions serving a unit inside each row's unit.
    if level == "village":
        sessions = None
    else:
        sgroup = getattr(TrainingSession, f"{level}_id")
        end = datetime.combine(as_of + timedelta(days=1), time.min)
        if period_to is not None:
            end = min(end, datetime.combine(period_to + timedelta(days=1), time.min))
        conditions = [TrainingSession.status == "held", TrainingSession.starts_at < end, sgroup.is_not(None)]
        if period_from is not None:
            conditions.append(TrainingSession.starts_at >= datetime.combine(period_from, time.min))
        if parent is not None and parent.level != "village":
            conditions.append(getattr(TrainingSession, f"{parent.level}_id") == parent.id)
        sessions = (
            select(sgroup.label("unit_id"), func.count().label("sessions"))
            .where(*conditions)
            .group_by(sgroup)
            .subquery("sessions")
        )

    columns = [
        Unit.c.id, Unit.c.level, Unit.c.code, Unit.c.name, ParentUnit.c.code.label("parent_code"),
        func.coalesce(villages.c.villages, 0 if level != "village" else 1),
        func.coalesce(teams.c.teams, 0), func.coalesce(members.c.members, 0),
        func.coalesce(members.c.memberships, 0), func.coalesce(members.c.youth, 0),
        func.coalesce(teams.c.leaders, 0), func.coalesce(members.c.trained, 0),
        func.coalesce(sessions.c.sessions, 0) if sessions is not None else literal(0),
    ]
    stmt = (
        select(*columns)
        .select_from(Unit)
        .outerjoin(ParentUnit, ParentUnit.c.id == Unit.c.parent_id)
        .outerjoin(villages, villages.c.unit_id == Unit.c.id)
        .outerjoin(teams, teams.c.unit_id == Unit.c.id)
        .outerjoin(members, members.c.unit_id == Unit.c.id)
        .where(Unit.c.level == level)
        .order_by(Unit.c.code)
    )
    if sessions is not None:
        stmt = stmt.outerjoin(sessions, sessions.c.unit_id == Unit.c.id)
    if parent is not None:
        if parent.level == level:
            stmt = stmt.where(Unit.c.id == parent.id)
        else:
            stmt = stmt.where(Unit.c[f"{parent.level}_id"] == parent.id)
    return stmt


def _team_scope(parent: AdminUnit | None):
    if parent is None:
        return literal(True)
    if parent.level == "village":
        return Team.village_id == parent.id
    return getattr(Team, f"{parent.level}_id") == parent.id


def coverage(parent: AdminUnit | None, level: str, as_of: date | None = None,
             period_from: date | None = None, period_to: date | None = None) -> list[CoverageRow]:
    """One row per unit at `level` inside `parent` (None: the whole loaded country)."""
    as_of = as_of or date.today()
    stmt = coverage_statement(parent, level, as_of, period_from, period_to)
    return [
        CoverageRow(
            unit_id=r[0], level=r[1], code=r[2], name=r[3], parent_code=r[4], villages=r[5], teams=r[6],
            members=r[7], memberships=r[8], youth_union_members=r[9], leaders=r[10], trained_members=r[11],
            sessions_held=r[12],
        )
        for r in db.session.execute(stmt)
    ]


def summary(unit: AdminUnit, as_of: date | None = None, period_from: date | None = None,
            period_to: date | None = None) -> CoverageRow:
    """The unit's own figures (distinct counts over the whole unit)."""
    return coverage(unit, unit.level, as_of, period_from, period_to)[0]
