"""Benchmark of the API (issue 15) on the national data set.

Builds `cdt.demo.build_demo("national")` (~405,000 people) into a SQLite database (reused when the
file exists), then times through the app (test client, an admin's token), median of RUNS runs:

- /api/v1/members at pageSize=1000: the first page, and the last page reached as the nextPage link
  reaches it (keyset: `after=`), and the same last page by `page=` alone (OFFSET) for comparison;
  target: last page (keyset) within 1.5x of the first;
- /api/v1/coverage against /reports/coverage.csv with the same arguments (nation by province, new
  Lào Cai 15 by commune); target: the endpoint within 1.2x of the CSV.

    .venv/bin/python bench/api.py --sqlite /tmp/national.db      # builds once, then reuses the file
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 7


def make_app(url: str):
    from cdt import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
                       "CDT_API_RATE_LIMIT": "1000000/minute"})


def timed(fn) -> float:
    fn()  # warm-up
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sqlite", default="/tmp/cdt-national-api.db")
    args = parser.parse_args()
    path = Path(args.sqlite)
    url = f"sqlite:///{path}"
    from datetime import date, timedelta

    from sqlalchemy import func, select

    from cdt.extensions import db

    app = make_app(url)
    with app.app_context():
        if not path.exists() or path.stat().st_size == 0:
            from cdt.demo import build_demo

            db.create_all()
            started = time.perf_counter()
            counts = build_demo("national")
            print(f"built {counts['people']:,} people in {time.perf_counter() - started:.0f} s", flush=True)
            from sqlalchemy import text

            with db.engine.connect() as connection:  # fold the build's write-ahead log in before timing
                connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.create_all()  # a file built before the api_token table existed
        from cdt.api import tokens
        from cdt.auth.models import User
        from cdt.registry.models import Person

        admin = db.session.scalar(select(User).where(User.role == "admin").order_by(User.id).limit(1))
        _token, secret = tokens.create(admin, "bench", date.today() + timedelta(days=1))
        db.session.commit()
        people = db.session.scalar(select(func.count()).select_from(Person))
        size = 1000
        last_page = -(-people // size)
        # The cursor the nextPage link of page last_page - 1 carries: the id ending that page.
        after = db.session.scalar(select(Person.id).order_by(Person.id).offset((last_page - 1) * size - 1).limit(1))
        admin_id, session_token = admin.id, admin.session_token
    headers = {"Authorization": f"Bearer {secret}"}
    client = app.test_client()
    browser = app.test_client()
    with browser.session_transaction() as sess:
        now = time.time()
        sess.update({"_user_id": f"{admin_id}:{session_token}", "_fresh": True, "login_at": now, "seen_at": now})

    def get(c, url, **kw):
        response = c.get(url, **kw)
        assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:200])
        return response

    print(f"members: {people:,} people, pageSize={size}, {last_page} pages")
    first = timed(lambda: get(client, f"/api/v1/members?pageSize={size}", headers=headers))
    keyset = timed(lambda: get(client, f"/api/v1/members?pageSize={size}&page={last_page}&after={after}",
                               headers=headers))
    offset = timed(lambda: get(client, f"/api/v1/members?pageSize={size}&page={last_page}", headers=headers))
    print(f"  first page             {first:8.1f} ms")
    print(f"  last page (nextPage)   {keyset:8.1f} ms   x{keyset / first:.2f} of the first (target <= 1.5)")
    print(f"  last page (page= only) {offset:8.1f} ms   x{offset / first:.2f}")
    for label, query in (("nation by province", "by=province"), ("Lào Cai (15) by commune", "unit=15&by=commune")):
        api = timed(lambda q=query: get(client, f"/api/v1/coverage?{q}", headers=headers))
        csv = timed(lambda q=query: get(browser, f"/reports/coverage.csv?{q}"))
        print(f"coverage {label:26s} API {api:7.1f} ms   CSV {csv:7.1f} ms   x{api / csv:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
