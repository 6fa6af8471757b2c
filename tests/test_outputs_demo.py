"""The demo's monthly reports: the demo `province` account reads the outputs report with
real-looking numbers, drills down to a team and exports both files."""
from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook

from cdt.outputs import periods


def _csv(client, query: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(client.get(f"/reports/outputs.csv?{query}").text.lstrip("\ufeff"))))


def test_province_reads_the_demo_outputs_drills_to_a_team_and_exports(login_as):
    client = login_as("province")  # today's Tỉnh Lào Cai (15)
    last = periods.last_month()
    year = f"from={last[:4]}-01&to={last}&indicator=vneid_level2"
    page = client.get(f"/reports/outputs?{year}")
    assert page.status_code == 200
    rate = re.search(r'<span class="fs-4 fw-semibold">([0-9]+),([0-9])%</span>', page.text)
    assert rate and 85 <= int(rate.group(1)) < 100  # a few months missing
    rows = _csv(client, year)
    total = rows[-1]
    assert total["code"] == "15" and int(total["value"]) > 10_000 and total["target"] and total["achieved_pct"]
    assert all(r["level"] == "commune" for r in rows[:-1]) and len(rows) - 1 == 99
    assert sum(int(r["value"]) for r in rows[:-1]) == int(total["value"])
    sheet = load_workbook(io.BytesIO(client.get(f"/reports/outputs.xlsx?{year}").data)).active
    assert [c.value for c in list(sheet.iter_rows())[-1]][10] == int(total["value"])
    # 2023 is reported on the map of 2023: old Lào Cai (10), read by today's province as its predecessor
    old = _csv(client, "unit=10&from=2023-01&to=2023-12&indicator=vneid_level2")
    assert old[-1]["code"] == "10" and int(old[-1]["value"]) > 100_000
    assert all(r["level"] == "district" for r in old[:-1]) and len(old) - 1 == 9
    assert sum(int(r["value"]) for r in old[:-1]) == int(old[-1]["value"])
    # down to a commune of today's map, then to a team and its last 12 months
    commune = client.get(f"/reports/outputs?unit=02839&from={last[:4]}-01&to={last}")
    team_id = re.search(r'href="/teams/([0-9]+)"', commune.text).group(1)
    team = client.get(f"/teams/{team_id}")
    assert team.status_code == 200 and "Báo cáo tháng, 12 tháng gần nhất" in team.text
    assert f"{last[5:]}/{last[:4]}" in team.text


def test_commune_entry_page_is_phone_sized(login_as):
    page = login_as("commune").get("/outputs/entry")
    assert page.status_code == 200
    assert 'name="viewport"' in page.text and 'inputmode="numeric"' in page.text
    assert page.text.count('class="card h-100"') > 5  # every team of Bản Phố on one screen
