"""The audit trail reads as words, not codes (issue 17, item 8): actions, fields and values are
translated, nothing shows "None", and the records an event is about are links."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cdt.audit.models import AuditEvent
from cdt.audit.service import record
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from tests.factories import acting_as, create_user, gen_person, gen_session, gen_team, gen_village


def _details_cells(html: str) -> str:
    """The text of the page's Details and Object cells (the raw action code beside each label is
    shown on purpose, marked translate=no, so it is left out)."""
    html = re.sub(r'<span class="text-muted" translate="no">[^<]*</span>', "", html)
    return html[html.index("<tbody>"):html.index("</tbody>")]


@pytest.mark.bare
def test_audit_page_translates_values_and_links_records(app, login_as):
    with app.app_context():
        team = gen_team(gen_village(), members=2)
        person = gen_person(team=team)
        create_user("commune_officer", db.session.get(AdminUnit, team.commune_id))
        gen_session(mode="in_person")
        with acting_as():
            record("login.failure", user=None, details={"reason": "wrong_password", "from": None})
        db.session.commit()
        team_id, person_id = team.id, person.id
        unit_event = record("village.place", team.village, details={"code": team.village.code})
        db.session.commit()
        unit_code = team.village.code
        assert db.session.get(AuditEvent, unit_event.id).object_type == "admin_unit"
    client = login_as("admin")
    client.get(f"/members/{person_id}")  # a person.view event
    client.post("/admin/users/new", data={"username": "tuan-moi", "role": "commune_officer", "area_code": ""})
    html = client.get("/audit").text
    cells = _details_cells(html)

    # Values in words: roles (of accounts and of teams), a session's format, a log-in failure's reason.
    assert "Tổ trưởng" in cells and "Trực tiếp" in cells and "sai mật khẩu" in cells
    for code in ("leader", "in_person", "wrong_password", "commune_officer", "None"):
        assert code not in cells, code
    # Detail keys in words.
    assert "Lý do" in cells and "Thành viên</strong>" in cells and "Tổ</strong>" in cells
    assert "person_id" not in cells and "team_id" not in cells
    # The records are links: the person, the team, the unit (on its own map).
    assert f'href="/members/{person_id}"' in cells
    assert f'href="/teams/{team_id}"' in cells
    assert f'href="/units/{unit_code}' in cells
    # Actions in words.
    assert "Xem trang thành viên" in html and "Thêm vào tổ" in html


@pytest.mark.bare
def test_unknown_action_and_key_are_shown_as_stored(app, login_as):
    with app.app_context(), acting_as():
        record("something.new", details={"brand_new_key": "value 1"})
        db.session.commit()
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "something.new"))
    cells = _details_cells(login_as("admin").get("/audit?action=something.new").text)
    assert "something.new" in cells and "brand_new_key" in cells and "value 1" in cells
