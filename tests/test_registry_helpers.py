"""Helpers shared by the registry tests (data of the demo's commune account, Xã Bản Phố)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.registry.models import Membership, Person, Team

COMMUNE_CODE = "02866"  # Xã Bản Phố, the demo `commune` account's area
OTHER_COMMUNE_CODE = "02839"  # Thị trấn Bắc Hà, same district


def unit(code: str) -> AdminUnit:
    return db.session.scalar(select(AdminUnit).where(AdminUnit.code == code))


def teams_of(code: str) -> list[Team]:
    return list(db.session.scalars(select(Team).where(Team.commune_id == unit(code).id).order_by(Team.id)))


def people_of(code: str) -> list[Person]:
    return list(db.session.scalars(select(Person).where(Person.commune_id == unit(code).id).order_by(Person.id)))


def current(team: Team, role: str | None = None) -> list[Membership]:
    stmt = select(Membership).where(Membership.team_id == team.id, Membership.left_on.is_(None))
    if role:
        stmt = stmt.where(Membership.role == role)
    return list(db.session.scalars(stmt.order_by(Membership.id)))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def person_form(**overrides) -> dict:
    """A valid new-person form (no team)."""
    data = {
        "full_name": "Nguyễn Văn Thử",
        "gender": "male",
        "birth_date": "1990-05-17",
        "ethnicity": "kinh",
        "phone": "0912 345 678",
        "citizen_id": "",
        "position": "",
        "role": "member",
        "joined_on": date.today().isoformat(),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def sample() -> None:
    """For `bare` tests (tests/factories.py): Bản Phố (COMMUNE_CODE) with three teams of four (a
    leader, a deputy, two members; every other person a youth-union member; the first team's people
    with citizen IDs, two of them trained at a held session of Bắc Hà), the town (OTHER_COMMUNE_CODE)
    with a team of three, and a team of two in the first commune outside Bắc Hà."""
    from tests.factories import gen_attendance, gen_citizen_id, gen_person, gen_session, gen_team, gen_village

    def team_of(commune: AdminUnit, size: int, citizen_ids: bool = False) -> Team:
        team = gen_team(gen_village(commune))
        for position in range(size):
            gen_person(team=team, role=("leader", "deputy")[position] if position < 2 else "member",
                       gender=("male", "female")[position % 2], youth_union=position % 2 == 0,
                       citizen_id=gen_citizen_id() if citizen_ids else None)
        return team

    commune = unit(COMMUNE_CODE)
    first = team_of(commune, 4, citizen_ids=True)
    team_of(commune, 4)
    team_of(commune, 4)
    team_of(unit(OTHER_COMMUNE_CODE), 3)
    # The same query as test_team_list_filters_for_district_staff's "foreign" commune.
    outside = db.session.scalar(select(AdminUnit).where(AdminUnit.level == "commune",
                                                        AdminUnit.district_id != unit("085").id))
    team_of(outside, 2)
    session = gen_session(unit("085"), starts_at=datetime(2023, 3, 1, 8))
    gen_attendance(session, [m.person_id for m in current(first)][:2])
