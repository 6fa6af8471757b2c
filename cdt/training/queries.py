"""The SQL the training pages need: scoped loaders, lists, the calendar month, people to
invite, warnings, a person's history and a team's trained share.

Every user-triggered query goes through cdt.auth.scope (`area_condition`, `scoped`,
`get_in_area_or_404`); the extra rule for changing a session (its area lies inside the
coordinator's area) is `writable_condition` here, never a check in a view.
"""
from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask import abort
from flask_login import current_user
from sqlalchemy import and_, func, literal, or_, select, true, union
from sqlalchemy.orm import aliased

from cdt.auth.scope import area_condition, can, get_in_area_or_404, scoped
from cdt.core import clock
from cdt.core.clock import local_now
from cdt.core.text import fold
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.within import within
from cdt.privacy.rules import exportable
from cdt.registry.models import Membership, Person, Team
from cdt.training.models import Attendance, Invitation, TrainingSession, TrainingTopic

PAGE_SIZE = 20
SEARCH_LIMIT = 30


def _user(user: Any = None) -> Any:
    return current_user if user is None else user


# --- loaders -------------------------------------------------------------------------------

def writable_condition(user: Any = None):
    """Sessions the user may change: admin everything; a coordinator those inside their area."""
    user = _user(user)
    if not can("training.write", user):
        return literal(False)
    if user.role == "admin":
        return true()
    if user.area is None:
        return literal(False)
    return within(TrainingSession, user.area)


def session_or_404(session_id: Any) -> TrainingSession:
    return get_in_area_or_404(TrainingSession, session_id)


def can_change(ts: TrainingSession, user: Any = None) -> bool:
    stmt = select(TrainingSession.id).where(TrainingSession.id == ts.id, writable_condition(user))
    return db.session.scalar(stmt) is not None


def editable_session_or_404(session_id: Any) -> TrainingSession:
    """404 outside the user's area; 403 when seen (e.g. a province-wide session) but not changeable."""
    ts = session_or_404(session_id)
    if not can_change(ts):
        abort(403)
    return ts


def in_session_area(model: Any, ts: TrainingSession):
    """Rows of a model with a place (Team, Person, AdminUnit) inside the session's area on its day."""
    return within(model, ts.area, ts.starts_at.date())


# --- choices -------------------------------------------------------------------------------

def extra_area_choices(ids: set[int], user: Any = None) -> list[tuple[int, str]]:
    """(id, name) of the units with these ids that a session may serve in the user's area, whatever
    their map (a session of an earlier map keeps its area)."""
    return [(row.id, row.name) for row in db.session.execute(
        select(AdminUnit.id, AdminUnit.name).where(AdminUnit.id.in_(ids),
                                                   AdminUnit.level.in_(("province", "district", "commune")),
                                                   area_condition(AdminUnit, _user(user))))]


def area_choices(user: Any = None) -> list[tuple[int, str]]:
    """Districts and communes in the user's area on the map of that area (today's; an account of an
    ended unit, e.g. an abolished district: its last day), communes indented under their district
    (on the 2025 map, which has no districts: under their province).

    A province-level area (admin or a province coordinator) may also pick its province."""
    from cdt.geo.within import placement_day, valid_on

    user = _user(user)
    levels = ["district", "commune"]
    if user.role == "admin" or (user.area is not None and user.area.level == "province"):
        levels.insert(0, "province")
    rows = db.session.execute(
        select(AdminUnit.id, AdminUnit.name, AdminUnit.level, AdminUnit.province_id, AdminUnit.district_id,
               AdminUnit.code)
        .where(AdminUnit.level.in_(levels), area_condition(AdminUnit, user),
               valid_on(AdminUnit, placement_day(user.area)))
        .order_by(AdminUnit.code)
    ).all()
    provinces = [r for r in rows if r.level == "province"]
    districts = [r for r in rows if r.level == "district"]
    communes: dict[int | None, list] = {}
    for r in rows:
        if r.level == "commune":
            communes.setdefault(r.district_id if r.district_id is not None else ("p", r.province_id), []).append(r)
    choices: list[tuple[int, str]] = []
    for p in provinces:
        choices.append((p.id, p.name))
        choices.extend((c.id, "\u2014 " + c.name) for c in communes.pop(("p", p.id), []))
    for d in districts:
        choices.append((d.id, d.name))
        choices.extend((c.id, "\u2014 " + c.name) for c in communes.pop(d.id, []))
    for rest in communes.values():  # a commune-level user: no district above in their area
        choices.extend((c.id, c.name) for c in rest)
    return choices


