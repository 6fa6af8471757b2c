"""Members: registering people, the person rules, duplicates (also concurrent), conflicts, memberships."""
from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cdt.audit.models import AuditEvent
from cdt.extensions import db
from cdt.registry.identifiers import display_phone
from cdt.registry.models import Membership, Person
from tests.conftest import login
from tests.test_registry_helpers import (
    COMMUNE_CODE,
    OTHER_COMMUNE_CODE,
    count,
    current,
    details_of,
    leaked,
    people_of,
    person_form,
    person_outside_district,
    sample,
    teams_of,
    unit,
)


def _new(client, **overrides):
    return client.post("/members/new", data=person_form(**overrides))


@pytest.mark.bare
def test_register_with_phone_typed_with_spaces_then_find_without_diacritics(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        team = teams_of(COMMUNE_CODE)[0]
        team_id = team.id
    response = _new(client, team_id=str(team_id), phone="0912 345 678", full_name="Nguyễn Văn Thử")
    assert response.status_code == 302
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.full_name == "Nguyễn Văn Thử"))
        assert person.phone == "+84912345678"
        assert person.search_name == "nguyen van thu"
        assert person.commune_id == unit(COMMUNE_CODE).id  # placed in the officer's commune
        assert [m.team_id for m in person.memberships] == [team_id]
        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id.in_(
            [person.id, person.memberships[0].id]))))
        assert {"person.create", "membership.create"} <= actions
    page = client.get("/members?q=nguyen van thu")
    assert "Nguyễn Văn Thử" in page.get_data(as_text=True)
    assert "0912 345 678" in page.get_data(as_text=True)  # shown as people write it
    page = client.get("/members?q=Nguyễn Văn Thử")
    assert "Nguyễn Văn Thử" in page.get_data(as_text=True)
    for typed in ("+84912345678", "0912.345.678", "345 678"):
        page = client.get("/members", query_string={"q": typed})
        assert "Nguyễn Văn Thử" in page.get_data(as_text=True), typed
    page = client.get("/members?q=nguyen van thuy")
    assert "Nguyễn Văn Thử" not in page.get_data(as_text=True)


@pytest.mark.bare
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "abcdef", "Đây không phải là số điện thoại"),
        ("phone", "0100 000 000", "không phải là số di động hoặc cố định hợp lệ"),
        ("birth_date", (date.today() - timedelta(days=365 * 14)).isoformat(), "thành viên phải từ 15 đến 80 tuổi"),
        ("birth_date", "1930-01-01", "thành viên phải từ 15 đến 80 tuổi"),
        ("birth_date", "31/02/1990", None),
        ("citizen_id", "12345", "Số CCCD gồm đúng 12 chữ số"),
        ("full_name", "   ", None),
    ],
)
def test_person_rules_show_translated_error_next_to_field_and_save_nothing(app, login_as, field, value, message):
    client = login_as("commune")
    with app.app_context():
        before = count(Person)
    response = _new(client, **{field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html  # the message sits next to its field
    assert 'aria-invalid="true"' in html
    if message:
        assert message in html
    assert "This field is required" not in html and "Not a valid" not in html  # translated
    with app.app_context():
        assert count(Person) == before


@pytest.mark.bare
def test_landline_and_international_forms_are_accepted(app, login_as):
    client = login_as("commune")
    assert _new(client, phone="+84 214 3840 123", full_name="Lò Văn Cố Định").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Person.phone).where(Person.full_name == "Lò Văn Cố Định")) == "+842143840123"


@pytest.mark.bare
def test_citizen_id_is_unique(app, login_as):
    client = login_as("commune")
    assert _new(client, citizen_id="010 090 123 456", phone="").status_code == 302
    response = _new(client, citizen_id="010090123456", phone="", full_name="Trần Văn Khác", birth_date="1985-01-01")
    assert response.status_code == 409
    assert "Nguyễn Văn Thử" in response.get_data(as_text=True)
    with app.app_context():
        assert count(Person, Person.citizen_id == "010090123456") == 1


