"""Helpers shared by the registry tests (data of the demo's commune account, Xã Bản Phố)."""
from __future__ import annotations

from datetime import date

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
