"""Bad input is refused, never a 500 (hardening issue, item 9): integers beyond the database's
INTEGER columns in query strings, forms and URLs; NUL characters anywhere in a request (PostgreSQL
refuses them); NaN and infinite hours; over-long text; a text field sent as a file part.
tests/test_fuzz.py looks for more of the same with generated values."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from cdt.core.inputs import MAX_INT, to_int
from cdt.extensions import db
from cdt.registry.models import Person, Team
from cdt.training.models import Invitation, TrainingSession
from tests.test_training import create, past_times, session_data

BIG = str(2**63)  # beyond 64 bits: SQLite's OverflowError
BEYOND_INT = str(2**31)  # beyond PostgreSQL's INTEGER: its DataError
HUGE = [BIG, BEYOND_INT, str(2**64), "9" * 40, "-" + BIG]


def test_to_int_reads_ascii_digits_within_the_database_range():
    assert to_int("42") == 42
    assert to_int(" 7 ") == 7
    assert to_int("-3") == -3
    assert to_int(str(MAX_INT)) == MAX_INT == 2**31 - 1
    assert to_int(5) == 5
    for value in [*HUGE, "\u0663", "\u00b2", "1_000", "1e3", "1.5", "0x10", "", None, True, "NaN", [1]]:
        assert to_int(value) is None, value
    assert to_int("x", 1) == 1
    assert to_int("0", minimum=1) is None


QUERIES = [
    "/training?topic={n}", "/training?area={n}&status=held", "/training?page={n}", "/training?view=month&topic={n}",
    "/members?page={n}&per_page={n}", "/members?district={n}&commune={n}&village={n}&team={n}",
    "/teams?page={n}&district={n}&commune={n}", "/admin/users?page={n}", "/audit?page={n}",
    "/audit?object_id={n}", "/reports/coverage?page={n}", "/reports/gaps?page={n}&kind=untrained",
    "/teams/new?village={n}", "/members/new?team={n}", "/members/export.csv?district={n}&commune={n}",
    "/teams/export.csv?commune={n}",
]


@pytest.mark.parametrize("big", [BIG, BEYOND_INT])
def test_integers_beyond_the_database_in_a_query_string_are_ignored(login_as, big):
    client = login_as("admin")
    for query in QUERIES:
        response = client.get(query.format(n=big))
        response.get_data()  # a streamed export is read to its end
        assert response.status_code == 200, query


ID_ROUTES = [
    ("GET", "/teams/{n}"), ("GET", "/teams/{n}/edit"), ("POST", "/teams/{n}/leader"),
    ("GET", "/members/{n}"), ("GET", "/members/{n}/edit"), ("POST", "/members/{n}/teams"),
    ("POST", "/members/{n}/memberships/{n}/end"), ("GET", "/training/{n}"), ("GET", "/training/{n}/attendance"),
    ("POST", "/training/{n}/delete"), ("POST", "/training/{n}/invitations/{n}/delete"),
    ("GET", "/admin/users/{n}"), ("POST", "/admin/users/{n}/deactivate"), ("GET", "/training/topics/{n}/edit"),
]


@pytest.mark.parametrize("big", [int(BEYOND_INT), 2**63, 2**64, 10**30])
def test_an_id_beyond_the_database_in_the_url_is_a_404(login_as, big):
    client = login_as("admin")
    for method, path in ID_ROUTES:
        assert client.open(path.format(n=big), method=method).status_code == 404, path


def test_a_nul_character_in_the_url_is_a_translated_400(login_as):
    client = login_as("admin")
    for url in ("/members?q=%00", "/teams?q=a%00b", "/members?%00=1", "/units/%00", "/training?status=%00",
                "/admin/users?q=%00", "/audit?user=%00", "/reports/coverage?unit=10%00", "/reports/gaps?unit=%00",
                "/members/export.csv?q=%00"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "Yêu cầu không hợp lệ" in response.get_data(as_text=True)


def test_a_nul_character_reaches_no_page_even_anonymously(client):
    assert client.get("/training/calendar.ics?token=%00").status_code == 400
    response = client.post("/login", data={"username": "admin\x00", "password": "x"})
    assert response.status_code == 400


def _own_team(app) -> Team:
    from cdt.auth.models import User

    with app.app_context():
        commune_id = db.session.scalar(select(User.area_id).where(User.username == "commune"))
        team = db.session.scalar(select(Team).where(Team.commune_id == commune_id).order_by(Team.id))
        db.session.expunge(team)
        return team


def test_a_nul_character_in_a_form_changes_nothing(app, login_as):
    client = login_as("commune")
    team = _own_team(app)
    with app.app_context():
        people = db.session.scalar(select(func.count()).select_from(Person))
    response = client.post(f"/teams/{team.id}/edit", data={"name": "Tổ\x00", "village_id": team.village_id,
                                                            "status": "active", "version_id": team.version_id})
    assert response.status_code == 400
    response = client.post("/members/new", data={"full_name": "Lò Văn\x00A", "gender": "male",
                                                 "birth_date": "1990-01-01", "ethnicity": "hmong"})
    assert response.status_code == 400
    upload = {"file": (io.BytesIO(b"a;b\n"), "list\x00.csv")}
    assert client.post("/members/import", data=upload, content_type="multipart/form-data").status_code == 400
    with app.app_context():
        assert db.session.get(Team, team.id).name == team.name
        assert db.session.scalar(select(func.count()).select_from(Person)) == people


def test_a_lone_surrogate_sent_as_bytes_is_no_500(login_as):
    # Werkzeug decodes bytes that are not UTF-8 as U+FFFD, which any database stores.
    assert login_as("admin").get("/members?q=%ED%A0%80").status_code == 200


@pytest.mark.parametrize("hours", ["NaN", "sNaN", "Infinity", "-Infinity", "1e999999"])
def test_non_finite_hours_are_a_field_error(app, login_as, hours):
    client = login_as("youth")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(TrainingSession))
    response = client.post("/training/new", data=session_data(app, hours=hours))
    assert response.status_code == 200
    assert "Không phải là số hợp lệ." in response.get_data(as_text=True)
    sid = create(client, app, **past_times(hours_ago=5, length=4))
    response = client.post(f"/training/{sid}/attendance", data={"hours": hours, "action": "save"})
    assert response.status_code == 200
    assert "Không phải là số hợp lệ." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == before + 1


@pytest.mark.parametrize("capacity", HUGE)
def test_a_capacity_beyond_the_database_is_a_field_error(app, login_as, capacity):
    response = login_as("youth").post("/training/new", data=session_data(app, capacity=capacity))
    assert response.status_code == 200
    assert "Không phải là số nguyên hợp lệ." in response.get_data(as_text=True)


def test_ids_in_non_ascii_digits_are_refused(app, login_as):
    client = login_as("youth")
    sid = create(client, app)
    for value in ("\u00b2", "\u0663", BIG):
        for path, field in (("invite/people", "person"), ("invite/teams", "team"), ("attendance", "present")):
            response = client.post(f"/training/{sid}/{path}", data={field: [value], "hours": "2", "action": "save"})
            assert response.status_code == 200
            assert "không thuộc địa bàn của bạn" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invitation).where(Invitation.session_id == sid)) == 0


def test_over_long_text_in_a_registry_form_is_a_field_error(app, login_as):
    client = login_as("commune")
    response = client.post("/members/new", data={"full_name": "A" * 121, "gender": "male", "birth_date": "1990-01-01",
                                                 "ethnicity": "hmong"})
    assert response.status_code == 422
    assert "120" in response.get_data(as_text=True)
    team = _own_team(app)
    response = client.post(f"/teams/{team.id}/edit", data={"village_id": team.village_id, "status": "active",
                                                           "notes": "x" * 2001, "version_id": team.version_id})
    assert response.status_code == 422
    assert "2000" in response.get_data(as_text=True)


def test_over_long_text_in_a_training_form_is_a_field_error(app, login_as):
    response = login_as("youth").post("/training/new", data=session_data(app, notes="x" * 2001, title="T" * 201))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "2000" in page and "200" in page


def test_a_text_field_sent_as_a_file_part_reads_as_absent(app, login_as, client):
    def part():
        return (io.BytesIO(b"Lo Van A"), "name.txt")

    response = client.post("/login", data={"username": part(), "password": "x"}, content_type="multipart/form-data")
    assert response.status_code == 200
    client = login_as("commune")
    response = client.post("/members/new", data={"full_name": part(), "gender": "male", "birth_date": "1990-01-01",
                                                 "ethnicity": "hmong"}, content_type="multipart/form-data")
    assert response.status_code == 422
    response = client.post("/members/import", data={"file": part(), "commune": part()},
                           content_type="multipart/form-data")
    assert response.status_code == 200
