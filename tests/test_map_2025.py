"""The 2025 map: units of both maps with validity, the succession from the official table, codes
resolved by date (issue 11)."""
from __future__ import annotations

import csv
import re
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from cdt.extensions import db
from cdt.geo.models import AdminUnit, UnitSuccession
from cdt.geo.queries import successors, unit_by_code
from cdt.geo.reform2025 import DATA, NEW_MAP_FROM, OLD_MAP_TO
from cdt.geo.units import load_units

pytestmark = pytest.mark.bare

BEFORE, AFTER = date(2023, 6, 30), date(2025, 7, 1)


def _table_rows(new_province: str) -> list[list[str]]:
    """The rows of the shipped official table for one new province, read here independently."""
    with open(DATA, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))[2:]
    return [r for r in rows if r[1].strip() and re.search(rf"\({new_province}\)\s*$", r[0])]


def _count(level: str, new: bool, province: AdminUnit | None = None) -> int:
    stmt = select(func.count()).select_from(AdminUnit).where(
        AdminUnit.level == level, AdminUnit.valid_from.is_not(None) if new else AdminUnit.valid_from.is_(None))
    if province is not None:
        stmt = stmt.where(AdminUnit.province_id == province.id)
    return db.session.scalar(stmt)


def test_both_maps_loaded_with_their_dates_and_codes_resolved_by_date(app):
    with app.app_context():
        load_units(["15"])  # old Yên Bái beside old Lào Cai (the bare database's)
        old_laocai, old_yenbai = unit_by_code("10", BEFORE), unit_by_code("15", BEFORE)
        new_laocai = unit_by_code("15")
        assert (old_laocai.name, old_laocai.valid_to) == ("Tỉnh Lào Cai", OLD_MAP_TO)
        assert (old_yenbai.name, old_yenbai.valid_to) == ("Tỉnh Yên Bái", OLD_MAP_TO)
        assert (new_laocai.name, new_laocai.valid_from, new_laocai.valid_to) == ("Tỉnh Lào Cai", NEW_MAP_FROM, None)
        assert old_yenbai.id != new_laocai.id
        assert _count("commune", True, new_laocai) == 99
        kinds = dict(db.session.execute(
            select(AdminUnit.kind, func.count()).where(AdminUnit.province_id == new_laocai.id,
                                                      AdminUnit.level == "commune").group_by(AdminUnit.kind)).all())
        assert kinds == {"commune": 89, "ward": 10}
        # No district on the new map; each new commune sits directly in its province.
        assert db.session.scalar(select(func.count()).select_from(AdminUnit).where(
            AdminUnit.province_id == new_laocai.id, AdminUnit.district_id.is_not(None))) == 0
        # A reused code names a different place on each side of the reform.
        old_kim_tan, new_lao_cai = unit_by_code("02647", BEFORE), unit_by_code("02647", AFTER)
        assert (old_kim_tan.name, new_lao_cai.name) == ("Phường Kim Tân", "Phường Lào Cai")
        assert unit_by_code("02671", AFTER).name == "Phường Cam Đường"  # the official code, not the draft
        # An ended code, asked for a later date, is its last unit (the caller answers with successors).
        assert unit_by_code("02866").valid_to == OLD_MAP_TO
        assert [u.code for u in successors(unit_by_code("02866"))] == ["02839"]
        assert [u.code for u in successors(old_laocai)] == ["15"]


