"""The coverage report's fast path (team_stat, kept by database triggers) gives exactly the live
query's figures, after real changes through the services, the importer and bulk SQL; and the live
query is used whenever team_stat cannot know the answer (another date, a future-dated row)."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from flask_login import login_user
from sqlalchemy import delete, insert, select, text, update

from cdt.auth.models import User
from cdt.extensions import db
from cdt.geo.models import LEVELS, AdminUnit
from cdt.geo.queries import unit_by_code
from cdt.geo.within import valid_on, within
from cdt.registry import services
from cdt.registry.models import Membership, Person, Team
from cdt.reports import queries
from cdt.reports.models import COLUMNS, TeamStat, _select
from cdt.training import services as training
from cdt.training.models import TrainingSession, TrainingTopic
from tests.factories import gen_person, gen_team, gen_village

BAN_PHO = "02866"  # old Xã Bản Phố: since 2025-07-01 in new Xã Bắc Hà (NEW_BAC_HA)
BAC_HA = "085"
NEW_BAC_HA = "02839"
NEW_LAO_CAI = "15"


@contextmanager
def as_admin(app):
    with app.test_request_context("/"):
        login_user(db.session.scalar(select(User).where(User.username == "admin")))
        yield


def unit(code: str) -> AdminUnit:
    return unit_by_code(code)  # as the app reads a code: today's unit, else the last one that ended


def teams_in(code: str) -> list[Team]:
    """Active teams in the unit (an ended one: those that were in it on its last day)."""
    return list(db.session.scalars(
        select(Team).where(within(Team, unit(code)), Team.status == "active").order_by(Team.id)))


def current(team: Team) -> list[Membership]:
    return list(db.session.scalars(select(Membership).where(Membership.team_id == team.id,
                                                            Membership.left_on.is_(None)).order_by(Membership.id)))


def rows(parent, level, fast):
    return db.session.execute(queries.coverage_statement(parent, level, queries.today(), fast=fast)).all()


def stat_table() -> set[tuple]:
    return {tuple(r) for r in db.session.execute(text(f"SELECT {COLUMNS} FROM team_stat"))}


def recounted_stat() -> set[tuple]:
    """team_stat as a recount from scratch would make it (the SELECT the triggers run)."""
    dialect = db.session.get_bind().dialect.name
    return {tuple(r) for r in db.session.execute(text(_select("1 = 1", dialect)))}


def assert_stat_exact() -> None:
    assert stat_table() == recounted_stat()


def recount(level: str, as_of: date) -> dict[int, dict[str, int]]:
    """Straightforward Python recount of the figures per unit at `level` (ancestor ids)."""
    key = "village_id" if level == "village" else f"{level}_id"
    teams = {t.id: t for t in db.session.scalars(select(Team))}

    def active_team(t):
        return ((t.established_on is None or t.established_on <= as_of)
                and (t.dissolved_on is None or t.dissolved_on > as_of)
                and (t.status == "active" or t.dissolved_on is not None))

    people = {p.id: p for p in db.session.scalars(select(Person))}
    out: dict[int, dict] = defaultdict(lambda: {"teams": 0, "leaders": set(), "members": set(), "memberships": 0,
                                                "youth": set(), "trained": set()})
    for t in teams.values():
        if active_team(t):
            out[getattr(t, key)]["teams"] += 1
    for m in db.session.scalars(select(Membership)):
        t = teams[m.team_id]
        if not (active_team(t) and m.joined_on <= as_of and (m.left_on is None or m.left_on > as_of)):
            continue
        f = out[getattr(t, key)]
        f["memberships"] += 1
        f["members"].add(m.person_id)
        p = people[m.person_id]
        if p.youth_union:
            f["youth"].add(p.id)
        if p.first_trained_on is not None and p.first_trained_on <= as_of:
            f["trained"].add(p.id)
        if m.role == "leader":
            f["leaders"].add(t.id)
    return {u: {k: (len(v) if isinstance(v, set) else v) for k, v in f.items()} for u, f in out.items()}


def assert_exact_everywhere() -> int:
    """Fast == live at every level (nation by province, each province by district, each district
    by commune, each commune of Bắc Hà by village, each unit's own row, the country totals), and
    fast == a Python recount for every unit at every level. Returns the number of rows compared."""
    today = queries.today()
    assert queries.fast_path_applies(today)
    assert_stat_exact()
    compared = 0
    # Today's map (the fast path's): each province by its children, each of those by theirs.
    cases = [(None, "province")]
    for province in db.session.scalars(select(AdminUnit).where(AdminUnit.level == "province", valid_on(AdminUnit, today),
                                                               AdminUnit.id.in_(select(Team.province_id)))):
        cases += [(province, province.child_level), (province, "province")]
        for child in db.session.scalars(select(AdminUnit).where(AdminUnit.parent_id == province.id,
                                                                valid_on(AdminUnit, today))):
            cases += [(child, child.child_level), (child, child.level)]
    for parent, level in cases:
        fast, live = rows(parent, level, True), rows(parent, level, False)
        assert fast == live, (parent.code if parent else None, level)
        compared += len(fast)
    assert (db.session.execute(queries.totals_statement(today, fast=True)).one()
            == db.session.execute(queries.totals_statement(today, fast=False)).one())
    for level in LEVELS:
        expected = recount(level, today)
        for r in rows(None, level, True):
            want = expected.get(r[0], {"teams": 0, "leaders": 0, "members": 0, "memberships": 0, "youth": 0,
                                       "trained": 0})
            # columns: id, level, code, name, parent_code, villages, teams, members, memberships, youth,
            # leaders, trained, sessions
            assert (r[6], r[7], r[8], r[9], r[10], r[11]) == (
                want["teams"], want["members"], want["memberships"], want["youth"], want["leaders"],
                want["trained"]), (level, r[2])
            compared += 1
    return compared


def test_fast_path_equals_live_and_recount_after_many_changes(app, runner, tmp_path):
    with as_admin(app):
        assert_exact_everywhere()  # the demo as loaded (team_stat recounted at the end of the load)
        today = date.today()
        ban_pho = unit(BAN_PHO)
        t1, t2, t3 = teams_in(BAN_PHO)[:3]
        far_team = teams_in("086")[0]  # Si Ma Cai: another district
        # 1. A new person joins t1.
        person = services.create_person(
            {"full_name": "Lò Văn Nhanh", "gender": "male", "ethnicity": "tay", "youth_union": False,
             "phone": "+84912555001", "birth_date": date(1995, 3, 4)}, ban_pho, team=t1, joined_on=today)
        db.session.commit()
        assert_stat_exact()
        # 2. The same person joins t2 (same commune: counted once there) and a team of another district.
        services.add_membership(person, t2)
        services.add_membership(person, far_team)
        db.session.commit()
        assert_stat_exact()
        stat = db.session.get(TeamStat, t1.id)
        assert stat.shared == 1 and stat.members == len(current(t1))
        # 3. A member of t3 leaves; 4. a member of t2 moves to t3.
        services.end_membership(current(t3)[-1], today)
        mover = next(m for m in current(t2) if m.person_id != person.id and m.role == "member")
        services.move_membership(mover, t3, today)
        db.session.commit()
        assert_stat_exact()
        # 5. A team is dissolved (its memberships end), a new team takes its village, people join.
        old = teams_in(BAN_PHO)[-1]
        village_id = old.village_id
        data = {"village_id": village_id, "name": old.name, "established_on": old.established_on,
                "decision_number": old.decision_number, "status": "dissolved", "dissolved_on": today}
        services.update_team(old, data, old.version_id)
        db.session.commit()
        assert_stat_exact()
        assert not db.session.get(TeamStat, old.id).counted
        new_team = services.create_team({"village_id": village_id, "name": "Tổ CNS mới", "status": "active",
                                         "established_on": today, "decision_number": "9/QĐ-UBND"})
        db.session.commit()
        services.add_membership(person, new_team, role="leader")
        services.create_person({"full_name": "Vàng Thị Mới", "gender": "female", "ethnicity": "hmong",
                                "youth_union": True, "phone": "+84912555002"}, ban_pho, team=new_team)
        db.session.commit()
        assert_stat_exact()
        assert db.session.get(TeamStat, new_team.id).has_leader
        # 6. The person with four memberships becomes a youth-union member (every team recounted).
        data = {"full_name": person.full_name, "gender": person.gender, "ethnicity": person.ethnicity,
                "phone": person.phone, "birth_date": person.birth_date, "youth_union": True}
        services.update_person(person, data, person.version_id)
        db.session.commit()
        assert_stat_exact()
        assert db.session.get(TeamStat, far_team.id).youth == sum(
            1 for m in current(far_team) if db.session.get(Person, m.person_id).youth_union)
        assert assert_exact_everywhere() > 1700
        # 7. Training: a held session, attendance recorded then partly removed, then cancelled.
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        topic = db.session.scalar(select(TrainingTopic.id).order_by(TrainingTopic.id))
        start = datetime.combine(today - timedelta(days=3), datetime.min.time()).replace(hour=8)
        session = training.create_session(
            {"title": "Tập huấn nhanh", "topic_id": topic, "mode": "in_person", "starts_at": start,
             "ends_at": start + timedelta(hours=3), "venue": None, "trainer": None, "capacity": None,
             "notes": None, "status": "planned"}, ban_pho, admin)
        db.session.commit()
        untrained = [m.person_id for m in current(t3)
                     if db.session.get(Person, m.person_id).first_trained_on is None][:2]
        present = {person.id, *untrained}
        training.record_attendance(session, present, set(), Decimal("3.0"), admin)
        db.session.commit()
        assert db.session.get(Person, person.id).first_trained_on == start.date()
        assert_stat_exact()
        assert db.session.get(TeamStat, new_team.id).trained >= 1
        assert_exact_everywhere()
        session = db.session.get(TrainingSession, session.id)
        training.record_attendance(session, {person.id}, set(), Decimal("3.0"), admin)
        db.session.commit()
        assert_stat_exact()
        data = {name: getattr(session, name) for name in ("title", "topic_id", "mode", "starts_at", "ends_at",
                                                           "venue", "trainer", "capacity", "notes")}
        training.update_session(session, {**data, "status": "cancelled"}, ban_pho)
        db.session.commit()
        assert db.session.get(Person, person.id).first_trained_on is None
        assert_stat_exact()
        # 8. An import of three people into Bản Phố's villages (the CLI, one transaction).
        path = tmp_path / "members.csv"
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["Họ và tên", "Giới tính", "Ngày sinh", "Dân tộc", "Số điện thoại", "Số CCCD", "Đoàn viên",
                     "Chức danh", "Thôn, tổ dân phố", "Vai trò trong tổ"])
        writer.writerows([
        ["Lò Thị Nhập", "Nữ", "12/05/1998", "Tày", "0912 777 001", "", "Có", "", "02866-001", ""],
        ["Vàng A Nhập", "Nam", "01/01/1990", "H'Mông", "+84912777002", "", "", "", "02866-002", "Thành viên"],
        ["Nguyen Van Nhap", "nam", "1985-07-30", "kinh", "0912-777-003", "", "x", "", "02866-003", "member"],
        ])
        path.write_text(out.getvalue(), encoding="utf-8")
        result = runner.invoke(args=["cdt", "import", "members", str(path), "--commune", NEW_BAC_HA, "--lang", "en"])
        assert result.exit_code == 0, result.output
        assert db.session.scalar(select(Person.id).where(Person.full_name == "Vàng A Nhập")) is not None
        assert_stat_exact()
        # 9. Bulk SQL outside the services: a whole district's youth flag, a membership deleted,
        #    memberships inserted in bulk (Core executemany, as the demo builder does).
        bac_ha = unit(BAC_HA)
        db.session.execute(update(Person).where(within(Person, bac_ha)).values(youth_union=True))
        newcomers = db.session.scalars(select(Person.id).where(within(Person, unit("086")))
                                       .order_by(Person.id).limit(5)).all()
        assert len(newcomers) == 5
        db.session.execute(insert(Membership), [
            {"person_id": pid, "team_id": t1.id, "role": "member", "joined_on": today} for pid in newcomers])
        victim = db.session.scalar(select(Membership.id).where(Membership.left_on.is_(None)).order_by(Membership.id))
        db.session.execute(delete(Membership).where(Membership.id == victim))
        db.session.commit()
        assert assert_exact_everywhere() > 1700


def small_registry() -> None:
    """For `bare` tests: three teams of Bản Phố (a leader, a deputy, a youth-union member), then a
    one-person team in the first commune of every other district of Lào Cai."""
    for _ in range(3):
        team = gen_team(gen_village(unit(BAN_PHO)), members=2)
        gen_person(team=team, youth_union=True)
    communes = db.session.scalars(select(AdminUnit).where(
        AdminUnit.level == "commune", AdminUnit.district_id != unit(BAC_HA).id).order_by(AdminUnit.code.desc()))
    for commune in sorted({c.district_id: c for c in communes}.values(), key=lambda c: c.code):
        gen_team(gen_village(commune), members=1)


@pytest.mark.bare
def test_live_query_when_team_stat_cannot_know(app):
    with app.app_context():
        small_registry()
        today = queries.today()
        assert queries.fast_path_applies(today)
        assert not queries.fast_path_applies(today - timedelta(days=1))  # another date: live
        assert not queries.fast_path_applies(today + timedelta(days=1))
        team = teams_in(BAN_PHO)[0]
        tomorrow = today + timedelta(days=1)
        province = unit("10")

        def check_fallback():
            assert not queries.fast_path_applies(today)
            live = {r.code: r for r in queries.coverage(province, "district")}
            expected = recount("district", today)
            for r in live.values():
                want = expected.get(r.unit_id)
                assert (r.teams, r.members, r.memberships, r.youth_union_members, r.leaders, r.trained_members) == (
                    want["teams"], want["members"], want["memberships"], want["youth"], want["leaders"],
                    want["trained"])
            return live

        before = {r.code: r for r in queries.coverage(province, "district")}
        # A membership starting tomorrow: not counted today (team_stat would count it).
        person = db.session.scalar(select(Person).order_by(Person.id.desc()))
        future = Membership(person_id=person.id, team_id=team.id, role="member", joined_on=tomorrow)
        db.session.add(future)
        db.session.commit()
        assert db.session.get(TeamStat, team.id).members == len(current(team))  # team_stat counts it ...
        assert check_fallback() == before  # ... the report does not
        # Ending tomorrow instead: still counted today.
        future.joined_on, future.left_on = today, tomorrow
        db.session.commit()
        after = check_fallback()
        assert after[BAC_HA].memberships == before[BAC_HA].memberships + (team.district_id == unit(BAC_HA).id)
        db.session.delete(future)
        db.session.commit()
        assert queries.fast_path_applies(today)
        # A team dissolved tomorrow, a team established tomorrow, a first training tomorrow.
        for column, value in ((Team.dissolved_on, tomorrow), (Team.established_on, tomorrow)):
            db.session.execute(update(Team).where(Team.id == team.id).values({column: value}))
            db.session.flush()
            check_fallback()
            db.session.rollback()
            assert queries.fast_path_applies(today)
        member = current(team)[0]
        db.session.execute(update(Person).where(Person.id == member.person_id).values(first_trained_on=tomorrow))
        db.session.flush()
        check_fallback()
        db.session.rollback()
        assert queries.fast_path_applies(today)


def test_report_uses_the_fast_path_today_and_live_otherwise(app, monkeypatch):
    calls = []
    original = queries._fast_teams_members

    def spy(parent, level):
        calls.append(level)
        return original(parent, level)

    monkeypatch.setattr(queries, "_fast_teams_members", spy)
    with app.app_context():
        province = unit(NEW_LAO_CAI)
        today_rows = queries.coverage(province, "commune")
        assert calls == ["commune"]
        queries.country_summary()
        assert calls == ["commune", None]
        past = queries.coverage(province, "commune", queries.today() - timedelta(days=1))
        queries.coverage(province, "commune", date(2023, 3, 1))
        # Another map than today's (old Lào Cai's, or 2023's figures regrouped): the live query.
        queries.coverage(unit("10"), "district")
        queries.coverage(province, "commune", queries.today(), map_day=date(2025, 7, 1))
        assert calls == ["commune", None]
        # The demo's figures, both ways (nothing changed yesterday).
        assert [r.members for r in today_rows] == [r.members for r in past]
        assert sum(r.teams for r in today_rows) == 2934 and sum(r.members for r in today_rows) == 14253


def test_stats_rebuild_repairs_team_stat(app, runner):
    with app.app_context():
        province = unit(NEW_LAO_CAI)
        expected = rows(province, "commune", False)
        db.session.execute(update(TeamStat).values(members=TeamStat.members + 1))
        db.session.execute(delete(TeamStat).where(TeamStat.team_id == teams_in(BAN_PHO)[0].id))
        db.session.commit()
        assert rows(province, "commune", True) != expected
    result = runner.invoke(args=["cdt", "stats", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "2,934 teams" in result.output
    with app.app_context():
        assert rows(province, "commune", True) == expected
        assert_stat_exact()
