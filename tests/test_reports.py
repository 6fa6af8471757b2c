"""Coverage reports: the page, its exports, the CLI, as_of, gaps, scoping.

The figures are read the way a user reads them (the page's table, the CSV, the XLSX, the CLI)
and compared number by number.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from cdt.audit.models import AuditEvent
from cdt.core.clock import today
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.queries import unit_by_code
from cdt.registry.models import Membership, Person, Team
from cdt.reports.queries import CSV_COLUMNS, coverage, summary
from tests.factories import current_members, gen_attendance, gen_person, gen_session, gen_team, gen_village
from tests.factories import unit as by_code

BAC_HA = "085"
BAN_PHO = "02866"
TOWN = "02839"  # Thị trấn Bắc Hà
BAO_THANG = "086"


def sample() -> None:
    """For `bare` tests: a small registry in Lào Cai's units. Bắc Hà: Bản Phố's three villages,
    each with a team (2 to 4 members, youth-union members among them), the town's two villages,
    one with a team; Bảo Thắng: one team. Held sessions: Bắc Hà in March 2023 (Bản Phố's largest team
    and the town's leader attend), Bảo Thắng in September 2023; a cancelled one in Bắc Hà."""
    ban_pho = by_code(BAN_PHO)
    teams = [gen_team(gen_village(ban_pho), members=2) for _ in range(3)]  # a leader, a deputy
    for extra, team in enumerate(teams):
        for n in range(extra):
            gen_person(team=team, youth_union=n % 2 == 0)
    town = by_code(TOWN, date(2023, 6, 30))  # the old unit of a code new Xã Bắc Hà reuses
    town_team = gen_team(gen_village(town), members=3)
    gen_village(town)
    bao_thang = db.session.scalar(select(AdminUnit).where(AdminUnit.parent_id == by_code(BAO_THANG).id)
                                  .order_by(AdminUnit.code))
    far_team = gen_team(gen_village(bao_thang), members=3)
    spring = gen_session(by_code(BAC_HA), starts_at=datetime(2023, 3, 1, 8))
    gen_attendance(spring, [m.person_id for m in current_members(teams[2])]
                   + [m.person_id for m in current_members(town_team, "leader")])
    autumn = gen_session(by_code(BAO_THANG), starts_at=datetime(2023, 9, 15, 8))
    gen_attendance(autumn, [m.person_id for m in current_members(far_team, "leader")])
    gen_session(by_code(BAC_HA), starts_at=datetime(2023, 5, 2, 8), status="cancelled")


# -- reading what a user sees ------------------------------------------------------------------

class _Table(HTMLParser):
    """Rows of the report table: [cell text, ...] per <tr> of the table's <tbody>.

    Text a screen reader alone hears (.visually-hidden) is left out: it is not a figure."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self._in_table = self._in_body = False
        self._cell: list[str] | None = None
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "report-table" in (attrs.get("class") or ""):
            self._in_table = True
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag in ("td", "th"):
            self._cell = []
        elif self._in_body and tag == "a" and self._cell is not None:
            self.links.append(attrs["href"])
        elif self._in_body and tag == "span" and (self._hidden or "visually-hidden" in (attrs.get("class") or "")):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = self._in_body = False
        elif self._in_body and tag == "span" and self._hidden:
            self._hidden -= 1
        elif self._in_body and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None and not self._hidden:
            self._cell.append(data)


def vi_int(text: str) -> int:
    return int(text.replace(".", ""))


def vi_pct(text: str) -> Decimal | None:
    text = text.strip()
    return None if text in ("–", "") else Decimal(text.rstrip("%").replace(".", "").replace(",", "."))


def page_rows(html: str) -> dict[str, dict]:
    """The table of /reports/coverage (Vietnamese formatting) as {name: figures}."""
    parser = _Table()
    parser.feed(html)
    rows = {}
    for cells in parser.rows:
        if len(cells) < 11:
            continue
        name = cells[0]
        youth = cells[7].split()
        leaders = cells[8].split()
        trained = cells[9].split()
        rows[name] = {
            "villages": vi_int(cells[1]), "teams": vi_int(cells[2]), "coverage_pct": vi_pct(cells[3]),
            "members": vi_int(cells[4]), "memberships": vi_int(cells[5]),
            "youth_union_members": vi_int(youth[0]), "leaders": vi_int(leaders[0]),
            "trained_members": vi_int(trained[0]), "trained_pct": vi_pct(trained[1]),
            "sessions_held": vi_int(cells[10]),
        }
    return rows


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def numbers(row: dict) -> dict:
    """The CSV's figures as numbers (the common ground of CSV, CLI, XLSX and page)."""
    out = {}
    for key in ("villages", "teams", "members", "memberships", "youth_union_members", "trained_members",
                "sessions_held"):
        out[key] = int(row[key])
    for key in ("coverage_pct", "trained_pct"):
        out[key] = Decimal(str(row[key])) if row[key] not in ("", None) else None
    return out


# -- the demo's figures ---------------------------------------------------------------------------

def test_page_by_district_sums_to_the_demo_figures(client, login_as):
    login_as("province")
    response = client.get("/reports/coverage?unit=10&by=district&map=2025-06-30")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = page_rows(page)
    assert len(rows) == 9
    assert sum(r["villages"] for r in rows.values()) == 1562
    assert sum(r["teams"] for r in rows.values()) == 1562
    assert sum(r["members"] for r in rows.values()) == 7363
    assert {r["coverage_pct"] for r in rows.values()} == {Decimal("100.0")}
    # Summary figures, formatted for Vietnamese.
    assert "1.562" in page and "7.363" in page and "100,0%" in page


@pytest.mark.bare
def test_default_is_the_users_area_and_rows_link_one_level_down(app, client, login_as):
    with app.app_context():
        sample()
    login_as("district")
    page = client.get("/reports/coverage").get_data(as_text=True)
    parser = _Table()
    parser.feed(page)
    assert "Huyện Bắc Hà" in page
    assert len(parser.rows) == 18  # Bắc Hà's communes
    assert all(re.search(r"unit=\d{5}(&|$)", link) for link in parser.links)
    # A commune, then a village: the breadcrumbs lead back up, keeping the parameters.
    page = client.get(f"/reports/coverage?unit={BAN_PHO}&as_of=2023-06-30").get_data(as_text=True)
    assert f"/reports/coverage?unit={BAC_HA}&amp;as_of=2023-06-30" in page
    assert "Tỉnh Lào Cai" in page  # above the user's area: named, not linked
    assert "/reports/coverage?unit=10&" not in page
    village = page_rows(page)
    assert village and all(r["villages"] == 1 for r in village.values())
    response = client.get(f"/reports/coverage?unit={BAN_PHO}-001")
    assert response.status_code == 200
    assert "/teams/" in response.get_data(as_text=True)  # the village's team


@pytest.mark.bare
def test_bac_ha_commune_rows_sum_to_bac_ha(app):
    with app.app_context():
        sample()
        bac_ha = db.session.scalar(select(AdminUnit).where(AdminUnit.code == BAC_HA))
        own = summary(bac_ha, date(2023, 6, 30))
        rows = coverage(bac_ha, "commune", date(2023, 6, 30))
        assert len(rows) == 18
        for key in ("villages", "teams", "members", "memberships", "youth_union_members", "leaders",
                    "trained_members"):
            assert sum(getattr(r, key) for r in rows) == getattr(own, key), key
        assert own.trained_members > 0 and own.sessions_held > 0
        # Bắc Hà's row of the province report is the same row.
        district_row = next(r for r in coverage(bac_ha.parent, "district", date(2023, 6, 30)) if r.code == BAC_HA)
        assert district_row.csv_values() == own.csv_values()


@pytest.mark.bare
def test_csv_xlsx_page_and_cli_agree_on_every_number(app, client, login_as, runner):
    with app.app_context():
        sample()
    login_as("province")
    args = f"unit={BAC_HA}&by=commune&as_of=2023-06-30"
    page = page_rows(client.get(f"/reports/coverage?{args}").get_data(as_text=True))

    response = client.get(f"/reports/coverage.csv?{args}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    from_csv = csv_rows(response.get_data(as_text=True))
    assert list(from_csv[0].keys()) == CSV_COLUMNS

    result = runner.invoke(args=["cdt", "report", "coverage", "--unit", BAC_HA, "--by", "commune",
                                 "--format", "csv", "--as-of", "2023-06-30"])
    assert result.exit_code == 0, result.output
    from_cli = csv_rows(result.output)
    assert from_cli == from_csv  # the same columns, rows and text

    response = client.get(f"/reports/coverage.xlsx?{args}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    table = list(sheet.iter_rows(values_only=True))
    headers = list(table[0])
    assert headers[:3] == ["Cấp", "Mã đơn vị", "Tên đơn vị"]  # the user's language
    xlsx = [dict(zip(headers, line, strict=True)) for line in table[1:-1]]
    assert table[-1][2] == "Tổng cộng"  # the XLSX ends with the total row; the CSV does not

    assert len(page) == len(from_csv) == len(xlsx) == 18
    by_code_xlsx = {row["Mã đơn vị"]: row for row in xlsx}
    for row in from_csv:
        expected = numbers(row)
        on_page = dict(page[row["name"]])
        leaders = on_page.pop("leaders")
        assert on_page == expected, row["name"]
        x = by_code_xlsx[row["code"]]
        assert x["Tên đơn vị"] == row["name"]
        from_sheet = {
            "villages": x["Số thôn, tổ dân phố"], "teams": x["Số thôn có Tổ CNS"],
            "coverage_pct": x["Độ phủ (%)"], "members": x["Thành viên"], "memberships": x["Lượt tham gia"],
            "youth_union_members": x["Đoàn viên"], "trained_members": x["Thành viên đã tập huấn"],
            "trained_pct": x["Tỷ lệ đã tập huấn (%)"], "sessions_held": x["Số buổi tập huấn đã tổ chức"],
        }
        from_sheet = {k: (Decimal(str(v)) if k.endswith("_pct") and v is not None else v) for k, v in from_sheet.items()}
        assert from_sheet == expected, row["name"]
        assert x["Số tổ có tổ trưởng"] == leaders


@pytest.mark.bare
def test_exports_are_audited_and_formula_safe(app, client, login_as):
    with app.app_context():
        sample()
    login_as("province")
    with app.app_context():
        # A unit name that a spreadsheet would take for a formula.
        village = db.session.scalar(select(AdminUnit).where(AdminUnit.code == f"{BAN_PHO}-001"))
        village.name = "=HYPERLINK(\"http://x\")"
        db.session.commit()
    response = client.get(f"/reports/coverage.csv?unit={BAN_PHO}&by=village&map=2025-06-30")
    assert response.status_code == 200
    assert "'=HYPERLINK" in response.get_data(as_text=True)
    response = client.get(f"/reports/coverage.xlsx?unit={BAN_PHO}&by=village&map=2025-06-30")
    workbook = load_workbook(io.BytesIO(response.data))
    cell = next(c for row in workbook.active.iter_rows() for c in row if str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s"  # a string, never a formula
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
        whats = sorted(e.details["what"] for e in events)
        assert whats == ["coverage.csv", "coverage.xlsx"]
        assert all(e.details["unit"] == BAN_PHO and e.details["by"] == "village" for e in events)
        assert {e.username for e in events} == {"province"}


# -- as_of -----------------------------------------------------------------------------------------

def _commune_row(code: str, as_of: date):
    commune = db.session.scalar(select(AdminUnit).where(AdminUnit.code == code))
    return summary(commune, as_of)


@pytest.mark.bare
def test_as_of_before_a_team_was_established_counts_it_out(app, client, login_as):
    with app.app_context():
        sample()
        team = db.session.scalar(select(Team).join(AdminUnit, AdminUnit.id == Team.village_id)
                                 .where(AdminUnit.code == f"{BAN_PHO}-001"))
        size = db.session.scalar(select(func.count()).where(Membership.team_id == team.id))
        team.established_on = date(2024, 6, 1)
        db.session.commit()
        before = _commune_row(BAN_PHO, date(2024, 5, 31))
        on_the_day = _commune_row(BAN_PHO, date(2024, 6, 1))
        assert on_the_day.teams == before.teams + 1
        assert on_the_day.villages == before.villages
        assert before.coverage_pct < Decimal(100) == on_the_day.coverage_pct
        # Its members joined on or after the old date, but a team not yet established has none.
        assert on_the_day.members == before.members + size
    login_as("commune")
    page = client.get(f"/reports/coverage?unit={BAN_PHO}&by=village&as_of=2024-05-31").get_data(as_text=True)
    rows = page_rows(page)
    assert sum(r["teams"] for r in rows.values()) == before.teams
    assert "table-danger" in page  # the village without a team stands out
    gaps = client.get(f"/reports/gaps?unit={BAN_PHO}&kind=villages").get_data(as_text=True)
    assert f"{BAN_PHO}-001" not in gaps  # today the team exists


@pytest.mark.bare
def test_a_membership_that_ended_is_not_counted_after_its_end_date(app):
    with app.app_context():
        sample()
        membership = db.session.scalar(
            select(Membership).join(Team).join(AdminUnit, AdminUnit.id == Team.commune_id)
            .where(AdminUnit.code == BAN_PHO, Membership.role == "member").order_by(Membership.id)
        )
        membership.left_on = date(2024, 1, 10)
        db.session.commit()
        still = _commune_row(BAN_PHO, date(2024, 1, 9))
        ended = _commune_row(BAN_PHO, date(2024, 1, 10))
        later = _commune_row(BAN_PHO, date(2025, 1, 1))
        assert ended.members == still.members - 1 == later.members
        assert ended.memberships == still.memberships - 1
        before_joining = _commune_row(BAN_PHO, membership.joined_on - timedelta(days=1))
        assert before_joining.memberships < still.memberships


@pytest.mark.bare
def test_sessions_held_follow_the_period(app, client, login_as):
    with app.app_context():
        sample()
    login_as("province")
    everything = page_rows(client.get("/reports/coverage?unit=10&as_of=2023-12-31").get_data(as_text=True))
    spring = page_rows(client.get("/reports/coverage?unit=10&as_of=2023-12-31&from=2023-01-01&to=2023-03-31")
                       .get_data(as_text=True))
    total = sum(r["sessions_held"] for r in everything.values())
    part = sum(r["sessions_held"] for r in spring.values())
    assert 0 < part < total
    assert {n: r["members"] for n, r in spring.items()} == {n: r["members"] for n, r in everything.items()}


# -- the fast figures equal a straightforward recount ----------------------------------------------

def _recount(as_of: date) -> dict[str, dict]:
    """Per district of Lào Cai, counted the slow way: walking parent links, attendance joined to
    sessions, no ancestor column and no maintained mark."""
    from cdt.training.models import Attendance, TrainingSession

    units = {u.id: u for u in db.session.scalars(select(AdminUnit))}

    def district_of(unit_id):
        unit = units[unit_id]
        while unit.level != "district":
            unit = units[unit.parent_id]
        return unit.code

    out: dict[str, dict] = {}
    for unit in units.values():
        if unit.level == "district":
            out[unit.code] = {"villages": 0, "teams": set(), "members": set(), "memberships": 0, "youth": set(),
                              "trained": set(), "leaders": set()}
    for unit in units.values():
        if unit.level == "village" and (unit.valid_from is None or unit.valid_from <= as_of) \
                and (unit.valid_to is None or unit.valid_to >= as_of):
            out[district_of(unit.id)]["villages"] += 1
    trained_people = set(db.session.scalars(
        select(Attendance.person_id).join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .where(TrainingSession.status == "held", TrainingSession.starts_at < datetime.combine(
            as_of + timedelta(days=1), datetime.min.time()))
    ))
    people = {p.id: p for p in db.session.scalars(select(Person))}
    teams = {}
    for team in db.session.scalars(select(Team)):
        active = (team.established_on is None or team.established_on <= as_of) and (
            team.dissolved_on is None or team.dissolved_on > as_of) and (
            team.status == "active" or team.dissolved_on is not None)
        if active:
            teams[team.id] = team
            out[district_of(team.village_id)]["teams"].add(team.village_id)
    for m in db.session.scalars(select(Membership)):
        if m.team_id not in teams or m.joined_on > as_of or (m.left_on is not None and m.left_on <= as_of):
            continue
        figures = out[district_of(teams[m.team_id].village_id)]
        figures["members"].add(m.person_id)
        figures["memberships"] += 1
        if people[m.person_id].youth_union:
            figures["youth"].add(m.person_id)
        if m.person_id in trained_people:
            figures["trained"].add(m.person_id)
        if m.role == "leader":
            figures["leaders"].add(m.team_id)
    return {code: {k: (len(v) if isinstance(v, set) else v) for k, v in f.items()} for code, f in out.items()}


@pytest.mark.bare
def test_fast_figures_equal_a_straightforward_recount_after_changes(app):
    from cdt.training.models import Attendance, TrainingSession
    from cdt.training.services import refresh_first_trained

    with app.app_context():
        sample()
        bac_ha = db.session.scalar(select(AdminUnit).where(AdminUnit.code == BAC_HA))
        si_ma_cai = db.session.scalar(select(AdminUnit).where(AdminUnit.code == "086"))
        # 1. A team of Bắc Hà dissolved in 2023 (its memberships stay, the team no longer counts).
        dissolved = db.session.scalar(select(Team).where(Team.district_id == bac_ha.id).order_by(Team.id))
        dissolved.status, dissolved.dissolved_on = "dissolved", date(2023, 4, 1)
        # 2. A person of Si Ma Cai also joins a team of Bắc Hà (counted once in each district).
        person = db.session.scalar(select(Person).join(Membership).join(Team).where(Team.district_id == si_ma_cai.id)
                                   .order_by(Person.id))
        other = db.session.scalar(select(Team).where(Team.district_id == bac_ha.id, Team.id != dissolved.id)
                                  .order_by(Team.id.desc()))
        db.session.add(Membership(person_id=person.id, team_id=other.id, role="member", joined_on=date(2023, 2, 1)))
        # 3. A leader leaves in March 2023.
        leader = db.session.scalar(select(Membership).where(Membership.team_id == other.id, Membership.role == "leader"))
        leader.left_on = date(2023, 3, 15)
        # 4. An untrained member of Bắc Hà attends a held session on 2023-05-20; a planned session's
        #    attendance does not train anyone.
        untrained = db.session.scalar(select(Person).join(Membership).join(Team).where(
            Team.district_id == bac_ha.id, Person.first_trained_on.is_(None), Membership.left_on.is_(None))
            .order_by(Person.id))
        session = db.session.scalar(select(TrainingSession).where(TrainingSession.status == "held")
                                    .order_by(TrainingSession.id))
        session.starts_at, session.ends_at = datetime(2023, 5, 20, 8), datetime(2023, 5, 20, 12)
        db.session.add(Attendance(session_id=session.id, person_id=untrained.id, hours=Decimal("4.0")))
        db.session.flush()
        refresh_first_trained(session_id=session.id)
        db.session.commit()

        province = db.session.scalar(select(AdminUnit).where(AdminUnit.code == "10"))
        for as_of in (date(2023, 3, 1), date(2023, 5, 19), date(2023, 5, 20), date(2023, 12, 31)):
            slow = _recount(as_of)
            fast = {r.code: r for r in coverage(province, "district", as_of)}
            assert set(fast) == set(slow)
            for code, figures in slow.items():
                row = fast[code]
                assert (row.villages, row.teams, row.members, row.memberships, row.youth_union_members,
                        row.trained_members, row.leaders) == (
                    figures["villages"], figures["teams"], figures["members"], figures["memberships"],
                    figures["youth"], figures["trained"], figures["leaders"]), (code, as_of)
        # The changes did move the figures (the test would notice a wrong definition).
        assert untrained.first_trained_on == date(2023, 5, 20)
        assert _recount(date(2023, 5, 20))[BAC_HA]["trained"] > _recount(date(2023, 5, 19))[BAC_HA]["trained"]
        assert _recount(date(2023, 3, 31))[BAC_HA]["teams"] == _recount(date(2023, 4, 1))[BAC_HA]["teams"] + 1
        assert _recount(date(2023, 3, 14))[BAC_HA]["leaders"] == _recount(date(2023, 3, 15))[BAC_HA]["leaders"] + 1


# -- gaps, sorting, scoping, bad input -------------------------------------------------------------

@pytest.mark.bare
def test_gaps_list_the_records_and_link_to_them(app, client, login_as):
    with app.app_context():
        sample()
        team = db.session.scalar(select(Team).join(AdminUnit, AdminUnit.id == Team.commune_id)
                                 .where(AdminUnit.code == BAN_PHO).order_by(Team.id))
        memberships = db.session.scalars(select(Membership).where(Membership.team_id == team.id)).all()
        for m in memberships:
            if m.role != "deputy":
                m.left_on = date.today() - timedelta(days=1)  # only the deputy remains: small, no leader
        team_id, village_code = team.id, None
        dissolved = db.session.scalar(select(Team).join(AdminUnit, AdminUnit.id == Team.commune_id)
                                      .where(AdminUnit.code == BAN_PHO, Team.id != team.id).order_by(Team.id))
        dissolved.status, dissolved.dissolved_on = "dissolved", date.today() - timedelta(days=3)
        village_code = db.session.get(AdminUnit, dissolved.village_id).code
        db.session.commit()
    login_as("commune")
    page = client.get("/reports/gaps?kind=small_teams").get_data(as_text=True)
    assert f'href="/teams/{team_id}"' in page
    page = client.get("/reports/gaps?kind=no_leader").get_data(as_text=True)
    assert f'href="/teams/{team_id}"' in page
    page = client.get("/reports/gaps?kind=villages").get_data(as_text=True)
    assert village_code in page
    page = client.get("/reports/gaps?kind=untrained").get_data(as_text=True)
    assert re.search(r'href="/members/\d+"', page)
    assert client.get("/reports/gaps?kind=nonsense").status_code == 404


def test_sorting_and_weakest_first(client, login_as):
    login_as("province")
    page = client.get("/reports/coverage?unit=10&map=2025-06-30&sort=-members").get_data(as_text=True)
    members = [r["members"] for r in page_rows(page).values()]
    assert members == sorted(members, reverse=True) and len(set(members)) > 1
    page = client.get("/reports/coverage?unit=10&map=2025-06-30&sort=worst").get_data(as_text=True)
    trained = [r["trained_pct"] for r in page_rows(page).values()]
    assert trained == sorted(trained)
    assert 'aria-sort' in client.get("/reports/coverage?unit=10&map=2025-06-30&sort=name").get_data(as_text=True)


@pytest.mark.parametrize("user, url, status", [
    ("commune", f"/reports/coverage?unit={BAC_HA}", 404),
    ("commune", "/reports/coverage?unit=02839", 404),
    ("district", "/reports/coverage?unit=10", 404),
    ("district", "/reports/coverage.csv?unit=10&by=district", 404),
    ("district", "/reports/coverage.xlsx?unit=10&by=district", 404),
    ("district", "/reports/gaps?unit=10", 404),
    ("province", "/reports/coverage?unit=001", 404),
    ("district", f"/reports/coverage?unit={BAN_PHO}&map=2025-06-30", 200),
    ("youth", f"/reports/coverage?unit={BAN_PHO}&map=2025-06-30", 200),
    ("admin", "/reports/coverage?unit=10&map=2025-06-30", 200),
])
@pytest.mark.bare
def test_units_outside_the_area_answer_404(client, login_as, user, url, status):
    login_as(user)
    assert client.get(url).status_code == status


def test_admin_sees_all_provinces(client, login_as):
    login_as("admin")
    page = client.get("/reports/coverage").get_data(as_text=True)
    rows = page_rows(page)
    assert list(rows) == ["Tỉnh Lào Cai"]  # new Lào Cai (15): the provinces of today's map
    assert rows["Tỉnh Lào Cai"]["villages"] == 1562 + 1372  # old Lào Cai's and old Yên Bái's
    response = client.get("/reports/coverage.csv")
    assert response.status_code == 200 and len(csv_rows(response.get_data(as_text=True))) == 1


@pytest.mark.bare
def test_bad_input_gets_an_error_next_to_the_field(client, login_as):
    login_as("province")
    response = client.get("/reports/coverage?as_of=2023-02-30&from=2023-05-01&to=2023-01-01&by=hamlet")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="as_of-error"' in page and 'id="to-error"' in page and 'id="by-error"' in page
    assert "Traceback" not in page
    assert client.get("/reports/coverage?unit=085&by=province&as_of=2023-06-30").status_code == 400
    assert client.get("/reports/coverage.csv?by=hamlet").status_code == 400


@pytest.mark.bare
def test_page_is_vietnamese_and_has_no_inline_style(app, client, login_as):
    with app.app_context():
        sample()
    login_as("province")
    page = client.get("/reports/coverage").get_data(as_text=True)
    assert "style=" not in page
    assert "<rect" in page  # the bars
    assert "Độ phủ" in page


def test_country_totals_use_the_same_definitions(app):
    from cdt.reports.queries import country_summary

    with app.app_context():
        lao_cai = db.session.scalar(select(AdminUnit).where(AdminUnit.code == "10"))
        new_lao_cai = unit_by_code("15")  # all the demo lies in it today (old Lào Cai and old Yên Bái)
        for as_of in (date(2022, 6, 1), date(2023, 6, 30), None):
            country = country_summary(as_of)
            province = summary(new_lao_cai, as_of, map_day=today())  # that date's figures, today's map
            fields = ("villages", "teams", "members", "memberships", "youth_union_members", "leaders",
                      "trained_members", "sessions_held")
            assert [getattr(country, f) for f in fields] == [getattr(province, f) for f in fields]
        assert summary(lao_cai, date(2022, 6, 1)).teams < 1562  # teams were established during 2022


@pytest.mark.bare
def test_every_date_argument_takes_day_month_year_and_iso(client, login_as):
    """/reports/coverage?as_of=31/03/2023 answered 400 "Nhập ngày theo dạng ngày/tháng/năm"."""
    from cdt.core.inputs import parse_day

    assert parse_day("31/03/2023") == parse_day("2023-03-31") == parse_day(" 31.03.2023 ") == date(2023, 3, 31)
    assert parse_day("2023-02-30") is None and parse_day("") is None and parse_day(None) is None
    login_as("province")
    iso = client.get("/reports/coverage?as_of=2023-03-31&from=2023-01-01&to=2023-03-31")
    typed = client.get("/reports/coverage?as_of=31/03/2023&from=01/01/2023&to=31/03/2023")
    assert iso.status_code == typed.status_code == 200
    body = lambda r: r.get_data(as_text=True).split("<main", 1)[-1].split("</main>", 1)[0]  # noqa: E731
    assert re.findall(r'data-count[^>]*>[^<]*<|<td class="num">[^<]*</td>', body(iso)) == \
        re.findall(r'data-count[^>]*>[^<]*<|<td class="num">[^<]*</td>', body(typed))
    login_as("admin")
    assert client.get("/audit?date_from=01/01/2023&date_to=31/12/2023").status_code == 200
    assert client.get("/audit?date_from=31/02/2023").status_code in (200, 400)


@pytest.mark.bare
def test_gaps_page_opens_on_the_first_list_that_is_not_empty(app, client, login_as):
    with app.app_context():
        sample()
    login_as("commune")
    page = client.get("/reports/gaps").get_data(as_text=True)
    tabs = re.findall(r'<a class="nav-link( active)?"[^>]*?href="[^"]*kind=(\w+)">[^<]*<span[^>]*>(\d+)</span>', page)
    assert len(tabs) == 4, tabs
    first_non_empty = next(kind for _active, kind, count in tabs if int(count))
    assert [kind for active, kind, _count in tabs if active] == [first_non_empty]
    assert tabs[0][2] == "0" and first_non_empty != tabs[0][1]  # the first tab is empty here


@pytest.mark.bare
def test_coverage_on_a_phone_shows_trained_and_says_what_the_colours_mean(app, client, login_as):
    with app.app_context():
        sample()
    login_as("province")
    page = client.get("/reports/coverage").get_data(as_text=True)
    head = page.split("<thead", 1)[1].split("</thead>", 1)[0]
    cells = re.findall(r"<th[^>]*class=\"([^\"]*)\"", head)
    shown_on_phone = [c for c in cells if "d-none" not in c]
    assert len(shown_on_phone) <= 5  # unit, coverage, members, trained (fits 360 px)
    assert "dưới mục tiêu" not in page and "below target" not in page
