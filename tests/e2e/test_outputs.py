"""Monthly team reports as new users would use them, in a real browser at 360 x 740 and 1280 x 800
(issue 12): the commune officer enters last month for the commune's teams from the menu, on a
phone as on a desktop; the province account opens the outputs report from the menu, drills down
from its commune to the team, sees the figure on the team's page, and downloads the CSV and the
Excel file with the page's number."""
from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.e2e

VALUE = 4321  # a figure no demo report has: "4.321" in Vietnamese


def test_commune_enters_a_month_and_the_province_follows_it_to_the_team(browse):
    page = browse.page
    browse.login("commune")
    browse.nav("Báo cáo tháng")
    assert "/outputs/entry" in page.url
    browse.check("entry")
    box = page.locator('input[name^="v-"]:not([disabled])').first
    team_id = int(re.match(r"v-(\d+)-\d+", box.get_attribute("name")).group(1))
    box.fill(str(VALUE))
    page.get_by_role("button", name="Lưu báo cáo tháng").click()
    page.wait_for_load_state()
    assert page.locator(".alert-success").count() == 1, page.content()[:2000]
    assert page.locator(f'input[name="{box.get_attribute("name")}"]').input_value() in (str(VALUE), "4.321")
    browse.check("entry-saved")

    browse.context.clear_cookies()
    browse.login("province")
    browse.nav("Kết quả hoạt động")
    assert "/reports/outputs" in page.url
    browse.check("outputs-province")
    # Drill down: the commune of the demo officer, then its team.
    page.get_by_role("link", name="Xã Bắc Hà", exact=True).first.click()
    page.wait_for_load_state()
    assert "unit=02839" in page.url
    browse.check("outputs-commune")
    commune_report = page.url
    page.locator(f'a[href="/teams/{team_id}"]').first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/teams/{team_id}")
    assert "4.321" in page.locator("main").inner_text()
    browse.check("team-months")

    # The commune's report (the year so far) counts the month entered, and both files give the
    # page's number.
    browse.goto(commune_report.removeprefix(browse.server.url))
    with page.expect_download() as csv_download:
        page.locator('a[href*="/reports/outputs.csv"]').first.click()
    with open(csv_download.value.path(), encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    team_rows = [r for r in rows if r["level"] == "team" and int(r["value"] or 0) >= VALUE]
    assert len(team_rows) == 1, [(r["code"], r["value"]) for r in rows]
    figure = int(team_rows[0]["value"])
    assert f"{figure:,}".replace(",", ".") in page.locator("main").inner_text()
    with page.expect_download() as xlsx_download:
        page.locator('a[href*="/reports/outputs.xlsx"]').first.click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    with open(xlsx_download.value.path(), "rb") as handle:
        workbook = load_workbook(io.BytesIO(handle.read()))
    assert any(cell.value == figure for row in workbook.active.iter_rows() for cell in row)
    workbook.close()
