"""Training pages and the maintained "trained" mark under load.

Builds a fresh SQLite database (or uses DATABASE_URL for PostgreSQL, which it empties) with
the Lào Cai demo plus N synthetic sessions (default 20,000, about 20 attendees each, so
~400,000 attendance rows), then times, through the test client as real users:
the session list (youth coordinator of a district, admin), the month view, a session page
with 200 invited, saving attendance for 200 people, the calendar feed, a person's history,
and `refresh_first_trained` for one session's attendees and for every person.

Rerun:  .venv/bin/python bench/training.py [--sessions 20000]
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from cdt import create_app  # noqa: E402
from cdt.core import clock  # noqa: E402
from cdt.demo import DEMO_PASSWORD, build_demo  # noqa: E402
from cdt.extensions import db  # noqa: E402


def timed(label: str, fn, repeat: int = 3):
    best = None
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    print(f"{label:<62} {best * 1000:8.1f} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=20000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench_training.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "TESTING": True})
    from cdt.geo.models import AdminUnit
    from cdt.registry.models import Person
    from cdt.training.models import Attendance, Invitation, TrainingSession, TrainingTopic

    with app.app_context():
        db.drop_all()
        db.create_all()
        build_demo("laocai")
        rng = random.Random(5)
        topics = list(db.session.scalars(select(TrainingTopic.id)))
        units = db.session.execute(
            select(AdminUnit.id, AdminUnit.level, AdminUnit.province_id, AdminUnit.district_id, AdminUnit.commune_id)
            .where(AdminUnit.level.in_(["district", "commune"]))
        ).all()
        people_by_district: dict[int, list[int]] = {}
        for pid, did in db.session.execute(select(Person.id, Person.district_id)):
            people_by_district.setdefault(did, []).append(pid)
        started = time.perf_counter()
        next_id = (db.session.scalar(select(func.max(TrainingSession.id))) or 0) + 1
        sessions, attendance = [], []
        for i in range(args.sessions):
            u = rng.choice(units)
            start = datetime(2022, 1, 3, 8) + timedelta(days=rng.randrange(1800), hours=rng.choice([0, 5]))
            status = rng.choices(["held", "planned", "cancelled"], [0.7, 0.2, 0.1])[0]
            sid = next_id + i
            sessions.append({
                "id": sid, "title": f"Bench session {i}", "topic_id": rng.choice(topics), "mode": "in_person",
                "starts_at": start, "ends_at": start + timedelta(hours=4), "hours": Decimal(4), "venue": f"Hall {i % 50}",
                "trainer": None, "capacity": 40, "area_id": u.id, "province_id": u.province_id,
                "district_id": u.district_id, "commune_id": u.commune_id, "status": status, "notes": None,
                "created_by_id": None, "created_at": start, "updated_at": start, "version_id": 1,
            })
            if status == "held":
                for pid in rng.sample(people_by_district[u.district_id], 20):
                    attendance.append({"session_id": sid, "person_id": pid, "hours": Decimal(4), "walk_in": False,
                                       "recorded_by_id": None, "recorded_at": start})
        for chunk in range(0, len(sessions), 5000):
            db.session.execute(insert(TrainingSession.__table__), sessions[chunk:chunk + 5000])
        for chunk in range(0, len(attendance), 20000):
            db.session.execute(insert(Attendance.__table__), attendance[chunk:chunk + 20000])
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(db.text(
                "SELECT setval(pg_get_serial_sequence('training_session', 'id'), (SELECT MAX(id) FROM training_session))"))
        db.session.commit()
        # Fresh statistics, as autovacuum (PostgreSQL) would have after a bulk load.
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        print(f"database: {db.session.get_bind().dialect.name}; {len(sessions):,} sessions, {len(attendance):,} "
              f"attendance rows added in {time.perf_counter() - started:.1f} s")

        from cdt.training.services import refresh_first_trained

        busy = db.session.scalar(select(Attendance.session_id).group_by(Attendance.session_id)
                                 .order_by(func.count().desc()).limit(1))
        timed("refresh_first_trained(one session's attendees)", lambda: (refresh_first_trained(session_id=busy),
                                                                           db.session.commit()))
        all_ids = list(db.session.scalars(select(Person.id)))
        timed(f"refresh_first_trained({len(all_ids):,} people, one UPDATE)",
              lambda: (refresh_first_trained(all_ids), db.session.commit()), repeat=1)

    client = app.test_client()
    client.post("/login", data={"username": "youth", "password": DEMO_PASSWORD})
    with app.app_context():
        bac_ha = db.session.scalar(select(AdminUnit.id).where(AdminUnit.code == "085"))
        people = list(db.session.scalars(select(Person.id).where(Person.district_id == bac_ha).limit(200)))
        topic = db.session.scalar(select(TrainingTopic.id))
    now = clock.local_now() - timedelta(hours=3)
    r = client.post("/training/new", data={
        "title": "Bench", "topic_id": topic, "mode": "in_person", "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"), "venue": "Hall 1", "area_id": bac_ha,
        "status": "planned", "capacity": "300",
    })
    sid = int(r.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        db.session.execute(insert(Invitation.__table__), [
            {"session_id": sid, "person_id": p, "team_id": None, "created_at": now} for p in people])
        db.session.commit()

    def get(path):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response

    timed("GET /training (youth, district of Bắc Hà)", lambda: get("/training"))
    timed("GET /training?page=50 (youth)", lambda: get("/training?page=50"))
    timed("GET /training?view=month&month=2023-05 (youth)", lambda: get("/training?view=month&month=2023-05"))
    timed("GET /training/<id> (200 invited)", lambda: get(f"/training/{sid}"))
    timed("GET /training/<id>/attendance (200 invited)", lambda: get(f"/training/{sid}/attendance"))
    timed("POST attendance, 200 ticked (first save, then re-saves)",
          lambda: client.post(f"/training/{sid}/attendance",
                              data={"present": people, "hours": "2", "action": "save"}))
    timed(f"GET /training/{sid}/sign-in-sheet", lambda: get(f"/training/{sid}/sign-in-sheet"))
    client.post("/training/calendar/renew")
    with app.app_context():
        from cdt.auth.models import User

        token = db.session.scalar(select(User.calendar_token).where(User.username == "youth"))
        busiest = db.session.scalar(select(Attendance.person_id).group_by(Attendance.person_id)
                                    .order_by(func.count().desc()).limit(1))
        from cdt.training.queries import person_training

        history = timed("person_training(busiest person)", lambda: person_training(busiest))
        print(f"   ({len(history.sessions)} sessions, {history.total_hours} hours)")
    feed = timed("GET /training/calendar.ics (youth: sessions of the last year on)",
                 lambda: app.test_client().get(f"/training/calendar.ics?token={token}"))
    print(f"   ({feed.data.count(b'BEGIN:VEVENT')} events, {len(feed.data):,} bytes)")
    client.post("/logout")
    client.post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
    timed("GET /training (admin, everything)", lambda: get("/training"))
    timed("GET /training?view=month&month=2024-03 (admin)", lambda: get("/training?view=month&month=2024-03"))


if __name__ == "__main__":
    main()