def topic_choices(current_id: int | None = None) -> list[tuple[int, str]]:
    from flask_babel import get_locale

    locale = str(get_locale() or "vi")
    topics = db.session.scalars(
        select(TrainingTopic).where(or_(TrainingTopic.active.is_(True), TrainingTopic.id == (current_id or 0)))
        .order_by(TrainingTopic.id)
    ).all()
    return [(t.id, t.name_for(locale)) for t in topics]


# --- lists ---------------------------------------------------------------------------------

@dataclass
class Filters:
    topic_id: int | None = None
    area: AdminUnit | None = None
    status: str | None = None

    def conditions(self) -> list:
        conditions = []
        if self.topic_id:
            conditions.append(TrainingSession.topic_id == self.topic_id)
        if self.area is not None:
            conditions.append(TrainingSession.area_condition_for(self.area))
        if self.status:
            conditions.append(TrainingSession.status == self.status)
        return conditions


def _counts():
    invited = (
        select(func.count()).select_from(Invitation).where(Invitation.session_id == TrainingSession.id)
        .correlate(TrainingSession).scalar_subquery()
    )
    attended = (
        select(func.count()).select_from(Attendance).where(Attendance.session_id == TrainingSession.id)
        .correlate(TrainingSession).scalar_subquery()
    )
    return invited.label("invited"), attended.label("attended")


def _list_stmt(filters: Filters):
    invited, attended = _counts()
    Area = aliased(AdminUnit)
    return scoped(
        select(TrainingSession, Area.name.label("area_name"), TrainingTopic.name_vi.label("topic_vi"),
               TrainingTopic.name_en.label("topic_en"), invited, attended)
        .join(Area, Area.id == TrainingSession.area_id)
        .join(TrainingTopic, TrainingTopic.id == TrainingSession.topic_id)
        .where(*filters.conditions()),
        TrainingSession,
    )


def upcoming_sessions(filters: Filters, limit: int = 100):
    now = local_now()
    stmt = _list_stmt(filters).where(TrainingSession.ends_at >= now).order_by(
        TrainingSession.starts_at, TrainingSession.id
    ).limit(limit)
    return db.session.execute(stmt).all()


