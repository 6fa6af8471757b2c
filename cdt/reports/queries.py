"""Coverage indicators: the one definition used by the pages, the exports and the CLI.

Every figure is counted in SQL: one statement per report, the child units LEFT JOINed to
aggregates grouped by the ancestor columns that teams and people carry.

Definitions (as of a date D, default today; the README's table says the same):
- villages: villages (thôn, bản, tổ dân phố) in the unit, valid on D;
- teams: villages with a team active on D: established on or before D (or no date), not
  dissolved on or before D (a team marked dissolved without a date never counts);
- coverage_pct: 100 x teams / villages, one decimal;
- members: distinct people with a membership active on D (joined on or before D, not left on
  or before D) in a team active on D; a person in two teams of the unit counts once;
- memberships: those active memberships (a person in two teams counts twice);
- members_per_team: members / teams, one decimal;
- youth_union_members: members who are youth-union members; youth_union_pct = 100 x that / members;
- leaders: teams active on D with a leader on D; leaders_pct = 100 x that / teams;
- trained_members: members who attended a held session on or before D (Person.first_trained_on,
  the date of their first held session, maintained by the training feature, is on or before D);
  trained_pct = 100 x that / members;
- sessions_held: sessions with status "held" serving the unit or a unit inside it, started in
  the period (from/to) and on or before D (none at village level: sessions serve communes,
  districts or provinces).

These live queries are the definition and the fallback. For today's date `coverage` and
`country_summary` take the same figures (except villages and sessions, always live) from
team_stat, a per-team table kept by database triggers (cdt/reports/models.py), when
`fast_path_applies`; tests/test_reports_fast.py proves both give the same numbers.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, func, literal, or_, select, text

from cdt.auth.scope import area_condition, scoped
from cdt.core.clock import today
from cdt.core.data_version import cached
from cdt.extensions import db
from cdt.geo.models import LEVELS, AdminUnit
from cdt.geo.within import columns_hold, place_column, placement_day, valid_on, within
from cdt.registry.models import Membership, Person, Team
from cdt.reports.models import TeamStat, triggers_installed
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


def _active_team(as_of: date):
    return and_(
        or_(Team.established_on.is_(None), Team.established_on <= as_of),
        or_(Team.dissolved_on.is_(None), Team.dissolved_on > as_of),
        or_(Team.status == "active", Team.dissolved_on.is_not(None)),
    )


def _active_membership(as_of: date):
    return and_(Membership.joined_on <= as_of, or_(Membership.left_on.is_(None), Membership.left_on > as_of))


def _aggregates(parent: AdminUnit | None, level: str | None, as_of: date,
                period_from: date | None = None, period_to: date | None = None, fast: bool = False,
                map_day: date | None = None):
    """The four aggregate SELECTs (villages, teams, members, sessions) inside `parent`.

    Grouped by the unit at `level` (labelled unit_id) of each row's place on `map_day` (default
    as_of: the placement valid then, cdt.geo.within); level None: not grouped (one row each, the
    totals). These are the definitions; everything else only joins them.
    fast: teams and members come from team_stat (`_fast_teams_members`, one SELECT returned as
    both `teams` and `members`); only valid when `fast_path_applies(as_of)` and the map is today's.
    """
    day = map_day or as_of

    def grouped(stmt, column):
        if level is None:
            return stmt
        # By the label: the column may be an expression (a dated placement) that PostgreSQL only
        # accepts grouped by its output name.
        return stmt.add_columns(column.label("unit_id")).group_by(text("unit_id"))

    # Villages per unit.
    village = AdminUnit.__table__.alias("village")
    villages = (
        select(func.count().label("villages"))
        .select_from(village)
        .where(village.c.level == "village", valid_on(village, as_of), within(village, parent, day))
    )
    villages = grouped(villages, None if level is None else place_column(village, level, day))

    tgroup = None if level is None else place_column(Team, level, day)
    if fast:
        teams = members = _fast_teams_members(parent, level)
    else:
        teams, members = _live_teams_members(parent, tgroup, as_of, grouped, day)
    sessions = _sessions(parent, level, as_of, period_from, period_to, grouped, day)
    return villages, teams, members, sessions


def _live_teams_members(parent: AdminUnit | None, tgroup, as_of: date, grouped, day: date):
    """The definitions of teams, leaders, members, memberships, youth and trained, over the rows."""
    # Teams and leaders per unit.
    leader = Membership.__table__.alias("leader")
    has_leader = (
        select(leader.c.id)
        .where(leader.c.team_id == Team.id, leader.c.role == "leader",
               leader.c.joined_on <= as_of, or_(leader.c.left_on.is_(None), leader.c.left_on > as_of))
        .exists()
    )
    teams = grouped(
        select(
            func.count(func.distinct(Team.village_id)).label("teams"),
            func.count(case((has_leader, Team.id))).label("leaders"),
        )
        .select_from(Team)
        .where(_active_team(as_of), within(Team, parent, day)),
        tgroup,
    )

    # Members per unit (a person in two teams of the unit counts once).
    members = grouped(
        select(
            func.count(func.distinct(Membership.person_id)).label("members"),
            func.count(Membership.id).label("memberships"),
            func.count(func.distinct(case((Person.youth_union.is_(True), Person.id)))).label("youth"),
            func.count(func.distinct(case((Person.first_trained_on <= as_of, Person.id)))).label("trained"),
        )
        .select_from(Membership)
        .join(Team, Team.id == Membership.team_id)
        .join(Person, Person.id == Membership.person_id)
        .where(_active_membership(as_of), _active_team(as_of), within(Team, parent, day)),
        tgroup,
    )
    return teams, members


def _sessions(parent: AdminUnit | None, level: str | None, as_of: date, period_from: date | None,
              period_to: date | None, grouped, day: date):
    # Held sessions serving a unit inside each row's unit (none at village level: a session
    # serves a commune, a district or a province).
    end = datetime.combine(as_of + timedelta(days=1), time.min)
    if period_to is not None:
        end = min(end, datetime.combine(period_to + timedelta(days=1), time.min))
    conditions = [TrainingSession.status == "held", TrainingSession.starts_at < end]
    if period_from is not None:
        conditions.append(TrainingSession.starts_at >= datetime.combine(period_from, time.min))
    conditions.append(within(TrainingSession, parent, day))  # nothing inside a village
    sessions = None
    if level != "village":
        sgroup = None if level is None else place_column(TrainingSession, level, day)
        if sgroup is not None:
            conditions.append(sgroup.is_not(None))
        sessions = grouped(select(func.count().label("sessions")).where(*conditions), sgroup)
    return sessions


# -- The fast path: the same figures from team_stat (cdt/reports/models.py) ---------------------
#
# team_stat holds, per team, what the definitions above count on a date D when no date of the
# team, its memberships or its current members' first training lies after D: counted (active),
# has_leader, members (current memberships), youth, trained. Summing it per unit gives teams
# (count(DISTINCT village) = count of counted teams: one active team per village, a unique index),
# leaders and memberships exactly; members/youth/trained count distinct PEOPLE, so a person with
# two current memberships in counted teams of the same unit is subtracted once per extra
# membership: count - count(DISTINCT person) over the memberships of the few teams that have a
# member with another current membership (team_stat.shared > 0, a partial index).

def fast_path_applies(as_of: date, map_day: date | None = None) -> bool:
    """True when team_stat answers exactly for `as_of`: it is today (the registry's time zone), the
    figures are grouped on today's map (`map_day` None or today: team_stat's ancestor columns are
    the rows' latest placement, which holds today when no village placement begins after today),
    the triggers that keep team_stat are installed, and no team has a relevant date after today
    (team_stat.max_date, an index lookup). Otherwise the live query (the definition) is used."""
    if as_of != today() or (map_day is not None and map_day != as_of) or not columns_hold(as_of):
        return False
    if not triggers_installed(db.session.connection()):
        return False
    latest = db.session.scalar(select(func.max(TeamStat.max_date)))
    return latest is None or latest <= as_of


def _fast_teams_members(parent: AdminUnit | None, level: str | None):
    S = TeamStat
    scope = within(S, parent)  # team_stat describes today: today's places
    group = None if level is None else place_column(S, level)

    def grouped(stmt):
        return stmt if group is None else stmt.add_columns(group.label("unit_id")).group_by(group)

    stat = grouped(
        select(
            func.count().label("teams"),
            func.coalesce(func.sum(case((S.has_leader.is_(True), 1), else_=0)), 0).label("leaders"),
            func.coalesce(func.sum(S.members), 0).label("m"),
            func.coalesce(func.sum(S.youth), 0).label("y"),
            func.coalesce(func.sum(S.trained), 0).label("t"),
        ).where(S.counted.is_(True), scope)
    ).subquery("stat")
    # Only the memberships of teams with a member who has another current membership can be
    # counted twice (IN: the planner starts from the partial index ix_team_stat_shared).
    shared = TeamStat.__table__.alias("shared")
    youth_id = case((Person.youth_union.is_(True), Person.id))
    trained_id = case((Person.first_trained_on.is_not(None), Person.id))
    over = grouped(
        select(
            (func.count() - func.count(func.distinct(Person.id))).label("m"),
            (func.count(youth_id) - func.count(func.distinct(youth_id))).label("y"),
            (func.count(trained_id) - func.count(func.distinct(trained_id))).label("t"),
        )
        .select_from(Membership)
        .join(S, S.team_id == Membership.team_id)
        .join(Person, Person.id == Membership.person_id)
        .where(Membership.team_id.in_(select(shared.c.team_id).where(shared.c.shared > 0)),
               S.counted.is_(True), scope, Membership.left_on.is_(None))
    ).subquery("over")
    joined = (stat.outerjoin(over, over.c.unit_id == stat.c.unit_id) if group is not None
              else stat.outerjoin(over, literal(True)))
    columns = [
        stat.c.teams, stat.c.leaders,
        (stat.c.m - func.coalesce(over.c.m, 0)).label("members"),
        stat.c.m.label("memberships"),
        (stat.c.y - func.coalesce(over.c.y, 0)).label("youth"),
        (stat.c.t - func.coalesce(over.c.t, 0)).label("trained"),
    ]
    if group is not None:
        columns.append(stat.c.unit_id)
    return select(*columns).select_from(joined)


def coverage_statement(parent: AdminUnit | None, level: str, as_of: date,
                       period_from: date | None = None, period_to: date | None = None, fast: bool = False,
                       map_day: date | None = None):
    """The single SELECT behind a coverage report: one row per unit at `level` under `parent`, the
    units of the map valid on `map_day` (default as_of; an ended parent: its last day), each with
    the figures of `as_of` of what lay in it on that day.

    fast: teams/members figures from team_stat; only when `fast_path_applies(as_of, map_day)`."""
    if level not in LEVELS:
        raise ValueError(level)
    day = placement_day(parent, map_day or as_of)
    Unit = AdminUnit.__table__.alias("unit")
    ParentUnit = AdminUnit.__table__.alias("parent_unit")
    villages, teams, members, sessions = _aggregates(parent, level, as_of, period_from, period_to, fast, day)
    villages = villages.subquery("villages")
    same = teams is members
    teams = teams.subquery("teams")
    members = teams if same else members.subquery("members")
    if sessions is not None:
        sessions = sessions.subquery("sessions")

    columns = [
        Unit.c.id, Unit.c.level, Unit.c.code, Unit.c.name, ParentUnit.c.code.label("parent_code"),
        func.coalesce(villages.c.villages, 0),
        func.coalesce(teams.c.teams, 0), func.coalesce(members.c.members, 0),
        func.coalesce(members.c.memberships, 0), func.coalesce(members.c.youth, 0),
        func.coalesce(teams.c.leaders, 0), func.coalesce(members.c.trained, 0),
        func.coalesce(sessions.c.sessions, 0) if sessions is not None else literal(0),
    ]
    # A village's parent is its commune on the day (the village's place is dated).
    parent_id = place_column(Unit, "commune", day) if level == "village" else Unit.c.parent_id
    stmt = (
        select(*columns)
        .select_from(Unit)
        .outerjoin(ParentUnit, ParentUnit.c.id == parent_id)
        .outerjoin(villages, villages.c.unit_id == Unit.c.id)
        .outerjoin(teams, teams.c.unit_id == Unit.c.id)
        .where(Unit.c.level == level, valid_on(Unit, day))
        .order_by(Unit.c.code)
    )
    if not same:
        stmt = stmt.outerjoin(members, members.c.unit_id == Unit.c.id)
    if sessions is not None:
        stmt = stmt.outerjoin(sessions, sessions.c.unit_id == Unit.c.id)
    return stmt.where(within(Unit, parent, day))


def _prepare() -> None:
    """PostgreSQL: no JIT for this transaction. The report's cost estimate on the national data
    set triggers JIT compilation, which took ~1 s of a ~2.3 s report and saved nothing."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))


def coverage(parent: AdminUnit | None, level: str, as_of: date | None = None,
             period_from: date | None = None, period_to: date | None = None,
             map_day: date | None = None) -> list[CoverageRow]:
    """One row per unit at `level` inside `parent` (None: the whole loaded country), on the map
    valid on `map_day` (default as_of: `map=` regroups one date's figures by another date's units)."""
    as_of = as_of or today()
    day = placement_day(parent, map_day or as_of)

    def compute() -> list[CoverageRow]:
        _prepare()
        fast = day == as_of and fast_path_applies(as_of, day)
        stmt = coverage_statement(parent, level, as_of, period_from, period_to, fast=fast, map_day=day)
        return [
            CoverageRow(
                unit_id=r[0], level=r[1], code=r[2], name=r[3], parent_code=r[4], villages=r[5], teams=r[6],
                members=r[7], memberships=r[8], youth_union_members=r[9], leaders=r[10], trained_members=r[11],
                sessions_held=r[12],
            )
            for r in db.session.execute(stmt)
        ]

    # Kept per state of the data (cdt/core/data_version.py); `today` is in the key through as_of.
    key = (parent.id if parent is not None else None, level, as_of, period_from, period_to, day)
    return cached("coverage", key, compute)


def summary(unit: AdminUnit, as_of: date | None = None, period_from: date | None = None,
            period_to: date | None = None, map_day: date | None = None) -> CoverageRow:
    """The unit's own figures (distinct counts over the whole unit)."""
    return coverage(unit, unit.level, as_of, period_from, period_to, map_day)[0]


def country_summary(as_of: date | None = None, period_from: date | None = None,
                    period_to: date | None = None) -> CoverageRow:
    """The figures of everything loaded (the admin's view): the same aggregates, not grouped."""
    as_of = as_of or today()

    def compute() -> CoverageRow:
        _prepare()
        r = db.session.execute(totals_statement(as_of, period_from, period_to, fast=fast_path_applies(as_of))).one()
        return CoverageRow(
            unit_id=0, level="country", code="", name="", parent_code=None, villages=r[0], teams=r[1],
            members=r[2], memberships=r[3], youth_union_members=r[4], leaders=r[5], trained_members=r[6],
            sessions_held=r[7],
        )

    return cached("country_summary", (as_of, period_from, period_to), compute)


def totals_statement(as_of: date, period_from: date | None = None, period_to: date | None = None,
                     fast: bool = False):
    """One row: the country totals, with exactly the definitions of coverage_statement."""
    villages, teams, members, sessions = _aggregates(None, None, as_of, period_from, period_to, fast)
    same = teams is members
    villages, teams, sessions = villages.subquery(), teams.subquery(), sessions.subquery()
    members = teams if same else members.subquery()
    return select(
        select(villages.c.villages).scalar_subquery(),
        select(teams.c.teams).scalar_subquery(),
        select(members.c.members).scalar_subquery(),
        select(members.c.memberships).scalar_subquery(),
        select(members.c.youth).scalar_subquery(),
        select(teams.c.leaders).scalar_subquery(),
        select(members.c.trained).scalar_subquery(),
        select(sessions.c.sessions).scalar_subquery(),
    )


# -- Gaps: the records behind the weak figures ---------------------------------------------
# Each function returns a SELECT inside `parent`, narrowed to the user's area (cdt.auth.scope;
# `user` None: the logged-in user); the page counts and paginates it. "Active" means active on
# `as_of` (default today), with the same conditions as the figures above.

GAP_KINDS = ("villages", "small_teams", "no_leader", "untrained")
SMALL_TEAM = 3  # a team with fewer members than this is listed as small


def villages_without_team(parent: AdminUnit | None, as_of: date | None = None, user=None):
    """Villages (valid on the date) without a team active on the date."""
    as_of = as_of or today()
    team_there = select(Team.id).where(Team.village_id == AdminUnit.id, _active_team(as_of)).exists()
    return scoped(
        select(AdminUnit)
        .where(AdminUnit.level == "village", within(AdminUnit, parent, as_of), valid_on(AdminUnit, as_of),
               ~team_there)
        .order_by(AdminUnit.code),
        AdminUnit, user,
    )


def _active_member_count(as_of: date):
    return (
        select(func.count(Membership.id))
        .where(Membership.team_id == Team.id, _active_membership(as_of))
        .scalar_subquery()
    )


def _active_teams(parent: AdminUnit | None, as_of: date, user=None):
    """(Team, members) for the teams active on the date inside `parent` and the user's area."""
    return scoped(
        select(Team, _active_member_count(as_of).label("members"))
        .where(_active_team(as_of), within(Team, parent, as_of)),
        Team, user,
    )


def small_teams(parent: AdminUnit | None, as_of: date | None = None, user=None):
    """(Team, members) for active teams with fewer than SMALL_TEAM active memberships."""
    as_of = as_of or today()
    count = _active_member_count(as_of)
    return _active_teams(parent, as_of, user).where(count < SMALL_TEAM).order_by(count, Team.village_id)


def teams_without_leader(parent: AdminUnit | None, as_of: date | None = None, user=None):
    """(Team, members) for active teams with no leader on the date."""
    as_of = as_of or today()
    has_leader = (
        select(Membership.id)
        .where(Membership.team_id == Team.id, Membership.role == "leader", _active_membership(as_of))
        .exists()
    )
    return _active_teams(parent, as_of, user).where(~has_leader).order_by(Team.village_id)


def untrained_members(parent: AdminUnit | None, as_of: date | None = None, user=None):
    """People who are members on the date (in a team inside the unit and the user's area) and had
    not attended a held session by then."""
    as_of = as_of or today()
    in_team = scoped(
        select(Membership.id)
        .join(Team, Team.id == Membership.team_id)
        .where(Membership.person_id == Person.id, _active_membership(as_of), _active_team(as_of),
               within(Team, parent, as_of)),
        Team, user,
    )
    return (
        select(Person)
        .where(in_team.exists(), or_(Person.first_trained_on.is_(None), Person.first_trained_on > as_of))
        .order_by(Person.sort_name, Person.id)
    )


GAP_QUERIES = {
    "villages": villages_without_team,
    "small_teams": small_teams,
    "no_leader": teams_without_leader,
    "untrained": untrained_members,
}


def gap_statement(kind: str, parent: AdminUnit | None, as_of: date | None = None, user=None):
    """The SELECT of one kind of gap (GAP_KINDS) inside `parent`, narrowed to the user's area."""
    return GAP_QUERIES[kind](parent, as_of, user)


def village_team(village: AdminUnit, as_of: date, user=None) -> Team | None:
    """The team active on the date in a village, when it lies in the user's area."""
    return db.session.scalar(
        select(Team).where(within(Team, village, as_of), _active_team(as_of), area_condition(Team, user))
    )
