"""Simultaneous requests that write the same rows: never a 500, and team_stat stays exact.

The races of the load test (gunicorn, 4 workers), rerun with threads released together by a
barrier, each thread with its own test client (so its own database session and connection):
opposite-direction moves between two teams, attendance saves during those moves, ten leader
changes of one team, forty log-ins of one account, language switches of one account.
On PostgreSQL they exercise the row locks taken in one order (cdt.reports.models.lock_for_change);
on SQLite the one writer at a time and the busy timeout. The retry of a unit of work that the
database refused anyway (cdt.core.transactions) is tested with a simulated deadlock.
"""
from __future__ import annotations

import sqlite3
import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from cdt.audit.models import AuditEvent
from cdt.auth.models import User
from cdt.core import transactions
from cdt.extensions import db
from cdt.registry import services
from cdt.registry.models import Membership, Person, Team
from cdt.training.models import Attendance, TrainingSession
from tests.conftest import login
from tests.test_registry_helpers import COMMUNE_CODE, current, teams_of
from tests.test_reports_fast import assert_stat_exact
from tests.test_training import create, local_now


def clients_of(app, username: str, n: int) -> list:
    """`n` test clients logged in as `username` (one real log-in; the others share its cookie)."""
    first = app.test_client()
    login(first, username)
    cookie = first.get_cookie("session")
    clients = [first]
    for _ in range(n - 1):
        client = app.test_client()
        client.set_cookie("session", cookie.value)
        clients.append(client)
    return clients


def race(calls) -> list:
    """Run each call in its own thread, all released at once; returns each call's response (or the
    exception it raised)."""
    barrier = threading.Barrier(len(calls), timeout=30)
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        except Exception as error:  # pragma: no cover - reported by the assertion below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def statuses(results) -> list:
    return [getattr(r, "status_code", r) for r in results]


def flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [category for category, _message in session.get("_flashes", [])]


def two_teams(app, size: int) -> tuple[int, int, list[tuple[int, int]], list[tuple[int, int]]]:
    """Two active teams of the commune account's commune and (person, membership) of `size` plain
    members of each."""
    with app.app_context():
        first, second = [t for t in teams_of(COMMUNE_CODE) if t.status == "active"][:2]
        a = [(m.person_id, m.id) for m in current(first, "member")][:size]
        b = [(m.person_id, m.id) for m in current(second, "member")][:size]
        assert len(a) == len(b) == size
        return first.id, second.id, a, b


def move(client, person_id: int, membership_id: int, team_id: int):
    return client.post(f"/members/{person_id}/memberships/{membership_id}/move",
                       data={f"move{membership_id}-team_id": str(team_id),
                             f"move{membership_id}-moved_on": date.today().isoformat()})


def current_membership(person_id: int) -> int:
    return db.session.scalar(select(Membership.id).where(Membership.person_id == person_id,
                                                         Membership.left_on.is_(None)))


def moves_both_ways(app, clients, team_a, team_b, people_a, people_b) -> list:
    """One move per person: the members of A to B and those of B to A, at once. Then the same
    people are the members of the other team (their new memberships)."""
    calls = []
    with app.app_context():
        for (person_id, _m), target in [(p, team_b) for p in people_a] + [(p, team_a) for p in people_b]:
            membership_id = current_membership(person_id)
            calls.append(lambda c=clients[len(calls)], p=person_id, m=membership_id, t=target: move(c, p, m, t))
    return calls


def check_teams(app, team_a: int, team_b: int, people_a, people_b) -> None:
    with app.app_context():
        now = dict(db.session.execute(select(Membership.person_id, Membership.team_id).where(
            Membership.person_id.in_([p for p, _m in people_a + people_b]), Membership.left_on.is_(None))).all())
        assert len(now) == len(people_a + people_b)  # one current membership each, none lost or doubled
        assert_stat_exact()


def test_opposite_direction_moves_between_two_teams(app):
    """Members of A move to B while members of B move to A (the load test's deadlock: 73 of 180)."""
    team_a, team_b, people_a, people_b = two_teams(app, 3)
    clients = clients_of(app, "commune", 6)
    for round_ in range(4):
        results = race(moves_both_ways(app, clients, team_a, team_b, people_a, people_b))
        assert statuses(results) == [302] * 6, (round_, statuses(results))
        people_a, people_b = people_b, people_a
        check_teams(app, team_a, team_b, people_a, people_b)
    assert all(flashes(client) == ["success"] * 4 for client in clients)


