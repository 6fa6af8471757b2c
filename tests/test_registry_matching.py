"""Who is who (cdt.registry.matching): a citizen ID is an identity, a phone is only a hint; the
form, the import's preview and its confirmation apply the same rules."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from cdt.auth.models import User
from cdt.core.text import fold
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.registry import matching
from cdt.registry.models import Membership, Person
from tests.test_registry_helpers import COMMUNE_CODE, count, person_form, sample, teams_of
from tests.test_registry_transfer import GOOD, csv_bytes, people, preview, upload


def _register(app, name: str, birth: date, phone: str | None, citizen_id: str | None = None) -> int:
    """A person registered in the demo commune officer's commune (today's map)."""
    with app.app_context():
        commune = db.session.scalar(select(AdminUnit).join(User, User.area_id == AdminUnit.id)
                                    .where(User.username == "commune"))
        person = Person(full_name=name, search_name=fold(name), gender="male", ethnicity="hmong",
                        birth_date=birth, phone=phone, citizen_id=citizen_id)
        person.place_in(commune)
        db.session.add(person)
        db.session.commit()
        return person.id


@pytest.mark.bare
def test_rules(app):
    with app.app_context():
        p = Person(full_name="Hầu Văn Dở", search_name="hau van do", birth_date=date(1980, 3, 1),
                   phone="+84912000111", citizen_id="010080000111")
        facts = matching.Facts
        assert matching.judge(facts(citizen_id="010080000111", full_name="Ai Khác"), p).certain
        assert matching.judge(facts(citizen_id="010080000222", phone="+84912000111", full_name="Hầu Văn Dở",
                                    birth_date=date(1981, 1, 1)), p) is None  # two IDs, two people
        hint = matching.judge(facts(phone="+84912000111", full_name="Hầu Thị Dợ", birth_date=date(1985, 6, 2)), p)
        assert hint.kind == "phone" and not hint.certain
        assert not matching.judge(facts(phone="+84912000111", full_name="Hau Van Do",
                                        birth_date=date(1999, 1, 1)), p).certain  # births disagree
        assert matching.judge(facts(phone="+84912000111", full_name="HẦU VĂN DỞ"), p).certain
        assert matching.judge(facts(full_name="Hầu Văn Dở", birth_date=date(1980, 3, 1)), p).certain
        assert matching.judge(facts(full_name="Hầu Văn Dở"), p) is None  # a name alone


@pytest.mark.bare
def test_a_family_sharing_a_phone_registers_two_people(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        team_id = teams_of(COMMUNE_CODE)[0].id
        before = count(Person)
    husband = person_form(full_name="Hầu Văn Dở", birth_date="1980-03-01", phone="0912 000 111",
                          team_id=str(team_id))
    assert client.post("/members/new", data=husband).status_code == 302
    wife = person_form(full_name="Hầu Thị Dợ", birth_date="1985-06-02", phone="0912 000 111", gender="female",
                       team_id=str(team_id))
    response = client.post("/members/new", data=wife)
    html = response.get_data(as_text=True)
    assert response.status_code == 409  # asked, not refused
    assert 'id="different-person"' in html and "Hầu Văn Dở" in html
    with app.app_context():
        assert count(Person) == before + 1
    # The form re-posts what was typed, with the answer "different person, same phone".
    form = re.search(r'<form[^>]*id="different-person".*?</form>', html, re.S).group(0)
    data = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    assert data["different_person"] == "1" and data["full_name"] == "Hầu Thị Dợ"
    response = client.post(f"/members/new?team={team_id}", data=data)
    assert response.status_code == 302
    with app.app_context():
        assert count(Person, Person.phone == "+84912000111") == 2
        assert count(Membership, Membership.team_id == team_id, Membership.left_on.is_(None),
                     Membership.person_id.in_(select(Person.id).where(Person.phone == "+84912000111"))) == 2


@pytest.mark.bare
def test_the_same_name_and_phone_is_still_the_same_person(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    first = person_form(full_name="Hầu Văn Dở", birth_date="1980-03-01", phone="0912 000 111")
    assert client.post("/members/new", data=first).status_code == 302
    again = {**first, "different_person": "1", "birth_date": "1980-03-01", "full_name": "HAU VAN DO"}
    response = client.post("/members/new", data=again)  # name and birth date: no "different" answer possible
    assert response.status_code == 409 and 'id="different-person"' not in response.get_data(as_text=True)
    with app.app_context():
        assert count(Person, Person.phone == "+84912000111") == 1


def test_import_row_sharing_a_phone_with_another_name_is_never_matched_silently(app, login_as):
    """Thào Văn Thử (1990) carries the phone of Thào Quang Khiêm (1998): the row waits for a decision."""
    khanh = _register(app, "Thào Quang Khiêm", date(1997, 10, 9), "+84912777099")
    row = ["Thào Văn Thử", "Nam", "01/01/1990", "Kinh", "0912 777 099", "", "", "", "02866-001", ""]
    client = login_as("commune")
    upload(client, csv_bytes(GOOD + [row]), "a.csv")
    html, counts, token = preview(client)
    assert counts["decide"] == 1 and counts["join"] == 0 and counts["error"] == 0
    assert 'name="decide-5"' in html and "Thào Quang Khiêm" in html
    before = people(app)
    # Confirming without answering writes nothing.
    response = client.post("/members/import/confirm", data={"token": token})
    assert response.status_code == 422 and people(app) == before
    with app.app_context():
        assert count(Membership, Membership.person_id == khanh) == 0
    # "Different person, same phone": a new record that shares the phone.
    response = client.post("/members/import/confirm", data={"token": token, "decide-5": "different"})
    assert response.status_code == 302
    assert people(app) == before + 4
    with app.app_context():
        assert count(Person, Person.phone == "+84912777099") == 2
        assert count(Membership, Membership.person_id == khanh) == 0


def test_import_row_sharing_a_phone_joins_when_the_user_says_same_person(app, login_as):
    khanh = _register(app, "Thào Quang Khiêm", date(1997, 10, 9), "+84912777099")
    row = ["Thào Khiêm", "Nam", "09/10/1997", "Kinh", "0912 777 099", "", "", "", "02866-001", ""]
    client = login_as("commune")
    upload(client, csv_bytes([row]), "a.csv")
    _html, counts, token = preview(client)
    assert counts.get("decide") == 1, (counts, re.findall(r"<td>[^<]*</td>", _html)[:20])
    before = people(app)
    assert client.post("/members/import/confirm", data={"token": token, "decide-2": "same"}).status_code == 302
    assert people(app) == before
    with app.app_context():
        assert count(Membership, Membership.person_id == khanh, Membership.left_on.is_(None)) == 1


def test_cli_refuses_a_row_that_needs_a_decision(app, runner, tmp_path):
    _register(app, "Thào Quang Khiêm", date(1997, 10, 9), "+84912777099")
    path = tmp_path / "list.csv"
    path.write_bytes(csv_bytes([["Thào Văn Thử", "Nam", "01/01/1990", "Kinh", "0912 777 099", "", "", "",
                                 "02866-001", ""]]))
    before = people(app)
    result = runner.invoke(args=["cdt", "import", "members", str(path), "--commune", "02866", "--lang", "en"])
    assert result.exit_code == 1 and "row 2" in result.output
    assert people(app) == before


def test_two_file_rows_matching_one_registered_person_are_an_error_in_preview_and_confirm(app, login_as):
    """Preview and confirm run the same checks: never "no errors" then a false 409."""
    _register(app, "Lý Văn Một", date(1990, 2, 2), "+84912777088", citizen_id="010090007777")
    by_cid = ["Lý Văn Một", "Nam", "", "Kinh", "", "010090007777", "", "", "02866-001", ""]
    by_name = ["LY VAN MOT", "Nam", "02/02/1990", "Kinh", "", "", "", "", "02866-002", ""]
    client = login_as("commune")
    upload(client, csv_bytes([by_cid, by_name]), "a.csv")
    html, counts, token = preview(client)
    assert counts["error"] == 1 and token is None
    assert re.search(r'<td class="num">3</td>.*?(same registered person|cùng một người đã đăng ký)', html, re.S)
    pending = re.search(r'"registry_import"', "") or None  # the token is not offered: force it from the session
    with client.session_transaction() as session:
        pending = session["registry_import"]["token"]
    before = people(app), count_memberships(app)
    response = client.post("/members/import/confirm", data={"token": pending})
    assert response.status_code == 422  # the same error, not a conflict
    assert (people(app), count_memberships(app)) == before


def count_memberships(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Membership))


def test_a_real_conflict_says_which_rows_changed_and_offers_no_confirm_box(app, login_as, monkeypatch):
    import cdt.registry.transfer.views as views
    from cdt.registry.transfer.importing import ImportConflict

    client = login_as("commune")
    upload(client, csv_bytes(GOOD), "a.csv")
    _html, counts, token = preview(client)
    assert counts["new"] == 3

    def someone_registers_row_2_meanwhile(*args, **kwargs):
        _register(app, "Lò Thị Nhập", date(1998, 5, 12), "+84912777001")
        raise ImportConflict("conflict")

    monkeypatch.setattr(views, "commit", someone_registers_row_2_meanwhile)
    before = people(app)
    response = client.post("/members/import/confirm", data={"token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert re.search(r"(different outcome|kết quả khác)[^<]*: 2\b", html)
    assert 'id="import-confirm"' not in html and 'id="check-again"' in html
    assert people(app) == before + 1  # only the other officer's record


def test_polish_future_birth_date_menu_section_and_decision_on_record(app, login_as):
    from datetime import timedelta

    client = login_as("commune")
    future = (date.today() + timedelta(days=40)).isoformat()
    html = client.post("/members/new", data=person_form(birth_date=future)).get_data(as_text=True)
    assert "Ngày sinh ở tương lai" in html and "tuổi là -" not in html
    # The import preview belongs to "Thành viên" in the menu, not to "Tổ CNS".
    upload(client, csv_bytes(GOOD), "a.csv")
    page = client.get("/members/import/preview").get_data(as_text=True)
    assert re.search(r'class="nav-link active"[^>]*href="/members"', page)
    with app.app_context():
        team = next(t for t in teams_of(COMMUNE_CODE) if t.decision_number)
        team_id, number = team.id, team.decision_number
    page = client.get(f"/teams/{team_id}").get_data(as_text=True)
    if "Chưa ghi nhận quyết định nào" in page:
        pytest.fail("a team with a decision number says no decision is recorded")
    assert number in page


@pytest.mark.bare
def test_duplicate_page_never_offers_the_team_she_is_already_in_and_errors_show_at_the_top(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        existing = next(p for p in db.session.scalars(select(Person).order_by(Person.id))
                        if p.citizen_id and p.memberships and p.commune_id == p.memberships[0].team.commune_id)
        team_id, person_id, cid = existing.memberships[0].team_id, existing.id, existing.citizen_id
    response = client.post("/members/new", data=person_form(citizen_id=cid, phone="", team_id=str(team_id)))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert f'action="/members/{person_id}/teams"' not in html and "member-already" in html
    # Forced anyway: the error is at the top of the page, before the person's details.
    response = client.post(f"/members/{person_id}/teams", data={"add-team_id": str(team_id), "add-role": "member"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="action-errors"' in html and html.index('id="action-errors"') < html.index("<h2")
