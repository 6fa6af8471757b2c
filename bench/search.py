"""Member search at national scale (issue #4: "a name search answers in under 100 ms on SQLite").

Builds the national demo (all 63 provinces, ~81,000 teams, ~405,000 people) into a fresh SQLite
file, or reuses the file given, then times the SQL of the /members page (count + page of 25 +
the page's teams) for searches as the administrator (the whole country) and as the Lào Cai
province account: a full name without diacritics, the same with diacritics, one given name
(many matches), and a phone number typed with spaces. Prints median and p95 of 20 runs.

    .venv/bin/python bench/search.py                      # build /tmp/cdt-national.sqlite3 (~1 min), then time
    .venv/bin/python bench/search.py /tmp/cdt-national.sqlite3   # reuse a built file
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_login import login_user  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from cdt import create_app  # noqa: E402
from cdt.auth.models import User  # noqa: E402
from cdt.extensions import db  # noqa: E402
from cdt.registry.models import Person, PersonNameKey  # noqa: E402
from cdt.registry.names import rebuild_name_keys  # noqa: E402
from cdt.registry.queries import MemberFilters, current_memberships_of, member_select  # noqa: E402
from cdt.registry.rules import display_phone  # noqa: E402

RUNS = 20
REGISTRY_TABLES = ("person", "team", "membership", "team_decision", "person_name_key")
DEFAULT = Path("/tmp/cdt-national.sqlite3")


def build(path: Path) -> None:
    from cdt.demo import build_demo

    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        counts = build_demo("national")
        print(f"built {path}: {counts} in {time.perf_counter() - started:.0f} s")
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()


def ensure_schema() -> None:
    """A reused file may predate the registry's newest tables or indexes: add what is missing,
    and compute the name search keys if the file has none."""
    db.create_all()  # new tables only; existing tables are not altered
    for name in REGISTRY_TABLES:
        for index in db.metadata.tables[name].indexes:
            index.create(db.engine, checkfirst=True)
    if db.session.scalar(select(func.count()).select_from(PersonNameKey)) == 0:
        started = time.perf_counter()
        keys = rebuild_name_keys()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        print(f"computed {keys:,} name keys in {time.perf_counter() - started:.0f} s")


def time_search(app, user: User, q: str) -> tuple[list[float], int]:
    timings = []
    total = 0
    for _ in range(RUNS):
        with app.test_request_context("/members"):
            login_user(user)
            started = time.perf_counter()
            page = db.paginate(member_select(MemberFilters(q=q)), page=1, per_page=25, error_out=False)
            people = list(page.items)
            current_memberships_of([p.id for p in people])
            timings.append((time.perf_counter() - started) * 1000)
            total = page.total
            db.session.rollback()
    return timings, total


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if len(sys.argv) <= 1 or not path.exists():
        build(path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench"})
    with app.app_context():
        ensure_schema()
        people = db.session.scalar(select(func.count()).select_from(Person))
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        province = db.session.scalar(select(User).where(User.username == "province"))
        # Someone in Lào Cai, so that both the administrator and the province account find them.
        sample = db.session.scalar(select(Person).where(Person.phone.is_not(None), Person.full_name.like("% % %"),
                                                        Person.province_id == province.area_id)
                                   .order_by(Person.id).offset(3000).limit(1))
        queries = [
            ("name, no diacritics", sample.search_name),
            ("name, with diacritics", sample.full_name),
            ("middle and given name", " ".join(sample.search_name.split()[1:])),
            ("one given name", sample.search_name.split()[-1]),
            ("phone typed with spaces", display_phone(sample.phone)),
            ("name matching nobody", "zzzz yyyy"),
        ]
        print(f"SQLite {path}: {people:,} people; {RUNS} runs each; the /members page's SQL "
              "(count + page of 25 + their teams)")
        print(f"{'user':<9} {'search':<24} {'query':<28} {'matches':>8} {'median':>9} {'p95':>9}")
        worst = 0.0
        for username, user in (("admin", admin), ("province", province)):
            for label, q in queries:
                timings, total = time_search(app, user, q)
                median, high = statistics.median(timings), p95(timings)
                worst = max(worst, median)
                print(f"{username:<9} {label:<24} {q[:28]:<28} {total:>8,} {median:>7.1f}ms {high:>7.1f}ms")
        print(f"worst median {worst:.1f} ms (target: under 100 ms)")
    print(f"rerun: .venv/bin/python bench/search.py {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
