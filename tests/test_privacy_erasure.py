"""Issue 13, erasure, restriction, access and retention (cdt/privacy/): an erased person's values
appear nowhere (every text column of every table, the upload folder, the SQLite file) while the
figures of past dates stay; a restricted person is hidden from everyone but the admin and the
officer handling it; a person's complete record as a page, JSON and CSV, audited; the purge."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import JSON, String, Text, inspect, select, text

from cdt.audit.models import AuditEvent
from cdt.core.text import fold, vi_sort_key
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.privacy import crypto
from cdt.registry.models import Membership, Person, PersonNameKey, Team
from cdt.reports.queries import summary
from cdt.training.models import Attendance, Invitation
from tests.conftest import login
from tests.factories import (
    TEST_PASSWORD,
    create_unit_tree,
    create_user,
    gen_attendance,
    gen_citizen_id,
    gen_invitation,
    gen_membership,
    gen_person,
    gen_session,
    gen_team,
)

pytestmark = pytest.mark.bare

PAST = date(2023, 6, 30)
NAME = "Sùng Thị Xoá Thử"
PHONE = "+84979888777"
BIRTH = date(1991, 7, 14)


def _world(app, tmp_path):
    """A commune with a team of 3 and the person to erase (trained, invited), its officer, a second
    commune with its own officer, and an upload folder in tmp_path."""
    app.config["CDT_IMPORT_FOLDER"] = str(tmp_path / "imports")
    tree = create_unit_tree(communes=2, villages=2)
    commune, other = tree.communes
    team = gen_team(tree.villages_of(commune)[0], members=3)
    cid = gen_citizen_id()
    person = gen_person(team=team, full_name=NAME, phone=PHONE, birth_date=BIRTH, citizen_id=cid)
    session = gen_session(tree.district)
    gen_invitation(session, [person])
    gen_attendance(session, [person])
    neighbour = db.session.scalar(select(Person.full_name).join(Membership).where(
        Membership.team_id == team.id, Person.id != person.id).limit(1))
    officer = create_user("commune_officer", commune)
    other_officer = create_user("commune_officer", other)
    return {"tree": tree, "commune": commune, "team": team, "person": person, "cid": cid, "session": session,
            "neighbour": neighbour, "officer": officer.username, "other_officer": other_officer.username}


def _login(client, username):
    client.post("/logout")
    login(client, username, TEST_PASSWORD)
    return client


def _text_columns():
    """(table, column) of every column holding text (strings, text, JSON) in the database."""
    inspector = inspect(db.engine)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            if isinstance(column["type"], (String, Text, JSON)) or "CHAR" in str(column["type"]).upper() \
                    or "TEXT" in str(column["type"]).upper() or "JSON" in str(column["type"]).upper():
                yield table, column["name"]


def _found_in_database(needles: list[str]) -> list[str]:
    found = []
    for table, column in _text_columns():
        stmt = text(f'SELECT CAST("{column}" AS TEXT) FROM "{table}" WHERE "{column}" IS NOT NULL')
        for (value,) in db.session.execute(stmt):
            for needle in needles:
                if needle and needle.lower() in str(value).lower():
                    found.append(f"{table}.{column}: {needle}")
    return found


def _upload(folder, name: str, rows: list[list[str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / name, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def test_erasure_leaves_no_personal_value_anywhere_and_past_figures_unchanged(app, client, tmp_path):
    with app.app_context():
        w = _world(app, tmp_path)
        person, commune, team, cid = w["person"], w["commune"], w["team"], w["cid"]
        person_id, commune_id, team_id, session_id = person.id, commune.id, team.id, w["session"].id
        cid_hash = crypto.blind_index(cid)
        memberships = db.session.scalar(select(db.func.count()).select_from(Membership).where(
            Membership.team_id == team.id))
        attendance = db.session.scalar(select(db.func.count()).select_from(Attendance).where(
            Attendance.session_id == session_id))
        invitations = db.session.scalar(select(db.func.count()).select_from(Invitation))
        # The person asked for the erasure (the requests register), after giving consent.
        from cdt.privacy import services as privacy

        with app.test_request_context("/"):
            privacy.record_consent(person, "paper", date(2023, 1, 2))
            privacy.create_request(person, {"kind": "erasure", "requester": "self", "channel": "phone",
                                            "received_on": date(2023, 6, 1),
                                            "details": f"{NAME} gọi từ số 0979888777"})
        db.session.commit()
        # (the request context's end closed the session: load the objects again)
        from cdt.privacy.models import PrivacyRequest

        assert NAME in db.session.scalar(select(PrivacyRequest.details).where(PrivacyRequest.person_id == person_id))
        commune, team = db.session.get(AdminUnit, commune_id), db.session.get(Team, team_id)
        before = summary(commune, as_of=PAST).csv_values()
        before_today = summary(commune).csv_values()
        assert _found_in_database([NAME, PHONE]), "the scan must see the values before the erasure"
        header = ["Họ và tên", "Ngày sinh", "Giới tính", "Số điện thoại", "Số CCCD"]
        folder = tmp_path / "imports"
        _upload(folder, "mentions.csv", [header, [NAME, "14/07/1991", "Nữ", "0979 888 777", cid]])
        _upload(folder, "by-phone.csv", [header, ["Tên Khác", "01/01/1990", "Nam", "0979888777", ""]])
        _upload(folder, "others.csv", [header, ["Lý Văn Khác", "01/01/1990", "Nam", "0979111222", ""]])

    _login(client, w["officer"])
    assert client.get(f"/members/{person_id}").status_code == 200  # a view: recorded in the audit trail
    page = client.get(f"/members/{person_id}/erase")
    assert page.status_code == 200 and NAME in page.text
    refused = client.post(f"/members/{person_id}/erase", data={})
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.get(Person, person_id).full_name == NAME  # nothing changed
    done = client.post(f"/members/{person_id}/erase", data={"confirm": "y"})
    assert done.status_code == 302

    with app.app_context():
        erased = db.session.get(Person, person_id)
        assert erased.erased_at is not None
        assert (erased.birth_date, erased.phone, erased.citizen_id_enc, erased.citizen_id_hash) == (None,) * 4
        assert erased.sort_name == vi_sort_key(erased.full_name) != vi_sort_key(NAME)  # no key of the old name
        assert db.session.scalar(select(PersonNameKey).where(PersonNameKey.person_id == person_id)) is None
        needles = [NAME, fold(NAME), PHONE, PHONE[3:], "0979888777", "0979 888 777", cid, cid_hash,
                   BIRTH.isoformat(), BIRTH.strftime("%d/%m/%Y")]
        assert _found_in_database(needles) == []
        # The figures of past dates and of today stay right; no row of membership, invitation or
        # attendance was removed.
        assert summary(commune, as_of=PAST).csv_values() == before
        assert summary(commune).csv_values() == before_today
        assert db.session.scalar(select(db.func.count()).select_from(Membership).where(
            Membership.team_id == team.id)) == memberships
        assert db.session.scalar(select(db.func.count()).select_from(Attendance).where(
            Attendance.session_id == session_id)) == attendance
        assert db.session.scalar(select(db.func.count()).select_from(Invitation)) == invitations
        # The erasure is audited, without any value.
        # The register keeps the request (kind, dates) and the consent record, without free text.
        from cdt.privacy.models import ConsentRecord

        request_row = db.session.scalar(select(PrivacyRequest).where(PrivacyRequest.person_id == person_id))
        assert request_row.kind == "erasure" and request_row.details is None
        assert db.session.scalar(select(ConsentRecord.method).where(ConsentRecord.person_id == person_id)) == "paper"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.erase"))
        assert event.object_id == person_id and event.details == {"source": "request"}
        # Uploads: the files mentioning the person are gone, the other stays; none holds a value.
        assert sorted(p.name for p in folder.iterdir()) == ["others.csv"]
        for item in folder.iterdir():
            data = item.read_bytes().decode("utf-8", "replace")
            assert not any(n in data for n in (NAME, cid, "0979888777"))
        if db.engine.dialect.name == "sqlite":
            assert db.session.scalar(text("PRAGMA secure_delete")) == 1
            db.session.remove()
            path = db.engine.url.database
            raw = b"".join(Path(p).read_bytes() for p in (path, path + "-wal") if os.path.exists(p))
            assert NAME.encode() not in raw and cid.encode() not in raw and PHONE.encode() not in raw

    # The person is no one now: not in the list, not on a page.
    assert NAME not in client.get("/members").text
    assert client.get(f"/members/{person_id}").status_code == 404


def test_erasure_is_for_the_admin_and_the_officer_of_the_persons_commune(app, client, tmp_path):
    with app.app_context():
        w = _world(app, tmp_path)
        pid = w["person"].id
        youth = create_user("youth_coordinator", w["tree"].district).username
        province = create_user("province_staff", w["tree"].province).username
    _login(client, youth)
    assert client.post(f"/members/{pid}/erase", data={"confirm": "y"}).status_code == 403
    _login(client, province)
    assert client.post(f"/members/{pid}/erase", data={"confirm": "y"}).status_code == 403
    _login(client, w["other_officer"])
    assert client.post(f"/members/{pid}/erase", data={"confirm": "y"}).status_code == 404
    with app.app_context():
        assert db.session.get(Person, pid).erased_at is None
    _login(client, "admin")
    assert client.post(f"/members/{pid}/erase", data={"confirm": "y"}).status_code == 302
    with app.app_context():
        assert db.session.get(Person, pid).erased_at is not None


@pytest.mark.csrf
def test_erasure_and_restriction_need_the_csrf_token(app, client, tmp_path):
    with app.app_context():
        w = _world(app, tmp_path)
        pid = w["person"].id
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"username": w["officer"], "password": TEST_PASSWORD,
                                       "csrf_token": token}).status_code == 302
    assert client.post(f"/members/{pid}/erase", data={"confirm": "y"}).status_code == 400
    assert client.post(f"/members/{pid}/restrict").status_code == 400
    with app.app_context():
        person = db.session.get(Person, pid)
        assert person.erased_at is None and person.restricted_at is None
    page = client.get(f"/members/{pid}/erase").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(f"/members/{pid}/erase", data={"confirm": "y", "csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(Person, pid).erased_at is not None


def test_a_restricted_person_is_seen_only_by_the_admin_and_the_officer_handling_it(app, client, tmp_path):
    with app.app_context():
        w = _world(app, tmp_path)
        pid, team_id = w["person"].id, w["team"].id
        colleague = create_user("commune_officer", w["commune"]).username
        district = create_user("district_staff", w["tree"].district).username
    _login(client, w["officer"])
    assert client.post(f"/members/{pid}/restrict").status_code == 302
    with app.app_context():
        person = db.session.get(Person, pid)
        assert person.restricted_at is not None
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_id == pid,
                                                                 AuditEvent.action == "person.restrict"))
    # The officer handling it still sees the person (list, search, page); exports leave them out.
    assert NAME in client.get("/members").text
    assert NAME in client.get("/members", query_string={"q": "xoa thu"}).text
    assert client.get(f"/members/{pid}").status_code == 200
    handler_team_page = client.get(f"/teams/{team_id}").text
    assert NAME in handler_team_page and "0979 888 777" in handler_team_page
    assert NAME not in client.get("/members/export.csv").get_data(as_text=True)
    for username in (colleague, district):
        _login(client, username)
        assert NAME not in client.get("/members").text
        assert NAME not in client.get("/members", query_string={"q": "xoa thu"}).text
        assert client.get(f"/members/{pid}").status_code == 404
        assert client.get(f"/members/{pid}/record").status_code == 404
        team_page = client.get(f"/teams/{team_id}").text  # listed without name: the count stays
        assert NAME not in team_page and "0979 888 777" not in team_page and w["neighbour"] in team_page
        export = client.get("/members/export.csv").get_data(as_text=True)
        assert NAME not in export and w["neighbour"] in export
    _login(client, "admin")
    assert client.get(f"/members/{pid}").status_code == 200
    assert NAME in client.get("/members", query_string={"q": "xoa thu"}).text
    assert NAME not in client.get("/members/export.csv").get_data(as_text=True)
    # Lifting the restriction shows the person again to everyone in the area.
    _login(client, w["officer"])
    client.post(f"/members/{pid}/restrict")
    _login(client, colleague)
    assert NAME in client.get("/members").text
    assert NAME in client.get("/members/export.csv").get_data(as_text=True)


def test_the_complete_record_as_page_json_and_csv_is_audited(app, client, tmp_path):
    with app.app_context():
        w = _world(app, tmp_path)
        pid, team_name, title, cid = w["person"].id, w["team"].name, w["session"].title, w["cid"]
        youth = create_user("youth_coordinator", w["tree"].district).username
    _login(client, w["officer"])
    page = client.get(f"/members/{pid}/record")
    assert page.status_code == 200 and "Toàn bộ hồ sơ của" in page.text  # in Vietnamese
    for expected in (NAME, team_name, title, cid, "14/07/1991"):
        assert expected in page.text
    data = client.get(f"/members/{pid}/record.json")
    assert data.status_code == 200 and "attachment" in data.headers["Content-Disposition"]
    record = json.loads(data.data)
    assert record["person"]["full_name"] == NAME and record["person"]["citizen_id"] == cid
    assert record["person"]["birth_date"] == "1991-07-14" and record["person"]["phone"] == PHONE
    assert [m["team_name"] for m in record["memberships"]] == [team_name]
    assert record["training"][0]["title"] == title and record["training"][0]["attended"] is True
    assert record["consent"] == []
    assert "person.record.view" in {e["action"] for e in record["processing"]}
    rows = list(csv.reader(io.StringIO(client.get(f"/members/{pid}/record.csv").get_data(as_text=True)
                                       .lstrip("\ufeff"))))
    assert rows[0] == ["section", "item", "field", "value"]
    assert ["person", "0", "full_name", NAME] in rows
    assert any(r[0] == "memberships" and r[2] == "team_name" and r[3] == team_name for r in rows)
    with app.app_context():
        events = db.session.execute(select(AuditEvent.action, AuditEvent.details).where(
            AuditEvent.object_type == "person", AuditEvent.object_id == pid,
            AuditEvent.action.like("person.record.%")).order_by(AuditEvent.id)).all()
        assert [(a, d) for a, d in events] == [("person.record.view", None),
                                                ("person.record.export", {"format": "json"}),
                                                ("person.record.export", {"format": "csv"})]
    # Who may not read citizen IDs sees the last 4 digits only; the page lists who viewed it.
    _login(client, youth)
    page = client.get(f"/members/{pid}/record")
    assert page.status_code == 200 and cid not in page.text and cid[-4:] in page.text
    assert w["officer"] in page.text
    assert json.loads(client.get(f"/members/{pid}/record.json").data)["person"]["citizen_id"].endswith(cid[-4:])
    assert cid not in client.get(f"/members/{pid}").text


def test_purge_anonymises_people_who_left_before_the_date_and_deletes_expired_uploads(app, runner, tmp_path):
    with app.app_context():
        w = _world(app, tmp_path)
        team = w["team"]
        left = gen_person(w["commune"], full_name="Vàng A Rời", phone="+84979555444")
        gen_membership(left, team, joined_on=date(2023, 1, 2), left_on=date(2023, 3, 1))
        recent = gen_person(w["commune"], full_name="Vàng A Mới Rời")
        gen_membership(recent, team, joined_on=date(2023, 1, 2), left_on=date(2024, 6, 1))
        never = gen_person(w["commune"], full_name="Vàng A Chưa Vào")
        ids = (left.id, recent.id, never.id, w["person"].id)
        before = summary(w["commune"], as_of=PAST).csv_values()
        folder = tmp_path / "imports"
        _upload(folder, "old.csv", [["Họ và tên"], ["Ai Đó"]])
        _upload(folder, "fresh.csv", [["Họ và tên"], ["Ai Khác"]])
        old = time.time() - 7 * 3600
        os.utime(folder / "old.csv", (old, old))

    dry = runner.invoke(args=["cdt", "privacy", "purge", "--left-before", "2024-01-01", "--dry-run"])
    assert dry.exit_code == 0 and "1 people" in dry.output
    with app.app_context():
        assert db.session.get(Person, ids[0]).erased_at is None
    bad = runner.invoke(args=["cdt", "privacy", "purge", "--left-before", "01-2024"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output
    result = runner.invoke(args=["cdt", "privacy", "purge", "--left-before", "2024-01-01"])
    assert result.exit_code == 0, result.output
    assert "1 people anonymised" in result.output and "1 expired upload" in result.output
    with app.app_context():
        assert [db.session.get(Person, i).erased_at is not None for i in ids] == [True, False, False, False]
        assert db.session.get(Person, ids[0]).full_name != "Vàng A Rời"
        assert summary(w["commune"], as_of=PAST).csv_values() == before
        assert sorted(p.name for p in folder.iterdir()) == ["fresh.csv"]
        assert db.session.scalar(select(AuditEvent.details).where(AuditEvent.action == "person.erase")) \
            == {"source": "retention"}
