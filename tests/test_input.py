"""Bad input on every way in (forms, the import, the CLI): a translated message next to the
field, nothing written, never a 500. Identifiers typed in any script's digits are stored in
ASCII digits, so the duplicate rules see them."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from cdt.extensions import db
from cdt.registry.models import Person, Team
from tests.test_registry_helpers import COMMUNE_CODE, count, person_form, teams_of
from tests.test_registry_transfer import GOOD, csv_bytes, preview, upload
from tests.test_training import login as training_login
from tests.test_training import session_data

CITIZEN_ID = "010090123456"
# The same citizen ID in fullwidth, Arabic-Indic, extended Arabic-Indic (Persian), Devanagari and
# Bengali digits; NFKC alone only turns the fullwidth ones into ASCII.
OTHER_DIGITS = {
    "fullwidth": 0xFF10,
    "arabic-indic": 0x0660,
    "persian": 0x06F0,
    "devanagari": 0x0966,
    "bengali": 0x09E6,
}


def in_digits(text: str, zero: int) -> str:
    return "".join(chr(zero + int(ch)) if ch.isdigit() else ch for ch in text)


def _new(client, **overrides):
    return client.post("/members/new", data=person_form(**overrides))


def _field_error(html: str, field: str) -> str:
    """The text of the error shown next to `field` (the page marks it with id="<field>-error")."""
    match = re.search(rf'id="{field}-error"[^>]*>(.*?)</', html, re.S)
    assert match, f"no error next to {field}"
    return " ".join(match.group(1).split())


# --------------------------------------------------------------------------- item 9: no 500


def test_overlong_name_and_notes_are_translated_errors_not_500(app, login_as):
    client = login_as("commune")
    with app.app_context():
        before = count(Person)
        team = teams_of(COMMUNE_CODE)[0]
        team_id, notes_before = team.id, team.notes
    response = _new(client, full_name="A" * 121)
    assert response.status_code == 422
    assert "không được dài quá 120 ký tự" in _field_error(response.get_data(as_text=True), "full_name")
    edit = client.get(f"/teams/{team_id}/edit").get_data(as_text=True)
    version = re.search(r'name="version_id" type="hidden" value="(\d+)"', edit).group(1)
    response = client.post(f"/teams/{team_id}/edit", data={
        "village_id": str(team.village_id), "name": team.name, "status": "active", "notes": "x" * 2001,
        "version_id": version})
    assert response.status_code == 422
    assert "không được dài quá 2000 ký tự" in _field_error(response.get_data(as_text=True), "notes")
    with app.app_context():
        assert count(Person) == before
        assert db.session.get(Team, team_id).notes == notes_before


def test_overlong_training_notes_and_topic_name_are_translated_errors(app, client):
    from cdt.training.models import TrainingSession

    training_login(client, "youth")
    with app.app_context():
        before = count(TrainingSession)
    response = client.post("/training/new", data=session_data(app, notes="n" * 2001, title="T" * 201))
    assert response.status_code in (200, 422)
    html = response.get_data(as_text=True)
    assert "không được dài quá 2000 ký tự" in _field_error(html, "notes")
    assert "không được dài quá 200 ký tự" in _field_error(html, "title")
    with app.app_context():
        assert count(TrainingSession) == before
    training_login(client, "admin")
    response = client.post("/training/topics/new", data={"name_vi": "Ư" * 161, "name_en": "Topic", "active": "y"})
    assert response.status_code in (200, 422)
    assert "không được dài quá 160 ký tự" in _field_error(response.get_data(as_text=True), "name_vi")


def _multipart(fields: dict, files: dict) -> dict:
    data = dict(fields)
    for name, content in files.items():
        data[name] = (io.BytesIO(content), f"{name}.txt")
    return data


@pytest.mark.parametrize("field", ["full_name", "birth_date", "phone", "gender", "team_id", "citizen_id"])
def test_a_file_sent_where_text_is_expected_is_a_field_error(app, login_as, field):
    """Text, date, select and coerced-select fields alike: a file part is an error next to the field."""
    client = login_as("commune")
    with app.app_context():
        before = count(Person)
    fields = {k: v for k, v in person_form().items() if k != field}
    response = client.post("/members/new", data=_multipart(fields, {field: b"Nguyen Van Tep"}),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Trường này cần nhập chữ, không phải một tệp." in _field_error(response.get_data(as_text=True), field)
    with app.app_context():
        assert count(Person) == before


def test_a_file_sent_to_training_number_fields_is_a_field_error(app, client):
    training_login(client, "youth")
    fields = {k: v for k, v in session_data(app).items() if k not in ("capacity", "title")}
    response = client.post("/training/new", data=_multipart(fields, {"capacity": b"12", "title": b"x"}),
                           content_type="multipart/form-data")
    assert response.status_code in (200, 422)
    html = response.get_data(as_text=True)
    for field in ("capacity", "title"):
        assert _field_error(html, field) == "Trường này cần nhập chữ, không phải một tệp."


def test_json_values_that_are_not_text_are_field_errors(app, login_as):
    client = login_as("commune")
    with app.app_context():
        before = count(Person)
    response = client.post("/members/new", json={**person_form(), "full_name": {"a": 1}, "phone": [1, 2]})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert _field_error(html, "full_name") == _field_error(html, "phone") == "Trường này cần nhập chữ, không phải một tệp."
    # A JSON body that is not an object is an empty submission.
    for body in ([1, 2], "abc", 3):
        response = client.post("/members/new", json=body)
        assert response.status_code == 422
        assert "Vui lòng nhập thông tin này." in _field_error(response.get_data(as_text=True), "full_name")
    with app.app_context():
        assert count(Person) == before


# --------------------------------------------------------------------------- item 13: control characters


@pytest.mark.parametrize("value", ["Nguyễn\x01Văn", "Vàng\u200bA Sử", "Hà\u202eThị", "Mùa\ufeffA",
                                   "Giàng\ue000Seo", "Ly\u2028Lan"])
# (A NUL is refused for the whole request, 400, before any form sees it: tests/test_inputs.py.)
def test_control_and_invisible_characters_in_a_name_are_refused(app, login_as, value):
    client = login_as("commune")
    with app.app_context():
        before = count(Person)
    response = _new(client, full_name=value)
    assert response.status_code == 422
    message = _field_error(response.get_data(as_text=True), "full_name")
    assert "ký tự điều khiển hoặc ký tự ẩn" in message
    with app.app_context():
        assert count(Person) == before


def test_vietnamese_letters_marks_and_punctuation_are_kept(app, login_as):
    client = login_as("commune")
    # Decomposed marks (as macOS types them) are composed; apostrophes, hyphens and dots stay.
    name = "Ngo\u0302 Thi\u0323 H'Mo\u0302ng-Ly\u0301 Jr."
    assert _new(client, full_name=name, phone="").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Person.full_name).where(Person.search_name == "ngo thi h'mong-ly jr."))\
            == "Ngô Thị H'Mông-Lý Jr."


def test_control_characters_in_training_text_are_refused_but_notes_keep_lines(app, client):
    from cdt.training.models import TrainingSession

    training_login(client, "youth")
    response = client.post("/training/new", data=session_data(app, title="Tập huấn\x01", notes="ok"))
    assert "ký tự điều khiển hoặc ký tự ẩn" in _field_error(response.get_data(as_text=True), "title")
    response = client.post("/training/new", data=session_data(app, notes="Dòng một\r\n\tDòng hai\x07"))
    assert "ký tự điều khiển hoặc ký tự ẩn" in _field_error(response.get_data(as_text=True), "notes")
    response = client.post("/training/new", data=session_data(app, notes="Dòng một\r\n\tDòng hai  "))
    assert response.status_code == 302
    with app.app_context():
        notes = db.session.scalar(select(TrainingSession.notes).order_by(TrainingSession.id.desc()).limit(1))
    assert notes == "Dòng một\n\tDòng hai"


def test_control_characters_in_an_account_name_are_refused_in_form_and_cli(app, login_as, runner):
    from cdt.auth.models import User

    client = login_as("admin")
    response = client.post("/admin/users/new", data={"username": "ctrl-user", "full_name": "Lê\x01Văn",
                                                     "role": "admin", "area_code": ""})
    assert "ký tự điều khiển hoặc ký tự ẩn" in _field_error(response.get_data(as_text=True), "full_name")
    result = runner.invoke(args=["cdt", "users", "create", "--username", "ctrl-cli", "--role", "admin",
                                 "--full-name", "Lê\x01Văn"])
    assert result.exit_code != 0 and "control or invisible character (U+0001" in result.output
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.username.in_(("ctrl-user", "ctrl-cli")))) is None


# --------------------------------------------------------------------------- item 6: digits of other scripts


@pytest.mark.parametrize("script", sorted(OTHER_DIGITS))
def test_citizen_id_in_other_digits_is_stored_in_ascii_and_caught_as_duplicate(app, login_as, script):
    client = login_as("commune")
    typed = in_digits("010 090 123 456", OTHER_DIGITS[script])
    assert _new(client, citizen_id=typed, phone="").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Person).where(Person.full_name == "Nguyễn Văn Thử")).citizen_id == CITIZEN_ID
    # The same ID again, in ASCII and in each script: the duplicate page every time, no new row.
    for again in [CITIZEN_ID] + [in_digits(CITIZEN_ID, zero) for zero in OTHER_DIGITS.values()]:
        response = _new(client, citizen_id=again, phone="", full_name="Trần Văn Khác", birth_date="1985-01-01")
        assert response.status_code == 409, again
    with app.app_context():
        assert count(Person, Person.citizen_id == CITIZEN_ID) == 1
        assert count(Person, Person.full_name == "Trần Văn Khác") == 0


def test_phone_in_other_digits_is_stored_in_ascii_and_caught_as_duplicate(app, login_as):
    client = login_as("commune")
    assert _new(client, phone=in_digits("0912 345 678", OTHER_DIGITS["devanagari"])).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Person.phone).where(Person.full_name == "Nguyễn Văn Thử")) == "+84912345678"
    response = _new(client, phone=in_digits("0912345678", OTHER_DIGITS["arabic-indic"]), full_name="Trần Văn Khác",
                    birth_date="1985-01-01")
    assert response.status_code == 409


def test_members_search_finds_a_phone_typed_in_other_digits(app, login_as):
    client = login_as("commune")
    assert _new(client, phone="0912 345 678").status_code == 302
    page = client.get("/members", query_string={"q": in_digits("0912 345 678", OTHER_DIGITS["fullwidth"])})
    assert "Nguyễn Văn Thử" in page.get_data(as_text=True)
    page = client.get("/members", query_string={"q": in_digits("345 678", OTHER_DIGITS["arabic-indic"])})
    assert "Nguyễn Văn Thử" in page.get_data(as_text=True)


def test_no_code_path_can_store_a_citizen_id_or_phone_in_other_digits(app):
    """The model itself normalises (services, the import and any future path write through it)."""
    with app.app_context():
        person = db.session.scalars(select(Person).where(Person.citizen_id.is_(None)).limit(1)).one()
        person.citizen_id = in_digits(CITIZEN_ID, OTHER_DIGITS["bengali"])
        person.phone = in_digits("+84912345678", OTHER_DIGITS["persian"])
        assert person.citizen_id == CITIZEN_ID and person.phone == "+84912345678"
        with pytest.raises(ValueError):
            person.citizen_id = "01009012345x"


def _import_rows(citizen_id: str, name: str = "Vàng A Nhập") -> list[list[str]]:
    return [[name, "Nam", "01/01/1990", "H'Mông", "", citizen_id, "", "", "02866-002", "Thành viên"]]


@pytest.fixture
def import_folder(app, tmp_path):
    app.config["CDT_IMPORT_FOLDER"] = str(tmp_path / "imports")


def test_import_stores_citizen_ids_in_ascii_and_sees_the_duplicate(app, login_as, import_folder):
    client = login_as("commune")
    assert _new(client, citizen_id=CITIZEN_ID, phone="").status_code == 302
    data = csv_bytes(_import_rows(in_digits(CITIZEN_ID, OTHER_DIGITS["arabic-indic"])))
    assert upload(client, data, "list.csv").status_code == 302
    html, counts, _token = preview(client)
    # Recognised as the person registered above (different name and birth date: an error, not a new person).
    assert counts.get("new", 0) == 0, html
    with app.app_context():
        assert count(Person, Person.citizen_id == CITIZEN_ID) == 1


def test_import_row_with_a_control_character_is_an_error(app, login_as, import_folder):
    client = login_as("commune")
    rows = [GOOD[0], ["Vàng\x01A Nhập", *GOOD[1][1:]]]
    assert upload(client, csv_bytes(rows), "list.csv").status_code == 302
    html, counts, token = preview(client)
    assert counts["error"] == 1 and token is None
    assert "ký tự điều khiển hoặc ký tự ẩn" in html


def test_cli_import_stores_ascii_digits_and_refuses_control_characters(app, runner, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(csv_bytes(_import_rows(in_digits(CITIZEN_ID, OTHER_DIGITS["devanagari"]))))
    # The commune's code may be typed in other digits too.
    args = ["cdt", "import", "members", str(path), "--commune", in_digits("02839", OTHER_DIGITS["arabic-indic"]),
            "--lang", "en"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Person.full_name).where(Person.citizen_id == CITIZEN_ID)) == "Vàng A Nhập"
    # Again in fullwidth digits: already present, nothing new.
    path.write_bytes(csv_bytes(_import_rows(in_digits(CITIZEN_ID, OTHER_DIGITS["fullwidth"]))))
    result = runner.invoke(args=args)
    assert result.exit_code == 0 and "1 already present" in result.output, result.output
    path.write_bytes(csv_bytes(_import_rows("", name="Lò\x01Văn")))
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and "row 2, Full name:" in result.output
    assert "control or invisible character (U+0001" in result.output
    with app.app_context():
        assert count(Person, Person.citizen_id == CITIZEN_ID) == 1