def test_every_lao_cai_row_of_the_official_table_is_a_succession(app):
    rows = _table_rows("15")
    assert len(rows) == 319
    with app.app_context():
        load_units(["15"])
        Old, New = aliased(AdminUnit), aliased(AdminUnit)
        loaded = {
            (old_code, new_code): kind
            for old_code, new_code, kind in db.session.execute(
                select(Old.code, New.code, UnitSuccession.kind)
                .join(Old, Old.id == UnitSuccession.predecessor_id)
                .join(New, New.id == UnitSuccession.successor_id)
                .where(Old.level == "commune", New.level == "commune"))
        }
        for row in rows:
            old_code, new_code = row[4].strip(), row[2].strip()
            assert (old_code, new_code) in loaded, row
            # No split in Lào Cai: every pair is whole (or kept, same area).
            assert loaded[(old_code, new_code)] in ("whole", "kept"), row
        assert len(loaded) == 319
        # Each of old Lào Cai's 151 communes maps to exactly one of the 99 new communes.
        old_laocai = unit_by_code("10", BEFORE)
        per_old = dict(db.session.execute(
            select(Old.code, func.count(UnitSuccession.id))
            .join(UnitSuccession, UnitSuccession.predecessor_id == Old.id)
            .where(Old.province_id == old_laocai.id, Old.level == "commune").group_by(Old.code)).all())
        assert len(per_old) == 151 and set(per_old.values()) == {1}
        targets = {new for (old, new) in loaded if old in per_old}
        assert len(targets) == 48  # old Lào Cai's communes became 48 of the 99
        assert _count("commune", False, old_laocai) == 151


def test_load_is_idempotent_and_refuses_unknown_codes(app, runner):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AdminUnit))
        successions = db.session.scalar(select(func.count()).select_from(UnitSuccession))
    result = runner.invoke(args=["cdt", "units", "load", "--province", "10"])
    assert result.exit_code == 0, result.output
    assert "provinces: 0 new, districts: 0 new, communes: 0 new, successions: 0 new" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AdminUnit)) == before
        assert db.session.scalar(select(func.count()).select_from(UnitSuccession)) == successions
    result = runner.invoke(args=["cdt", "units", "load", "--province", "99"])
    assert result.exit_code != 0 and "unknown province code: 99" in result.output


# -- Applying the reform to existing data ---------------------------------------------------------

def _figures(parent, level, as_of, map_day=None):
    from cdt.reports.queries import coverage

    return [(r.code, r.villages, r.teams, r.members) for r in coverage(parent, level, as_of)]


def _old_data():
    """Villages with teams in old Bản Phố (02866) and old Thị trấn Bắc Hà (02839), a person
    registered by Bản Phố without a team."""
    from tests.factories import gen_person, gen_team, gen_village, unit

    ban_pho, bac_ha = unit("02866", BEFORE), unit("02839", BEFORE)  # old Bản Phố, old Thị trấn Bắc Hà
    teams = [gen_team(gen_village(ban_pho), members=3), gen_team(gen_village(ban_pho), members=2),
             gen_team(gen_village(bac_ha), members=4)]
    loner = gen_person(ban_pho)
    db.session.commit()
    return teams, loner


def test_reform_places_villages_teams_people_and_accounts_and_keeps_old_figures(app, runner):
    from cdt.audit.models import AuditEvent
    from cdt.auth.models import User
    from cdt.geo.models import VillagePlace
    from cdt.geo.within import within
    from cdt.registry.models import Person, Team
    from tests.factories import unit

    with app.app_context():
        teams, loner = _old_data()
        team_ids, loner_id = [t.id for t in teams], loner.id
        old_laocai = unit("10")
        before = _figures(old_laocai, "district", BEFORE)
        before_communes = _figures(unit("085"), "commune", BEFORE)
        assert sum(v for _c, v, _t, _m in before) == 3
    dry = runner.invoke(args=["cdt", "units", "reform", "--province", "15", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "villages placed in a new commune: 3" in dry.output and "nothing changed" in dry.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VillagePlace).where(
            VillagePlace.valid_from.is_not(None))) == 0
        assert db.session.scalar(select(User).where(User.username == "commune")).area.code == "02866"

    result = runner.invoke(args=["cdt", "units", "reform", "--province", "15"])
    assert result.exit_code == 0, result.output
    assert "villages placed in a new commune: 3 (in 1 new communes; 0 waiting for a decision)" in result.output
    assert "account district (district_staff) works on abolished district 085" in result.output
    with app.app_context():
        new_bac_ha, new_laocai = unit("02839", None), unit("15", None)
        assert new_bac_ha.valid_from == NEW_MAP_FROM and new_bac_ha.name == "Xã Bắc Hà"
        for team_id in team_ids:
            team = db.session.get(Team, team_id)
            assert (team.province_id, team.district_id, team.commune_id) == (new_laocai.id, None, new_bac_ha.id)
            assert team.village.commune_id == new_bac_ha.id and team.village.parent_id == new_bac_ha.id
        assert db.session.get(Person, loner_id).commune_id == new_bac_ha.id
        # Figures before the reform, on the old map, are unchanged; today's are on the new one.
        assert _figures(unit("10"), "district", BEFORE) == before
        assert _figures(unit("085"), "commune", BEFORE) == before_communes
        today_rows = {code: (v, t, m) for code, v, t, m in _figures(new_laocai, "commune", None)}
        assert len(today_rows) == 99 and today_rows["02839"] == (3, 3, 9)
        # "Inside" on a date: the old commune then, the new commune now.
        in_old = set(db.session.scalars(select(Team.id).where(within(Team, unit("02866"), BEFORE))))
        in_new = set(db.session.scalars(select(Team.id).where(within(Team, new_bac_ha))))
        assert len(in_old) == 2 and in_new == set(team_ids)
        assert not db.session.scalars(select(Team.id).where(within(Team, new_bac_ha, BEFORE))).all()
        # Accounts: commune officer and province staff follow; the district account is listed.
        areas = {u.username: u.area for u in db.session.scalars(select(User))}
        assert areas["commune"].id == new_bac_ha.id and areas["province"].id == new_laocai.id
        assert areas["district"].code == "085" and areas["district"].valid_to == OLD_MAP_TO
        # One audit event per change.
        actions = dict(db.session.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all())
        assert actions["village.place"] == 3 and actions["user.repoint"] == 2
        assert "person.place" not in actions  # people follow their commune, teams their village
    again = runner.invoke(args=["cdt", "units", "reform"])
    assert again.exit_code == 0 and "villages placed in a new commune: 0" in again.output


