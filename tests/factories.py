"""Small factories for tests (as indico's `create_user`, CTFd's `gen_*`).

A test that needs a team with three members makes them here, on the light `bare` database
(`@pytest.mark.bare`: the schema, Lào Cai's province, districts and communes, the training
topics and the demo accounts, but no village, team, person or session), instead of reading
the 7,363-person demo. The demo stays for tests that assert its figures and for the
end-to-end tests.

Every factory takes keyword overrides, has synthetic defaults, goes through the registry's
and training's services (their rules, audit events, name keys; the team_stat triggers fire
as for any write), commits, and returns the model object. Call them inside an app context:

    with app.app_context():
        village = gen_village(unit("02866"))
        team = gen_team(village, members=3)      # a leader, a deputy, a member
        person = gen_person(team=team)
        session = gen_session(unit("085"))       # held, 1 March 2023, 4 hours
        gen_attendance(session, [person])        # person.first_trained_on set

A missing parent is made too (`gen_village()` makes a new commune, district and province),
so the defaults never depend on what the database already holds. Factory users have the
demo password, so `login_as(user.username)` logs them in through the real form.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app, g, has_request_context
from flask_login import login_user
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from cdt.auth import service as accounts
from cdt.auth.models import User
from cdt.demo import DEMO_PASSWORD, VILLAGE_SYLLABLES
from cdt.extensions import db
from cdt.geo.models import AdminUnit, VillagePlace
from cdt.registry import services as registry
from cdt.registry.models import Membership, Person, Team
from cdt.training import services as training
from cdt.training.models import Attendance, Invitation, TrainingSession
from cdt.training.topics import ensure_topics

TEST_PASSWORD = DEMO_PASSWORD
# scrypt like production, with a work factor for tests (production's takes ~1 s a log-in on a busy CI).
TEST_HASH_METHOD = "scrypt:1024:8:1"
DAY = date(2023, 1, 2)  # teams established, people joined (before the demo's training half-year)
SESSION_START = datetime(2023, 3, 1, 8, 0)  # local time, like every session

_seq = itertools.count(1)

SURNAMES = "Nguyễn Trần Lê Phạm Hoàng Giàng Sùng Lò Vàng Triệu".split()
MIDDLE = {"male": ["Văn", "Đức", "A", "Seo"], "female": ["Thị", "Thu", "Ngọc", "Mỷ"]}
GIVEN = {"male": "An Bình Cường Dũng Páo Chứ Thắng Quẩy Sáu Tuấn Sinh".split(),
         "female": "Anh Dung Hà Mai Lan Sua Nhung Mẩy Hoa Linh Vân".split()}


OLD_MAP_DAY = date(2023, 6, 30)


def unit(code: str, on: date | None = None) -> AdminUnit:
    """The unit this GSO code names on a day (default today, as the app reads codes; the bare database
    holds old Lào Cai's '10', '085', '02866' and new Lào Cai's 15 and its 99 communes; None: today).
    A code is unique on a date, not forever."""
    from cdt.geo.queries import unit_by_code

    found = unit_by_code(code, on)
    assert found is not None, f"no unit with code {code}"
    return found


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=TEST_HASH_METHOD)


# --------------------------------------------------------------------------- units


def _free_code(width: int) -> str:
    """The highest code of `width` digits not yet taken (synthetic units stay clear of real ones)."""
    taken = set(db.session.scalars(select(AdminUnit.code).where(func.length(AdminUnit.code) == width)))
    for number in range(10 ** width - 1, 0, -1):
        code = f"{number:0{width}d}"
        if code not in taken:
            return code
    raise AssertionError(f"no free {width}-digit unit code")


def _add_unit(**values) -> AdminUnit:
    new = AdminUnit(**values)
    db.session.add(new)
    db.session.flush()
    setattr(new, f"{new.level}_id", new.id)
    db.session.commit()
    return new


def gen_province(*, code: str | None = None, name: str | None = None, kind: str = "province") -> AdminUnit:
    code = code or _free_code(2)
    return _add_unit(code=code, name=name or f"Tỉnh Thử {code}", level="province", kind=kind)


def gen_district(province: AdminUnit | None = None, *, code: str | None = None, name: str | None = None,
                 kind: str = "rural_district") -> AdminUnit:
    province = province or gen_province()
    code = code or _free_code(3)
    return _add_unit(code=code, name=name or f"Huyện Thử {code}", level="district", kind=kind,
                     parent_id=province.id, province_id=province.id)


def gen_commune(district: AdminUnit | None = None, *, code: str | None = None, name: str | None = None,
                kind: str = "commune") -> AdminUnit:
    district = district or gen_district()
    code = code or _free_code(5)
    return _add_unit(code=code, name=name or f"Xã Thử {code}", level="commune", kind=kind, parent_id=district.id,
                     province_id=district.province_id, district_id=district.id)


def gen_village(commune: AdminUnit | None = None, *, number: int | None = None, name: str | None = None,
                kind: str = "village") -> AdminUnit:
    """A village of `commune` coded like the demo's (`<commune code>-<3 digits>`), first free number."""
    commune = commune or gen_commune()
    if number is None:
        codes = db.session.scalars(select(AdminUnit.code).where(AdminUnit.parent_id == commune.id))
        numbers = {int(c.rsplit("-", 1)[1]) for c in codes if "-" in c}
        number = next(n for n in itertools.count(1) if n not in numbers)
    if name is None:
        n = next(_seq)  # a name of its own, like the demo's ("Thôn Nậm Na")
        words = len(VILLAGE_SYLLABLES)
        name = f"Thôn {VILLAGE_SYLLABLES[n % words]} {VILLAGE_SYLLABLES[n // words % words]}"
    village = _add_unit(code=f"{commune.code}-{number:03d}", name=name, level="village",
                        kind=kind, parent_id=commune.id, province_id=commune.province_id,
                        district_id=commune.district_id, commune_id=commune.id)
    db.session.add(VillagePlace(village_id=village.id, province_id=village.province_id,
                                district_id=village.district_id, commune_id=village.commune_id))
    db.session.commit()
    return village