@pytest.mark.bare
@pytest.mark.parametrize("match", ["phone", "citizen_id", "name_birth"])
def test_duplicate_shows_existing_person_and_offers_to_add_them_instead(app, login_as, match):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        existing = next(p for p in people_of(COMMUNE_CODE) if p.phone and p.citizen_id)
        team = next(t for t in teams_of(COMMUNE_CODE) if t.id not in {m.team_id for m in existing.memberships})
        existing_id, team_id, team_name = existing.id, team.id, team.name
        values = {
            "phone": {"phone": existing.phone.replace("+84", "0"), "full_name": "Tên Khác Hẳn"},
            "citizen_id": {"citizen_id": existing.citizen_id, "phone": "", "full_name": "Tên Khác Hẳn"},
            "name_birth": {"full_name": existing.full_name.upper(), "birth_date": existing.birth_date.isoformat(),
                           "phone": ""},
        }[match]
        existing_name = existing.full_name
        before = count(Person)
    response = _new(client, team_id=str(team_id), **values)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert existing_name in html
    assert f'action="/members/{existing_id}/teams"' in html
    with app.app_context():
        assert count(Person) == before  # never a second record
    # Taking the offer adds the existing person to the team.
    response = client.post(f"/members/{existing_id}/teams", data={"add-team_id": str(team_id), "add-role": "member",
                                                                  "add-joined_on": date.today().isoformat()})
    assert response.status_code == 302
    with app.app_context():
        assert count(Membership, Membership.person_id == existing_id, Membership.team_id == team_id,
                     Membership.left_on.is_(None)) == 1
        assert count(Person) == before
    assert team_name in client.get(f"/members/{existing_id}").get_data(as_text=True)


@pytest.mark.bare
def test_duplicate_in_another_commune_names_nobody(app, login_as):
    """The neighbouring commune is outside the officer's area: the page says someone is registered
    elsewhere and whom to ask, and shows nothing of that person."""
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        other = next(p for p in people_of(OTHER_COMMUNE_CODE) if p.phone and p.birth_date)
        phone, details = other.phone, details_of(other)
        before = count(Person)
    response = _new(client, phone=phone, full_name="Tên Khác Hẳn")
    html = response.get_data(as_text=True)
    # A shared phone with another name is only a hint: the user decides, and learns nothing of the other.
    assert response.status_code == 409
    assert leaked(html, details, typed=("stored phone",)) == []
    assert "/teams" not in html.split("<main", 1)[-1]  # no offer to add anyone
    assert "có cùng số điện thoại" in html and 'id="different-person"' in html
    with app.app_context():
        assert count(Person) == before


@pytest.mark.parametrize("match", ["phone", "citizen_id", "name_birth"])
def test_duplicate_in_another_district_names_nobody_and_saves_nothing(app, login_as, match):
    """The outside security test: a person of another district, matched by phone, by citizen ID
    or by name and birth date, must not be revealed to the commune officer."""
    client = login_as("commune")
    with app.app_context():
        other = person_outside_district()
        details = details_of(other)
        values, typed = {
            "phone": ({"phone": display_phone(other.phone), "full_name": "Tên Khác Hẳn"}, ("phone",)),
            "citizen_id": ({"citizen_id": other.citizen_id, "phone": "", "full_name": "Tên Khác Hẳn"},
                           ("citizen ID",)),
            "name_birth": ({"full_name": other.full_name, "birth_date": other.birth_date.isoformat(), "phone": ""},
                           ("name", "birth date")),
        }[match]
        team_id = teams_of(COMMUNE_CODE)[0].id
        before = count(Person), count(Membership)
    for team in ("", str(team_id)):
        response = _new(client, team_id=team, **values)
        html = response.get_data(as_text=True)
        assert response.status_code == 409
        assert leaked(html, details, typed=typed) == [], match
        assert "/teams" not in html.split("<main", 1)[-1]
        if match == "phone":  # only a hint (another name): the user decides, learning nothing more
            assert "có cùng số điện thoại" in html and 'id="different-person"' in html
        else:
            assert "đã được đăng ký ở địa bàn khác" in html
            assert "cán bộ cấp tỉnh của Tỉnh Lào Cai" in html  # whom to ask
        with app.app_context():
            assert (count(Person), count(Membership)) == before


def test_admin_sees_who_matches_anywhere(app, login_as):
    """Whoever may see the other person still gets the helpful page (the administrator here)."""
    client = login_as("admin")
    with app.app_context():
        other = person_outside_district()
        team = teams_of(COMMUNE_CODE)[0]
        name, phone, team_id = other.full_name, display_phone(other.phone), team.id
    response = _new(client, team_id=str(team_id), phone=phone, full_name="Tên Khác Hẳn")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert name in html and "địa bàn khác" not in html
    assert "/teams" not in html.split("<main", 1)[-1]  # another commune: no offer to join this team


