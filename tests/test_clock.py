"""One clock: today and now in the registry's time zone (Asia/Ho_Chi_Minh), never the server's.

The clock is frozen at 18:00 UTC on D-1, which is 01:00 on D in Vietnam: a server in UTC says
it is still D-1. A membership ended "today" through the person page must be dated D, and the
coverage report for today must agree with the report for D.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from cdt import create_app
from cdt.audit.models import AuditEvent
from cdt.core import clock
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.within import within
from cdt.registry.models import Membership, Team
from cdt.reports import queries
from tests.conftest import BASE_CONFIG, login
from tests.test_registry_helpers import COMMUNE_CODE, unit

D = date(2026, 3, 10)
EVENING_BEFORE_UTC = datetime(2026, 3, 9, 18, 0, tzinfo=UTC)  # = 01:00 on D in Vietnam


def test_the_clock_reads_the_registrys_zone(app, frozen_clock):
    frozen_clock(EVENING_BEFORE_UTC)
    with app.app_context():
        assert clock.utcnow() == EVENING_BEFORE_UTC
        assert clock.today() == D
        assert clock.now() == EVENING_BEFORE_UTC and clock.now().utcoffset() == timedelta(hours=7)
        assert clock.local_now() == datetime(2026, 3, 10, 1, 0)
        assert clock.day_start(D) == datetime(2026, 3, 9, 17, 0, tzinfo=UTC)
    assert clock.today() == D  # outside an app: the default zone
    # The zone is a setting (CDT_TIMEZONE): a registry working in UTC is still on D-1.
    other = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://", "BABEL_DEFAULT_TIMEZONE": "UTC"})
    with other.app_context():
        assert clock.today() == D - timedelta(days=1)


AREA_CODE = "02839"  # the commune account's area since the 2025 reform (old Bản Phố lies in it)


def _village_members(client, village_code: str, as_of: date | None = None) -> tuple[int, int]:
    """(members, memberships) of one village in the coverage CSV of its commune."""
    query = f"/reports/coverage.csv?unit={AREA_CODE}&by=village" + (f"&as_of={as_of.isoformat()}" if as_of else "")
    response = client.get(query)
    assert response.status_code == 200
    rows = {row["code"]: row for row in csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))}
    return int(rows[village_code]["members"]), int(rows[village_code]["memberships"])


def test_a_membership_ended_today_at_1am_in_vietnam_is_dated_today_and_left_out_of_todays_report(
        app, login_as, frozen_clock):
    frozen_clock(EVENING_BEFORE_UTC)
    client = login_as("commune")
    with app.app_context():
        # A member of a Bản Phố team who belongs to no other team.
        in_one_team = (select(Membership.person_id).where(Membership.left_on.is_(None))
                       .group_by(Membership.person_id).having(func.count() == 1))
        membership = db.session.scalar(
            select(Membership).join(Team, Team.id == Membership.team_id)
            .where(within(Team, unit(COMMUNE_CODE)), Membership.left_on.is_(None),
                   Membership.role == "member", Membership.person_id.in_(in_one_team))
            .order_by(Membership.id).limit(1))
        assert membership is not None and membership.joined_on < D
        person_id, membership_id = membership.person_id, membership.id
        village_code = db.session.scalar(select(AdminUnit.code).join(Team, Team.village_id == AdminUnit.id)
                                         .where(Team.id == membership.team_id))
    before = _village_members(client, village_code)
    assert _village_members(client, village_code, D) == before

    # The person page offers today's date, D (not the server's D-1), and accepts it.
    page = client.get(f"/members/{person_id}").get_data(as_text=True)
    offered = re.search(rf'name="end{membership_id}-left_on"[^>]*value="([^"]*)"', page)
    assert offered is not None and offered.group(1) == D.isoformat()
    response = client.post(f"/members/{person_id}/memberships/{membership_id}/end",
                           data={f"end{membership_id}-left_on": offered.group(1)})
    assert response.status_code == 302  # not "The date cannot be in the future"
    with app.app_context():
        assert db.session.get(Membership, membership_id).left_on == D

    # Today's report (as_of left empty) and the report for D agree: the member is no longer counted;
    # the report for D-1 still counts them.
    today = _village_members(client, village_code)
    assert today == _village_members(client, village_code, D) == (before[0] - 1, before[1] - 1)
    assert _village_members(client, village_code, D - timedelta(days=1)) == before
    with app.app_context():  # today's figures come from team_stat; they equal the definition's recount
        assert queries.fast_path_applies(D)
        commune = unit(AREA_CODE)
        assert (db.session.execute(queries.coverage_statement(commune, "village", D, fast=True)).all()
                == db.session.execute(queries.coverage_statement(commune, "village", D, fast=False)).all())

    # The audit event is stored in UTC (18:00 on D-1) and found under the local day D, shown at 01:00.
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "membership.end",
                                                           AuditEvent.object_id == membership_id))
        assert event.at.astimezone(UTC) == EVENING_BEFORE_UTC
    admin = app.test_client()
    login(admin, "admin")
    on_d = admin.get(f"/audit?action=membership.end&date_from={D}&date_to={D}").get_data(as_text=True)
    assert f'data-event="{event.id}"' in on_d and "10/03/2026 01:00:00" in on_d
    on_d_1 = admin.get(f"/audit?action=membership.end&date_from={D - timedelta(days=1)}&date_to={D - timedelta(days=1)}")
    assert f'data-event="{event.id}"' not in on_d_1.get_data(as_text=True)
