"""Notice and consent (issue 13): the privacy notice, consent recorded and withdrawn on the person's
page, the printable consent form, the consent question when registering, the members list's consent
filter, and what exports leave out: people who withdrew their consent never leave the registry in a
file (member CSV/XLSX, team export's leader columns, sign-in sheet, allowance sheet), while the
coverage report keeps counting them."""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.privacy.models import ConsentRecord
from cdt.privacy.notice import notice_version
from cdt.registry.models import Person
from tests.factories import create_user, current_members, gen_attendance, gen_session, gen_team, gen_village
from tests.factories import unit as by_code

pytestmark = pytest.mark.bare

BAN_PHO = "02866"  # the `commune` account's commune on the bare database (the map before 2025-07-01)
NOW = datetime(2025, 3, 14, 3, 0)  # Friday 14 March 2025, 10:00 in Hà Nội


@pytest.fixture
def team(app, frozen_clock):
    frozen_clock(NOW)
    with app.app_context():
        team = gen_team(gen_village(by_code(BAN_PHO)), members=3, name="Tổ CNS Thôn Đồng Ý")
        leader = current_members(team, "leader")[0].person
        session = gen_session(by_code(BAN_PHO), title="Tập huấn VNeID đồng ý")
        gen_attendance(session, [leader])
        return {"team": team.id, "leader": leader.id, "name": leader.full_name, "session": session.id}


def _exports(client, team_id: int) -> dict[str, str]:
    """The text of every file a person's name can leave the registry in."""
    book = load_workbook(io.BytesIO(client.get(f"/members/export.xlsx?team={team_id}").data))
    xlsx = " ".join(str(c.value) for row in book.active.iter_rows() for c in row if c.value is not None)
    teams_book = load_workbook(io.BytesIO(client.get("/teams/export.xlsx").data))
    teams_xlsx = " ".join(str(c.value) for row in teams_book.active.iter_rows() for c in row if c.value is not None)
    return {
        "members.csv": client.get(f"/members/export.csv?team={team_id}").get_data(as_text=True),
        "members.xlsx": xlsx,
        "teams.csv": client.get("/teams/export.csv").get_data(as_text=True),
        "teams.xlsx": teams_xlsx,
        "allowances": client.get(f"/reports/allowances?unit={BAN_PHO}&month=2025-02").get_data(as_text=True),
    }


def _sign_in_sheet(client, session_id: int) -> str:
    return client.get(f"/training/{session_id}/sign-in-sheet").get_data(as_text=True)


def _coverage_members(client) -> str:
    lines = client.get(f"/reports/coverage.csv?unit={BAN_PHO}").get_data(as_text=True).splitlines()
    header = lines[0].split(",")
    return [line.split(",")[header.index("members")] for line in lines[1:]]


def _listed(client, state: str, name: str) -> bool:
    return name in client.get(f"/members?consent={state}").get_data(as_text=True)


def test_pending_then_given_then_withdrawn_changes_what_exports_include(app, team, login_as):
    client = login_as("commune")
    name, person_id = team["name"], team["leader"]
    coverage_before = _coverage_members(client)
    assert coverage_before and coverage_before != ["0"]

    # Pending (registered without an answer): listed as pending, still exported.
    assert _listed(client, "pending", name) and not _listed(client, "given", name)
    page = client.get(f"/members/{person_id}").get_data(as_text=True)
    assert 'id="consent-status"' in page and "Chờ đồng ý" in page
    for what, text in _exports(client, team["team"]).items():
        assert name in text, what
    assert name in _sign_in_sheet(client, team["session"])

    # Given on a signed paper form.
    response = client.post(f"/members/{person_id}/consent", data={"consent-method": "paper",
                                                                    "consent-given_on": "2025-03-13"})
    assert response.status_code == 302
    with app.app_context():
        record = db.session.scalar(select(ConsentRecord).where(ConsentRecord.person_id == person_id))
        assert (record.method, record.given_on, record.withdrawn_on) == ("paper", date(2025, 3, 13), None)
        assert record.notice_version == notice_version()
        assert record.recorded_by.username == "commune"
    assert _listed(client, "given", name) and not _listed(client, "pending", name)
    for what, text in _exports(client, team["team"]).items():
        assert name in text, what

    # Withdrawn: left out of every file, still counted.
    response = client.post(f"/members/{person_id}/consent/withdraw", data={"withdraw-withdrawn_on": "2025-03-14"})
    assert response.status_code == 302
    assert _listed(client, "withdrawn", name) and not _listed(client, "given", name)
    exports = _exports(client, team["team"])
    for what, text in exports.items():
        assert name not in text, what
    assert "Tổ CNS Thôn Đồng Ý" in exports["teams.csv"]  # the team stays, without its leader's name
    assert name not in _sign_in_sheet(client, team["session"])
    assert _coverage_members(client) == coverage_before
    with app.app_context():
        # The other two members are still exported: the condition is about one person only.
        others = db.session.scalars(select(Person.full_name).where(Person.id != person_id)).all()
    for other in others:
        assert other in exports["members.csv"]
    # The person's own page still shows them, with the withdrawal.
    page = client.get(f"/members/{person_id}").get_data(as_text=True)
    assert name in page and "Đã rút lại đồng ý" in page

    # Consent given again later: a new record, the history keeps both, exported again.
    assert client.post(f"/members/{person_id}/consent", data={"consent-method": "digital"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsentRecord)
                                 .where(ConsentRecord.person_id == person_id)) == 2
    assert name in _exports(client, team["team"])["members.csv"]
    history = client.get(f"/members/{person_id}/consent").get_data(as_text=True).split('id="consent-history"')[1]
    assert history.count("Rút lại ngày") == 1 and history.count("Đồng ý ngày") == 2


