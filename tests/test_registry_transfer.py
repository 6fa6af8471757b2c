"""Member import (preview, all-or-nothing commit, idempotence, hostile files) and exports."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from cdt.audit.models import AuditEvent
from cdt.core.text import fold
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.queries import unit_by_code
from cdt.geo.within import within
from cdt.registry.models import Membership, Person, Team
from tests.conftest import login
from tests.test_registry_helpers import details_of, leaked, person_outside_district

MEMBER_HEADER = (
    "id,full_name,gender,birth_date,ethnicity,phone,youth_union,position,team_id,team_name,role,"
    "village_code,village_name,commune_code,commune_name,district_code,district_name"
)
HEADERS = ["Họ và tên", "Giới tính", "Ngày sinh", "Dân tộc", "Số điện thoại", "Số CCCD", "Đoàn viên",
           "Chức danh", "Thôn, tổ dân phố", "Vai trò trong tổ"]
GOOD = [
    ["Lò Thị Nhập", "Nữ", "12/05/1998", "Tày", "0912 777 001", "", "Có", "", "02866-001", ""],
    ["Vàng A Nhập", "Nam", "01/01/1990", "H'Mông", "+84912777002", "010090001234", "", "Giáo viên", "02866-002",
     "Thành viên"],
    ["Nguyen Van Nhap", "nam", "1985-07-30", "kinh", "0912-777-003", "", "x", "", "02866-003", "member"],
]


def csv_bytes(rows, headers=HEADERS, bom=True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def xlsx_bytes(rows, headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def upload(client, data: bytes, name: str, **extra):
    """POST a multipart body built here (the test client would spool big bodies to an unclosed temp file)."""
    parts = [f'--B\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in extra.items()]
    parts.append(f'--B\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(parts) + b"--B--\r\n"
    return client.post("/members/import", data=body, content_type="multipart/form-data; boundary=B")


def preview(client):
    response = client.get("/members/import/preview")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    counts = {k: int(v.replace(".", "").replace(",", "")) for k, v in re.findall(r'data-count="(\w+)">([^<]*)<', html)}
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', html)
    return html, counts, token.group(1) if token else None


def people(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Person))


def memberships(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Membership))


@pytest.fixture(autouse=True)
def import_folder(app, tmp_path):
    app.config["CDT_IMPORT_FOLDER"] = str(tmp_path / "imports")


def stored_uploads(app) -> list[Path]:
    folder = Path(app.config["CDT_IMPORT_FOLDER"])
    return list(folder.glob("*")) if folder.exists() else []


# --------------------------------------------------------------------------- import


def test_template_has_vietnamese_headers_and_a_sample_row_that_is_skipped(app, login_as):
    client = login_as("commune")
    response = client.get("/members/import/template.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    sheet = wb.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["Họ và tên", "Giới tính", "Ngày sinh", "Dân tộc"]
    assert "Thôn, tổ dân phố" in headers and "Vai trò trong tổ" in headers
    assert sheet["A2"].value == "Nguyễn Văn Mẫu"
    assert "02866-001" in [c.value for c in wb.worksheets[1]["A"]]  # the commune's villages listed
    # Uploading the untouched template: the sample row is skipped, so there is nothing to import.
    response = upload(client, response.data, "mau.xlsx")
    assert response.status_code == 200
    assert "no rows to import" in response.get_data(as_text=True) or "không có dòng" in response.get_data(as_text=True).lower()


def test_filled_template_previews_then_commits_in_one_go(app, login_as):
    client = login_as("commune")
    wb = load_workbook(io.BytesIO(client.get("/members/import/template.xlsx").data))
    sheet = wb.worksheets[0]
    sheet.delete_rows(2)
    for i in range(20):
        sheet.append([f"Người Thử {i}", "Nữ" if i % 2 else "Nam", date(1990, 1, i + 1), "Dao",
                      f"0912 88{i:04d}", None, "Có", None, "02866-00" + str(1 + i % 5), None])
    buffer = io.BytesIO()
    wb.save(buffer)
    before_people, before_members = people(app), memberships(app)
    response = upload(client, buffer.getvalue(), "danh-sach.xlsx")
    assert response.status_code == 302 and response.headers["Location"].endswith("/members/import/preview")
    assert people(app) == before_people  # nothing written by the upload or the preview
    html, counts, token = preview(client)
    assert counts == {"rows": 20, "new": 20, "join": 0, "present": 0, "error": 0}
    assert token and people(app) == before_people
    response = client.post("/members/import/confirm", data={"token": token})
    assert response.status_code == 302
    assert people(app) == before_people + 20
    assert memberships(app) == before_members + 20
    assert stored_uploads(app) == []  # the kept file is deleted after the commit
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.search_name == "nguoi thu 3"))
        assert person.phone == "+84912880003" and person.ethnicity == "dao" and person.youth_union
        commune = unit_by_code("02839")
        assert person.commune_id == commune.id
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import"))
        assert event.details["created"] == 20 and event.details["file"] == "[withheld]"  # a file's name may be a person's
    # imported people are found by the name search (without diacritics), like people typed in
    found = _csv(client.get("/members/export.csv", query_string={"q": "nguoi thu 3"}))
    assert [r["full_name"] for r in found] == ["Người Thử 3"] and found[0]["village_code"] == "02866-004"


def test_one_bad_row_blocks_every_row(app, login_as):
    client = login_as("commune")
    bad = ["Trẻ Quá", "Nam", "01/01/2020", "Kinh", "123", "", "", "", "02866-001", ""]
    before = people(app)
    assert upload(client, csv_bytes(GOOD + [bad]), "list.csv").status_code == 302
    html, counts, token = preview(client)
    assert counts["error"] == 1 and counts["new"] == 3
    assert token is None  # no confirm button while there are errors
    # every error with its row number, column and translated message
    assert re.search(r'<td class="num">5</td><td>Trẻ Quá</td><td>Ngày sinh</td><td>Ngày sinh cho tuổi là', html)
    assert re.search(r'<td class="num">5</td><td>Trẻ Quá</td><td>Số điện thoại</td>', html)
    # forcing the confirmation writes nothing either
    pending = re.search(r"[0-9a-f]{32}", [p.name for p in stored_uploads(app)][0]).group(0)
    response = client.post("/members/import/confirm", data={"token": pending})
    assert response.status_code == 422
    assert people(app) == before


def test_same_file_twice_adds_nothing_the_second_time(app, login_as):
    client = login_as("commune")
    data = csv_bytes(GOOD, bom=False)
    upload(client, data, "a.csv")
    _, counts, token = preview(client)
    client.post("/members/import/confirm", data={"token": token})
    after_first = people(app), memberships(app)
    upload(client, data, "a.csv")
    html, counts, token = preview(client)
    assert counts == {"rows": 3, "new": 0, "join": 0, "present": 3, "error": 0}
    assert "nothing to add" in html or "không có gì" in html.lower()
    assert token is None
    assert (people(app), memberships(app)) == after_first


def test_registered_person_is_added_to_the_team_not_duplicated(app, login_as):
    with app.app_context():
        commune = unit_by_code("02839")
        m = db.session.scalar(select(Membership).join(Team).where(
            Team.commune_id == commune.id, Membership.role == "member").order_by(Membership.id))
        person = m.person
        other_village = db.session.scalar(select(AdminUnit.code).join(Team, Team.village_id == AdminUnit.id).where(
            Team.commune_id == commune.id, Team.id != m.team_id).order_by(AdminUnit.code))
        same_village = m.team.village.code
        row = [person.full_name, "Nam" if person.gender == "male" else "Nữ", person.birth_date.strftime("%d/%m/%Y"),
               "Kinh", "", "", "", "", other_village, ""]
        person_id = person.id
    client = login_as("commune")
    upload(client, csv_bytes([row, [*row[:8], same_village, ""]][:1]), "a.csv")
    html, counts, token = preview(client)
    assert counts["join"] == 1 and counts["new"] == 0
    assert "same name and birth date" in html or "cùng họ tên và ngày sinh" in html
    before = people(app)
    client.post("/members/import/confirm", data={"token": token})
    assert people(app) == before
    with app.app_context():
        teams = db.session.scalars(select(Membership.team_id).where(
            Membership.person_id == person_id, Membership.left_on.is_(None))).all()
        assert len(teams) == 2
    # the same person in the team they already belong to: nothing to do
    upload(client, csv_bytes([[*row[:8], same_village, ""]]), "b.csv")
    _, counts, _ = preview(client)
    assert counts["present"] == 1


def test_duplicates_inside_the_file_and_second_leader_are_errors(app, login_as):
    client = login_as("commune")
    twin = ["LÒ THỊ NHẬP", "Nữ", "", "Tày", "0912 777 001", "", "", "", "02866-004", ""]  # same phone and name
    leader = ["Ma Văn Trưởng", "Nam", "03/03/1993", "Tày", "", "", "", "", "02866-001", "Tổ trưởng"]
    upload(client, csv_bytes(GOOD + [twin, leader]), "a.csv")
    html, counts, token = preview(client)
    assert counts["error"] == 2 and token is None
    assert "row 2" in html or "dòng 2" in html
    assert re.search(r'<td class="num">6</td>.*?(already has a|đã có)', html, re.S)


def _row_matching(person, match: str) -> tuple[list[str], tuple[str, ...]]:
    """A file row that is `person` by one key, otherwise made up; and the details it carries itself."""
    from cdt.registry.identifiers import display_phone

    name, birth, phone, cid = "Ai Đó Lạ", "01/01/1990", "", ""
    typed: tuple[str, ...] = ()
    if match == "citizen_id":
        cid, typed = person.citizen_id, ("citizen ID",)
    elif match == "phone":  # the same phone and name, no birth date: the same person (a phone alone is a hint)
        name, birth = person.full_name, ""
        phone, typed = display_phone(person.phone), ("name", "phone", "stored phone")
    else:
        name, birth, typed = person.full_name, person.birth_date.strftime("%d/%m/%Y"), ("name", "birth date")
    return [name, "Nam", birth, "Kinh", phone, cid, "", "", "02866-001", ""], typed


@pytest.mark.parametrize("match", ["citizen_id", "phone", "name_birth"])
def test_row_matching_someone_outside_the_area_is_an_error_that_names_nobody(app, login_as, match):
    """The outside security test: a row carrying the citizen ID (or phone, or name and birth date)
    of a person of another district was previewed with their name and, once confirmed, added
    that person to the officer's team. Now it is an error row that reveals nothing."""
    with app.app_context():
        other = person_outside_district()
        details = details_of(other)
        row, typed = _row_matching(other, match)
    client = login_as("commune")
    before = people(app), memberships(app)
    assert upload(client, csv_bytes(GOOD + [row]), "a.csv").status_code == 302
    html, counts, token = preview(client)
    assert counts["error"] == 1 and counts["join"] == 0 and token is None
    assert leaked(html, details, typed=typed) == []
    assert re.search(r'<td class="num">5</td><td>[^<]*</td><td>—</td><td>Người này đã được đăng ký ở địa bàn khác', html)
    assert "cán bộ cấp tỉnh của Tỉnh Lào Cai" in html
    # Forcing the confirmation re-checks the file: the same error, nothing written.
    pending = re.search(r"[0-9a-f]{32}", stored_uploads(app)[0].name).group(0)
    response = client.post("/members/import/confirm", data={"token": pending})
    assert response.status_code == 422
    assert leaked(response.get_data(as_text=True), details, typed=typed) == []
    assert (people(app), memberships(app)) == before


