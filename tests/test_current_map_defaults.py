"""Every page offers today's map by default (issue 11): list filters, the team form, the training
form and the account form offer units valid today (an account of an ended unit: that unit's last
day, e.g. the demo district account on old Bắc Hà 085); units that have ended are not offered."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from cdt.extensions import db
from cdt.geo import villages as village_changes
from cdt.geo.models import AdminUnit
from cdt.registry.models import Team
from tests.conftest import login
from tests.factories import TEST_PASSWORD, acting_as, create_unit_tree, create_user, gen_team


def _options(html: str, name: str) -> list[str]:
    """The labels of the options of the select named `name`."""
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match is not None, f"no select {name}"
    return [re.sub(r"\s+", " ", label).strip() for label in re.findall(r"<option[^>]*>(.*?)</option>", match.group(1), re.S)]


def test_province_filters_offer_todays_communes_not_old_districts(client, login_as):
    """The demo province account works on new Lào Cai (15): no district select (today's map has
    none), the commune select lists its 99 communes at once, none of the old map."""
    login_as("province")
    html = client.get("/teams").get_data(as_text=True)
    assert 'name="district"' not in html
    communes = _options(html, "commune")[1:]  # after "All"
    assert len(communes) == 99 and "Xã Bắc Hà" in communes
    assert "Xã Bản Phố" not in communes  # old commune 02866, merged into Xã Bắc Hà on 2025-07-01
    assert len(_options(client.get("/members").get_data(as_text=True), "commune")) == 1 + 99


def test_district_account_keeps_its_old_district_communes(app, client, login_as):
    """The demo district account (old Bắc Hà, 085, ended 2025-06-30) sees its district's communes
    on that district's last day; filtering by one lists that commune's teams."""
    login_as("district")
    html = client.get("/teams").get_data(as_text=True)
    communes = _options(html, "commune")
    assert "Xã Bản Phố" in communes
    ban_pho = re.search(r'<option value="(\d+)"[^>]*>Xã Bản Phố</option>', html).group(1)
    listed = {int(i) for i in re.findall(r'href="/teams/(\d+)"', client.get(f"/teams?commune={ban_pho}").get_data(
        as_text=True))}
    with app.app_context():
        in_ban_pho = set(db.session.scalars(select(Team.id).join(AdminUnit, AdminUnit.id == Team.village_id)
                                            .where(AdminUnit.code.startswith("02866-"))))
    assert listed and listed <= in_ban_pho  # today these villages lie in new Xã Bắc Hà (02839)


def test_admin_training_form_and_account_form_offer_todays_map(client, login_as):
    login_as("admin")
    areas = _options(client.get("/training/new").get_data(as_text=True), "area_id")
    assert "Tỉnh Lào Cai" in areas and "— Xã Bắc Hà" in areas
    assert "Huyện Bắc Hà" not in areas and "Tỉnh Yên Bái" not in areas  # ended on 2025-06-30
    accounts = _options(client.get("/admin/users/new").get_data(as_text=True), "area_select")
    assert any(label.endswith("Tỉnh Lào Cai") and label.startswith("15") for label in accounts)
    assert not any("Tỉnh Yên Bái" in label or "Huyện Bắc Hà" in label for label in accounts)


@pytest.mark.bare
def test_team_form_does_not_offer_a_merged_away_village(app, client):
    with app.app_context():
        tree = create_unit_tree(communes=1, villages=3)
        commune = tree.communes[0]
        v1, v2, v3 = tree.villages_of(commune)
        team = gen_team(v2)
        officer = create_user("commune_officer", commune).username
        with acting_as():
            village_changes.merge({"commune": commune, "target_id": v1.id, "other_ids": [v2.id],
                                   "on": date(2024, 3, 1), "name": None, "move_members": False})
        names = {v.id: v.name for v in (v1, v2, v3)}
        team_id = team.id
    login(client, officer, TEST_PASSWORD)
    offered = _options(client.get("/teams/new").get_data(as_text=True), "village_id")
    assert any(names[v1.id] in label for label in offered) and any(names[v3.id] in label for label in offered)
    assert not any(names[v2.id] in label for label in offered)
    # The dissolved team of the merged-away village still edits with its own village.
    edit = _options(client.get(f"/teams/{team_id}/edit").get_data(as_text=True), "village_id")
    assert any(names[v2.id] in label for label in edit)
    with app.app_context():
        assert db.session.scalar(select(AdminUnit.valid_to).where(AdminUnit.id == v2.id)) == date(2024, 2, 29)


def test_invite_page_offers_the_communes_of_the_sessions_map(app, client, login_as):
    """A session of today's Xã Bắc Hà (02839): the invite page offers that commune, not the old
    communes it was formed from (Xã Bản Phố, 02866, until 2025-06-30)."""
    from datetime import datetime

    from cdt.core import clock
    from tests.factories import gen_session, unit

    with app.app_context():
        today = clock.today()
        session = gen_session(unit("02839"), status="planned",
                              starts_at=datetime(today.year, today.month, today.day, 8) + timedelta(days=7))
        session_id = session.id
    login_as("admin")  # training.write: admin and youth coordinators
    response = client.get(f"/training/{session_id}/invite/teams")
    assert response.status_code == 200, response.status_code
    communes = _options(response.get_data(as_text=True), "commune")
    assert "Xã Bắc Hà" in communes and "Xã Bản Phố" not in communes
