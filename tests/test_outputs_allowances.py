"""The allowance sheet: teams active in the month, pro rata for a team established or dissolved
mid-month, per-member amounts, totals per commune, the XLSX with the same amounts."""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from cdt.extensions import db
from cdt.outputs.models import AllowanceRate
from tests.factories import gen_team, gen_village
from tests.factories import unit as by_code

pytestmark = pytest.mark.bare

BAN_PHO = "02866"
MONTH = "2025-02"  # 28 days


@pytest.fixture
def teams(app, frozen_clock):
    frozen_clock(datetime(2025, 3, 15, 3))
    with app.app_context():
        commune = by_code(BAN_PHO)
        full = gen_team(gen_village(commune), members=3, established_on=date(2024, 1, 1), name="Tổ đủ tháng")
        dissolved = gen_team(gen_village(commune), established_on=date(2024, 1, 1), status="dissolved",
                             dissolved_on=date(2025, 2, 15), name="Tổ giải thể giữa tháng")
        late = gen_team(gen_village(commune), established_on=date(2025, 2, 20), name="Tổ mới thành lập")
        gone = gen_team(gen_village(commune), established_on=date(2024, 1, 1), status="dissolved",
                        dissolved_on=date(2025, 1, 31), name="Tổ đã giải thể")
        yield full.id, dissolved.id, late.id, gone.id


def test_rates_are_set_by_the_province_only(app, teams, login_as):
    client = login_as("province")
    refused = client.post("/outputs/allowances/rates?unit=10", data={"per_team": "-5", "valid_from": "2025-01-01"})
    assert refused.status_code == 400
    response = client.post("/outputs/allowances/rates?unit=10", data={
        "per_team": "560000", "per_member": "10000", "valid_from": "2025-01-01"})
    assert response.status_code == 302
    rate = db.session.query(AllowanceRate).one()
    assert (rate.per_team, rate.per_member, rate.province_id) == (560000, 10000, by_code("10").id)
    client.post("/logout")
    assert login_as("commune").get("/outputs/allowances/rates").status_code == 403


def test_the_sheet_pays_pro_rata_and_the_xlsx_says_the_same(app, teams, login_as):
    db.session.add(AllowanceRate(province_id=by_code("10").id, per_team=560000, per_member=10000,
                                 valid_from=date(2025, 1, 1)))
    db.session.commit()
    client = login_as("province")
    page = client.get(f"/reports/allowances?unit={BAN_PHO}&month={MONTH}")
    assert page.status_code == 200
    # full month, 3 members: 560,000 + 3 x 10,000; dissolved on the 15th: 14 of 28 days;
    # established on the 20th: 9 of 28 days; dissolved before February: not listed
    assert "590.000" in page.text and "280.000" in page.text and "180.000" in page.text
    assert "Tổ đã giải thể" not in page.text
    assert "14 / 28" in page.text and "9 / 28" in page.text
    assert "1.050.000" in page.text  # the commune's total
    book = load_workbook(io.BytesIO(client.get(f"/reports/allowances.xlsx?unit={BAN_PHO}&month={MONTH}").data))
    amounts = {r[3].value: r[8].value for r in book.worksheets[0].iter_rows(min_row=2)}
    assert amounts == {"Tổ đủ tháng": 590000, "Tổ giải thể giữa tháng": 280000, "Tổ mới thành lập": 180000}
    assert [r[3].value for r in book.worksheets[1].iter_rows(min_row=2)] == [1050000]


def test_no_rate_no_amount_and_outside_is_404(app, teams, login_as):
    client = login_as("commune")
    page = client.get(f"/reports/allowances?month={MONTH}")
    assert page.status_code == 200 and "Tổ đủ tháng" in page.text
    assert client.get(f"/reports/allowances?unit=086&month={MONTH}").status_code == 404