def test_cli_row_matching_someone_of_another_commune_is_an_error_that_names_nobody(app, runner, tmp_path):
    with app.app_context():
        other = person_outside_district()
        details = details_of(other)
        row, typed = _row_matching(other, "citizen_id")
    path = tmp_path / "list.csv"
    path.write_bytes(csv_bytes(GOOD + [row]))
    before = people(app), memberships(app)
    result = runner.invoke(args=["cdt", "import", "members", str(path), "--commune", "02839", "--lang", "en"])
    assert result.exit_code == 1
    assert "row 5: This person is already registered in another area" in result.output
    assert leaked(result.output, details, typed=typed) == []
    assert (people(app), memberships(app)) == before


def test_admin_import_names_a_match_of_another_commune_but_does_not_join_them(app, login_as):
    """The administrator may see everyone, so the error says who; a person still joins only the
    teams of their own commune."""
    with app.app_context():
        other = person_outside_district()
        name = other.full_name
        row, _typed = _row_matching(other, "citizen_id")
    client = login_as("admin")
    before = people(app), memberships(app)
    assert upload(client, csv_bytes([row]), "a.csv", commune="02839").status_code == 302
    html, counts, token = preview(client)
    assert counts["error"] == 1 and token is None
    assert name in html and "xã khác" in html
    assert (people(app), memberships(app)) == before


