"""The demo's monthly reports: the demo `province` account reads the outputs report with
real-looking numbers, drills down to a team and exports both files."""
from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook

from cdt.outputs import periods


def test_province_reads_the_demo_outputs_drills_to_a_team_and_exports(login_as):
    client = login_as("province")
    page = client.get("/reports/outputs?from=2023-01&to=2023-12&indicator=vneid_level2")
    assert page.status_code == 200
    rate = re.search(r'<span class="fs-4 fw-semibold">([0-9]+),([0-9])%</span>', page.text)
    assert rate and 85 <= int(rate.group(1)) < 100  # a few months missing
    rows = list(csv.DictReader(io.StringIO(client.get(
        "/reports/outputs.csv?from=2023-01&to=2023-12&indicator=vneid_level2").text.lstrip("\ufeff"))))
    total = rows[-1]
    assert total["code"] == "10" and int(total["value"]) > 100_000 and total["target"] and total["achieved_pct"]
    assert all(r["level"] == "district" for r in rows[:-1]) and sum(int(r["value"]) for r in rows[:-1]) == int(
        total["value"])
    sheet = load_workbook(io.BytesIO(client.get(
        "/reports/outputs.xlsx?from=2023-01&to=2023-12&indicator=vneid_level2").data)).active
    assert [c.value for c in list(sheet.iter_rows())[-1]][10] == int(total["value"])
    # down to a commune, then to a team and its last 12 months
    commune = client.get("/reports/outputs?unit=02866&from=2023-01&to=2023-12")
    team_id = re.search(r'href="/teams/([0-9]+)"', commune.text).group(1)
    team = client.get(f"/teams/{team_id}")
    last = periods.last_month()
    assert team.status_code == 200 and "Báo cáo tháng, 12 tháng gần nhất" in team.text
    assert f"{last[5:]}/{last[:4]}" in team.text


def test_commune_entry_page_is_phone_sized(login_as):
    page = login_as("commune").get("/outputs/entry")
    assert page.status_code == 200
    assert 'name="viewport"' in page.text and 'inputmode="numeric"' in page.text
    assert page.text.count('class="card h-100"') > 5  # every team of Bản Phố on one screen
