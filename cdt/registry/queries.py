"""The SQL the registry pages need: lists (a fixed number of statements per page, whatever the
number of rows), team and person details. Every statement is narrowed by cdt.auth.scope."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from cdt.auth.scope import area_condition, scoped
from cdt.core.inputs import to_int
from cdt.core.text import ascii_digits, fold
from cdt.extensions import db
from cdt.geo.models import AdminUnit, VillagePlace
from cdt.geo.within import placement_day, valid_on, within
from cdt.privacy.rules import CONSENT_STATES, consent_state
from cdt.registry.identifiers import normalize_phone
from cdt.registry.models import Membership, Person, PersonNameKey, Team, TeamDecision
from cdt.training.models import Attendance, TrainingSession

PER_PAGE = 25
MAX_PER_PAGE = 100

Village = aliased(AdminUnit, name="village")
Commune = aliased(AdminUnit, name="commune")

_PHONE_LIKE = re.compile(r"^\+?[\d\s.\-()]{6,}$")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --------------------------------------------------------------------------- filter options


def area_options(args: dict, user: Any = None) -> dict[str, list]:
    """The choices of the district / commune / village / team filters, within the user's area, on
    the map of the user's area: today's (an account of an ended unit, e.g. an abolished district:
    that unit's last day). Units that had ended by then are never offered.

    Districts are listed when the area is above a district and the map has districts; communes
    once a district is known, or at once on a map without districts (the 2025 map); villages and
    teams once a commune is known (a commune officer always knows it).
    """
    from flask_login import current_user

    user = user if user is not None else current_user
    area = user.area
    level = area.level if area is not None else None
    day = placement_day(area)
    district_id = area.id if level == "district" else to_int(args.get("district"))
    commune_id = area.id if level == "commune" else to_int(args.get("commune"))
    options: dict[str, list] = {"districts": [], "communes": [], "villages": [], "teams": []}
    inside = and_(area_condition(AdminUnit, user), valid_on(AdminUnit, day))
    if level in (None, "province"):
        options["districts"] = db.session.execute(
            select(AdminUnit.id, AdminUnit.name).where(AdminUnit.level == "district", inside)
            .order_by(AdminUnit.code)
        ).all()
    if level in (None, "province", "district") and district_id:
        options["communes"] = db.session.execute(
            select(AdminUnit.id, AdminUnit.name).where(
                AdminUnit.level == "commune", AdminUnit.district_id == district_id, inside
            ).order_by(AdminUnit.code)
        ).all()
    elif level in (None, "province") and not options["districts"]:
        options["communes"] = db.session.execute(
            select(AdminUnit.id, AdminUnit.name).where(AdminUnit.level == "commune", inside)
            .order_by(AdminUnit.code)
        ).all()
    commune = db.session.get(AdminUnit, commune_id) if commune_id else None
    if commune is not None and commune.level == "commune":
        options["villages"] = db.session.execute(
            select(AdminUnit.id, AdminUnit.name).where(
                AdminUnit.level == "village", within(AdminUnit, commune, day), inside
            ).order_by(AdminUnit.code)
        ).all()
        options["teams"] = db.session.execute(
            select(Team.id, Team.name).join(Village, Village.id == Team.village_id)
            .where(within(Team, commune, day), area_condition(Team, user))
            .order_by(Village.code, Team.id)
        ).all()
    return options


def _inside_unit(model: Any, unit_id: int, level: str):
    """Rows of `model` (Team or Person) inside the district or commune with this id (a filter's),
    in one condition (no statement of its own): by their columns (where they lie today), or, for a
    unit that has ended (an abolished district's account filtering by one of its old communes), by
    the villages placed in it on its last day (cdt.geo.models.VillagePlace): its teams, and the
    people in them."""
    from cdt.core.clock import today

    unit = AdminUnit.__table__.alias("filter_unit")
    last = select(unit.c.valid_to).where(unit.c.id == unit_id, unit.c.level == level,
                                         unit.c.valid_to < today()).scalar_subquery()
    placed = select(VillagePlace.village_id).where(
        getattr(VillagePlace, f"{level}_id") == unit_id,
        or_(VillagePlace.valid_from.is_(None), VillagePlace.valid_from <= last),
        or_(VillagePlace.valid_to.is_(None), VillagePlace.valid_to >= last))
    if model is Team:
        return or_(getattr(Team, f"{level}_id") == unit_id, Team.village_id.in_(placed))
    team = aliased(Team, name="filter_team")
    members = (select(Membership.person_id).join(team, team.id == Membership.team_id)
               .where(team.village_id.in_(placed)))
    return or_(getattr(Person, f"{level}_id") == unit_id, Person.id.in_(members))


def drop_stale_choices(filters, options: dict) -> None:
    """A commune, village or team left in the URL from another district (or commune) is ignored
    rather than silently emptying the list: the selects no longer offer it."""
    from flask_login import current_user

    area = current_user.area
    if getattr(filters, "commune", None) and (area is None or area.level in ("province", "district")) \
            and filters.commune not in {row[0] for row in options["communes"]}:
        filters.commune = None
    for name, key in (("village", "villages"), ("team", "teams")):
        value = getattr(filters, name, None)
        if value and value not in {row[0] for row in options[key]}:
            setattr(filters, name, None)


# --------------------------------------------------------------------------- teams


@dataclass
class TeamFilters:
    district: int | None = None
    commune: int | None = None
    status: str | None = None
    q: str = ""

    @classmethod
    def from_args(cls, args) -> TeamFilters:
        status = args.get("status") or None
        return cls(
            district=to_int(args.get("district")),
            commune=to_int(args.get("commune")),
            status=status if status in ("active", "dissolved") else None,
            q=(args.get("q") or "").strip()[:100],
        )


def team_ids_select(filters: TeamFilters) -> Select:
    """Team ids in the user's area matching the filters, in village-code order."""
    stmt = scoped(select(Team.id).join(Village, Village.id == Team.village_id), Team)
    if filters.district:
        stmt = stmt.where(_inside_unit(Team, filters.district, "district"))
    if filters.commune:
        stmt = stmt.where(_inside_unit(Team, filters.commune, "commune"))
    if filters.status:
        stmt = stmt.where(Team.status == filters.status)
    if filters.q:
        # Folded names answer "nam na" for "Nậm Na"; the plain names cover rows loaded without them.
        pattern = f"%{_like_escape(filters.q)}%"
        folded = f"%{_like_escape(fold(filters.q))}%"
        stmt = stmt.where(or_(Team.search_name.like(folded, escape="\\"), Team.name.ilike(pattern, escape="\\"),
                              Village.name.ilike(pattern, escape="\\")))
    return stmt.order_by(Village.code, Team.id)


def _on_session_day(membership=Membership):
    """The membership was current on the day of the training session."""
    day = func.date(TrainingSession.starts_at)
    return and_(
        func.date(membership.joined_on) <= day,
        or_(membership.left_on.is_(None), func.date(membership.left_on) >= day),
    )


def _team_columns():
    leader = aliased(Membership, name="leader_m")
    current = aliased(Membership, name="current_m")
    attended = aliased(Membership, name="attended_m")
    leader_name = (
        select(Person.full_name).join(leader, leader.person_id == Person.id)
        .where(leader.team_id == Team.id, leader.role == "leader", leader.left_on.is_(None),
               Person.shown_to(None))  # a restricted or erased leader is not named (cdt/privacy/rules.py)
        .limit(1).correlate(Team).scalar_subquery()
    )
    leader_id = (
        select(leader.person_id)
        .where(leader.team_id == Team.id, leader.role == "leader", leader.left_on.is_(None))
        .limit(1).correlate(Team).scalar_subquery()
    )
    members = (
        select(func.count(current.id)).where(current.team_id == Team.id, current.left_on.is_(None))
        .correlate(Team).scalar_subquery()
    )
    trained = (
        select(func.count(current.id)).join(Person, Person.id == current.person_id)
        .where(current.team_id == Team.id, current.left_on.is_(None), Person.first_trained_on.is_not(None))
        .correlate(Team).scalar_subquery()
    )
    last_training = (
        select(func.max(TrainingSession.starts_at))
        .select_from(Attendance)
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .join(attended, attended.person_id == Attendance.person_id)
        .where(attended.team_id == Team.id, TrainingSession.status == "held", _on_session_day(attended))
        .correlate(Team).scalar_subquery()
    )
    return [
        Team,
        Village.name.label("village_name"),
        Village.code.label("village_code"),
        Commune.name.label("commune_name"),
        leader_name.label("leader_name"),
        leader_id.label("leader_id"),
        members.label("members"),
        trained.label("trained"),
        last_training.label("last_training"),
    ]


def team_rows(ids: list[int]) -> list[Any]:
    """One statement: the page's teams with village, commune, leader, counts, last training."""
    if not ids:
        return []
    stmt = (
        select(*_team_columns())
        .join(Village, Village.id == Team.village_id)
        .join(Commune, Commune.id == Team.commune_id)
        .where(Team.id.in_(ids))
    )
    rows = {row.Team.id: row for row in db.session.execute(stmt)}
    return [rows[i] for i in ids if i in rows]


def team_summary(team_id: int) -> Any:
    stmt = (
        select(*_team_columns())
        .join(Village, Village.id == Team.village_id)
        .join(Commune, Commune.id == Team.commune_id)
        .where(Team.id == team_id)
    )
    return db.session.execute(stmt).one()


def team_memberships(team: Team) -> list[Membership]:
    """Every membership of the team, current first (leader, deputy, members), then past ones."""
    role_order = case((Membership.role == "leader", 0), (Membership.role == "deputy", 1), else_=2)
    stmt = (
        select(Membership).options(joinedload(Membership.person))
        .where(Membership.team_id == team.id)
        .order_by(Membership.left_on.is_not(None), role_order, Membership.joined_on.desc(), Membership.id)
    )
    return list(db.session.scalars(stmt))


def team_trainings(team: Team) -> list[Any]:
    """Held sessions attended by people while they were members of the team."""
    stmt = (
        select(
            TrainingSession.id, TrainingSession.title, TrainingSession.starts_at, TrainingSession.hours,
            func.count(func.distinct(Attendance.person_id)).label("attendees"),
        )
        .select_from(Attendance)
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .join(Membership, Membership.person_id == Attendance.person_id)
        .where(Membership.team_id == team.id, TrainingSession.status == "held", _on_session_day())
        .group_by(TrainingSession.id, TrainingSession.title, TrainingSession.starts_at, TrainingSession.hours)
        .order_by(TrainingSession.starts_at.desc())
        .limit(100)
    )
    return db.session.execute(stmt).all()


def team_decisions(team: Team) -> list[TeamDecision]:
    return list(db.session.scalars(
        select(TeamDecision).where(TeamDecision.team_id == team.id)
        .order_by(TeamDecision.effective_on.desc(), TeamDecision.id.desc())
    ))


def teams_in_commune(commune_id: int, *, active_only: bool = True) -> list[Any]:
    """(id, name, village name) of the teams of one commune, within the user's area."""
    stmt = (
        select(Team.id, Team.name, Village.name.label("village_name"))
        .join(Village, Village.id == Team.village_id)
        .where(Team.commune_id == commune_id, area_condition(Team))
        .order_by(Village.code, Team.id)
    )
    if active_only:
        stmt = stmt.where(Team.status == "active")
    return db.session.execute(stmt).all()


def team_for_person(person: Person, team_id: Any) -> Team | None:
    """A team of the person's commune, within the user's area (None otherwise)."""
    team_id = to_int(team_id)
    if not team_id:
        return None
    return db.session.scalar(scoped(select(Team).where(Team.id == team_id, Team.commune_id == person.commune_id),
                                    Team))


def villages_in_commune(commune_id: int, keep: int | None = None) -> list[Any]:
    """The villages of a commune today (a village merged away has ended: not offered), and the
    village `keep` (a team's own, even when it has ended)."""
    from cdt.core.clock import today

    return db.session.execute(
        select(AdminUnit.id, AdminUnit.name, AdminUnit.code)
        .where(AdminUnit.level == "village", AdminUnit.commune_id == commune_id, area_condition(AdminUnit),
               or_(valid_on(AdminUnit, today()), AdminUnit.id == (keep or 0)))
        .order_by(AdminUnit.code)
    ).all()


# --------------------------------------------------------------------------- members


@dataclass
class MemberFilters:
    q: str = ""
    district: int | None = None
    commune: int | None = None
    village: int | None = None
    team: int | None = None
    role: str | None = None
    youth_union: bool | None = None
    trained: bool | None = None
    consent: str | None = None  # pending, given, withdrawn (cdt.privacy.rules.consent_state)

    @classmethod
    def from_args(cls, args) -> MemberFilters:
        def yes_no(value):
            return {"yes": True, "no": False}.get(value or "")

        role = args.get("role") or None
        return cls(
            q=(args.get("q") or "").strip()[:100],
            district=to_int(args.get("district")),
            commune=to_int(args.get("commune")),
            village=to_int(args.get("village")),
            team=to_int(args.get("team")),
            role=role if role in ("leader", "deputy", "member") else None,
            youth_union=yes_no(args.get("youth_union")),
            trained=yes_no(args.get("trained")),
            consent=args.get("consent") if args.get("consent") in CONSENT_STATES else None,
        )


def search_condition(q: str):
    """Name (with or without diacritics, any part of the name) or phone (any typed form, any digits)."""
    q = ascii_digits(q).strip()
    if not q:
        return None
    if _PHONE_LIKE.match(q) and sum(c.isdigit() for c in q) >= 6:
        try:
            phone = normalize_phone(q)
        except ValueError:
            phone = None
        if phone:
            return Person.phone == phone
        digits = re.sub(r"\D", "", q)
        if digits.startswith("84") and q.lstrip().startswith("+"):
            digits = digits[2:]
        digits = digits.lstrip("0")
        return Person.phone.like(f"%{digits}%")
    folded = fold(q)
    if not folded:
        return None
    return Person.id.in_(name_key_matches(folded))


def name_key_matches(folded: str) -> Select:
    """Ids of people with a name key starting with `folded` (an index range on person_name_key)."""
    if db.session.get_bind().dialect.name == "sqlite":
        # Keys are ASCII: everything starting with `folded` sorts in [folded, folded + DEL).
        condition = and_(PersonNameKey.key >= folded, PersonNameKey.key < folded + "\x7f")
    else:
        condition = PersonNameKey.key.like(_like_escape(folded) + "%", escape="\\")
    return select(PersonNameKey.person_id).where(condition)


def member_select(filters: MemberFilters) -> Select:
    """People in the user's area matching the filters, ordered by name."""
    stmt = scoped(select(Person), Person)
    condition = search_condition(filters.q)
    if condition is not None:
        stmt = stmt.where(condition)
    if filters.district:
        stmt = stmt.where(_inside_unit(Person, filters.district, "district"))
    if filters.commune:
        stmt = stmt.where(_inside_unit(Person, filters.commune, "commune"))
    if filters.youth_union is not None:
        stmt = stmt.where(Person.youth_union.is_(filters.youth_union))
    if filters.trained is not None:
        stmt = stmt.where(
            Person.first_trained_on.is_not(None) if filters.trained else Person.first_trained_on.is_(None)
        )
    if filters.consent:
        stmt = stmt.where(consent_state(filters.consent))
    if filters.team or filters.role or filters.village:
        m = aliased(Membership, name="filter_m")
        sub = select(m.id).where(m.person_id == Person.id, m.left_on.is_(None))
        if filters.team:
            sub = sub.where(m.team_id == filters.team)
        if filters.role:
            sub = sub.where(m.role == filters.role)
        if filters.village:
            t = aliased(Team, name="filter_t")
            sub = sub.join(t, t.id == m.team_id).where(t.village_id == filters.village)
        stmt = stmt.where(exists(sub.correlate(Person)))
    return stmt.order_by(Person.sort_name, Person.id)


def current_memberships_of(person_ids: list[int]) -> dict[int, list[Any]]:
    """One statement: the current teams (and roles) of the people on a page."""
    if not person_ids:
        return {}
    stmt = (
        select(Membership.person_id, Membership.role, Team.id.label("team_id"), Team.name.label("team_name"),
               Village.name.label("village_name"))
        .join(Team, Team.id == Membership.team_id)
        .join(Village, Village.id == Team.village_id)
        .where(Membership.person_id.in_(person_ids), Membership.left_on.is_(None))
        .order_by(Membership.person_id, Membership.joined_on, Membership.id)
    )
    result: dict[int, list[Any]] = {}
    for row in db.session.execute(stmt):
        result.setdefault(row.person_id, []).append(row)
    return result


def person_memberships(person: Person) -> list[Membership]:
    stmt = (
        select(Membership)
        .options(joinedload(Membership.team).joinedload(Team.village))
        .where(Membership.person_id == person.id)
        .order_by(Membership.left_on.is_not(None), Membership.joined_on.desc(), Membership.id.desc())
    )
    return list(db.session.scalars(stmt))