def test_attendance_saves_during_moves(app):
    """Attendance of the movers' teams is saved (their trained mark changes) while they move; one
    session's save is double-tapped (two saves of it at once, the first marking it held)."""
    team_a, team_b, people_a, people_b = two_teams(app, 2)
    movers = clients_of(app, "commune", 4)
    coordinators = clients_of(app, "youth", 4)
    with app.app_context():
        members = sorted({m.person_id for t in (team_a, team_b) for m in current(db.session.get(Team, t))})
    sessions = []
    for i, client in enumerate(coordinators[:3]):
        # Sessions long before the demo's: each save moves the people's first training date.
        start = datetime(2021, 3, 1 + i, 8, 0)
        sessions.append(create(client, app, starts_at=start.strftime("%Y-%m-%dT%H:%M"),
                               ends_at=(start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")))

    def save(client, session_id: int, present: list[int]):
        return client.post(f"/training/{session_id}/attendance",
                           data={"present": present, "hours": "2", "action": "save"})

    for round_ in range(4):
        present = members if round_ % 2 == 0 else members[::2]
        calls = moves_both_ways(app, movers, team_a, team_b, people_a, people_b)
        calls += [lambda c=c, s=s, p=present: save(c, s, p)
                  for c, s in zip(coordinators, sessions + sessions[:1], strict=True)]
        results = race(calls)
        assert statuses(results) == [302] * 8, (round_, statuses(results))
        people_a, people_b = people_b, people_a
        check_teams(app, team_a, team_b, people_a, people_b)
        with app.app_context():
            expected = datetime(2021, 3, 1).date() if round_ % 2 == 0 else None
            marks = dict(db.session.execute(select(Person.id, Person.first_trained_on)
                                            .where(Person.id.in_(members[1::2]))).all())
            if expected:
                assert set(marks.values()) == {expected}


def test_ten_leader_changes_of_one_team_at_once(app):
    """Ten officers make ten (different or equal) members the leader of one team at the same
    moment: each change is applied in turn, the team ends with exactly one leader."""
    with app.app_context():
        team = next(t for t in teams_of(COMMUNE_CODE) if len(current(t)) >= 4)
        team_id = team.id
        candidates = [m.id for m in current(team) if m.role != "leader"]
    clients = clients_of(app, "commune", 10)
    calls = [lambda c=c, m=candidates[i % len(candidates)]: c.post(f"/teams/{team_id}/leader",
                                                                   data={"leader-membership_id": str(m)})
             for i, c in enumerate(clients)]
    results = race(calls)
    assert statuses(results) == [302] * 10
    assert all(flashes(client) == ["success"] for client in clients)
    with app.app_context():
        leaders = current(db.session.get(Team, team_id), "leader")
        assert len(leaders) == 1 and leaders[0].id in candidates
        assert_stat_exact()


def test_simultaneous_logins_of_one_account(app):
    """A double (here twelve-fold) tap on "Đăng nhập": every one logs in, none shows an error page."""
    clients = [app.test_client() for _ in range(12)]
    calls = [lambda c=c: c.post("/login", data={"username": "commune", "password": "cdt-demo-2023"})
             for c in clients]
    results = race(calls)
    assert statuses(results) == [302] * len(clients)
    assert all(r.headers["Location"] == "/" for r in results)
    for client in clients[:3]:
        assert client.get("/", follow_redirects=True).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(User.last_login_at).where(User.username == "commune")) is not None


def test_simultaneous_language_switches_of_one_account(app):
    clients = clients_of(app, "commune", 6)
    calls = [lambda c=c, lang=("en" if i % 2 else "vi"): c.post("/language", data={"language": lang, "next": "/"})
             for i, c in enumerate(clients)]
    results = race(calls)
    assert statuses(results) == [302] * 6
    with app.app_context():
        assert db.session.scalar(select(User.locale).where(User.username == "commune")) in ("en", "vi")


def test_double_tapped_first_attendance_save(app):
    """The first save of a session's attendance marks it held; four saves at once all succeed."""
    clients = clients_of(app, "youth", 4)
    start = local_now() - timedelta(hours=3)
    session_id = create(clients[0], app, starts_at=start.strftime("%Y-%m-%dT%H:%M"),
                        ends_at=(start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    with app.app_context():
        team = next(t for t in teams_of(COMMUNE_CODE) if t.status == "active")
        present = [m.person_id for m in current(team)]
        version = db.session.get(TrainingSession, session_id).version_id
    results = race([lambda c=c: c.post(f"/training/{session_id}/attendance",
                                       data={"present": present, "hours": "2", "action": "save"})
                    for c in clients])
    assert statuses(results) == [302] * 4
    with app.app_context():
        ts = db.session.get(TrainingSession, session_id)
        assert ts.status == "held" and ts.version_id == version + 1  # an edit form opened before is refused
        assert db.session.scalar(select(func.count()).select_from(Attendance)
                                 .where(Attendance.session_id == session_id)) == len(present)
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "training_session.update", AuditEvent.object_id == session_id)) == 1
        assert_stat_exact()


class DeadlockDetected(Exception):
    sqlstate = "40P01"  # what psycopg's DeadlockDetected carries


TRANSIENT = {
    "postgresql deadlock": lambda: OperationalError("INSERT INTO audit_event ...", {}, DeadlockDetected()),
    "sqlite busy": lambda: OperationalError("INSERT INTO audit_event ...", {},
                                            sqlite3.OperationalError("database is locked")),
}


def _one_move(app):
    with app.app_context():
        first, second = [t for t in teams_of(COMMUNE_CODE) if t.status == "active"][:2]
        membership = current(first, "member")[0]
        return membership.person_id, membership.id, second.id


def _fail_audit(monkeypatch, error, times: int) -> list:
    """The audit record of a registry change (after its rows are written) fails `times` times."""
    calls = []
    real = services.record

    def record(*args, **kwargs):
        calls.append(args[0])
        if len(calls) <= times:
            raise error()
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "record", record)
    monkeypatch.setattr(transactions, "PAUSE", 0.001)
    return calls


@pytest.mark.parametrize("kind", TRANSIENT)
def test_a_change_refused_for_concurrency_is_run_again_and_saved_once(app, login_as, monkeypatch, kind):
    client = login_as("commune")
    person_id, membership_id, target = _one_move(app)
    calls = _fail_audit(monkeypatch, TRANSIENT[kind], transactions.ATTEMPTS - 1)
    assert move(client, person_id, membership_id, target).status_code == 302
    assert calls == ["membership.move"] * transactions.ATTEMPTS
    with app.app_context():
        rows = db.session.execute(select(Membership.team_id, Membership.left_on)
                                  .where(Membership.person_id == person_id)).all()
        assert sorted(rows, key=str) == sorted([(rows[0][0], date.today()), (target, None)], key=str)
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "membership.move", AuditEvent.details["person_id"].as_integer() == person_id)) == 1
        assert_stat_exact()


