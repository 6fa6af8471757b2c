"""Monthly team reports: indicators, the commune's month entry, locks, deadlines, late and missing,
and the outputs report (page, CSV, XLSX, CLI) with reporting rate and % achieved."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from cdt.audit.models import AuditEvent
from cdt.extensions import db
from cdt.outputs.models import Indicator, MonthLock, OutputTarget, TeamReport, TeamReportValue
from cdt.outputs.services import seed_indicators
from tests.factories import gen_team, gen_village
from tests.factories import unit as by_code

pytestmark = pytest.mark.bare

BAN_PHO = "02866"  # the demo `commune` account's commune (district 085 Bắc Hà, province 10 Lào Cai)
MONTH = "2025-02"


@pytest.fixture
def setup(app, frozen_clock):
    frozen_clock(datetime(2025, 3, 15, 3))  # 10:00 in Vietnam: last month is February 2025
    with app.app_context():
        seed_indicators()
        commune = by_code(BAN_PHO)
        teams = [gen_team(gen_village(commune), established_on=date(2024, 1, 1)) for _ in range(3)]
        vneid = db.session.scalar(select(Indicator).where(Indicator.code == "vneid_level2"))
        yield {"commune": commune, "teams": [t.id for t in teams], "vneid": vneid.id,
               "indicators": [i.id for i in db.session.scalars(select(Indicator))]}


def _entry(client, teams, vneid, figures, month=MONTH, **extra):
    data = {f"v-{team}-{vneid}": value for team, value in zip(teams, figures, strict=True)}
    data.update(extra)
    return client.post(f"/outputs/entry?month={month}", data=data)


def _value(team_id, indicator_id, month=MONTH):
    return db.session.scalar(select(TeamReportValue.value).join(TeamReport).where(
        TeamReport.team_id == team_id, TeamReport.period == month, TeamReportValue.indicator_id == indicator_id))


def _csv(text):
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))  # the download starts with a BOM for Excel


def test_seed_is_idempotent(app, runner):
    first = runner.invoke(args=["cdt", "indicators", "seed"])
    second = runner.invoke(args=["cdt", "indicators", "seed"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "0 indicators added" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Indicator)) == 6


def test_commune_enters_a_month_and_every_output_shows_it(app, setup, login_as, runner):
    client = login_as("commune")
    page = client.get(f"/outputs/entry?month={MONTH}")
    assert page.status_code == 200
    assert 'inputmode="numeric"' in page.text and "02/2025" in page.text
    teams, vneid = setup["teams"], setup["vneid"]
    response = _entry(client, teams, vneid, ["120", "0", ""], **{f"note-{teams[0]}": "Hỗ trợ tại nhà văn hoá"})
    assert response.status_code == 302
    assert _value(teams[0], vneid) == 120
    assert _value(teams[1], vneid) == 0  # 0 = none, a report
    assert db.session.scalar(select(TeamReport).where(TeamReport.team_id == teams[2])) is None  # blank
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outputs.report")
                              .order_by(AuditEvent.id))
    assert sorted(event.details["fields"]) == ["note", "vneid_level2"] and "Hỗ trợ" not in str(event.details)

    client.post("/logout")
    province = login_as("province")
    page = province.get(f"/reports/outputs?unit={BAN_PHO}&from={MONTH}&to={MONTH}&indicator=vneid_level2")
    assert page.status_code == 200
    assert "120" in page.text and "66,7%" in page.text  # 2 of 3 teams reported
    args = f"unit={BAN_PHO}&from={MONTH}&to={MONTH}&indicator=vneid_level2"
    rows = _csv(province.get(f"/reports/outputs.csv?{args}").text)
    total = rows[-1]
    assert (total["code"], total["value"], total["reported"], total["expected"]) == (BAN_PHO, "120", "2", "3")
    assert total["reporting_rate_pct"] == "66.7"
    assert [r["value"] for r in rows if r["level"] == "team"] == ["120", "0", "0"]
    sheet = load_workbook(io.BytesIO(province.get(f"/reports/outputs.xlsx?{args}").data)).active
    xlsx = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert xlsx[-1][10] == 120 and xlsx[-1][8] == 2
    result = runner.invoke(args=["cdt", "report", "outputs", "--unit", BAN_PHO, "--from", MONTH, "--to", MONTH,
                                 "--indicator", "vneid_level2"])
    assert result.exit_code == 0, result.output
    assert _csv(result.output) == rows
    # Up the tree: the province by district, same number
    page = province.get(f"/reports/outputs?unit=10&from={MONTH}&to={MONTH}&indicator=vneid_level2")
    assert page.status_code == 200 and "120" in page.text
    # Drill down to the team: its page shows its last 12 months
    assert f'href="/teams/{teams[0]}"' in province.get(f"/reports/outputs?{args}").text
    team_page = province.get(f"/teams/{teams[0]}")
    assert team_page.status_code == 200 and "120" in team_page.text


def test_bad_figure_saves_nothing(app, setup, login_as):
    client = login_as("commune")
    teams, vneid = setup["teams"], setup["vneid"]
    response = _entry(client, teams, vneid, ["12", "-3", "abc"])
    assert response.status_code == 400
    assert "Nhập một số nguyên" in response.text or "whole number" in response.text
    assert db.session.scalar(select(func.count()).select_from(TeamReport)) == 0


def test_locked_month_refuses_changes_and_reopening_is_audited(app, setup, login_as, client):
    teams, vneid = setup["teams"], setup["vneid"]
    commune = login_as("commune")
    _entry(commune, teams, vneid, ["5", "", ""])
    client.post("/logout")
    province = login_as("province")
    assert province.post(f"/outputs/months/{MONTH}/lock?unit=10").status_code == 302
    assert db.session.get(MonthLock, (by_code("10").id, MONTH)) is not None
    client.post("/logout")
    commune = login_as("commune")
    response = _entry(commune, teams, vneid, ["9", "", ""])
    assert response.status_code == 409
    assert _value(teams[0], vneid) == 5
    client.post("/logout")
    province = login_as("province")
    province.post(f"/outputs/months/{MONTH}/reopen?unit=10")
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "outputs.month.reopen"))
    client.post("/logout")
    commune = login_as("commune")
    assert _entry(commune, teams, vneid, ["9", "", ""]).status_code == 302
    assert _value(teams[0], vneid) == 9


def test_future_month_and_other_commune_are_refused(app, setup, login_as):
    client = login_as("commune")
    assert client.get("/outputs/entry?month=2025-99").status_code == 404
    teams, vneid = setup["teams"], setup["vneid"]
    assert _entry(client, teams, vneid, ["1", "", ""], month="2025-04").status_code == 409
    other = db.session.scalar(select(by_code("085").__class__.code).where(
        by_code("085").__class__.level == "commune", by_code("085").__class__.code != BAN_PHO))
    assert client.get(f"/outputs/entry?commune={other}").status_code == 404


def test_reporting_rate_and_achieved_follow_the_definitions(app, setup, login_as):
    teams, vneid = setup["teams"], setup["vneid"]
    commune_unit = setup["commune"]
    # a team dissolved before February is not expected; one dissolved on 10 February is
    gone = gen_team(gen_village(commune_unit), established_on=date(2024, 1, 1), status="dissolved",
                    dissolved_on=date(2025, 1, 31))
    late_gone = gen_team(gen_village(commune_unit), established_on=date(2024, 1, 1), status="dissolved",
                         dissolved_on=date(2025, 2, 10))
    client = login_as("commune")
    page = client.get(f"/outputs/entry?month={MONTH}")
    assert f"team-{late_gone.id}" in page.text and f"team-{gone.id}" not in page.text
    _entry(client, teams, vneid, ["30", "20", ""])
    db.session.add_all([
        OutputTarget(unit_id=commune_unit.id, province_id=commune_unit.province_id, indicator_id=vneid,
                     year=2025, value=1200),  # 100 a month
        OutputTarget(unit_id=commune_unit.id, province_id=commune_unit.province_id, indicator_id=vneid,
                     year=2025, month=3, value=40),
    ])
    db.session.commit()
    from cdt.outputs import report

    indicators = [db.session.get(Indicator, vneid)]
    rows, total = report.outputs(by_code(BAN_PHO), "team", MONTH, MONTH, indicators)
    assert (total.expected, total.reported) == (4, 2)
    assert str(total.reporting_rate_pct) == "50.0"
    assert total.target(vneid) == 100 and str(total.achieved_pct(vneid)) == "50.0"
    # February (year / 12 = 100) + March (its own month target, 40)
    _r, both = report.outputs(by_code(BAN_PHO), "team", MONTH, "2025-03", indicators)
    assert both.target(vneid) == 140
    assert (both.expected, both.reported) == (4 + 3, 2)


def test_province_manages_its_own_indicators_only(app, setup, login_as):
    client = login_as("province")
    response = client.post("/outputs/indicators/new", data={
        "code": "zalo_groups", "name_vi": "Nhóm Zalo thôn", "name_en": "Village Zalo groups",
        "measure": "households", "position": "200", "active": "y"})
    assert response.status_code == 302
    own = db.session.scalar(select(Indicator).where(Indicator.code == "zalo_groups"))
    assert own.province_id == by_code("10").id
    assert client.get(f"/outputs/indicators/{setup['vneid']}/edit").status_code == 404
    assert client.get(f"/outputs/indicators/{own.id}/edit").status_code == 200
    duplicate = client.post("/outputs/indicators/new", data={
        "code": "vneid_level2", "name_vi": "x", "name_en": "x", "measure": "people", "position": "1"})
    assert duplicate.status_code == 400
    # the commune now reports it
    client.post("/logout")
    assert "Nhóm Zalo thôn" in login_as("commune").get(f"/outputs/entry?month={MONTH}").text


@pytest.mark.parametrize("username", ["commune", "district", "youth"])
def test_only_managers_manage(app, setup, login_as, username):
    client = login_as(username)
    assert client.get("/outputs/indicators").status_code == 403
    assert client.post(f"/outputs/months/{MONTH}/lock?unit=10").status_code == 403


def test_district_cannot_read_outside(app, setup, login_as):
    client = login_as("district")
    assert client.get("/reports/outputs").status_code == 200
    assert client.get("/reports/outputs?unit=086").status_code == 404
    assert client.get("/outputs/late?unit=086").status_code == 404


def test_late_and_missing(app, setup, login_as, frozen_clock):
    teams, vneid = setup["teams"], setup["vneid"]
    client = login_as("commune")
    _entry(client, teams, vneid, ["1", "", ""])  # on 15 March: after the 5th, late
    client.post("/logout")
    page = login_as("province").get(f"/outputs/late?unit={BAN_PHO}&month={MONTH}")
    assert page.status_code == 200
    assert page.text.count("badge text-bg-danger") == 2 and page.text.count("badge text-bg-warning") == 1


def test_deadline_is_set_per_province(app, setup, login_as):
    client = login_as("province")
    assert client.post("/outputs/months/deadline?unit=10", data={"day": "31"}).status_code == 400
    assert client.post("/outputs/months/deadline?unit=10", data={"day": "20"}).status_code == 302
    from cdt.outputs.queries import deadline

    assert deadline(by_code("10").id, MONTH) == date(2025, 3, 20)


def test_targets_set_and_split_from_a_spreadsheet(app, setup, login_as):
    from openpyxl import Workbook

    vneid = setup["vneid"]
    client = login_as("province")
    assert client.get("/outputs/targets?unit=10&year=2025").status_code == 200
    response = client.post("/outputs/targets?unit=10&year=2025", data={
        "unit": "10", "indicator": "vneid_level2", "month": "", "value": "24000"})
    assert response.status_code == 302
    assert db.session.scalar(select(OutputTarget.value).where(OutputTarget.unit_id == by_code("10").id)) == 24000
    sheet = load_workbook(io.BytesIO(client.get("/outputs/targets/template.xlsx?unit=10&year=2025").data)).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    column = header.index("vneid_level2")
    codes = [r[0].value for r in sheet.iter_rows(min_row=2)]
    assert BAN_PHO in codes

    def upload(rows):
        book = Workbook()
        ws = book.active
        ws.append(header)
        for row in rows:
            ws.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        return client.post("/outputs/targets/upload?unit=10&year=2025",
                           data={"file": (io.BytesIO(buffer.getvalue()), "targets.xlsx")},
                           content_type="multipart/form-data")

    def line(code, value):
        row = [code, ""] + [None] * (len(header) - 2)
        row[column] = value
        return row

    bad = upload([line(BAN_PHO, 1200), line(codes[1], "many")])
    assert bad.status_code == 400 and ("Row 3" in bad.text or "Dòng 3" in bad.text)
    assert db.session.scalar(select(func.count()).select_from(OutputTarget)) == 1  # nothing written
    for _ in range(2):  # idempotent
        assert upload([line(BAN_PHO, 1200), line(codes[1], 600)]).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(OutputTarget)) == 3
    assert db.session.scalar(select(OutputTarget.value).where(OutputTarget.unit_id == setup["commune"].id,
                                                              OutputTarget.indicator_id == vneid)) == 1200
    # a commune of another province is refused
    assert upload([line("99999", 1)]).status_code == 400
    # the district account cannot set targets
    client.post("/logout")
    assert login_as("district").get("/outputs/targets?unit=10").status_code == 403


def test_counters_equal_a_recount_from_the_values(app, setup, login_as):
    """The fast path (per-commune counters, expected from the teams' first and last months) gives the
    numbers of the definition (the values themselves, the month-by-month rule), after entries,
    changes and a report blanked out; and after a rebuild."""
    from cdt.outputs import periods, report, totals
    from cdt.outputs.queries import team_expected
    from cdt.outputs.services import Entry, save_month
    from cdt.registry.models import Team
    from tests.factories import acting_as

    commune = setup["commune"]
    other = db.session.scalar(select(type(commune)).where(type(commune).level == "commune",
                                                          type(commune).code != BAN_PHO).order_by(type(commune).code))
    extra = [gen_team(gen_village(other), established_on=date(2025, 1, 1)),
             gen_team(gen_village(other), established_on=date(2024, 6, 30), status="dissolved",
                      dissolved_on=date(2025, 2, 1)),
             gen_team(gen_village(commune), established_on=date(2025, 2, 20))]
    ids = setup["indicators"]
    with acting_as():
        for month, figures in (("2025-01", [5, 7, 0]), ("2025-02", [3, None, 9])):
            save_month(commune, month, {t: Entry({ids[0]: f, ids[1]: 2}, None) for t, f in zip(
                setup["teams"], figures, strict=True)})
            save_month(other, month, {extra[0].id: Entry({ids[0]: 11}, None)})
        save_month(commune, "2025-02", {setup["teams"][0]: Entry({ids[0]: None, ids[1]: None}, None)})  # blanked
    lao_cai = by_code("10")

    def recount(unit, level, first, last):
        values = report.value_totals(unit, level, first, last, ids, live=True)
        day = periods.month_end(last)
        expected = {}
        for team in db.session.scalars(select(Team)):
            key = 0 if level is None else getattr(team, f"{level}_id")
            if unit is not None and getattr(team, f"{unit.level}_id") != unit.id:
                continue
            for month in periods.months(first, last):
                start, end = periods.month_start(month), periods.month_end(month)
                if db.session.scalar(select(Team.id).where(Team.id == team.id, team_expected(start, end))):
                    expected[key] = expected.get(key, 0) + 1
        reported = {}
        for team_id, _period in db.session.execute(select(TeamReport.team_id, TeamReport.period).where(
                TeamReport.period.between(first, last))):
            team = db.session.get(Team, team_id)
            if unit is None or getattr(team, f"{unit.level}_id") == unit.id:
                key = 0 if level is None else getattr(team, f"{level}_id")
                reported[key] = reported.get(key, 0) + 1
        del day
        return values, expected, reported

    def check():
        for unit, level in ((None, None), (None, "province"), (lao_cai, "district"), (lao_cai, "commune"),
                            (commune, None), (lao_cai, None)):
            for first, last in (("2025-01", "2025-01"), ("2025-02", "2025-02"), ("2024-12", "2025-03")):
                values, expected, reported = recount(unit, level, first, last)
                fast = report.value_totals(unit, level, first, last, ids)
                assert {k: v for k, v in fast.items() if v} == {k: v for k, v in values.items() if v}
                counts = report.reporting_counts(unit, level, first, last)
                assert {k: e for k, (e, _r) in counts.items() if e} == expected, (unit, level, first, last)
                assert {k: r for k, (_e, r) in counts.items() if r} == reported, (unit, level, first, last)

    check()
    totals.rebuild()
    db.session.commit()
    check()


def test_a_report_read_before_an_entry_shows_the_entry_after_it(app, setup, login_as):
    """The outputs report is kept per data version (cdt/core/data_version.py): a month entered after
    the report was read shows in the next read, and a correction too."""
    client = login_as("commune")
    teams, vneid = setup["teams"], setup["vneid"]
    args = f"unit={BAN_PHO}&from={MONTH}&to={MONTH}&indicator=vneid_level2"

    def total():
        row = _csv(client.get(f"/reports/outputs.csv?{args}").text)[-1]
        return row["value"], row["reported"]

    assert total() == ("0", "0")
    assert total() == ("0", "0")  # read again: kept
    assert _entry(client, teams, vneid, ["7", "", ""]).status_code == 302
    assert total() == ("7", "1")
    assert _entry(client, teams, vneid, ["9", "1", ""]).status_code == 302
    assert total() == ("10", "2")
