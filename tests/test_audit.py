"""The audit trail: rows for each audited action, the /audit page, its scoping and filters,
and that nothing can change or delete an event."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from cdt.audit.models import AuditEvent
from cdt.audit.service import diff, record, snapshot
from cdt.auth.models import User
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.queries import unit_by_code
from tests.conftest import login


def _add_user(app, username, role, area_code):
    with app.app_context():
        area = db.session.scalar(select(AdminUnit).where(AdminUnit.code == area_code)) if area_code else None
        user = User(username=username, role=role, area=area, must_change_password=False)
        user.set_password("a long enough password")
        db.session.add(user)
        db.session.commit()
        return user.id


def _event(app, username, action, at=None, **extra):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username)) if username else None
        event = record(action, user=user, **extra)
        if at is not None:
            event.at = at
        db.session.commit()
        return event.id


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_audit_rows_for_each_account_action(app, client):
    with app.app_context():
        before = db.session.scalar(select(func.max(AuditEvent.id))) or 0  # the demo's reform events
    login(client, "admin")
    client.post("/login", data={"username": "ghost", "password": "x" * 12})  # already logged in: ignored
    client.post("/logout")
    client.post("/login", data={"username": "ghost", "password": "wrong password x"})
    login(client, "admin")
    response = client.post("/admin/users/new", data={"username": "tuan", "role": "commune_officer",
                                                     "area_code": "02866"})
    assert response.status_code == 200
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "tuan"))
        other = db.session.scalar(select(AdminUnit.code).where(AdminUnit.level == "commune", AdminUnit.code != "02866"))
    client.post(f"/admin/users/{user_id}", data={"role": "commune_officer", "area_code": other,
                                                 "full_name": "Lò Văn Tuấn"})
    client.post(f"/admin/users/{user_id}/reset-password")
    client.post(f"/admin/users/{user_id}/deactivate")
    client.post(f"/admin/users/{user_id}/reactivate")
    with app.app_context():
        rows = db.session.execute(select(AuditEvent.action, AuditEvent.username, AuditEvent.object_id)
                                  .where(AuditEvent.id > before).order_by(AuditEvent.id)).all()
    assert [r.action for r in rows] == [
        "login.success", "logout", "login.failure", "login.success", "user.create", "user.update",
        "user.password_reset", "user.deactivate", "user.reactivate",
    ]
    assert all(r.username == "admin" for r in rows if r.action.startswith("user."))
    assert all(r.object_id == user_id for r in rows if r.action.startswith("user."))


def test_record_keeps_field_names_not_values_and_strips_control_characters(app):
    with app.app_context():
        event = record("person.update", object_type="person", object_id=1,
                       changes={"citizen_id": ["010203004005", "010203004999"], "name": ["A\nB", "C"]},
                       details={"note": "x\r\ny", "filters": {"q": "Nguyễn Văn An", "team": "12"},
                                "phone": "+84912345678"}, user=None)
        db.session.commit()
        assert event.details["changes"] == ["citizen_id", "name"]
        assert event.details["filters"] == {"q": "[withheld]", "team": "12"}
        assert event.details["phone"] == "[withheld]"
        assert event.details["note"] == "x  y"
        assert "4005" not in str(event.details) and "Nguyễn" not in str(event.details)


def test_snapshot_and_diff():
    class Thing:
        a, b = 1, "x"

    before = snapshot(Thing, ["a", "b"])
    assert diff(before, {"a": 2, "b": "x"}) == {"a": [1, 2]}


def test_events_cannot_be_changed_or_deleted(app):
    event_id = _event(app, "admin", "export", details={"what": "x"})
    with app.app_context():
        event = db.session.get(AuditEvent, event_id)
        event.action = "nothing"
        with pytest.raises(PermissionError):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEvent, event_id))
        with pytest.raises(PermissionError):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(AuditEvent, event_id).action == "export"


def test_no_route_writes_the_audit_trail(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/audit"):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


@pytest.mark.parametrize("who,status", [("district", 403), ("commune", 403), ("youth", 403),
                                        ("province", 200), ("admin", 200)])
def test_audit_page_roles(login_as, who, status):
    client = login_as(who)
    assert client.get("/audit").status_code == status


def test_audit_page_anonymous_goes_to_login(client):
    response = client.get("/audit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_province_staff_see_only_their_province(app, client):
    from cdt.geo.units import load_units

    with app.app_context():
        load_units(["01"])
        db.session.commit()
    _add_user(app, "hanoi", "district_staff", "001")
    _add_user(app, "hanoi2", "province_staff", "01")
    ours = _event(app, "commune", "team.update", object_type="team", object_id=5)
    theirs = _event(app, "hanoi", "team.update", object_type="team", object_id=6)
    nobody = _event(app, None, "login.failure", details={"username": "ghost"})
    with app.app_context():
        commune_id = db.session.scalar(select(User.id).where(User.username == "commune"))
        hanoi_id = db.session.scalar(select(User.id).where(User.username == "hanoi"))
    about_ours = _event(app, None, "login.failure", object_type="user_account", object_id=commune_id)
    about_theirs = _event(app, None, "login.failure", object_type="user_account", object_id=hanoi_id)
    by_admin = _event(app, "admin", "user.update", object_type="user_account", object_id=hanoi_id)

    login(client, "province")
    text = client.get("/audit?object_type=team").text
    assert "Tổ #5" in text and "Tổ #6" not in text
    page = client.get("/audit").text
    assert f'data-event="{ours}"' in page and f'data-event="{about_ours}"' in page
    for hidden in (theirs, nobody, about_theirs, by_admin):
        assert f'data-event="{hidden}"' not in page
    client.post("/logout")
    login(client, "hanoi2", "a long enough password")
    page = client.get("/audit").text
    for shown in (theirs, about_theirs, by_admin):
        assert f'data-event="{shown}"' in page
    assert f'data-event="{ours}"' not in page and f'data-event="{nobody}"' not in page
    client.post("/logout")
    login(client, "admin")
    page = client.get("/audit").text
    for shown in (ours, theirs, nobody, about_ours, about_theirs, by_admin):
        assert f'data-event="{shown}"' in page


def test_audit_filters_and_pagination(app, login_as):
    now = datetime.now(UTC)
    for i in range(60):
        _event(app, "commune", "team.update", at=now - timedelta(minutes=i), object_type="team", object_id=i + 1)
    old = _event(app, "district", "export", at=now - timedelta(days=10), details={"what": "teams.xlsx"})
    client = login_as("admin")
    page1 = client.get("/audit?user=commune")
    assert page1.text.count('data-event="') == 50
    assert "Trang 1 / 2" in page1.text or "Page 1 of 2" in page1.text or "2" in page1.text
    page2 = client.get("/audit?user=commune&page=2")
    assert page2.text.count('data-event="') == 10
    assert client.get("/audit?action=export").text.count('data-event="') == 1
    assert client.get("/audit?object_type=team&object_id=7").text.count('data-event="') == 1
    day = (now - timedelta(days=10)).astimezone(timezone(timedelta(hours=7))).date().isoformat()
    response = client.get(f"/audit?date_from={day}&date_to={day}")
    assert f'data-event="{old}"' in response.text and response.text.count('data-event="') == 1
    # A bad date is an error next to the field, not a crash.
    response = client.get("/audit?date_from=2026-13-45")
    assert response.status_code == 200 and "is-invalid" in response.text
    assert client.get("/audit?page=999").status_code == 200


def test_audit_page_is_read_only_and_no_store(login_as, app):
    client = login_as("admin")
    before = _count(app)
    assert client.post("/audit").status_code == 405
    assert _count(app) == before
    assert client.get("/audit").headers["Cache-Control"] == "no-store"


def test_registry_and_training_actions_reach_the_trail(app, login_as):
    """The other features record through the same service: a person's page view and an export
    appear on /audit for the admin, with translated labels."""
    from cdt.registry.models import Person

    with app.app_context():
        commune_id = unit_by_code("02839").id  # the commune account's area (new Xã Bắc Hà)
        person_id = db.session.scalar(select(Person.id).where(Person.commune_id == commune_id).order_by(Person.id))
    client = login_as("commune")
    assert client.get(f"/members/{person_id}").status_code == 200
    response = client.get("/members/export.csv")
    assert response.status_code == 200
    response.close()
    with app.app_context():
        rows = db.session.execute(select(AuditEvent.action, AuditEvent.object_id, AuditEvent.username)
                                  .where(AuditEvent.action.in_(("person.view", "export")))).all()
    assert ("person.view", person_id, "commune") in rows
    assert any(r.action == "export" and r.username == "commune" for r in rows)
    client.post("/logout")
    from tests.conftest import login as log_in

    log_in(client, "admin")
    page = client.get("/audit?action=person.view").text
    assert "Xem trang thành viên" in page and f"Thành viên #{person_id}" in page