def test_edit_to_the_name_and_phone_of_someone_outside_the_area_names_nobody(app, login_as):
    """The same name and phone is the same person (matching's rule): refused, naming nobody."""
    client = login_as("commune")
    with app.app_context():
        other = person_outside_district()
        details = details_of(other)
        own = next(p for p in people_of(COMMUNE_CODE) if p.birth_date)
        own_id, own_phone = own.id, own.phone
        db.session.execute(Person.__table__.update().where(Person.id == other.id).values(birth_date=None))
        db.session.commit()
        details.pop("birth date")
        form = person_form(full_name=other.full_name, birth_date=own.birth_date.isoformat(),
                           phone=display_phone(other.phone), version_id=str(own.version_id))
    response = client.post(f"/members/{own_id}/edit", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="phone-error"' in html and "địa bàn khác" in html
    assert leaked(html, details, typed=("name", "phone", "stored phone")) == []
    with app.app_context():
        assert db.session.get(Person, own_id).phone == own_phone


@pytest.mark.bare
def test_concurrent_duplicate_submissions_end_with_one_record(app, monkeypatch):
    """Two officers submit the same new person at the same moment: both pass the duplicate check
    (forced by a barrier), the unique index lets one insert win, the other sees the duplicate page."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///:memory:"):
        pytest.skip("needs a file database")
    import cdt.registry.services as services

    barrier = threading.Barrier(2, timeout=10)
    original = services.find_matches
    calls = {"n": 0}

    def checked_then_wait(*args, **kwargs):
        found = original(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] <= 2:
            barrier.wait()  # both requests have checked before either inserts
        return found

    monkeypatch.setattr(services, "find_matches", checked_then_wait)
    clients = [app.test_client(), app.test_client()]
    for client in clients:
        login(client, "commune")
    with app.app_context():
        before = count(Person)
    results: list = [None, None]

    def submit(index: int) -> None:
        with app.app_context():
            response = clients[index].post("/members/new", data=person_form(full_name="Hoàng Văn Đồng Thời",
                                                                            phone="0915 000 111"))
            results[index] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    statuses = sorted(status for status, _ in results)
    assert statuses == [302, 409], results
    loser = next(html for status, html in results if status == 409)
    assert "Hoàng Văn Đồng Thời" in loser
    with app.app_context():
        assert count(Person) == before + 1
        assert count(Person, Person.phone == "+84915000111") == 1


@pytest.mark.bare
def test_edit_person_and_version_conflict(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        person = people_of(COMMUNE_CODE)[0]
        person_id, version = person.id, person.version_id
    page = client.get(f"/members/{person_id}/edit").get_data(as_text=True)
    assert f'name="version_id" type="hidden" value="{version}"' in page
    form = person_form(full_name="Người Đã Sửa", phone="", birth_date="1991-01-01", version_id=str(version))
    assert client.post(f"/members/{person_id}/edit", data=form).status_code == 302
    with app.app_context():
        person = db.session.get(Person, person_id)
        assert person.full_name == "Người Đã Sửa" and person.search_name == "nguoi da sua"
        assert person.version_id == version + 1
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.update",
                                                           AuditEvent.object_id == person_id))
        # Which fields changed, never their values (issue 13).
        assert {"birth_date", "full_name", "phone"} <= set(event.details["changes"])
        assert "Người Đã Sửa" not in str(event.details)
    # A second officer still holds the old version: their save is refused, nothing overwritten.
    stale = person_form(full_name="Ghi Đè Cũ", phone="", birth_date="1991-01-01", version_id=str(version))
    response = client.post(f"/members/{person_id}/edit", data=stale)
    assert response.status_code == 409
    assert "Người khác đã sửa bản ghi này" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Person, person_id).full_name == "Người Đã Sửa"


@pytest.mark.bare
def test_a_save_committed_while_the_form_was_being_sent_is_a_conflict_too(app, login_as, monkeypatch):
    """Another officer saves the person after our request loaded it, just before our save locks
    it: the version check, made on what is committed once the row is locked, refuses ours."""
    with app.app_context():
        sample()
    import cdt.registry.services as services

    client = login_as("commune")
    with app.app_context():
        person = people_of(COMMUNE_CODE)[1]
        person_id, version = person.id, person.version_id
    real_lock = services.lock_for_change

    def saved_by_another_then_lock(*args, **kwargs):
        with app.app_context():  # another officer saves in between
            other = db.session.get(Person, person_id)
            other.full_name = "Sửa Trước"
            db.session.commit()
        return real_lock(*args, **kwargs)

    monkeypatch.setattr(services, "lock_for_change", saved_by_another_then_lock)
    response = client.post(f"/members/{person_id}/edit",
                           data=person_form(full_name="Sửa Sau", phone="", birth_date="1992-02-02",
                                            version_id=str(version)))
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(Person, person_id).full_name == "Sửa Trước"


@pytest.mark.bare
def test_edit_to_share_another_persons_phone_is_saved(app, login_as):
    """A phone is not a person: a family member's phone may be recorded for another person."""
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        people = [p for p in people_of(COMMUNE_CODE) if p.phone]
        first, second = people[0], people[1]
        first_id, version, phone = first.id, first.version_id, second.phone
        form = person_form(full_name=first.full_name, birth_date=first.birth_date.isoformat(), phone=phone,
                           version_id=str(version))
    response = client.post(f"/members/{first_id}/edit", data=form)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Person, first_id).phone == phone
        assert count(Person, Person.phone == phone) == 2


