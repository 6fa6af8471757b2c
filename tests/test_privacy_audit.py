"""Issue 13: the audit trail records which fields changed, never personal values."""
from __future__ import annotations

import json

from sqlalchemy import select

from cdt.audit.models import AuditEvent
from cdt.extensions import db
from cdt.registry.models import Person
from tests.test_registry_helpers import COMMUNE_CODE, people_of, person_form


def personal_values(people) -> set[str]:
    """The values of people that must never be in an audit row (name, phone, citizen ID, birth date)."""
    values = set()
    for person in people:
        values.add(person.full_name)
        if person.phone:
            values.update({person.phone, person.phone.replace("+84", "0")})
        if person.citizen_id:
            values.add(person.citizen_id)
        if person.birth_date:
            values.update({person.birth_date.isoformat(), person.birth_date.strftime("%d/%m/%Y")})
    return values


def leaks_in_audit(values: set[str]) -> list[tuple[int, str]]:
    """(event id, value) for every personal value found in any audit row's text columns."""
    found = []
    rows = db.session.execute(select(AuditEvent.id, AuditEvent.details, AuditEvent.username,
                                     AuditEvent.action)).all()
    for event_id, details, username, action in rows:
        text = " ".join([json.dumps(details, ensure_ascii=False, default=str), username or "", action])
        found.extend((event_id, value) for value in values if value in text)
    return found


def test_demo_audit_rows_hold_no_personal_value(app):
    with app.app_context():
        people = db.session.scalars(select(Person)).all()
        assert len(people) > 1000
        assert leaks_in_audit(personal_values(people)) == []


def test_edits_leave_field_names_not_values(app, login_as):
    client = login_as("commune")
    new = person_form(full_name="Lò Thị Riêng Tư", phone="0987 654 321", birth_date="1993-03-14",
                      citizen_id="010293004321")
    assert client.post("/members/new", data=new).status_code == 302
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.search_name == "lo thi rieng tu"))
        edited_before = people_of(COMMUNE_CODE)[0]
        old_values = personal_values([person, edited_before])
        person_id, version = person.id, person.version_id
        other_id, other_version = edited_before.id, edited_before.version_id
        other_gender = edited_before.gender
    edit = person_form(full_name="Lò Thị Đổi Tên", phone="0987 111 222", birth_date="1994-04-15",
                       citizen_id="010294009876", version_id=str(version))
    assert client.post(f"/members/{person_id}/edit", data=edit).status_code == 302
    other = person_form(full_name="Người Khác Sửa", phone="", birth_date="1990-01-02",
                        gender=other_gender, version_id=str(other_version))
    assert client.post(f"/members/{other_id}/edit", data=other).status_code == 302
    # A search and an export: their filters carry a name typed by the officer.
    assert client.get("/members", query_string={"q": "Lò Thị Đổi Tên"}).status_code == 200
    assert client.get("/members/export.csv", query_string={"q": "Lò Thị Đổi Tên"}).status_code == 200
    with app.app_context():
        after = personal_values(db.session.scalars(select(Person).where(Person.id.in_([person_id, other_id]))))
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "person",
                                                             AuditEvent.object_id == person_id)
                                    .order_by(AuditEvent.id)).all()
        assert [e.action for e in events][:2] == ["person.create", "person.update"]
        assert events[1].details["changes"] == ["birth_date", "citizen_id", "full_name", "phone"]
        assert leaks_in_audit(old_values | after) == []


def test_migration_scrubs_values_of_existing_rows_keeping_field_names(tmp_path):
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from cdt import create_app
    from tests.conftest import BASE_CONFIG

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"})
    with app.app_context():
        upgrade(revision="5e55a1d0c0de")
        table = AuditEvent.__table__
        old = [
            {"action": "person.update", "object_type": "person", "object_id": 7,
             "details": {"changes": {"full_name": ["Lò Văn Cũ", "Lò Văn Mới"], "phone": [None, "+84912000111"]}}},
            {"action": "person.create", "object_type": "person", "object_id": 8,
             "details": {"changes": {"birth_date": [None, "1990-02-03"], "citizen_id": [None, "********4321"]}}},
            {"action": "export", "details": {"what": "members.csv", "rows": 3,
                                             "filters": {"q": "Lò Văn Mới", "team": "4"}}},
            {"action": "logout", "details": None},
        ]
        for row in old:
            db.session.execute(insert(table).values(**row))
        db.session.commit()
        upgrade()
        rows = db.session.execute(select(table.c.action, table.c.details).order_by(table.c.id)).all()
        assert [r.details for r in rows] == [
            {"changes": ["full_name", "phone"]},
            {"changes": ["birth_date", "citizen_id"]},
            {"what": "members.csv", "rows": 3, "filters": {"q": "[withheld]", "team": "4"}},
            None,
        ]
