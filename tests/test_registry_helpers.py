"""Helpers shared by the registry tests (data of the demo's commune account, Xã Bản Phố)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.registry.models import Membership, Person, Team

# Xã Bản Phố (old map), the demo `commune` account's area before the 2025 reform; since then it
# lies in the account's new area, Xã Bắc Hà (02839). The bare database is "before the reform".
COMMUNE_CODE = "02866"
# Xã Cốc Ly, same old district; since the reform in Xã Bảo Nhai, outside the commune account's area.
OTHER_COMMUNE_CODE = "02878"


def unit(code: str) -> AdminUnit:
    from cdt.geo.queries import unit_by_code

    return unit_by_code(code)


def teams_of(code: str) -> list[Team]:
    """The teams in the commune (an ended one: those that were in it on its last day)."""
    from cdt.geo.within import within

    return list(db.session.scalars(select(Team).where(within(Team, unit(code))).order_by(Team.id)))


def people_of(code: str) -> list[Person]:
    from cdt.geo.within import within

    return list(db.session.scalars(select(Person).where(within(Person, unit(code))).order_by(Person.id)))


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


DISTRICT_CODE = "085"  # Huyện Bắc Hà, around the commune account's area


def person_outside_district(code: str = DISTRICT_CODE) -> Person:
    """A demo person of another district of the province (today's: the district's successor since
    the 2025 reform), with a phone and a citizen ID."""
    from cdt.geo.queries import successors
    from cdt.geo.within import within

    district = unit(code)
    province = db.session.get(type(district), district.province_id)
    provinces = [province.id] + [u.id for u in successors(province)]
    inside = select(Person.id).where(within(Person, district))
    return db.session.scalar(select(Person).where(
        Person.id.not_in(inside), Person.province_id.in_(provinces),
        Person.phone.is_not(None), Person.citizen_id.is_not(None), Person.birth_date.is_not(None),
    ).order_by(Person.id))


def details_of(person: Person) -> dict[str, str]:
    """What a page must not show about a person outside the user's area."""
    from cdt.registry.identifiers import display_phone

    return {
        "name": person.full_name,
        "phone": display_phone(person.phone),
        "stored phone": person.phone,
        "birth date": person.birth_date.strftime("%d/%m/%Y"),
        "citizen ID": person.citizen_id,
        "commune": db.session.get(AdminUnit, person.commune_id).name,
        "district": db.session.get(AdminUnit, person.district_id).name if person.district_id else "",
        "id": f"/members/{person.id}",
    }


def leaked(html: str, details: dict[str, str], *, typed: tuple[str, ...] = ()) -> list[str]:
    """The details found in `html` (those the user typed themselves excepted)."""
    return [key for key, value in details.items() if key not in typed and value and value in html]
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