@pytest.mark.bare
def test_person_page_is_audited_and_citizen_id_hidden_from_youth(app, login_as, client):
    with app.app_context():
        sample()
        person = next(p for p in people_of(COMMUNE_CODE) if p.citizen_id)
        person_id, citizen_id = person.id, person.citizen_id
    login_as("commune")
    assert citizen_id in client.get(f"/members/{person_id}").get_data(as_text=True)
    client.post("/logout")
    login_as("youth")
    html = client.get(f"/members/{person_id}").get_data(as_text=True)
    assert citizen_id not in html
    with app.app_context():
        views = db.session.scalars(select(AuditEvent.username).where(
            AuditEvent.action == "person.view", AuditEvent.object_id == person_id)).all()
        assert sorted(views) == ["commune", "youth"]


@pytest.mark.bare
def test_youth_coordinator_cannot_change_anything(app, login_as):
    with app.app_context():
        sample()
    client = login_as("youth")
    with app.app_context():
        person_id = people_of(COMMUNE_CODE)[0].id
    assert client.get("/members/new").status_code == 403
    assert client.post("/members/new", data=person_form()).status_code == 403
    assert client.get(f"/members/{person_id}/edit").status_code == 403
    assert client.post(f"/members/{person_id}/teams", data={}).status_code == 403


