"""The one "inside a unit, on a date" rule (cdt/geo/within.py), unit validity read one way, and
scoping applied through loaders and self-scoping queries (cdt/auth/scope.py, cdt/geo/queries.py)."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from cdt.auth.models import User
from cdt.auth.scope import get_in_area, ids_in_area, user_commune
from cdt.core import clock
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.within import ancestor_ids, containing, valid_on, within
from cdt.registry.models import Person, Team
from cdt.reports import queries as report_queries
from cdt.reports.models import TeamStat
from cdt.training.models import TrainingSession, TrainingTopic

BAC_HA = "085"
BAN_PHO = "02866"
LUNG_PHINH = "02848"
BAN_PHO_VILLAGE = "02866-001"
NEW_BAC_HA = "02839"  # the commune account's area since the 2025 reform (old Bản Phố lies in it)


OLD_DAY = date(2023, 6, 30)


def unit(code: str, on: date | None = None) -> AdminUnit:
    from cdt.geo.queries import unit_by_code

    return unit_by_code(code, on)  # a code is unique on a date (None: today)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _parents() -> dict[int, int | None]:
    return dict(db.session.execute(select(AdminUnit.id, AdminUnit.parent_id)).all())


def _up(parents: dict[int, int | None], unit_id: int | None) -> set[int]:
    """The unit and every unit above it, by walking parent_id (not the ancestor columns)."""
    found = set()
    while unit_id is not None:
        found.add(unit_id)
        unit_id = parents[unit_id]
    return found


@pytest.mark.parametrize("code", ["15", "02839", BAN_PHO_VILLAGE])
def test_within_equals_a_walk_up_the_unit_tree(app, code):
    """Teams (by village), people (by commune), units and team_stat rows inside a unit of today's
    map: the same rows as walking each row's place up the parent links (today's). Units of the
    map before the 2025 reform: tests/test_map_2025.py."""
    with app.app_context():
        parents = _parents()
        target = unit(code)
        teams = dict(db.session.execute(select(Team.id, Team.village_id)).all())
        expected = {t for t, village in teams.items() if target.id in _up(parents, village)}
        assert expected
        assert set(db.session.scalars(select(Team.id).where(within(Team, target)))) == expected
        assert set(db.session.scalars(select(TeamStat.team_id).where(within(TeamStat, target)))) == expected

        today = {u for u in db.session.scalars(select(AdminUnit.id).where(valid_on(AdminUnit, clock.today())))}
        units = {u for u in parents if target.id in _up(parents, u)} & today
        assert set(db.session.scalars(select(AdminUnit.id).where(
            within(AdminUnit, target), AdminUnit.id.in_(today)))) == units

        people = dict(db.session.execute(select(Person.id, Person.commune_id)).all())
        inside = {p for p, commune in people.items() if target.id in _up(parents, commune)}
        found = set(db.session.scalars(select(Person.id).where(within(Person, target))))
        # A person's place is their commune: nobody lies inside a village.
        assert found == (set() if target.level == "village" else inside)


def test_within_nothing_and_everything(app):
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Team).where(within(Team, None))) == \
            db.session.scalar(select(func.count()).select_from(Team))
        village = unit(BAN_PHO_VILLAGE)
        assert db.session.scalar(select(func.count()).select_from(TrainingSession)
                                 .where(within(TrainingSession, village))) == 0
        assert ancestor_ids(village) == [village.province_id, village.commune_id, village.id]  # no district today
        old = unit(BAN_PHO, OLD_DAY)
        assert ancestor_ids(village, OLD_DAY) == [old.province_id, old.district_id, old.id, village.id]


def _session(title: str, area: AdminUnit) -> TrainingSession:
    ts = TrainingSession(title=title, topic_id=db.session.scalar(select(TrainingTopic.id).limit(1)),
                         starts_at=datetime(2030, 1, 1, 8), ends_at=datetime(2030, 1, 1, 10), hours=Decimal(2),
                         status="planned")
    ts.place_in(area)
    return ts


def test_sessions_inside_an_area_and_sessions_serving_a_place(app):
    with app.app_context():
        rows = [_session("p", unit("10")), _session("d", unit(BAC_HA)), _session("c", unit(BAN_PHO)),
                _session("s", unit(LUNG_PHINH, OLD_DAY))]
        db.session.add_all(rows)
        db.session.flush()
        ours = TrainingSession.title.in_(["p", "d", "c", "s"])

        def titles(condition) -> set[str]:
            return set(db.session.scalars(select(TrainingSession.title).where(ours, condition)))

        assert titles(within(TrainingSession, unit(BAC_HA))) == {"d", "c", "s"}
        assert titles(within(TrainingSession, unit(BAN_PHO))) == {"c"}
        assert titles(containing(TrainingSession, unit(BAN_PHO_VILLAGE), OLD_DAY)) == {"p", "d", "c"}
        assert titles(containing(TrainingSession, unit(BAC_HA))) == {"p", "d"}
        assert rows[2].area_id == unit(BAN_PHO).id and rows[2].commune_id == unit(BAN_PHO).id
        db.session.rollback()


def _village(commune: AdminUnit, number: int, valid_from: date | None, valid_to: date | None) -> AdminUnit:
    village = AdminUnit(code=f"{commune.code}-{number}", name=f"Thôn Thử {number}", level="village",
                        kind="village", parent_id=commune.id, province_id=commune.province_id,
                        district_id=commune.district_id, commune_id=commune.id,
                        valid_from=valid_from, valid_to=valid_to)
    db.session.add(village)
    return village


def test_valid_on_reads_both_dates_inclusive_and_missing_ones_open(app):
    day = date(2025, 6, 30)
    with app.app_context():
        commune = unit(BAN_PHO)
        cases = {
            901: (None, None, True),
            902: (None, day, True),  # its last day
            903: (None, day - timedelta(days=1), False),
            904: (day, None, True),  # its first day
            905: (day + timedelta(days=1), None, False),
            906: (day, day, True),
        }
        for number, (start, end, _valid) in cases.items():
            _village(commune, number, start, end)
        db.session.flush()
        valid = set(db.session.scalars(select(AdminUnit.code).where(
            AdminUnit.code.like(f"{BAN_PHO}-9%"), valid_on(AdminUnit, day))))
        assert valid == {f"{BAN_PHO}-{n}" for n, (_s, _e, ok) in cases.items() if ok}
        db.session.rollback()


def test_import_template_lists_the_villages_valid_today(app, login_as):
    """Regression: the import (and its template) read a village's validity like the reports do,
    not as "no end date": a village ending tomorrow is still offered, one ended yesterday or
    starting tomorrow is not."""
    today = clock.today()  # the registry's today (Asia/Ho_Chi_Minh), not the server's
    with app.app_context():
        commune = unit(NEW_BAC_HA)  # the commune account's area
        _village(commune, 901, None, today + timedelta(days=1))
        _village(commune, 902, None, today - timedelta(days=1))
        _village(commune, 903, today + timedelta(days=1), None)
        db.session.commit()
    client = login_as("commune")
    response = client.get("/members/import/template.xlsx")
    assert response.status_code == 200
    listed = [c.value for c in load_workbook(io.BytesIO(response.data)).worksheets[1]["A"]]
    assert f"{NEW_BAC_HA}-901" in listed and BAN_PHO_VILLAGE in listed
    assert f"{NEW_BAC_HA}-902" not in listed and f"{NEW_BAC_HA}-903" not in listed


def test_scope_loaders_and_the_users_commune(app):
    with app.app_context():
        commune_user, district_user = user("commune"), user("district")
        assert user_commune(commune_user).code == NEW_BAC_HA
        assert user_commune(district_user) is None and user_commune(user("admin")) is None
        ours = db.session.scalar(select(Team).where(within(Team, unit(BAN_PHO))).limit(1))
        theirs = db.session.scalar(select(Team).where(within(Team, unit(LUNG_PHINH, OLD_DAY))).limit(1))
        assert get_in_area(Team, str(ours.id), commune_user) is ours
        assert get_in_area(Team, theirs.id, commune_user) is None
        assert get_in_area(Team, theirs.id, district_user) is theirs
        for junk in (None, "", "x", "1.5"):
            assert get_in_area(Team, junk, commune_user) is None
        assert ids_in_area(Team, [ours.id, theirs.id], commune_user) == {ours.id}
        assert ids_in_area(Team, [], commune_user) == set()


@pytest.mark.parametrize("kind", report_queries.GAP_KINDS)
def test_gap_queries_scope_themselves(app, kind):
    """A gap list asked for everything lists only what lies in the user's area: a commune officer
    sees the gaps of their commune, the district's staff those of the district."""
    with app.app_context():
        # Communes of today's map (the demo applied the 2025 reform): the commune account's, another
        # of old Bắc Hà's area, one elsewhere. Old Huyện Bắc Hà's account reads the district's villages
        # as on its last day: none of these villages made today.
        elsewhere = db.session.scalar(select(AdminUnit).where(
            AdminUnit.level == "commune", AdminUnit.valid_from.is_not(None),
            AdminUnit.code.not_in([NEW_BAC_HA, LUNG_PHINH])).order_by(AdminUnit.code))
        for commune in (unit(NEW_BAC_HA), unit(LUNG_PHINH), elsewhere):
            _village(commune, 901, None, None)  # no team
            village = _village(commune, 902, None, None)
            db.session.flush()
            team = Team(village_id=village.id, name=f"Tổ mới {commune.code}", status="active")  # no members
            team.place_in(village)
            db.session.add(team)
        db.session.commit()
        district_user, commune_user, admin = user("district"), user("commune"), user("admin")

        def communes(who: User) -> set[int]:
            rows = db.session.execute(report_queries.gap_statement(kind, None, user=who)).all()
            return {row[0].commune_id for row in rows}

        assert {unit(NEW_BAC_HA).id, unit(LUNG_PHINH).id, elsewhere.id} <= communes(admin)
        if kind == "untrained":  # people: their commune today, a successor of the district's communes
            from cdt.geo.queries import successors

            found = communes(district_user)
            assert found and found <= {u.id for u in successors(unit(BAC_HA))}
        else:
            assert communes(district_user) == {u.id for u in db.session.scalars(select(AdminUnit).where(
                AdminUnit.id.in_(communes(admin)), AdminUnit.district_id == unit(BAC_HA).id))}
        assert communes(commune_user) == {unit(NEW_BAC_HA).id}
