"""Teams: the list, the team page, creating and editing, dissolving and re-establishing, the leader."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cdt.audit.models import AuditEvent
from cdt.core.text import fold
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.registry.models import Membership, Person, Team, TeamDecision
from tests.test_registry_helpers import COMMUNE_CODE, OTHER_COMMUNE_CODE, count, current, sample, teams_of, unit


def _new_village(code: str, number: int = 900) -> int:
    """A village of `code` without a team (every demo village has one)."""
    commune = unit(code)
    village = AdminUnit(code=f"{code}-{number}", name=f"Thôn Mới {number}", level="village", kind="village",
                        parent_id=commune.id, province_id=commune.province_id, district_id=commune.district_id,
                        commune_id=commune.id)
    db.session.add(village)
    db.session.commit()
    return village.id


def _team_form(team: Team, **overrides) -> dict:
    data = {
        "village_id": str(team.village_id), "name": team.name,
        "established_on": team.established_on.isoformat() if team.established_on else "",
        "decision_number": team.decision_number or "", "status": team.status,
        "dissolved_on": team.dissolved_on.isoformat() if team.dissolved_on else "", "notes": team.notes or "",
        "version_id": str(team.version_id),
    }
    data.update(overrides)
    return data


@pytest.mark.bare
def test_team_list_shows_village_leader_members_and_last_training(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        teams = teams_of(COMMUNE_CODE)
        team = teams[0]
        village, leader = team.village.name, current(team, "leader")[0].person.full_name
        members = len(current(team))
        other = teams_of(OTHER_COMMUNE_CODE)[0].village.name
    html = client.get("/teams").get_data(as_text=True)
    assert "table-responsive" in html
    assert village in html and leader in html
    assert f'<td class="num">{members}</td>' in html
    assert other not in html  # outside the officer's commune
    assert f"Số tổ tìm thấy: {len(teams)}" in html
    # Search by village name, and the status filter.
    html = client.get("/teams", query_string={"q": village.split(" ", 1)[1]}).get_data(as_text=True)
    assert village in html
    assert "Số tổ tìm thấy: 0" in client.get("/teams?status=dissolved").get_data(as_text=True)
    # Without diacritics too ("ban cheng tien" finds "Bản Chéng Tiến").
    html = client.get("/teams", query_string={"q": fold(village)}).get_data(as_text=True)
    assert village in html and "Số tổ tìm thấy: 0" not in html


@pytest.mark.bare
def test_team_list_filters_for_district_staff(app, login_as):
    with app.app_context():
        sample()
    client = login_as("district")
    with app.app_context():
        commune_id = unit(COMMUNE_CODE).id
        expected = len(teams_of(COMMUNE_CODE))
    html = client.get("/teams", query_string={"commune": commune_id}).get_data(as_text=True)
    assert f"Số tổ tìm thấy: {expected}" in html
    # A commune of another district cannot widen the area: it is ignored (the district's teams only).
    with app.app_context():
        foreign = db.session.scalar(select(AdminUnit).where(AdminUnit.level == "commune",
                                                            AdminUnit.district_id != unit("085").id))
        foreign_id, foreign_team = foreign.id, teams_of(foreign.code)[0].id
        district_teams = db.session.scalar(select(func.count()).select_from(Team).where(
            Team.district_id == unit("085").id))
    html = client.get("/teams", query_string={"commune": foreign_id, "per_page": 100}).get_data(as_text=True)
    assert f'href="/teams/{foreign_team}"' not in html
    assert f"Số tổ tìm thấy: {district_teams}" in html


@pytest.mark.bare
def test_team_page_shows_members_history_training_and_share_trained(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        team = next(t for t in teams_of(COMMUNE_CODE)
                    if any(m.person.first_trained_on for m in current(t)))
        team_id = team.id
        people = [m.person for m in current(team)]
        trained = sum(1 for p in people if p.first_trained_on)
    html = client.get(f"/teams/{team_id}").get_data(as_text=True)
    for person in people:
        assert person.full_name in html
    assert "Tổ trưởng" in html and "Tổ phó" in html
    assert "Các buổi tập huấn đã tham dự" in html and "/training/" in html
    share = f"{100 * trained / len(people):.1f}".replace(".", ",") + "%"
    assert share in html


@pytest.mark.bare
def test_create_team_in_own_commune(app, login_as):
    client = login_as("commune")
    with app.app_context():
        village_id = _new_village(COMMUNE_CODE)
    page = client.get("/teams/new").get_data(as_text=True)
    assert f'value="{village_id}"' in page
    response = client.post("/teams/new", data={"village_id": village_id, "name": "", "established_on": "2024-03-01",
                                               "decision_number": "12/QĐ-UBND", "status": "active"})
    assert response.status_code == 302
    with app.app_context():
        team = db.session.scalar(select(Team).where(Team.village_id == village_id))
        assert team.name == "Tổ CNS cộng đồng Thôn Mới 900"
        assert team.search_name == "to cns cong dong thon moi 900 thon moi 900"
        assert team.commune_id == unit(COMMUNE_CODE).id and team.district_id == unit("085").id
        assert [d.kind for d in db.session.scalars(select(TeamDecision).where(TeamDecision.team_id == team.id))] == [
            "established"]
        assert count(AuditEvent, AuditEvent.action == "team.create", AuditEvent.object_id == team.id) == 1


@pytest.mark.bare
def test_create_team_refuses_village_outside_area_or_already_covered(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        foreign_village = _new_village(OTHER_COMMUNE_CODE)
        covered = teams_of(COMMUNE_CODE)[0]
        covered_village, covered_name = covered.village_id, covered.name
        before = count(Team)
    response = client.post("/teams/new", data={"village_id": foreign_village, "status": "active"})
    assert response.status_code == 422
    assert 'id="village_id-error"' in response.get_data(as_text=True)
    assert "Lựa chọn không hợp lệ" in response.get_data(as_text=True)
    response = client.post("/teams/new", data={"village_id": covered_village, "status": "active"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="village_id-error"' in html and "đã có tổ đang hoạt động" in html and covered_name in html
    with app.app_context():
        assert count(Team) == before


@pytest.mark.bare
def test_admin_chooses_the_commune_first(app, login_as):
    client = login_as("admin")
    assert 'name="commune"' in client.get("/teams/new").get_data(as_text=True)
    html = client.get(f"/teams/new?commune={COMMUNE_CODE}").get_data(as_text=True)
    assert 'name="village_id"' in html and "Xã Bản Phố" in html


@pytest.mark.bare
def test_dissolve_then_reestablish_keeps_history(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        team = teams_of(COMMUNE_CODE)[0]
        team_id = team.id
        members_before = len(current(team))
        old_decision = team.decision_number
        form = _team_form(team, status="dissolved", dissolved_on="")
    # Dissolving needs the date: an error next to that field, nothing saved.
    response = client.post(f"/teams/{team_id}/edit", data=form)
    assert response.status_code == 422 and 'id="dissolved_on-error"' in response.get_data(as_text=True)
    dissolved_on = (date.today() - timedelta(days=30)).isoformat()
    form["dissolved_on"] = dissolved_on
    assert client.post(f"/teams/{team_id}/edit", data=form).status_code == 302
    with app.app_context():
        team = db.session.get(Team, team_id)
        assert team.status == "dissolved" and team.dissolved_on.isoformat() == dissolved_on
        assert current(team) == []
        form = _team_form(team, status="active", established_on=date.today().isoformat())
    # Re-establishing needs a new decision.
    response = client.post(f"/teams/{team_id}/edit", data=form)
    assert response.status_code == 422 and 'id="decision_number-error"' in response.get_data(as_text=True)
    form["decision_number"] = "77/QĐ-UBND"
    assert client.post(f"/teams/{team_id}/edit", data=form).status_code == 302
    with app.app_context():
        team = db.session.get(Team, team_id)
        assert team.status == "active" and team.dissolved_on is None and team.decision_number == "77/QĐ-UBND"
        decisions = db.session.execute(select(TeamDecision.kind, TeamDecision.decision_number).where(
            TeamDecision.team_id == team_id).order_by(TeamDecision.id)).all()
        assert [d.kind for d in decisions] == ["established", "dissolved", "re_established"]
        assert decisions[0].decision_number == old_decision
        assert decisions[-1].decision_number == "77/QĐ-UBND"
        # Past memberships are still there, ended on the dissolution day.
        ended = db.session.scalars(select(Membership).where(Membership.team_id == team_id)).all()
        assert len(ended) >= members_before and all(m.left_on is not None for m in ended)
    html = client.get(f"/teams/{team_id}").get_data(as_text=True)
    assert "Thành lập lại" in html and old_decision in html and "77/QĐ-UBND" in html


@pytest.mark.bare
def test_team_edit_version_conflict(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        team = teams_of(COMMUNE_CODE)[0]
        team_id, stale = team.id, _team_form(team)
        fresh = _team_form(team, notes="Sửa lần một")
    assert client.post(f"/teams/{team_id}/edit", data=fresh).status_code == 302
    stale["notes"] = "Ghi đè"
    response = client.post(f"/teams/{team_id}/edit", data=stale)
    assert response.status_code == 409
    assert "Người khác đã sửa bản ghi này" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Team, team_id).notes == "Sửa lần một"


@pytest.mark.bare
def test_change_leader_in_one_action(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        team = teams_of(COMMUNE_CODE)[0]
        team_id = team.id
        old_leader = current(team, "leader")[0]
        deputy = current(team, "deputy")[0]
        old_id, deputy_id = old_leader.id, deputy.id
    response = client.post(f"/teams/{team_id}/leader", data={"leader-membership_id": str(deputy_id)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Membership, deputy_id).role == "leader"
        assert db.session.get(Membership, old_id).role == "member"
        team = db.session.get(Team, team_id)
        assert len(current(team, "leader")) == 1 and current(team, "deputy") == []
        assert count(AuditEvent, AuditEvent.action == "membership.update",
                     AuditEvent.object_id.in_([old_id, deputy_id])) == 2
    # A member of another team cannot be made leader here.
    with app.app_context():
        foreign = current(teams_of(COMMUNE_CODE)[1], "member")[0].id
    client.post(f"/teams/{team_id}/deputy", data={"deputy-membership_id": str(foreign)})
    with app.app_context():
        assert db.session.get(Membership, foreign).role == "member"
        assert current(db.session.get(Team, team_id), "deputy") == []


@pytest.mark.bare
def test_team_permissions_and_foreign_ids(app, login_as, client):
    with app.app_context():
        sample()
        own = teams_of(COMMUNE_CODE)[0].id
        foreign = teams_of(OTHER_COMMUNE_CODE)[0].id
        foreign_leader = current(db.session.get(Team, foreign), "member")[0].id
    login_as("commune")
    assert client.get(f"/teams/{foreign}").status_code == 404
    assert client.get(f"/teams/{foreign}/edit").status_code == 404
    assert client.post(f"/teams/{foreign}/leader", data={"leader-membership_id": str(foreign_leader)}).status_code == 404
    assert client.get("/teams/999999").status_code == 404
    client.post("/logout")
    login_as("youth")
    assert client.get(f"/teams/{own}").status_code == 200
    assert client.get(f"/teams/{own}/edit").status_code == 403
    assert client.get("/teams/new").status_code == 403
    assert client.post(f"/teams/{own}/leader", data={}).status_code == 403
    with app.app_context():
        assert db.session.get(Membership, foreign_leader).role == "member"


@pytest.mark.bare
def test_person_count_unchanged_by_team_pages(app, login_as):
    """GET pages change nothing but the audit trail of person views."""
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        before = (count(Person), count(Membership), count(Team))
        team_id = teams_of(COMMUNE_CODE)[0].id
    for url in ("/teams", f"/teams/{team_id}", f"/teams/{team_id}/edit", "/teams/new", "/members", "/members/new"):
        assert client.get(url).status_code == 200, url
    with app.app_context():
        assert (count(Person), count(Membership), count(Team)) == before


@pytest.mark.bare
def test_race_for_a_village_ends_with_one_active_team(app, login_as, monkeypatch):
    """Another officer created the village's team after our check: the unique index refuses ours,
    and the error is shown next to the village."""
    with app.app_context():
        sample()
    import cdt.registry.services as services

    client = login_as("commune")
    with app.app_context():
        covered = teams_of(COMMUNE_CODE)[0]
        village_id = covered.village_id
        before = count(Team)
    monkeypatch.setattr(services, "_active_team_in", lambda *args, **kwargs: None)
    response = client.post("/teams/new", data={"village_id": village_id, "status": "active"})
    assert response.status_code == 422
    assert 'id="village_id-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert count(Team) == before
        assert count(Team, Team.village_id == village_id, Team.status == "active") == 1


@pytest.mark.bare
def test_race_for_the_leader_role_ends_with_one_leader(app, login_as, monkeypatch):
    with app.app_context():
        sample()
    import cdt.registry.services as services

    client = login_as("commune")
    with app.app_context():
        teams = teams_of(COMMUNE_CODE)
        person_id = current(teams[0], "member")[0].person_id
        target = teams[1].id
    monkeypatch.setattr(services, "_check_role_free", lambda *args, **kwargs: None)
    response = client.post(f"/members/{person_id}/teams",
                           data={"add-team_id": str(target), "add-role": "leader"})
    assert response.status_code == 422
    assert 'id="add-role-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert len(current(db.session.get(Team, target), "leader")) == 1
        assert count(Membership, Membership.person_id == person_id, Membership.team_id == target) == 0


@pytest.mark.bare
def test_admin_registers_a_team_and_a_member_from_the_team_page(app, login_as):
    client = login_as("admin")
    with app.app_context():
        village_id = _new_village(OTHER_COMMUNE_CODE, 901)
    response = client.post(f"/teams/new?commune={OTHER_COMMUNE_CODE}",
                           data={"village_id": village_id, "status": "active", "established_on": "2024-01-02"})
    assert response.status_code == 302
    with app.app_context():
        team = db.session.scalar(select(Team).where(Team.village_id == village_id))
        team_id = team.id
        assert team.commune_id == unit(OTHER_COMMUNE_CODE).id
    assert f'/members/new?team={team_id}' in client.get(f"/teams/{team_id}").get_data(as_text=True)
    response = client.post(f"/members/new?team={team_id}", data={
        "full_name": "Vàng Seo Quản Trị", "gender": "male", "birth_date": "1988-08-08", "ethnicity": "hmong",
        "phone": "", "position": "", "team_id": str(team_id), "role": "leader",
        "joined_on": date.today().isoformat()})
    assert response.status_code == 302
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.full_name == "Vàng Seo Quản Trị"))
        assert person.commune_id == unit(OTHER_COMMUNE_CODE).id
        assert [(m.team_id, m.role) for m in person.memberships] == [(team_id, "leader")]


@pytest.mark.bare
def test_the_leader_cannot_be_removed_by_one_tap(app, login_as):
    """The deputy card starts from "— choose —"; choosing the leader as deputy is refused until the
    user confirms that the team is left without a leader; the message says what happened to whom."""
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        team = teams_of(COMMUNE_CODE)[0]
        team_id = team.id
        leader, deputy = current(team, "leader")[0], current(team, "deputy")[0]
        leader_id, deputy_id = leader.id, deputy.id
        leader_name, deputy_name = leader.person.full_name, deputy.person.full_name
    html = client.get(f"/teams/{team_id}").get_data(as_text=True)
    card = html.split('id="role-deputy"', 1)[1].split("</form>", 1)[0]
    # Nothing pre-set, least of all the leader: "— chọn —" is the choice shown.
    assert re.findall(r'<option selected value="([^"]*)">([^<]*)<', card) == [("", "— chọn —")]
    assert "Tổ phó mới" in card and "(Tổ trưởng)" in card
    # One tap with the leader chosen: refused, back on the page with a confirmation to tick.
    response = client.post(f"/teams/{team_id}/deputy", data={"deputy-membership_id": str(leader_id)})
    assert response.status_code == 302 and "confirm=deputy" in response.headers["Location"]
    with app.app_context():
        assert db.session.get(Membership, leader_id).role == "leader"
        assert db.session.get(Membership, deputy_id).role == "deputy"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="deputy-leave_without_leader"' in page
    assert re.search(rf'<option selected value="{leader_id}">', page)  # the user's own choice, shown back
    # Confirmed explicitly: done, and the message names everyone affected.
    response = client.post(f"/teams/{team_id}/deputy", data={"deputy-membership_id": str(leader_id),
                                                             "deputy-leave_without_leader": "y"},
                           follow_redirects=True)
    text = response.get_data(as_text=True)
    assert leader_name in text and deputy_name in text and "không có tổ trưởng" in text.lower()
    with app.app_context():
        assert db.session.get(Membership, leader_id).role == "deputy"
        assert db.session.get(Membership, deputy_id).role == "member"
