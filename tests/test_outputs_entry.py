"""A commune's month imported from Excel (preview, all or nothing, idempotent) and submitted by a
team leader's private link (only that team, only open months, revocable, audited): the value shows
in the outputs report like one typed on the entry page."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from cdt.audit.models import AuditEvent
from cdt.extensions import db
from cdt.outputs.models import Indicator, TeamLink, TeamReport, TeamReportValue
from cdt.outputs.services import seed_indicators
from tests.factories import gen_team, gen_village
from tests.factories import unit as by_code

pytestmark = pytest.mark.bare

BAN_PHO = "02866"
MONTH = "2025-02"


@pytest.fixture
def setup(app, frozen_clock):
    frozen_clock(datetime(2025, 3, 15, 3))
    with app.app_context():
        seed_indicators()
        commune = by_code(BAN_PHO)
        teams = [gen_team(gen_village(commune), established_on=date(2024, 1, 1)) for _ in range(2)]
        vneid = db.session.scalar(select(Indicator.id).where(Indicator.code == "vneid_level2"))
        yield {"teams": [t.id for t in teams], "vneid": vneid}


def _value(team_id, indicator_id, month=MONTH):
    return db.session.scalar(select(TeamReportValue.value).join(TeamReport).where(
        TeamReport.team_id == team_id, TeamReport.period == month, TeamReportValue.indicator_id == indicator_id))


def _report_total(client, month=MONTH):
    text = client.get(f"/reports/outputs.csv?unit={BAN_PHO}&from={month}&to={month}&indicator=vneid_level2").text
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))[-1]["value"]


def _fill(template: bytes, values: dict[int, object]) -> bytes:
    """The downloaded sheet with the vneid column filled in, row by row (row index -> value)."""
    source = load_workbook(io.BytesIO(template)).active
    rows = [[c.value for c in r] for r in source.iter_rows()]
    column = rows[0].index("vneid_level2")
    for index, value in values.items():
        rows[index][column] = value
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client, data):
    return client.post(f"/outputs/import?month={MONTH}", data={"file": (io.BytesIO(data), "month.xlsx")},
                       content_type="multipart/form-data")


def _confirm(client, preview_html):
    fields = dict(re.findall(r'<input type="hidden" name="((?:v|note)-[0-9-]+)" value="([^"]*)"', preview_html))
    return client.post(f"/outputs/import/confirm?month={MONTH}", data=fields)


def test_import_previews_then_writes_all_or_nothing_and_twice_changes_nothing(app, setup, login_as):
    teams, vneid = setup["teams"], setup["vneid"]
    client = login_as("commune")
    template = client.get(f"/outputs/import/template.xlsx?month={MONTH}")
    assert template.status_code == 200
    bad = _upload(client, _fill(template.data, {1: 75, 2: "nhiều"}))
    assert bad.status_code == 400 and "vneid_level2" in bad.text
    assert db.session.scalar(select(func.count()).select_from(TeamReport)) == 0
    good = _fill(template.data, {1: 75, 2: 0})
    preview = _upload(client, good)
    assert preview.status_code == 200 and "75" in preview.text
    assert db.session.scalar(select(func.count()).select_from(TeamReport)) == 0  # a preview writes nothing
    assert _confirm(client, preview.text).status_code == 302
    assert (_value(teams[0], vneid), _value(teams[1], vneid)) == (75, 0)
    events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "outputs.report"))
    assert _confirm(client, _upload(client, good).text).status_code == 302  # the same file again
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "outputs.report")) == events  # nothing changed
    assert db.session.scalar(select(TeamReport.source).where(TeamReport.team_id == teams[0])) == "import"
    assert _report_total(client) == "75"


def test_import_refuses_an_unknown_village_and_not_an_excel_file(app, setup, login_as):
    client = login_as("commune")
    template = client.get(f"/outputs/import/template.xlsx?month={MONTH}").data
    sheet = load_workbook(io.BytesIO(template)).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    rows[1][0] = "99999-001"
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    response = _upload(client, out.getvalue())
    assert response.status_code == 400 and "99999-001" in response.text
    assert _upload(client, b"not,an,excel\n").status_code == 400
    assert db.session.scalar(select(func.count()).select_from(TeamReport)) == 0


def _make_link(client, team_id):
    response = client.post(f"/outputs/teams/{team_id}/link?month={MONTH}", follow_redirects=True)
    assert response.status_code == 200
    match = re.search(r"/t/([A-Za-z0-9_-]{20,})", response.text)
    assert match, "the link is shown once"
    return match.group(1)


def test_team_leader_link_submits_only_its_team_and_is_revocable(app, setup, login_as, client):
    teams, vneid = setup["teams"], setup["vneid"]
    officer = login_as("commune")
    secret = _make_link(officer, teams[0])
    stored = db.session.scalar(select(TeamLink.token_hash).where(TeamLink.team_id == teams[0]))
    assert stored != secret and secret not in stored  # only the hash is kept
    officer.post("/logout")

    page = client.get(f"/t/{secret}?month={MONTH}")
    assert page.status_code == 200 and "02/2025" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # the other team's inputs are ignored: a link reaches only its own team
    response = client.post(f"/t/{secret}?month={MONTH}", data={f"v-{teams[0]}-{vneid}": "33",
                                                               f"v-{teams[1]}-{vneid}": "999"})
    assert response.status_code == 302
    assert _value(teams[0], vneid) == 33 and _value(teams[1], vneid) is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outputs.report"))
    assert event.user_id is None and event.details["source"] == "link"
    # months outside the open ones: 404
    assert client.get(f"/t/{secret}?month=2024-11").status_code == 404
    assert client.get(f"/t/{secret}?month=2025-04").status_code == 404
    assert client.get("/t/not-a-real-secret-at-all-000000").status_code == 404

    officer = login_as("commune")
    assert _report_total(officer) == "33"
    # a new link revokes the old one; revoking the new one stops it too
    newer = _make_link(officer, teams[0])
    assert client.get(f"/t/{secret}").status_code == 404
    assert officer.post(f"/outputs/teams/{teams[0]}/link/revoke?month={MONTH}").status_code == 302
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "outputs.link.revoke"))
    officer.post("/logout")
    assert client.get(f"/t/{newer}").status_code == 404
    assert client.post(f"/t/{newer}?month={MONTH}", data={f"v-{teams[0]}-{vneid}": "1"}).status_code == 404
    assert _value(teams[0], vneid) == 33


def test_a_locked_month_is_closed_to_the_link(app, setup, login_as, client):
    teams = setup["teams"]
    officer = login_as("commune")
    secret = _make_link(officer, teams[0])
    officer.post("/logout")
    province = login_as("province")
    province.post(f"/outputs/months/{MONTH}/lock?unit=10")
    province.post("/logout")
    assert client.get(f"/t/{secret}?month={MONTH}").status_code == 404
    assert client.get(f"/t/{secret}?month=2025-03").status_code == 200


def test_another_communes_team_gets_no_link(app, setup, login_as):
    other = db.session.scalar(select(by_code(BAN_PHO).__class__).where(
        by_code(BAN_PHO).__class__.level == "commune", by_code(BAN_PHO).__class__.code != BAN_PHO))
    team = gen_team(gen_village(other))
    client = login_as("commune")
    assert client.post(f"/outputs/teams/{team.id}/link").status_code == 404


def test_the_link_is_rate_limited(app, setup, login_as, client):
    officer = login_as("commune")
    secret = _make_link(officer, setup["teams"][0])
    officer.post("/logout")
    app.config["CDT_TEAM_LINK_LIMIT"] = "3 per minute"
    statuses = [client.get(f"/t/{secret}").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