@dataclass
class UnitTree:
    province: AdminUnit
    district: AdminUnit
    communes: list[AdminUnit] = field(default_factory=list)
    villages: dict[int, list[AdminUnit]] = field(default_factory=dict)  # by commune id

    def villages_of(self, commune: AdminUnit) -> list[AdminUnit]:
        return self.villages[commune.id]


def create_unit_tree(*, communes: int = 2, villages: int = 2, province: AdminUnit | None = None,
                     district: AdminUnit | None = None) -> UnitTree:
    """A synthetic province > district > `communes` communes > `villages` villages each."""
    if district is None:
        province = province or gen_province()
        district = gen_district(province)
    else:
        province = db.session.get(AdminUnit, district.province_id)
    tree = UnitTree(province=province, district=district)
    for _ in range(communes):
        commune = gen_commune(district)
        tree.communes.append(commune)
        tree.villages[commune.id] = [gen_village(commune) for _ in range(villages)]
    return tree


# --------------------------------------------------------------------------- accounts


def create_user(role: str = "admin", area: AdminUnit | str | None = None, *, username: str | None = None,
                full_name: str | None = None, password: str = TEST_PASSWORD, active: bool = True,
                must_change_password: bool = False) -> User:
    """An account checked by the account rules (username, area fitting the role), with a known
    password; `area` is a unit or its code."""
    code = area.code if isinstance(area, AdminUnit) else area
    day = area.valid_to if isinstance(area, AdminUnit) else None  # that unit, not today's with its code
    with _request():  # the rules' messages are translated
        username = accounts.check_username(username or f"{role.replace('_', '-')}-{next(_seq)}")
        area = accounts.resolve_area(role, code, day)
    user = User(username=username, role=role, area=area, full_name=full_name,
                password_hash=hash_password(password), active=active, must_change_password=must_change_password)
    db.session.add(user)
    db.session.commit()
    return user


def _admin() -> User:
    return db.session.scalar(select(User).where(User.role == "admin", User.active).order_by(User.id).limit(1)) \
        or create_user("admin")


def _request():
    return nullcontext() if has_request_context() else current_app.test_request_context("/")


@contextmanager
def acting_as(user: User | None = None) -> Iterator[User]:
    """A request in which `user` (default: an admin) is logged in, for services that act for the
    current user (area checks, audit events). Leaves no user behind in the app context."""
    user = user or _admin()
    with current_app.test_request_context("/"):
        login_user(user)
        try:
            yield user
        finally:
            g.pop("_login_user", None)


# --------------------------------------------------------------------------- registry


def gen_citizen_id() -> str:
    """A 12-digit citizen ID no other factory person has (prefix 099: no province's)."""
    return f"099{next(_seq):09d}"


def _person_data(gender: str, **overrides) -> dict:
    n = next(_seq)
    data = {
        "full_name": f"{SURNAMES[n % len(SURNAMES)]} {MIDDLE[gender][n % len(MIDDLE[gender])]} "
                     f"{GIVEN[gender][n % len(GIVEN[gender])]}",
        "gender": gender,
        "birth_date": date(1990, 1, 1) + timedelta(days=n),  # with the name: never a duplicate
        "ethnicity": "kinh",
        "phone": f"+84979{n:06d}",  # a prefix the demo does not use
        "youth_union": False,
        "position": None,
    }
    data.update(overrides)
    return data