@pytest.mark.bare
def test_foreign_ids_are_404(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        other = people_of(OTHER_COMMUNE_CODE)[0]
        other_id = other.id
        membership_id = other.memberships[0].id
        own = people_of(COMMUNE_CODE)[0]
        own_id = own.id
    assert client.get(f"/members/{other_id}").status_code == 404
    assert client.get(f"/members/{other_id}/edit").status_code == 404
    assert client.post(f"/members/{other_id}/teams", data={}).status_code == 404
    assert client.post(f"/members/{other_id}/memberships/{membership_id}/end", data={}).status_code == 404
    # Someone else's membership through one's own person: 404 too.
    assert client.post(f"/members/{own_id}/memberships/{membership_id}/end", data={}).status_code == 404
    assert client.get("/members/999999").status_code == 404
    with app.app_context():
        assert db.session.get(Membership, membership_id).left_on is None


@pytest.mark.bare
def test_end_membership(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        team = teams_of(COMMUNE_CODE)[0]
        membership = current(team, "member")[0]
        person_id, membership_id, joined = membership.person_id, membership.id, membership.joined_on
    url = f"/members/{person_id}/memberships/{membership_id}/end"
    prefix = f"end{membership_id}-"
    too_early = (joined - timedelta(days=1)).isoformat()
    response = client.post(url, data={prefix + "left_on": too_early})
    assert response.status_code == 422
    assert f'id="end{membership_id}-left_on-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Membership, membership_id).left_on is None
    assert client.post(url, data={prefix + "left_on": date.today().isoformat()}).status_code == 302
    with app.app_context():
        assert db.session.get(Membership, membership_id).left_on == date.today()
        assert count(AuditEvent, AuditEvent.action == "membership.end", AuditEvent.object_id == membership_id) == 1


@pytest.mark.bare
def test_move_person_to_another_team(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        teams = teams_of(COMMUNE_CODE)
        membership = current(teams[0], "member")[0]
        person_id, membership_id, target = membership.person_id, membership.id, teams[1].id
    response = client.post(f"/members/{person_id}/memberships/{membership_id}/move",
                           data={f"move{membership_id}-team_id": str(target),
                                 f"move{membership_id}-moved_on": date.today().isoformat()})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Membership, membership_id).left_on == date.today()
        now = db.session.scalars(select(Membership).where(Membership.person_id == person_id,
                                                          Membership.left_on.is_(None))).all()
        assert [(m.team_id, m.role) for m in now] == [(target, "member")]


@pytest.mark.bare
def test_add_existing_person_to_second_team_and_refuse_twice(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        teams = teams_of(COMMUNE_CODE)
        membership = current(teams[0], "member")[0]
        person_id, second = membership.person_id, teams[1].id
    data = {"add-team_id": str(second), "add-role": "member", "add-joined_on": date.today().isoformat()}
    assert client.post(f"/members/{person_id}/teams", data=data).status_code == 302
    response = client.post(f"/members/{person_id}/teams", data=data)
    assert response.status_code == 422
    assert 'id="add-team_id-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert count(Membership, Membership.person_id == person_id, Membership.left_on.is_(None)) == 2


@pytest.mark.bare
def test_new_member_as_second_leader_is_refused(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        team = teams_of(COMMUNE_CODE)[0]
        team_id, leader = team.id, current(team, "leader")[0].person.full_name
        before = count(Person)
    response = _new(client, team_id=str(team_id), role="leader")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="role-error"' in html and leader in html
    with app.app_context():
        assert count(Person) == before
        assert len(current(db.session.get(type(team), team_id), "leader")) == 1


@pytest.mark.bare
def test_add_to_team_as_deputy_when_one_exists_is_refused(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        teams = teams_of(COMMUNE_CODE)
        person_id = current(teams[0], "member")[0].person_id
        second = teams[1]
        second_id = second.id
    response = client.post(f"/members/{person_id}/teams", data={"add-team_id": str(second_id), "add-role": "deputy"})
    assert response.status_code == 422
    assert 'id="add-role-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert len(current(db.session.get(type(second), second_id), "deputy")) == 1


@pytest.mark.bare
@pytest.mark.csrf
def test_registry_forms_need_the_csrf_token(app, client):
    with app.app_context():
        sample()
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "commune", "password": "cdt-demo-2023", "csrf_token": token})
    with app.app_context():
        before = count(Person)
        team = teams_of(COMMUNE_CODE)[0]
        team_id, deputy = team.id, current(team, "deputy")[0].id
    assert client.post("/members/new", data=person_form()).status_code == 400
    assert client.post(f"/teams/{team_id}/leader", data={"leader-membership_id": str(deputy)}).status_code == 400
    # With the token from the page, the same form saves.
    html = client.get("/members/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    assert client.post("/members/new", data={**person_form(), "csrf_token": token}).status_code == 302
    with app.app_context():
        assert count(Person) == before + 1
        assert db.session.get(Membership, deputy).role == "deputy"


def test_lookups_by_identifier_find_nobody_outside_the_area(app, login_as):
    """Searching (page and export) by the name or phone of a person of another district, or
    naming their id in a URL or an add-to-team POST, tells the commune officer nothing."""
    client = login_as("commune")
    with app.app_context():
        other = person_outside_district()
        details = details_of(other)
        other_id, team_id = other.id, teams_of(COMMUNE_CODE)[0].id
        before = count(Membership)
    for key in ("name", "phone", "stored phone"):
        for url in ("/members", "/members/export.csv"):
            response = client.get(url, query_string={"q": details[key]})
            assert response.status_code == 200
            assert leaked(response.get_data(as_text=True), details, typed=(key,)) == [], (key, url)
    assert client.get(f"/members/{other_id}").status_code == 404
    response = client.post(f"/members/{other_id}/teams", data={"add-team_id": str(team_id), "add-role": "member",
                                                               "add-joined_on": date.today().isoformat()})
    assert response.status_code == 404
    with app.app_context():
        assert count(Membership) == before