def test_csv_named_xlsx_and_xlsx_named_csv_are_refused(app, login_as):
    client = login_as("commune")
    response = upload(client, csv_bytes(GOOD), "list.xlsx")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "is-invalid" in text and ("not an Excel workbook" in text or "không phải là tệp Excel" in text)
    response = upload(client, xlsx_bytes(GOOD), "list.csv")
    assert response.status_code == 200 and "is-invalid" in response.get_data(as_text=True)
    response = upload(client, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old.xlsx")
    assert "is-invalid" in response.get_data(as_text=True)
    response = upload(client, csv_bytes(GOOD), "list.pdf")
    assert "is-invalid" in response.get_data(as_text=True)
    assert stored_uploads(app) == []


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_zip_bomb_xlsx_is_refused_before_parsing(app, login_as, monkeypatch):
    import openpyxl

    def must_not_parse(*args, **kwargs):  # pragma: no cover - the point is that it is not reached
        raise AssertionError("openpyxl parsed a refused file")

    monkeypatch.setattr(openpyxl, "load_workbook", must_not_parse)
    bomb = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                 "xl/worksheets/sheet1.xml": b"\0" * (60 * 1024 * 1024)})
    assert len(bomb) < 200_000  # small on the wire, 60 MB once expanded
    client = login_as("commune")
    response = upload(client, bomb, "bomb.xlsx")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "is-invalid" in text
    assert "50 MB" in text
    many = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                 **{f"xl/media/{i}.bin": b"x" for i in range(600)}})
    text = upload(client, many, "many.xlsx").get_data(as_text=True)
    assert "is-invalid" in text and "500" in text
    ratio = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                  "xl/worksheets/sheet1.xml": b"a" * (20 * 1024 * 1024)})
    assert "is-invalid" in upload(client, ratio, "ratio.xlsx").get_data(as_text=True)
    assert stored_uploads(app) == []