def past_sessions(filters: Filters, page: int = 1):
    now = local_now()
    stmt = _list_stmt(filters).where(TrainingSession.ends_at < now).order_by(
        TrainingSession.starts_at.desc(), TrainingSession.id.desc()
    )
    total = db.session.scalar(
        select(func.count()).select_from(
            scoped(select(TrainingSession.id).where(TrainingSession.ends_at < now, *filters.conditions()),
                   TrainingSession).subquery()
        )
    ) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = db.session.execute(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return rows, page, pages, total


@dataclass
class MonthDay:
    day: date
    in_month: bool
    sessions: list = field(default_factory=list)


def month_grid(year: int, month: int, filters: Filters) -> list[list[MonthDay]]:
    """Weeks (Monday first) of the month, each day with the sessions starting that day."""
    first = date(year, month, 1)
    weeks = _calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    start = datetime.combine(weeks[0][0], time.min)
    end = datetime.combine(weeks[-1][-1] + timedelta(days=1), time.min)
    rows = db.session.scalars(
        scoped(
            select(TrainingSession)
            .where(TrainingSession.starts_at >= start, TrainingSession.starts_at < end, *filters.conditions())
            .order_by(TrainingSession.starts_at, TrainingSession.id),
            TrainingSession,
        )
    ).all()
    by_day: dict[date, list] = {}
    for ts in rows:
        by_day.setdefault(ts.starts_at.date(), []).append(ts)
    return [[MonthDay(d, d.month == first.month, by_day.get(d, [])) for d in week] for week in weeks]


# --- one session ---------------------------------------------------------------------------

@dataclass
class SessionPerson:
    person_id: int
    full_name: str
    team_name: str | None
    village_name: str | None
    invited: bool
    attended: bool
    walk_in: bool
    hours: Decimal | None


def session_people(ts: TrainingSession, *, exportable_only: bool = False) -> list[SessionPerson]:
    """Invited people and attendees (walk-ins too), with the team they were invited through
    (a walk-in: a current team), ordered by village then name. One statement.
    `exportable_only`: for a sheet that leaves the registry (printed), without the people who
    withdrew their consent (cdt.privacy.rules.exportable)."""
    ids = union(
        select(Invitation.person_id.label("pid")).where(Invitation.session_id == ts.id),
        select(Attendance.person_id.label("pid")).where(Attendance.session_id == ts.id),
    ).subquery("ids")
    inv = aliased(Invitation)
    att = aliased(Attendance)
    Village = aliased(AdminUnit)
    any_team = (
        select(func.min(Membership.team_id)).where(Membership.person_id == Person.id, Membership.left_on.is_(None))
        .correlate(Person).scalar_subquery()
    )
    team_id = func.coalesce(inv.team_id, any_team)
    stmt = (
        select(Person.id, Person.full_name, Team.name, Village.name, inv.id, att.id, att.walk_in, att.hours)
        .select_from(ids)
        .join(Person, Person.id == ids.c.pid)
        .outerjoin(inv, and_(inv.session_id == ts.id, inv.person_id == Person.id))
        .outerjoin(att, and_(att.session_id == ts.id, att.person_id == Person.id))
        .outerjoin(Team, Team.id == team_id)
        .outerjoin(Village, Village.id == Team.village_id)
        .order_by(Village.name, Person.sort_name, Person.id)
    )
    if exportable_only:
        stmt = stmt.where(exportable())
    return [
        SessionPerson(r[0], r[1], r[2], r[3], r[4] is not None, r[5] is not None, bool(r[6]), r[7])
        for r in db.session.execute(stmt)
    ]


def session_counts(ts: TrainingSession) -> tuple[int, int]:
    invited = db.session.scalar(select(func.count()).select_from(Invitation).where(Invitation.session_id == ts.id))
    attended = db.session.scalar(select(func.count()).select_from(Attendance).where(Attendance.session_id == ts.id))
    return invited or 0, attended or 0


def attendance_count(ts: TrainingSession) -> int:
    return session_counts(ts)[1]


def venue_key(venue: str | None) -> str:
    return fold(venue or "")


def venue_clashes(ts: TrainingSession) -> list[tuple[TrainingSession, bool]]:
    """Other sessions (not cancelled, in person) overlapping in time in the same district (or
    province-wide), at the same venue (compared without case and diacritics), with whether the
    user may see them. The overlap is found in SQL; the few overlapping rows are compared here."""
    if not ts.venue or ts.mode != "in_person" or ts.starts_at is None or ts.ends_at is None:
        return []
    conditions = [
        TrainingSession.status != "cancelled",
        TrainingSession.mode == "in_person",
        TrainingSession.starts_at < ts.ends_at,
        TrainingSession.ends_at > ts.starts_at,
        TrainingSession.province_id == ts.province_id,
        TrainingSession.venue.is_not(None),
    ]
    if ts.district_id is None:
        conditions.append(TrainingSession.district_id.is_(None))
    else:
        conditions.append(TrainingSession.district_id == ts.district_id)
    if ts.id is not None:
        conditions.append(TrainingSession.id != ts.id)
    visible = area_condition(TrainingSession)
    rows = db.session.execute(
        select(TrainingSession, visible).where(*conditions).order_by(TrainingSession.starts_at).limit(200)
    ).all()
    key = venue_key(ts.venue)
    return [(row[0], bool(row[1])) for row in rows if venue_key(row[0].venue) == key][:5]


def session_warnings(ts: TrainingSession) -> list[str]:
    """What a coordinator would want to know about a session (shown, never blocking)."""
    from flask_babel import gettext as _

    from cdt.core.templating import short_date

    warnings: list[str] = []
    for other, visible in venue_clashes(ts):
        when = f"{short_date(other.starts_at)} {other.starts_at:%H:%M}\u2013{other.ends_at:%H:%M}"
        if visible:
            warnings.append(_("%(venue)s is already booked at an overlapping time: %(title)s, %(when)s.",
                              venue=ts.venue, title=other.title, when=when))
        else:
            warnings.append(_("%(venue)s is already booked at an overlapping time by another session, %(when)s.",
                              venue=ts.venue, when=when))
    if ts.id is not None and ts.capacity:
        invited, _attended = session_counts(ts)
        if invited > ts.capacity:
            warnings.append(_("%(invited)s people are invited but the capacity is %(capacity)s.",
                              invited=invited, capacity=ts.capacity))
    if ts.status == "planned" and ts.starts_at is not None and ts.starts_at < local_now():
        warnings.append(_("This session is scheduled in the past and is still planned: record the attendance "
                          "or cancel it."))
    return warnings


# --- inviting ------------------------------------------------------------------------------

def invite_communes(ts: TrainingSession) -> list[AdminUnit]:
    """Communes in both the user's area and the session's area, on the session's map: the communes
    valid on its day (an area that ended before it: on the area's last day), never the old
    communes a new commune was formed from."""
    from cdt.geo.within import placement_day, valid_on

    day = placement_day(ts.area, ts.starts_at.date())
    return db.session.scalars(
        select(AdminUnit)
        .where(AdminUnit.level == "commune", area_condition(AdminUnit), in_session_area(AdminUnit, ts),
               valid_on(AdminUnit, day))
        .order_by(AdminUnit.name)
    ).all()


def invite_teams(ts: TrainingSession, commune_id: int) -> list:
    """Active teams of a commune (inside both areas): team, village, members, already invited."""
    members = (
        select(func.count()).select_from(Membership).where(Membership.team_id == Team.id, Membership.left_on.is_(None))
        .correlate(Team).scalar_subquery()
    )
    invited = (
        select(func.count()).select_from(Invitation)
        .where(Invitation.session_id == ts.id, Invitation.team_id == Team.id)
        .correlate(Team).scalar_subquery()
    )
    Village = aliased(AdminUnit)
    stmt = (
        select(Team.id, Team.name, Village.name.label("village"), members.label("members"), invited.label("invited"))
        .join(Village, Village.id == Team.village_id)
        .where(Team.commune_id == commune_id, Team.status == "active", area_condition(Team),
               in_session_area(Team, ts))
        .order_by(Village.name, Team.id)
    )
    return db.session.execute(stmt).all()


def allowed_teams(ts: TrainingSession, team_ids: list[int]) -> list[int]:
    """The subset of team ids that are active and inside both the user's and the session's area."""
    if not team_ids:
        return []
    return list(db.session.scalars(
        select(Team.id).where(Team.id.in_(team_ids), Team.status == "active", area_condition(Team),
                              in_session_area(Team, ts))
    ))


def team_members_to_invite(team_ids: list[int], leaders_only: bool) -> list[tuple[int, int]]:
    rows = db.session.execute(
        select(Membership.person_id, Membership.team_id)
        .where(Membership.team_id.in_(team_ids), Membership.left_on.is_(None),
               *( [Membership.role.in_(("leader", "deputy"))] if leaders_only else []))
        .order_by(Membership.team_id, Membership.person_id)
    ).all()
    seen: dict[int, int] = {}
    for person_id, team_id in rows:
        seen.setdefault(person_id, team_id)
    return list(seen.items())


def allowed_people(ts: TrainingSession, person_ids: list[int]) -> list[int]:
    if not person_ids:
        return []
    return list(db.session.scalars(
        select(Person.id).where(Person.id.in_(person_ids), area_condition(Person), in_session_area(Person, ts))
    ))


def people_teams(ts: TrainingSession, person_ids: list[int]) -> dict[int, int | None]:
    """For each person, one current team inside the session's area (the lowest id), else None."""
    if not person_ids:
        return {}
    rows = db.session.execute(
        select(Membership.person_id, func.min(Membership.team_id))
        .join(Team, Team.id == Membership.team_id)
        .where(Membership.person_id.in_(person_ids), Membership.left_on.is_(None), Team.status == "active",
               in_session_area(Team, ts))
        .group_by(Membership.person_id)
    ).all()
    found = dict(rows)
    return {pid: found.get(pid) for pid in person_ids}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_people(ts: TrainingSession, q: str, exclude_session_people: bool = True) -> list:
    """People in both areas whose name matches (diacritics ignored); their current team."""
    needle = fold(q)
    if len(needle) < 2:
        return []
    Village = aliased(AdminUnit)
    team_id = (
        select(func.min(Membership.team_id)).where(Membership.person_id == Person.id, Membership.left_on.is_(None))
        .correlate(Person).scalar_subquery()
    )
    stmt = (
        select(Person.id, Person.full_name, Person.birth_date, Team.name.label("team"), Village.name.label("village"))
        .select_from(Person)
        .outerjoin(Team, Team.id == team_id)
        .outerjoin(Village, Village.id == Team.village_id)
        .where(Person.search_name.like(_like(needle), escape="\\"), area_condition(Person),
               in_session_area(Person, ts))
        .order_by(Person.sort_name, Person.id)
        .limit(SEARCH_LIMIT)
    )
    if exclude_session_people:
        stmt = stmt.where(
            ~select(Invitation.id).where(Invitation.session_id == ts.id, Invitation.person_id == Person.id).exists(),
            ~select(Attendance.id).where(Attendance.session_id == ts.id, Attendance.person_id == Person.id).exists(),
        )
    return db.session.execute(stmt).all()


# --- history and shares --------------------------------------------------------------------

@dataclass
class PersonTraining:
    sessions: list
    total_hours: Decimal
    held_sessions: int
    first_trained_on: date | None


def person_training(person_id: int) -> PersonTraining:
    """A person's attendance (newest first) and total hours in held sessions. Two statements."""
    rows = db.session.execute(
        select(TrainingSession.id, TrainingSession.title, TrainingSession.starts_at, TrainingSession.status,
               TrainingTopic.name_vi, TrainingTopic.name_en, Attendance.hours, Attendance.walk_in)
        .join(Attendance, Attendance.session_id == TrainingSession.id)
        .join(TrainingTopic, TrainingTopic.id == TrainingSession.topic_id)
        .where(Attendance.person_id == person_id)
        .order_by(TrainingSession.starts_at.desc(), TrainingSession.id.desc())
    ).all()
    held = [r for r in rows if r.status == "held"]
    total = sum((Decimal(r.hours) for r in held), Decimal("0"))
    first = db.session.scalar(select(Person.first_trained_on).where(Person.id == person_id))
    return PersonTraining(rows, total, len(held), first)


@dataclass
class TrainedShare:
    members: int
    trained: int

    @property
    def pct(self) -> Decimal | None:
        from cdt.reports.queries import pct

        return pct(self.trained, self.members)


def team_trained_share(team_id: int, as_of: date | None = None) -> TrainedShare:
    """Current members of a team and how many are trained (first_trained_on on or before today),
    the same "trained" as the coverage report."""
    as_of = as_of or clock.today()
    row = db.session.execute(
        select(func.count(func.distinct(Membership.person_id)),
               func.count(func.distinct(case_trained(as_of))))
        .join(Person, Person.id == Membership.person_id)
        .where(Membership.team_id == team_id, Membership.joined_on <= as_of,
               or_(Membership.left_on.is_(None), Membership.left_on > as_of))
    ).one()
    return TrainedShare(row[0] or 0, row[1] or 0)


def case_trained(as_of: date):
    from sqlalchemy import case

    return case((Person.first_trained_on <= as_of, Person.id))