def test_district_account_keeps_reading_its_old_villages_after_the_reform(app, runner, login_as):
    with app.app_context():
        teams, _ = _old_data()
        names = [t.name for t in teams]
    assert runner.invoke(args=["cdt", "units", "reform"]).exit_code == 0
    client = login_as("district")
    page = client.get("/teams").get_data(as_text=True)
    assert all(name in page for name in names)
    client = login_as("commune")  # re-pointed to new Xã Bắc Hà: sees the teams of both old communes
    page = client.get("/teams").get_data(as_text=True)
    assert all(name in page for name in names)


def test_villages_of_a_split_commune_wait_for_a_decision(app, runner, tmp_path):
    from tests.factories import gen_team, gen_village, unit

    with app.app_context():
        ban_pho = unit("02866")
        first, second = gen_village(ban_pho), gen_village(ban_pho)
        gen_team(first, members=2)
        codes = (first.code, second.code)
        # Make Bản Phố a split commune: part of it went to Xã Bảo Nhai too (synthetic, for the test).
        other = unit("02890", None)
        assert other.valid_from == NEW_MAP_FROM
        db.session.query(UnitSuccession).filter_by(predecessor_id=ban_pho.id).update({"kind": "part"})
        db.session.add(UnitSuccession(predecessor_id=ban_pho.id, successor_id=other.id, kind="part", on=NEW_MAP_FROM))
        db.session.commit()
        other_code = other.code
    result = runner.invoke(args=["cdt", "units", "reform", "--province", "15"])
    assert result.exit_code == 0, result.output
    assert "0 waiting" not in result.output and "2 waiting for a decision" in result.output
    assert f"  {codes[0]} " in result.output and f"one of 02839, {other_code}" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(f"village_code,new_commune_code\n{codes[0]},02647\n", encoding="utf-8")
    refused = runner.invoke(args=["cdt", "units", "reform", "--decisions", str(bad)])
    assert refused.exit_code != 0 and "is not a successor of 02866" in refused.output
    good = tmp_path / "good.csv"
    good.write_text(f"village_code,new_commune_code\n{codes[0]},{other_code}\n{codes[1]},02839\n", encoding="utf-8")
    result = runner.invoke(args=["cdt", "units", "reform", "--decisions", str(good)])
    assert result.exit_code == 0 and "villages placed in a new commune: 2 (in 2 new communes" in result.output
    with app.app_context():
        assert unit(codes[0], None).commune_id == unit(other_code, None).id
        assert unit(codes[1], None).commune_id == unit("02839", None).id