def test_oversized_upload_gets_the_413_page(app, login_as):
    client = login_as("commune")
    body = b"--x\r\nContent-Disposition: form-data; name=file; filename=big.csv\r\n\r\n" + b"a" * (7 * 1024 * 1024)
    response = client.post("/members/import", data=body, content_type="multipart/form-data; boundary=x")
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True) or "quá lớn" in response.get_data(as_text=True)


def test_file_over_5_mb_is_refused_with_a_message(app, login_as):
    client = login_as("commune")
    data = csv_bytes(GOOD) + b"\n" * (5 * 1024 * 1024)
    text = upload(client, data, "big.csv").get_data(as_text=True)
    assert "is-invalid" in text and "5 MB" in text


def test_more_than_20000_rows_refused(app, login_as):
    client = login_as("commune")
    rows = [[f"Người {i}", "Nam", "", "Kinh", "", "", "", "", "02866-001", ""] for i in range(20_001)]
    text = upload(client, csv_bytes(rows), "many.csv").get_data(as_text=True)
    assert "is-invalid" in text and ("20.000" in text)


def test_confirm_needs_the_pending_token_and_cancel_removes_the_file(app, login_as):
    client = login_as("commune")
    upload(client, csv_bytes(GOOD), "a.csv")
    _, _, token = preview(client)
    before = people(app)
    response = client.post("/members/import/confirm", data={"token": "0" * 32})
    assert response.status_code == 302 and people(app) == before
    assert client.get("/members/import/confirm").status_code == 405  # no GET changes anything
    client.post("/members/import/cancel")
    assert stored_uploads(app) == []
    response = client.post("/members/import/confirm", data={"token": token})
    assert response.status_code == 302 and people(app) == before


