"""Benchmark of the /audit page on a large audit trail.

Builds the Lào Cai demo into a fresh SQLite database, adds N audit events (default 1,000,000,
spread over 2 years and over the demo accounts plus 200 extra users in other provinces'
areas), then times /audit through the test client, logged in as admin and as province staff,
unfiltered and with each filter, 10 runs each after one warm-up, and prints the median and
the 95th percentile. The log-in throttle and password hashing are not involved.

    .venv/bin/python bench/audit.py                 # 1,000,000 events
    .venv/bin/python bench/audit.py --events 200000 --sqlite /tmp/audit-bench.db
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 10
ACTIONS = ["login.success", "login.failure", "logout", "person.view", "team.update", "person.update",
           "export", "membership.create", "attendance.update", "training_session.create"]


def build(url: str, events: int) -> None:
    from sqlalchemy import insert, select

    from cdt import create_app
    from cdt.audit.models import AuditEvent
    from cdt.auth.models import User
    from cdt.core import clock
    from cdt.demo import build_demo
    from cdt.extensions import db
    from cdt.geo.models import AdminUnit

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        db.create_all()
        build_demo("laocai")
        communes = db.session.scalars(select(AdminUnit.id).where(AdminUnit.level == "commune")).all()
        for i in range(200):
            user = User(username=f"bench{i}", role="commune_officer", area_id=communes[i % len(communes)],
                        password_hash="x", must_change_password=False)
            db.session.add(user)
        db.session.commit()
        users = db.session.execute(
            select(User.id, User.username, AdminUnit.province_id).outerjoin(AdminUnit, User.area_id == AdminUnit.id)
        ).all()
        rng = random.Random(7)
        start = clock.utcnow() - timedelta(days=730)
        batch = []
        for i in range(events):
            uid, name, province_id = users[rng.randrange(len(users))]
            batch.append({"at": start + timedelta(seconds=i * 63), "user_id": uid, "username": name,
                          "province_id": province_id,
                          "action": ACTIONS[rng.randrange(len(ACTIONS))], "object_type": "team",
                          "object_id": rng.randrange(1, 1600), "details": None, "ip": "127.0.0.1"})
            if len(batch) == 20000:
                db.session.execute(insert(AuditEvent), batch)
                batch = []
        if batch:
            db.session.execute(insert(AuditEvent), batch)
        db.session.commit()
        db.engine.dispose()


def timed(client, path: str) -> tuple[float, float]:
    client.get(path)
    samples = []
    for _ in range(RUNS):
        t = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sqlite", help="database file to build (kept)")
    args = parser.parse_args()
    path = args.sqlite or str(Path(tempfile.mkdtemp()) / "audit-bench.sqlite3")
    url = f"sqlite:///{path}"
    t = time.perf_counter()
    build(url, args.events)
    print(f"built {args.events:,} events in {time.perf_counter() - t:.0f} s ({path})")

    from cdt import create_app
    from cdt.auth.models import User
    from cdt.core import clock
    from cdt.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "WTF_CSRF_ENABLED": False})
    day = (clock.utcnow() - timedelta(days=100)).date().isoformat()
    cases = ["/audit", "/audit?page=500", "/audit?user=commune", "/audit?action=export",
             "/audit?object_type=team&object_id=77", f"/audit?date_from={day}&date_to={day}"]
    for username in ("admin", "province"):
        client = app.test_client()
        with app.app_context():
            user = db.session.scalar(db.select(User).where(User.username == username))
            ident = user.get_id()
        with client.session_transaction() as sess:
            sess["_user_id"] = ident
            sess["login_at"] = sess["seen_at"] = time.time()
        for path in cases:
            median, p95 = timed(client, path)
            print(f"{username:9} {path:45} median {median:7.1f} ms   p95 {p95:7.1f} ms")


if __name__ == "__main__":
    main()