def gen_team(village: AdminUnit | None = None, *, members: int = 0, name: str | None = None,
             status: str = "active", established_on: date | None = DAY, decision_number: str | None = "1/QĐ-UBND",
             dissolved_on: date | None = None, notes: str | None = None, user: User | None = None) -> Team:
    """A team of `village` made by the registry service (acting as `user`, default an admin), with
    `members` new people: the first is the leader, the second the deputy, like the demo's teams."""
    village = village or gen_village()
    with acting_as(user):
        team = registry.create_team({"village_id": village.id, "name": name, "status": status,
                                     "established_on": established_on, "decision_number": decision_number,
                                     "dissolved_on": dissolved_on, "notes": notes})
    for position in range(members):
        gen_person(team=team, role="leader" if position == 0 else "deputy" if position == 1 else "member")
    return team


def gen_person(commune: AdminUnit | None = None, *, team: Team | None = None, role: str = "member",
               joined_on: date | None = None, gender: str = "male", **fields) -> Person:
    """A person registered in `commune` (default: the team's, else a new one) by the registry
    service, a member of `team` with `role` when given. `fields`: full_name, birth_date,
    ethnicity, phone, citizen_id, youth_union, position."""
    if commune is None:
        commune = db.session.get(AdminUnit, team.commune_id) if team is not None else gen_commune()
    if team is not None and joined_on is None:
        joined_on = team.established_on or DAY
    return registry.create_person(_person_data(gender, **fields), commune, team=team, role=role, joined_on=joined_on)


def gen_membership(person: Person, team: Team, *, role: str = "member", joined_on: date | None = None,
                   left_on: date | None = None) -> Membership:
    """`person` joins `team` (the registry service's rules); ended on `left_on` when given."""
    membership = registry.add_membership(person, team, role=role, joined_on=joined_on or team.established_on or DAY)
    if left_on is not None:
        registry.end_membership(membership, left_on)
    return membership


def current_members(team: Team, role: str | None = None) -> list[Membership]:
    stmt = select(Membership).where(Membership.team_id == team.id, Membership.left_on.is_(None))
    if role:
        stmt = stmt.where(Membership.role == role)
    return list(db.session.scalars(stmt.order_by(Membership.id)))


# --------------------------------------------------------------------------- training


def gen_session(area: AdminUnit | None = None, *, topic: str = "vneid", title: str | None = None,
                starts_at: datetime = SESSION_START, hours: Decimal | None = None, length: float = 4,
                status: str = "held", mode: str = "in_person", venue: str | None = "Hội trường UBND",
                trainer: str | None = None, capacity: int | None = None, notes: str | None = None,
                user: User | None = None) -> TrainingSession:
    """A session serving `area` (a province, district or commune; default a new district) made by
    the training service; held on 1 March 2023 for 4 hours unless told otherwise."""
    area = area or gen_district()
    topics = ensure_topics()
    session = training.create_session(
        {"title": title or f"Tập huấn {topic} {next(_seq)}", "topic_id": topics[topic], "mode": mode,
         "starts_at": starts_at, "ends_at": starts_at + timedelta(hours=length), "hours": hours, "venue": venue,
         "trainer": trainer, "capacity": capacity, "notes": notes, "status": status},
        area, user or _admin())
    db.session.commit()
    return session


def _people_with_teams(people: Iterable[Person | int]) -> list[tuple[int, int | None]]:
    ids = [p if isinstance(p, int) else p.id for p in people]
    teams = dict(db.session.execute(select(Membership.person_id, func.min(Membership.team_id)).where(
        Membership.person_id.in_(ids), Membership.left_on.is_(None)).group_by(Membership.person_id)).all())
    return [(pid, teams.get(pid)) for pid in ids]


def gen_invitation(session: TrainingSession, people: Iterable[Person | int]) -> list[Invitation]:
    """Invite people (each with their current team) through the training service."""
    pairs = _people_with_teams(people)
    training.invite(session, pairs)
    db.session.commit()
    return list(db.session.scalars(select(Invitation).where(
        Invitation.session_id == session.id, Invitation.person_id.in_([pid for pid, _ in pairs]))))


def gen_attendance(session: TrainingSession, people: Iterable[Person | int], *, hours: Decimal | None = None,
                   user: User | None = None) -> list[Attendance]:
    """`people` attended `session` (added to whoever attended already), through the training
    service: the session becomes held and the people's trained mark is recounted."""
    ids = {pid for pid, _ in _people_with_teams(people)}
    existing = set(db.session.scalars(select(Attendance.person_id).where(Attendance.session_id == session.id)))
    invited = set(db.session.scalars(select(Invitation.person_id).where(Invitation.session_id == session.id)))
    training.record_attendance(session, existing | ids, invited, hours or session.hours, user or _admin())
    db.session.commit()
    return list(db.session.scalars(select(Attendance).where(
        Attendance.session_id == session.id, Attendance.person_id.in_(ids)).order_by(Attendance.person_id)))