@pytest.mark.parametrize("username", ["district", "province", "youth"])
def test_only_commune_officers_and_admins_import(login_as, username):
    client = login_as(username)
    assert client.get("/members/import").status_code == 403
    assert client.post("/members/import/confirm").status_code == 403


def test_admin_chooses_the_commune(app, login_as):
    client = login_as("admin")
    text = upload(client, csv_bytes(GOOD), "a.csv", commune="99999").get_data(as_text=True)
    assert "is-invalid" in text
    response = upload(client, csv_bytes(GOOD), "a.csv", commune="02839")
    assert response.status_code == 302
    _, counts, _ = preview(client)
    assert counts["new"] == 3


@pytest.mark.csrf
def test_import_forms_need_csrf(app, client):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "commune", "password": "cdt-demo-2023", "csrf_token": token})
    assert client.get("/members/import").status_code == 200
    response = upload(client, csv_bytes(GOOD), "a.csv")
    assert response.status_code == 400 and stored_uploads(app) == []
    assert client.post("/members/import/confirm", data={"token": "0" * 32}).status_code in (302, 400)


# --------------------------------------------------------------------------- CLI


def test_cli_import_reports_errors_and_writes_nothing(app, runner, tmp_path):
    path = tmp_path / "list.csv"
    bad = ["Trẻ Quá", "Nam", "01/01/2020", "Kinh", "", "", "", "", "02866-001", ""]
    path.write_bytes(csv_bytes(GOOD + [bad]))
    before = people(app)
    result = runner.invoke(args=["cdt", "import", "members", str(path), "--commune", "02839", "--lang", "en"])
    assert result.exit_code == 1
    assert "row 5, Birth date: The birth date gives an age of" in result.output
    assert people(app) == before


