"""Benchmark of the coverage report on the national data set.

Builds `cdt.demo.build_demo("national")` (63 provinces, ~81,000 villages and teams, ~405,000
people) into a fresh SQLite database, and into a fresh PostgreSQL database too when
TEST_DATABASE_URL is set; then times, 20 runs each (after one warm-up run):

- the report (`cdt.reports.queries.coverage`, what the page, the exports and the CLI call:
  statement built, run, rows turned into CoverageRow objects) on both maps (the national demo
  applies the 2025 reform): today the nation by province and new Lào Cai (15) by commune; for
  2023-06-30 the nation by province on that date's map and regrouped on today's (`map=`), old
  Lào Cai (10) by district, and new Lào Cai's communes regrouped;
- the bare SQL aggregate it runs (the same compiled SELECT through the DB-API cursor);
- the bare SQL of the live definition (`fast=False`: the joins over membership, team and person),
  which the report uses when the fast path does not apply (a past date, a future-dated row);

and prints median and 95th percentile and the ratio report / bare SQL. The report takes the fast
path (team_stat, kept by triggers: cdt/reports/models.py) when `fast_path_applies(today)`; the
bench says whether it did. A reused database without team_stat gets it (create_all fills it).
The report is timed computed (its result cache cleared before each run: the first request after a
change to the data) and kept (the same report again: cdt/core/data_version.py).
Targets (issue 11, SQLite medians): nation by province today < 20 ms; a past date (live) < 150 ms;
`map=` regrouping within 2x of the same report on its own map.

    .venv/bin/python bench/coverage.py                       # SQLite (+ PostgreSQL if TEST_DATABASE_URL)
    .venv/bin/python bench/coverage.py --sqlite /tmp/n.db    # keep / reuse the SQLite database
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/coverage.py
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 20
PAST = "2023-06-30"
# name, unit code (read on the map's date), level, as_of (None: today), map (None: as_of's)
CASES = [
    ("nation by province", None, "province", None, None),
    ("Lào Cai (15) by commune", "15", "commune", None, None),
    ("nation by prov. 2023", None, "province", PAST, None),
    ("nation 2023, map today", None, "province", PAST, "today"),
    ("old LC (10) by district 2023", "10", "district", PAST, None),
    ("LC (15) 2023, map today", "15", "commune", PAST, "today"),
]


def make_app(url: str):
    from cdt import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})


def build(url: str) -> float:
    from cdt.demo import build_demo
    from cdt.extensions import db

    app = make_app(url)
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        counts = build_demo("national")
        seconds = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    print(f"  built: {counts['villages']:,} villages, {counts['teams']:,} teams, {counts['people']:,} people, "
          f"{counts['attendance']:,} attendance rows in {seconds:.1f} s", flush=True)
    return seconds


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def measure(url: str, label: str) -> list[tuple]:

    from datetime import date

    from cdt.extensions import db
    from cdt.geo.queries import unit_by_code
    from cdt.reports.queries import coverage, coverage_statement, fast_path_applies, today

    app = make_app(url)
    cache = app.extensions["cdt_result_cache"]
    results = []
    with app.app_context():
        db.create_all()  # a database built before team_stat existed: the table, its triggers, its rows
        print(f"  {label}: fast path applies today: {fast_path_applies(today())}", flush=True)
        db.session.rollback()
        for name, code, level, when, map_when in CASES:
            as_of = today() if when is None else date.fromisoformat(when)
            map_day = None if map_when is None else today()
            parent = unit_by_code(code, map_day or as_of) if code else None
            fast = map_day is None and fast_path_applies(as_of)
            postgres = db.engine.dialect.name == "postgresql"
            sql = str(coverage_statement(parent, level, as_of, fast=fast, map_day=map_day).compile(
                db.engine, compile_kwargs={"literal_binds": True}))
            live_sql = str(coverage_statement(parent, level, as_of, fast=False, map_day=map_day).compile(
                db.engine, compile_kwargs={"literal_binds": True}))

            def report(parent=parent, level=level, as_of=as_of, map_day=map_day):
                cache.clear()  # computed: the first request after a change to the data
                return coverage(parent, level, as_of, map_day=map_day)

            def kept(parent=parent, level=level, as_of=as_of, map_day=map_day):
                return coverage(parent, level, as_of, map_day=map_day)  # the same data version again

            def bare(sql=sql, postgres=postgres):
                raw = db.engine.raw_connection()
                try:
                    cursor = raw.cursor()
                    if postgres:
                        cursor.execute("SET LOCAL jit = off")  # as the report does
                    cursor.execute(sql)
                    rows = cursor.fetchall()
                    cursor.close()
                finally:
                    raw.close()
                return rows

            def live(sql=live_sql, postgres=postgres):
                return bare(sql, postgres)

            # warm-up, and the same figures from the report, its SQL and the live definition
            assert [tuple(r)[5:] for r in bare()] == [tuple(r)[5:] for r in live()]
            assert len(report()) == len(bare())
            times = {"report": [], "bare": [], "cpu": [], "live": [], "cached": []}
            for _ in range(RUNS):
                for kind, fn in (("report", report), ("cached", kept), ("bare", bare), ("live", live)):
                    started, cpu = time.perf_counter(), time.process_time()
                    fn()
                    times[kind].append((time.perf_counter() - started) * 1000)
                    if kind == "report":
                        times["cpu"].append((time.process_time() - cpu) * 1000)
            rows = len(report())
            results.append((label, name, rows, statistics.median(times["report"]), percentile(times["report"], .95),
                            statistics.median(times["bare"]), percentile(times["bare"], .95),
                            statistics.median(times["cpu"]), statistics.median(times["live"]), fast,
                            statistics.median(times["cached"])))
        db.session.remove()
        db.engine.dispose()
    return results


def postgres_database(name: str | None = None, keep: bool = False):
    """A fresh database next to TEST_DATABASE_URL's (or the existing `name`); returns (url, fresh, drop)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
    admin = create_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    fresh = name is None
    name = name or f"cdt_bench_{os.getpid()}"
    if fresh:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        if fresh and not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), fresh, drop