def test_a_change_still_refused_after_the_retries_shows_a_busy_page_and_saves_nothing(app, login_as, monkeypatch):
    client = login_as("commune")
    person_id, membership_id, target = _one_move(app)
    calls = _fail_audit(monkeypatch, TRANSIENT["postgresql deadlock"], transactions.ATTEMPTS)
    response = move(client, person_id, membership_id, target)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    html = response.get_data(as_text=True)
    assert "Không có gì bị thay đổi" in html and "Traceback" not in html
    assert len(calls) == transactions.ATTEMPTS
    with app.app_context():
        assert db.session.get(Membership, membership_id).left_on is None
        assert db.session.scalar(select(func.count()).select_from(Membership).where(
            Membership.person_id == person_id, Membership.team_id == target)) == 0


def test_a_broken_rule_is_not_run_again(app, login_as, monkeypatch):
    client = login_as("commune")
    person_id, membership_id, _target = _one_move(app)
    with app.app_context():
        same_team = db.session.get(Membership, membership_id).team_id
    attempts = []
    real = services.lock_for_change
    monkeypatch.setattr(services, "lock_for_change", lambda *a, **kw: attempts.append(1) or real(*a, **kw))
    response = move(client, person_id, membership_id, same_team)
    assert response.status_code == 422
    assert attempts == [1]
