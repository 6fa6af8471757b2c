"""Reports on both maps, on the demo (old Lào Cai's 2023 data, old Yên Bái's made-up data, the
2025 reform applied): the issue's done-when figures, map= regrouping, errors, ended units, the
XLSX total row, unit pages with predecessors and successors."""
from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from cdt.extensions import db
from cdt.geo.models import AdminUnit, UnitSuccession
from cdt.geo.queries import unit_by_code
from cdt.reports.queries import coverage

BEFORE = date(2023, 6, 30)


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def _sums(rows: list[dict]) -> tuple[int, int, int]:
    return (sum(int(r["villages"]) for r in rows), sum(int(r["teams"]) for r in rows),
            sum(int(r["members"]) for r in rows))


def _old_laocai_successor_codes(app) -> set[str]:
    with app.app_context():
        old = unit_by_code("10", BEFORE)
        return set(db.session.scalars(
            select(AdminUnit.code).join(UnitSuccession, UnitSuccession.successor_id == AdminUnit.id)
            .join(Old := AdminUnit.__table__.alias("old"), Old.c.id == UnitSuccession.predecessor_id)
            .where(Old.c.province_id == old.id, Old.c.level == "commune")))


def test_done_when_figures_from_the_command_line(app, runner):
    old = runner.invoke(args=["cdt", "report", "coverage", "--unit", "10", "--by", "district", "--as-of",
                              "2023-06-30", "--format", "csv"])
    assert old.exit_code == 0, old.output
    rows = _csv(old.output)
    assert len(rows) == 9 and _sums(rows) == (1562, 1562, 7363)

    today = runner.invoke(args=["cdt", "report", "coverage", "--unit", "15", "--by", "commune", "--format", "csv"])
    assert today.exit_code == 0, today.output
    rows = _csv(today.output)
    assert len(rows) == 99 and all(int(r["teams"]) > 0 for r in rows)  # every new commune has teams today

    regrouped = runner.invoke(args=["cdt", "report", "coverage", "--unit", "15", "--by", "commune", "--as-of",
                                    "2023-06-30", "--map", "2025-07-01", "--format", "csv"])
    assert regrouped.exit_code == 0, regrouped.output
    rows = _csv(regrouped.output)
    from_laocai = _old_laocai_successor_codes(app)
    assert len(from_laocai) == 48 and len(rows) == 99
    assert _sums([r for r in rows if r["code"] in from_laocai]) == (1562, 1562, 7363)


def test_command_line_errors_name_levels_and_successors(runner):
    result = runner.invoke(args=["cdt", "report", "coverage", "--unit", "15", "--by", "district"])
    assert result.exit_code != 0
    assert "no district on the map of" in result.output and "use province, commune, village" in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = runner.invoke(args=["cdt", "report", "coverage", "--unit", "10", "--by", "district"])
    assert result.exit_code != 0 and "ended on 2025-06-30" in result.output and "15 Tỉnh Lào Cai" in result.output
    result = runner.invoke(args=["cdt", "report", "coverage", "--unit", "02866", "--by", "village"])
    assert result.exit_code != 0 and "02839 Xã Bắc Hà" in result.output
    # The same code on 2023-06-30 is old Yên Bái, not new Lào Cai.
    result = runner.invoke(args=["cdt", "report", "coverage", "--unit", "15", "--by", "province", "--as-of",
                                 "2023-06-30", "--format", "csv"])
    assert _csv(result.output)[0]["name"] == "Tỉnh Yên Bái"


def test_pages_answer_on_the_map_of_the_date(client, login_as):
    login_as("province")  # re-pointed to new Lào Cai (15) by the demo's reform
    page = client.get("/reports/coverage.csv")
    rows = _csv(page.get_data(as_text=True))
    assert page.status_code == 200 and len(rows) == 99 and rows[0]["level"] == "commune"
    response = client.get("/reports/coverage.csv?unit=10&as_of=2023-06-30")
    assert response.status_code == 200
    rows = _csv(response.get_data(as_text=True))
    assert len(rows) == 9 and _sums(rows) == (1562, 1562, 7363)
    regrouped = _csv(client.get("/reports/coverage.csv?as_of=2023-06-30&map=2025-07-01").get_data(as_text=True))
    assert len(regrouped) == 99 and sum(int(r["villages"]) for r in regrouped) == 2934
    response = client.get("/reports/coverage?by=district")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="by-error"' in page and "không có cấp huyện" in page
    # An ended unit for a later date: a page linking its successors.
    response = client.get("/reports/coverage?unit=10")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "30/06/2025" in page and "unit=15" in page
    assert client.get("/reports/coverage.csv?unit=10").status_code == 404