def analyze(url: str) -> None:
    """What autovacuum does after a bulk load: planner statistics (PostgreSQL)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def main() -> None:
    global RUNS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", metavar="PATH",
                        help="SQLite file to use: built when missing, reused (not rebuilt) when it exists")
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL even if TEST_DATABASE_URL is set")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    parser.add_argument("--postgres-db", metavar="NAME", help="reuse this PostgreSQL database (already built)")
    parser.add_argument("--keep-postgres", action="store_true", help="do not drop the PostgreSQL database built")
    parser.add_argument("--runs", type=int, default=RUNS, help=f"timed runs per case (default {RUNS})")
    args = parser.parse_args()
    RUNS = args.runs

    results = []
    if not args.no_sqlite:
        tmp = None
        if args.sqlite:
            path = Path(args.sqlite).resolve()
        else:
            tmp = tempfile.TemporaryDirectory(prefix="cdt-bench-")
            path = Path(tmp.name) / "national.sqlite3"
        url = f"sqlite:///{path}"
        print(f"SQLite: {path}", flush=True)
        if not path.exists():
            build(url)
        else:
            print("  reusing the existing database")
        results += measure(url, "SQLite")
        if tmp is not None:
            tmp.cleanup()

    if os.environ.get("TEST_DATABASE_URL") and not args.no_postgres:
        pg_url, fresh, drop = postgres_database(args.postgres_db, args.keep_postgres)
        print(f"PostgreSQL: {pg_url.rsplit('@', 1)[-1]}", flush=True)
        try:
            if fresh:
                build(pg_url)
            analyze(pg_url)
            results += measure(pg_url, "PostgreSQL")
        finally:
            drop()

    print()
    print(f"{'database':<11} {'report':<28} {'rows':>5} {'path':>5} {'median':>9} {'p95':>9} {'SQL med':>9} "
          f"{'SQL p95':>9} {'ratio':>6} {'CPU med':>9} {'live SQL':>9} {'kept':>9}")
    for label, name, rows, med, p95, bare_med, bare_p95, cpu, live_med, fast, kept_med in results:
        print(f"{label:<11} {name:<28} {rows:>5} {'fast' if fast else 'live':>5} {med:>7.1f}ms {p95:>7.1f}ms "
              f"{bare_med:>7.1f}ms {bare_p95:>7.1f}ms {med / bare_med:>6.2f} {cpu:>7.1f}ms {live_med:>7.1f}ms "
              f"{kept_med:>7.1f}ms")
    print("(path = what the report used; median/p95 = the report computed, as after a change to the data; "
          "ratio = report median / bare SQL median; CPU med = this "
          "process's CPU time per report run: on SQLite it excludes waiting for a CPU, on PostgreSQL the "
          "server's work is not in it; live SQL = median of the live definition's bare SQL, the fallback; "
          "kept = the same report again with no change in between: the figures kept for the data version, "
          "cdt/core/data_version.py)")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    sqlite = {r[1]: r for r in results if r[0] == "SQLite"}
    if "nation by province" in sqlite:
        nation = sqlite["nation by province"]
        print(f"\nTargets on SQLite (medians): nation by province today under 20 ms (issue 11): "
              f"computed {nation[3]:.1f} ms, kept {nation[10]:.1f} ms;")
        past = sqlite["nation by prov. 2023"]
        print(f"  a past date (live) under 150 ms: nation by province 2023 computed {past[3]:.1f} ms "
              f"({'met' if past[3] < 150 else 'NOT met'});")
        regrouped = sqlite["nation 2023, map today"]
        print(f"  map= within 2x of the same date on its own map: {regrouped[3]:.1f} ms / {past[3]:.1f} ms = "
              f"{regrouped[3] / past[3]:.2f}x ({'met' if regrouped[3] <= 2 * past[3] else 'NOT met'}).")
    print("Rerun: .venv/bin/python bench/coverage.py [--sqlite PATH] "
          "(PostgreSQL too when TEST_DATABASE_URL is set)")


if __name__ == "__main__":
    main()