def test_bad_consent_input_is_refused_next_to_the_field(app, team, login_as):
    client = login_as("commune")
    person_id = team["leader"]
    response = client.post(f"/members/{person_id}/consent", data={"consent-given_on": "2025-03-13"})
    assert response.status_code == 422
    assert "Chọn một trong các lựa chọn." in response.get_data(as_text=True)
    response = client.post(f"/members/{person_id}/consent", data={"consent-method": "paper",
                                                                    "consent-given_on": "2025-03-20"})
    assert response.status_code == 422 and "Ngày không được sau ngày hôm nay." in response.get_data(as_text=True)
    # Nothing to withdraw while pending.
    response = client.post(f"/members/{person_id}/consent/withdraw", data={"withdraw-withdrawn_on": "2025-03-14"})
    assert response.status_code == 422
    client.post(f"/members/{person_id}/consent", data={"consent-method": "paper", "consent-given_on": "2025-03-13"})
    # A withdrawal before the consent was given.
    response = client.post(f"/members/{person_id}/consent/withdraw", data={"withdraw-withdrawn_on": "2025-03-10"})
    assert response.status_code == 422 and "13/03/2025" in response.get_data(as_text=True)
    # Twice the same consent.
    assert client.post(f"/members/{person_id}/consent", data={"consent-method": "paper"}).status_code == 422
    with app.app_context():
        rows = db.session.execute(select(ConsentRecord.withdrawn_on).where(ConsentRecord.person_id == person_id)).all()
    assert rows == [(None,)]


def _neighbour_officer() -> str:
    """A commune officer of another commune of the same old district (Bắc Hà)."""
    own = by_code(BAN_PHO)
    neighbour = db.session.scalar(select(AdminUnit).where(
        AdminUnit.level == "commune", AdminUnit.district_id == own.district_id, AdminUnit.id != own.id))
    return create_user("commune_officer", neighbour).username


def test_another_communes_officer_gets_404_and_youth_403(app, team, login_as, client):
    person_id = team["leader"]
    with app.app_context():
        username = _neighbour_officer()
    other = login_as(username)
    for url in (f"/members/{person_id}/consent", f"/members/{person_id}/consent-form"):
        assert other.get(url).status_code == 404
    assert other.post(f"/members/{person_id}/consent", data={"consent-method": "paper"}).status_code == 404
    client.post("/logout")
    youth = login_as("youth")
    assert youth.post(f"/members/{person_id}/consent", data={"consent-method": "paper"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 0
    # Province staff ("and above") may record it.
    client.post("/logout")
    province = login_as("province")
    assert province.post(f"/members/{person_id}/consent", data={"consent-method": "in_person"}).status_code == 302


def test_printable_consent_form_has_the_name_and_the_notice_version(app, team, login_as):
    client = login_as("commune")
    page = client.get(f"/members/{team['leader']}/consent-form").get_data(as_text=True)
    assert team["name"] in page and notice_version() in page
    assert "privacy.css" in page and "http://" not in page.replace("http://localhost", "")
    with client.get("/static/privacy.css") as response:
        css = response.get_data(as_text=True)
    assert "@media print" in css and "url(" not in css  # no external asset


def test_notice_is_public_versioned_and_in_both_languages(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert "Thông báo về dữ liệu cá nhân" in page and notice_version().split(" ")[0] in page
    client.post("/language", data={"language": "en", "next": "/privacy"})
    page = client.get("/privacy").get_data(as_text=True)
    assert "Privacy notice" in page and "Your rights" in page and "Law 91/2025/QH15" in page


def _new_member(**extra) -> dict:
    return {"full_name": "Sùng Seo Đồng Ý", "gender": "male", "birth_date": "1995-05-05", "ethnicity": "hmong",
            "phone": "", "position": "", "role": "member", "joined_on": "2025-03-14", **extra}


def test_registering_records_consent_or_leaves_it_pending(app, team, login_as):
    client = login_as("commune")
    form = client.get(f"/members/new?team={team['team']}").get_data(as_text=True)
    assert 'name="consent"' in form and "checked" not in form.split('id="consent-question"')[1].split("</fieldset>")[0]

    response = client.post("/members/new", data=_new_member(team_id=str(team["team"]), consent="paper"))
    assert response.status_code == 302
    response = client.post("/members/new", data=_new_member(full_name="Sùng Seo Chưa Hỏi", team_id=str(team["team"])))
    assert response.status_code == 302
    response = client.post("/members/new", data=_new_member(full_name="Sùng Seo Chờ", team_id=str(team["team"]),
                                                            consent="pending"))
    assert response.status_code == 302
    response = client.post("/members/new", data=_new_member(full_name="Sùng Seo Sai", team_id=str(team["team"]),
                                                            consent="yes-please"))
    assert response.status_code == 422 and "Chọn một trong các lựa chọn." in response.get_data(as_text=True)
    with app.app_context():
        methods = dict(db.session.execute(
            select(Person.full_name, ConsentRecord.method).outerjoin(ConsentRecord, ConsentRecord.person_id == Person.id)
            .where(Person.full_name.like("Sùng Seo%"))).all())
    assert methods == {"Sùng Seo Đồng Ý": "paper", "Sùng Seo Chưa Hỏi": None, "Sùng Seo Chờ": None}
    assert "Sùng Seo Chưa Hỏi" in client.get("/members?consent=pending").get_data(as_text=True)