def test_xlsx_has_a_total_row(client, login_as):
    login_as("province")
    response = client.get("/reports/coverage.xlsx?unit=10&as_of=2023-06-30")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 9 + 1
    total = rows[-1]
    assert total[2] == "Tổng cộng" and total[4] == 1562 and total[5] == 1562 and total[7] == 7363
    # The CSV keeps the CLI's rows only.
    csv_rows = _csv(client.get("/reports/coverage.csv?unit=10&as_of=2023-06-30").get_data(as_text=True))
    assert len(csv_rows) == 9


def test_commune_accounts_after_the_reform(client, login_as):
    login_as("commune")  # new Xã Bắc Hà: old Thị trấn Bắc Hà, Bản Phố and others
    rows = _csv(client.get("/reports/coverage.csv").get_data(as_text=True))
    villages = {r["code"][:5] for r in rows}
    assert {"02839", "02866"} <= villages and all(r["parent_code"] == "02839" for r in rows)


def test_commune2_works_on_a_commune_of_old_yen_bai(client, login_as):
    login_as("commune2")  # new Phường Yên Bái, five old Yên Bái wards
    rows = _csv(client.get("/reports/coverage.csv").get_data(as_text=True))
    assert rows and len({r["code"][:5] for r in rows}) == 5 and {r["parent_code"] for r in rows} == {"04252"}


def test_district_account_reads_its_old_district(app, client, login_as):
    login_as("district")  # old Huyện Bắc Hà: its villages as on 30 June 2025, by old commune
    rows = _csv(client.get("/reports/coverage.csv").get_data(as_text=True))
    assert sum(int(r["villages"]) for r in rows) == 184 and {r["parent_code"] for r in rows} == {"085"}
    with app.app_context():
        assert coverage(unit_by_code("085"), "commune")  # no error on the ended district


def test_unit_pages_show_succession_and_stack_on_phones(client, login_as):
    login_as("admin")
    page = client.get("/units/02839").get_data(as_text=True)
    assert "Xã Bắc Hà" in page and "Hình thành từ" in page and "Xã Bản Phố" in page
    assert 'class="small text-body-secondary d-sm-none"' in page  # the figures under each name on a phone
    old = client.get("/units/02866").get_data(as_text=True)  # only one unit ever had this code
    assert "Xã Bản Phố" in old and "Sáp nhập vào" in old and "02839" in old and "30/06/2025" in old
    # The old unit of a reused code, by date; its children link on its map.
    old_bac_ha = client.get("/units/02839?on=2023-06-30").get_data(as_text=True)
    assert "Thị trấn Bắc Hà" in old_bac_ha
    district = client.get("/units/085").get_data(as_text=True)
    assert "on=2025-06-30" in district
    assert "Sáp nhập vào" in district and 'href="/units/02890"' in district  # the new communes it went into


def test_province_staff_read_the_audit_events_of_the_provinces_it_was_made_of(app, client, login_as):
    from cdt.audit.models import AuditEvent
    from cdt.audit.service import record
    from cdt.auth.models import User
    from cdt.auth.scope import area_condition
    from cdt.geo.units import load_units

    with app.app_context():
        load_units(["01"])  # Hà Nội, on both maps: another province
        old = unit_by_code("10", BEFORE)
        other = unit_by_code("01").id
        before = record("export", details={"what": "old"}, user=None)
        before.province_id = old.id  # an event of old Lào Cai, before the reform
        elsewhere = record("export", details={"what": "elsewhere"}, user=None)
        elsewhere.province_id = other
        db.session.commit()
        staff = db.session.scalar(select(User).where(User.username == "province"))
        seen = set(db.session.scalars(select(AuditEvent.id).where(
            AuditEvent.id.in_([before.id, elsewhere.id]), area_condition(AuditEvent, staff))))
        assert seen == {before.id}
