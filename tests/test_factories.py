"""The bare template and the test factories: what they hold and that their rows keep the registry's rules."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select, text

from cdt.audit.models import AuditEvent
from cdt.auth.models import User
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.registry.models import Membership, Person, PersonNameKey, Team, TeamDecision
from cdt.registry.services import RuleError
from cdt.reports.models import COLUMNS, TeamStat, _select
from cdt.training.models import TrainingSession, TrainingTopic
from tests.factories import (
    DAY,
    create_unit_tree,
    create_user,
    current_members,
    gen_attendance,
    gen_invitation,
    gen_membership,
    gen_person,
    gen_session,
    gen_team,
    gen_village,
    unit,
)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.bare
def test_bare_database_holds_units_topics_and_accounts_only(app, login_as):
    with app.app_context():
        levels = dict(db.session.execute(select(AdminUnit.level, func.count()).group_by(AdminUnit.level)).all())
        # Old Lào Cai (10: 9 districts, 151 communes) and new Lào Cai (15: 99 communes, no district).
        assert levels == {"province": 2, "district": 9, "commune": 151 + 99}
        assert unit("02866").name == "Xã Bản Phố"
        assert count(TrainingTopic) == 6
        assert sorted(db.session.scalars(select(User.username))) == ["admin", "commune", "commune2", "district",
                                                                     "province", "youth"]
        for model in (Team, Person, Membership, TrainingSession):
            assert count(model) == 0, model
    login_as("commune")  # the demo accounts log in with the demo password


@pytest.mark.bare
def test_factories_write_through_the_services(app):
    with app.app_context():
        village = gen_village(unit("02866"))
        assert (village.code, village.level, village.commune_id, village.district_id) == (
            "02866-001", "village", unit("02866").id, unit("085").id)
        team = gen_team(village, members=3)
        assert team.search_name and team.established_on == DAY and team.commune_id == unit("02866").id
        assert [m.role for m in current_members(team)] == ["leader", "deputy", "member"]
        assert count(TeamDecision, TeamDecision.team_id == team.id) == 1
        assert count(AuditEvent, AuditEvent.action == "team.create") == 1
        person = gen_person(team=team, youth_union=True)
        assert count(PersonNameKey, PersonNameKey.person_id == person.id) == len(person.search_name.split())
        # The services' rules hold: a second leader is refused.
        with pytest.raises(RuleError):
            gen_person(team=team, role="leader")
        # team_stat follows (database triggers), equal to a recount from scratch.
        stat = db.session.get(TeamStat, team.id)
        assert (stat.members, stat.youth, stat.trained, stat.has_leader) == (4, 1, 0, True)
        session = gen_session(unit("085"), starts_at=datetime(2023, 3, 1, 8))
        gen_invitation(session, [person])
        assert [a.walk_in for a in gen_attendance(session, [person, current_members(team)[0].person_id])] in (
            [False, True], [True, False])
        assert db.session.get(Person, person.id).first_trained_on == date(2023, 3, 1)
        assert db.session.get(TeamStat, team.id).trained == 2
        elsewhere = create_unit_tree(communes=2, villages=1)
        other = gen_team(elsewhere.villages_of(elsewhere.communes[1])[0])
        ended = gen_membership(person, other, left_on=date(2023, 6, 1))
        assert ended.left_on == date(2023, 6, 1) and other.province_id == elsewhere.province.id
        dialect = db.session.get_bind().dialect.name
        assert ({tuple(r) for r in db.session.execute(text(f"SELECT {COLUMNS} FROM team_stat"))}
                == {tuple(r) for r in db.session.execute(text(_select("1 = 1", dialect)))})


@pytest.mark.bare
def test_parents_are_made_when_missing(app):
    with app.app_context():
        team = gen_team(members=1)
        village = db.session.get(AdminUnit, team.village_id)
        commune = db.session.get(AdminUnit, village.commune_id)
        assert commune.code not in {c for c in db.session.scalars(select(AdminUnit.code).where(
            AdminUnit.province_id == unit("10").id))}
        assert len(commune.code) == 5 and village.code == f"{commune.code}-001"
        assert gen_person().commune_id != commune.id  # a new commune of its own


@pytest.mark.bare
def test_created_user_logs_in_with_its_area(app, client, login_as):
    with app.app_context():
        user = create_user("commune_officer", unit("02839", date(2023, 6, 30)))  # the old unit of that code
        username = user.username
        with pytest.raises(ValueError):
            create_user("commune_officer", unit("085"))  # a district does not fit the role
    login_as(username)
    page = client.get("/teams").get_data(as_text=True)
    assert "Thị trấn Bắc Hà" in page