def test_cli_import_dry_run_then_real_then_again(app, runner, tmp_path):
    path = tmp_path / "list.xlsx"
    path.write_bytes(xlsx_bytes(GOOD))
    before = people(app)
    args = ["cdt", "import", "members", str(path), "--commune", "02839", "--lang", "en"]
    result = runner.invoke(args=[*args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "3 new" in result.output and people(app) == before
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert people(app) == before + 3
    result = runner.invoke(args=args)
    assert result.exit_code == 0 and "3 already present" in result.output and people(app) == before + 3


def test_cli_refuses_unknown_commune_and_wrong_file(app, runner, tmp_path):
    path = tmp_path / "list.xlsx"
    path.write_bytes(csv_bytes(GOOD))
    result = runner.invoke(args=["cdt", "import", "members", str(path), "--commune", "02839", "--lang", "en"])
    assert result.exit_code != 0 and "not an Excel workbook" in result.output
    result = runner.invoke(args=["cdt", "import", "members", str(path), "--commune", "00000"])
    assert result.exit_code != 0 and "unknown commune" in result.output


# --------------------------------------------------------------------------- export


def _csv(response) -> list[dict]:
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_member_csv_header_is_exact_and_rows_are_scoped(app, login_as):
    client = login_as("district")
    response = client.get("/members/export.csv")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    first_line = response.data.decode("utf-8-sig").split("\r\n", 1)[0]
    assert first_line.startswith(MEMBER_HEADER + ",")
    assert "citizen_id" in first_line
    rows = _csv(response)
    with app.app_context():
        district = unit_by_code("085")
        expected = db.session.scalar(select(func.count()).select_from(Person).where(within(Person, district)))
        total = db.session.scalar(select(func.count()).select_from(Person))
    assert {r["district_code"] for r in rows} == {""}  # abolished: its villages lie in no district today
    assert len({r["id"] for r in rows}) == expected < total
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
        assert event.details["what"] == "members.csv" and event.details["rows"] == len(rows)


def test_member_export_follows_the_page_filters(app, login_as):
    with app.app_context():
        commune = unit_by_code("02839")
        leaders = db.session.scalar(select(func.count()).select_from(Membership).join(Team).where(
            Team.commune_id == commune.id, Membership.role == "leader", Membership.left_on.is_(None)))
        person = db.session.scalar(select(Person).where(Person.commune_id == commune.id).order_by(Person.id))
        commune_id = commune.id
    client = login_as("province")
    rows = _csv(client.get(f"/members/export.csv?commune={commune_id}&role=leader"))
    assert len(rows) == leaders and {r["role"] for r in rows} == {"leader"}
    assert {r["commune_code"] for r in rows} == {"02839"}
    rows = _csv(client.get("/members/export.csv", query_string={"q": fold(person.full_name), "commune": commune_id}))
    assert person.full_name in {r["full_name"] for r in rows}
    assert all(fold(r["full_name"]) == fold(person.full_name) or fold(person.full_name) in fold(r["full_name"])
               for r in rows)


def test_citizen_id_column_only_for_roles_allowed_to_read_it(login_as):
    client = login_as("youth")
    header = client.get("/members/export.csv").data.decode("utf-8-sig").split("\r\n", 1)[0]
    assert header.startswith(MEMBER_HEADER) and "citizen_id" not in header
    wb = load_workbook(io.BytesIO(client.get("/members/export.xlsx").data), read_only=True)
    headers = [c.value for c in next(wb.worksheets[0].iter_rows(max_row=1))]
    assert "Số CCCD" not in headers and "Citizen ID" not in headers


def test_formula_like_values_are_exported_as_text(app, login_as):
    hostile = "=HYPERLINK(\"http://evil.example\",\"click\")"
    with app.app_context():
        person = db.session.scalar(select(Person).join(Membership).join(Team).join(
            AdminUnit, AdminUnit.id == Team.commune_id).where(AdminUnit.id == unit_by_code("02839").id).order_by(Person.id))
        person.full_name = hostile
        team = db.session.get(Team, person.memberships[0].team_id)
        team.name = "@SUM(1+1)"
        db.session.commit()
    client = login_as("commune")
    wb = load_workbook(io.BytesIO(client.get("/members/export.xlsx").data))
    sheet = wb.worksheets[0]
    assert [c.value for c in sheet[1]][:2] == ["Mã số", "Họ và tên"]  # headers in the user's language
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value in (hostile, "@SUM(1+1)")]
    assert len(cells) >= 2
    assert all(c.data_type == "s" for c in cells)  # a string cell, never a formula ("f")
    rows = _csv(client.get("/members/export.csv"))
    assert "'" + hostile in {r["full_name"] for r in rows}
    wb = load_workbook(io.BytesIO(client.get("/teams/export.xlsx").data))
    names = [c for c in wb.worksheets[0]["B"] if c.value == "@SUM(1+1)"]
    assert names and names[0].data_type == "s"
    assert "'@SUM(1+1)" in {r["name"] for r in _csv(client.get("/teams/export.csv"))}


def test_team_exports_are_scoped_and_complete(app, login_as):
    client = login_as("district")
    rows = _csv(client.get("/teams/export.csv"))
    with app.app_context():
        district = unit_by_code("085")
        expected = db.session.scalar(select(func.count()).select_from(Team).where(within(Team, district)))
        team = db.session.scalar(select(Team).where(within(Team, district)).order_by(Team.id))
        members = db.session.scalar(select(func.count()).select_from(Membership).where(
            Membership.team_id == team.id, Membership.left_on.is_(None)))
        leader = db.session.scalar(select(Person.full_name).join(Membership).where(
            Membership.team_id == team.id, Membership.role == "leader", Membership.left_on.is_(None)))
    assert len(rows) == expected and {r["district_code"] for r in rows} == {""}  # no district today
    row = next(r for r in rows if r["id"] == str(team.id))
    assert row["members"] == str(members) and row["leader_name"] == leader
    response = client.get("/teams/export.xlsx")
    assert response.headers["Cache-Control"] == "no-store"
    wb = load_workbook(io.BytesIO(response.data), read_only=True)
    assert sum(1 for _ in wb.worksheets[0].iter_rows(min_row=2)) == expected
    other = app.test_client()
    login(other, "commune")
    commune_client_rows = _csv(other.get("/teams/export.csv"))
    assert {r["commune_code"] for r in commune_client_rows} == {"02839"}


def test_exports_need_login(client):
    for url in ("/members/export.csv", "/members/export.xlsx", "/teams/export.csv", "/teams/export.xlsx",
                "/members/import", "/members/import/template.xlsx"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_export_runs_a_fixed_number_of_queries(app, login_as):
    from sqlalchemy import event

    client = login_as("province")
    with app.app_context():
        commune_id = unit_by_code("02839").id
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        big_rows = len(_csv(client.get("/members/export.csv")))  # all 7,363 people of the province
        big = len(statements)
        statements.clear()
        small_rows = len(_csv(client.get(f"/members/export.csv?commune={commune_id}")))
        small = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert big_rows > 7000 and small_rows < 400
    assert big == small


def test_confirm_rechecks_the_database_and_a_second_confirm_writes_nothing(app, login_as):
    client = login_as("commune")
    upload(client, csv_bytes(GOOD), "a.csv")
    _, counts, token = preview(client)
    assert counts["new"] == 3
    # Meanwhile someone registers the first person of the file (same phone).
    with app.app_context():
        commune = unit_by_code("02839")
        person = Person(full_name="Lò Thị Nhập", search_name=fold("Lò Thị Nhập"), gender="female", ethnicity="tay",
                        phone="+84912777001")
        person.place_in(commune)
        db.session.add(person)
        db.session.commit()
        person_id = person.id
    before = people(app)
    assert client.post("/members/import/confirm", data={"token": token}).status_code == 302
    assert people(app) == before + 2  # the first row joined the registered person instead
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Membership).where(
            Membership.person_id == person_id)) == 1
    response = client.post("/members/import/confirm", data={"token": token})
    assert response.status_code == 302 and people(app) == before + 2
    assert stored_uploads(app) == []


def test_fast_export_phone_format_equals_display_phone(app):
    from cdt.registry.identifiers import display_phone
    from cdt.registry.transfer.exporting import phone_for_export

    with app.app_context():
        phones = db.session.scalars(select(Person.phone).where(Person.phone.is_not(None))).all()
    phones += ["+842143812345", "+84243123456", "+84321234567", "+84812345678", "+84112345678"]
    assert len(phones) > 6000
    assert [phone_for_export(p) for p in phones] == [display_phone(p) for p in phones]
    assert phone_for_export(None) == "" and phone_for_export("+84912345678") == "0912 345 678"
