"""The foundation: units, demo figures, the coverage CLI, unit pages."""
import csv
import io
import re
from datetime import date

from sqlalchemy import func, select

from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.registry.models import Membership, Team
from tests.conftest import login


def test_demo_matches_lao_cai_published_figures(app):
    """Old Lào Cai (10), as it stood until 2025-06-30, matches the published figures (the demo also
    holds old Yên Bái's made-up data; both lie in new Lào Cai's communes since the reform)."""
    from cdt.geo.queries import unit_by_code
    from cdt.geo.within import within

    day = date(2023, 6, 30)
    with app.app_context():
        old = unit_by_code("10", day)
        in_old = AdminUnit.province_id == old.id
        assert db.session.scalar(select(func.count()).where(AdminUnit.level == "district", in_old)) == 9
        assert db.session.scalar(select(func.count()).where(AdminUnit.level == "commune", in_old)) == 151
        assert db.session.scalar(select(func.count()).where(AdminUnit.level == "village",
                                                            within(AdminUnit, old, day))) == 1562
        teams = select(Team.id).where(within(Team, old, day))
        assert db.session.scalar(select(func.count()).select_from(teams.subquery())) == 1562
        people = select(Membership.person_id).where(Membership.team_id.in_(teams)).distinct()
        assert db.session.scalar(select(func.count()).select_from(people.subquery())) == 7363
        leaders = db.session.scalar(select(func.count()).where(Membership.role == "leader",
                                                               Membership.team_id.in_(teams)))
        deputies = db.session.scalar(select(func.count()).where(Membership.role == "deputy",
                                                                Membership.team_id.in_(teams)))
        assert leaders == deputies == 1562


def test_report_coverage_by_district_csv(runner):
    result = runner.invoke(args=["cdt", "report", "coverage", "--by", "district", "--format", "csv",
                                 "--unit", "10", "--as-of", "2023-06-30"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert list(rows[0].keys()) == (
        "level,code,name,parent_code,villages,teams,coverage_pct,members,memberships,"
        "youth_union_members,trained_members,trained_pct,sessions_held"
    ).split(",")
    assert len(rows) == 9
    assert sum(int(r["villages"]) for r in rows) == 1562
    assert sum(int(r["teams"]) for r in rows) == 1562
    assert sum(int(r["members"]) for r in rows) == 7363
    assert {r["coverage_pct"] for r in rows} == {"100.0"}


def test_report_coverage_by_commune_has_151_rows(runner):
    result = runner.invoke(args=["cdt", "report", "coverage", "--unit", "10", "--by", "commune", "--format", "csv",
                                 "--as-of", "2023-06-30"])
    assert result.exit_code == 0, result.output
    assert len(list(csv.DictReader(io.StringIO(result.output)))) == 151


def test_report_rejects_unknown_unit_and_level(runner):
    result = runner.invoke(args=["cdt", "report", "coverage", "--unit", "99999", "--by", "commune"])
    assert result.exit_code != 0
    assert "unknown unit code: 99999" in result.output
    result = runner.invoke(args=["cdt", "report", "coverage", "--by", "hamlet"])
    assert result.exit_code != 0
    assert result.output.strip() == "Error: unknown level: hamlet (use province, district, commune, village)"


def test_units_load_is_idempotent_and_rejects_unknown_codes(app, runner):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AdminUnit))
    result = runner.invoke(args=["cdt", "units", "load", "--province", "10"])
    assert result.exit_code == 0, result.output
    assert "communes: 0 new" in result.output
    result = runner.invoke(args=["cdt", "units", "load", "--province", "99"])
    assert result.exit_code != 0
    assert "unknown province code: 99" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AdminUnit)) == before


def test_units_load_another_province_keeps_gso_codes(app, runner):
    result = runner.invoke(args=["cdt", "units", "load", "--province", "01"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        ba_dinh = db.session.scalar(select(AdminUnit).where(AdminUnit.code == "001"))
        assert ba_dinh.name == "Quận Ba Đình" and ba_dinh.kind == "urban_district"
        phuc_xa = db.session.scalar(select(AdminUnit).where(AdminUnit.code == "00001"))
        assert phuc_xa.kind == "ward" and phuc_xa.district_id == ba_dinh.id


def test_commune_kind_comes_from_the_name(app):
    with app.app_context():
        kinds = dict(db.session.execute(select(AdminUnit.code, AdminUnit.kind).where(
            AdminUnit.code.in_(["02866", "02839", "02647"]))).all())
    assert kinds["02866"] == "commune"  # Xã Bản Phố


def test_demo_refuses_non_empty_database(runner):
    result = runner.invoke(args=["cdt", "demo"])
    assert result.exit_code != 0
    assert "not empty" in result.output
    result = runner.invoke(args=["cdt", "demo", "--if-empty"])
    assert result.exit_code == 0


def test_province_page_in_vietnamese_with_totals(client):
    login(client, "province")
    response = client.get("/units/10")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Tỉnh Lào Cai" in page
    assert "1.562" in page  # villages, Vietnamese number format
    assert "7.363" in page
    assert "Huyện Bắc Hà" in page


def test_provinces_whose_city_is_spelled_thanh_pho_load(app, runner):
    # The package spells two districts "Thành Phố ..." (Bắc Kạn, Quảng Bình's Đồng Hới); the
    # national load stopped on them.
    result = runner.invoke(args=["cdt", "units", "load", "--province", "06"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        city = db.session.scalar(select(AdminUnit).where(AdminUnit.name == "Thành Phố Bắc Kạn"))
        assert city.kind == "provincial_city" and city.level == "district"


def test_report_rejects_a_level_above_the_unit(runner):
    result = runner.invoke(args=["cdt", "report", "coverage", "--unit", "085", "--by", "province",
                                 "--as-of", "2023-06-30"])
    assert result.exit_code != 0
    assert "above the unit 085" in result.output


def test_unit_pages_agree_with_the_report_and_link_to_it(client):
    login(client, "district")
    page = client.get("/units/085").get_data(as_text=True)
    assert 'href="/reports/coverage?unit=085&amp;map=2025-06-30"' in page  # ended: on its map
    assert 'href="/reports/gaps?unit=085"' in page
    report = client.get("/reports/coverage?unit=085&map=2025-06-30").get_data(as_text=True)
    # The same totals on both pages (villages, members, Vietnamese format).
    for figure in re.findall(r'fs-4 fw-semibold">([^<]+)<', page):
        assert f">{figure}<" in report
    assert client.get("/units/10").status_code == 404  # above the district's area


def test_admin_units_page_shows_country_totals(client):
    login(client, "admin")
    page = client.get("/units").get_data(as_text=True)
    assert "Tỉnh Lào Cai" in page and "2.934" in page and "14.253" in page  # new Lào Cai (15) today
    assert 'href="/reports/coverage"' in page
