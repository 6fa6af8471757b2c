"""Benchmark of the outputs report at national scale.

Builds the national demo (`cdt.demo.build_demo("national")`: 63 provinces, ~81,000 teams) into a
fresh SQLite database (or reuses one given with --sqlite), then replaces the monthly reports by a
synthetic national set made in SQL: every team active in each of the last MONTHS months (default
36) reports 8 indicators (the 6 common ones and 2 bench ones): ~80,000 x 36 x 8 = ~23 million
values. Then times, RUNS runs each after a warm-up, median and 95th percentile:

- the report (`cdt.outputs.report.outputs`: what the page, the exports and the CLI call) for the
  nation by province and for Lào Cai (15) by commune, for the last month and for the last 12 months;
- the bare SQL aggregate next to it (the value sums and the reporting counts, compiled SELECTs
  through the DB-API cursor);
- the commune officer's month entry page (`GET /outputs/entry`, rendered, logged in), for a
  commune with teams.

The report is timed computed (its kept results cleared before each run: the first request after a
change) and kept (the same report again, cdt/core/data_version.py).

Targets (issue 12), SQLite on this machine: a month for the nation < 150 ms, a year < 500 ms; a
commune's month entry page < 100 ms.

    .venv/bin/python bench/outputs.py                        # build in a temporary file
    .venv/bin/python bench/outputs.py --sqlite /tmp/o.db     # keep / reuse the database
    .venv/bin/python bench/outputs.py --sqlite /tmp/o.db --months 12 --runs 10
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_app(url: str):
    from cdt import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
                       "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def timed(fn, runs: int) -> tuple[float, float]:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), percentile(times, 0.95)


def teams_count() -> int:
    from sqlalchemy import func, select

    from cdt.extensions import db
    from cdt.registry.models import Team

    return db.session.scalar(select(func.count()).select_from(Team))


def build(app, months: int) -> None:
    from sqlalchemy import func, select, text

    from cdt.demo import build_demo
    from cdt.extensions import db
    from cdt.outputs import periods
    from cdt.outputs.models import Indicator
    from cdt.registry.models import Team

    with app.app_context():
        db.create_all()
        if not db.session.scalar(select(func.count()).select_from(Team)):
            started = time.perf_counter()
            counts = build_demo("national")
            print(f"  national demo: {counts['teams']:,} teams in {time.perf_counter() - started:.1f} s", flush=True)
        last = periods.last_month()
        first = periods.shift(last, -(months - 1))
        have = db.session.scalar(text("SELECT COUNT(*) FROM team_report WHERE period = :p"), {"p": first})
        counted = db.session.scalar(text("SELECT COUNT(*) FROM output_province_reports"))
        if have and have > teams_count() * 0.9 and not counted:
            from cdt.outputs import totals

            started = time.perf_counter()
            totals.rebuild()
            db.session.commit()
            db.session.execute(text("ANALYZE"))
            print(f"  counters rebuilt in {time.perf_counter() - started:.1f} s", flush=True)
        teams = db.session.scalar(select(func.count()).select_from(Team))
        if have and have > teams * 0.9:
            print(f"  monthly reports already there ({first} .. {last})", flush=True)
            return
        for code in ("bench_a", "bench_b"):
            if db.session.scalar(select(Indicator.id).where(Indicator.code == code)) is None:
                db.session.add(Indicator(code=code, name_vi=code, name_en=code, measure="people", position=900))
        db.session.commit()
        started = time.perf_counter()
        db.session.execute(text("DELETE FROM team_report_value"))
        db.session.execute(text("DELETE FROM team_report"))
        months_sql = " UNION ALL ".join(
            f"SELECT '{p}' AS period, '{periods.month_start(p)}' AS start, '{periods.month_end(p)}' AS stop"
            for p in periods.months(first, last))
        # every team active in the month reports it (about 4% of team-months left out at random)
        db.session.execute(text(f"""
            INSERT INTO team_report (team_id, period, source, submitted_at, updated_at)
            SELECT team.id, m.period, 'form', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
            FROM team JOIN ({months_sql}) AS m
              ON (team.established_on IS NULL OR team.established_on <= m.stop)
             AND (team.dissolved_on IS NULL OR team.dissolved_on > m.start)
             AND (team.status = 'active' OR team.dissolved_on IS NOT NULL)
            WHERE abs(random() % 100) >= 4
        """))
        db.session.execute(text("""
            INSERT INTO team_report_value (report_id, indicator_id, value)
            SELECT r.id, i.id, abs(random() % 40) FROM team_report r CROSS JOIN output_indicator i
            WHERE i.province_id IS NULL
        """))
        counted = time.perf_counter()
        from cdt.outputs import totals

        totals.rebuild()
        db.session.commit()
        print(f"  counters rebuilt in {time.perf_counter() - counted:.1f} s", flush=True)
        db.session.execute(text("ANALYZE"))
        values = db.session.scalar(text("SELECT COUNT(*) FROM team_report_value"))
        print(f"  synthetic reports {first} .. {last}: {values:,} values in {time.perf_counter() - started:.1f} s",
              flush=True)


def measure(app, runs: int) -> None:
    from sqlalchemy import select

    from cdt.auth.models import User
    from cdt.extensions import db
    from cdt.geo.models import AdminUnit
    from cdt.outputs import periods, queries, report
    from cdt.registry.models import Team

    with app.app_context():
        last = periods.last_month()
        year_first = periods.shift(last, -11)
        indicators = queries.indicators_for(None, year_first, last)
        from cdt.geo.queries import unit_by_code

        lao_cai = unit_by_code("15", level="province")  # today's Lào Cai (old Lào Cai and Yên Bái)
        cases = [
            ("nation by province, a month", None, "province", last, last),
            ("nation by province, 12 months", None, "province", year_first, last),
            ("Lào Cai (15) by commune, a month", lao_cai, "commune", last, last),
            ("Lào Cai (15) by commune, 12 months", lao_cai, "commune", year_first, last),
        ]
        print(f"{'case':<34} {'report median':>14} {'p95':>8} {'bare SQL median':>16} {'p95':>8} {'kept median':>12}")
        raw = db.session.connection().connection.driver_connection
        cache = app.extensions["cdt_result_cache"]

        def computed(*args):
            cache.clear()  # the first request after a change to the data
            return report.outputs(*args)

        for label, unit, level, first, to in cases:
            report_times = timed(lambda: computed(unit, level, first, to, indicators), runs)  # noqa: B023
            kept_times = timed(lambda: report.outputs(unit, level, first, to, indicators), runs)  # noqa: B023
            ids = [i.id for i in indicators]
            statements = [report._value_statement(unit, level, first, to, ids),
                          report._reported_statement(unit, level, first, to),
                          report._expected_statement(unit, level, to)]
            compiled = [s.compile(db.engine, compile_kwargs={"literal_binds": True}) for s in statements]

            def bare():
                for c in compiled:  # noqa: B023
                    cursor = raw.cursor()
                    cursor.execute(str(c))
                    cursor.fetchall()
            bare_times = timed(bare, runs)
            print(f"{label:<34} {report_times[0]:>11.1f} ms {report_times[1]:>5.1f} ms "
                  f"{bare_times[0]:>13.1f} ms {bare_times[1]:>5.1f} ms {kept_times[0]:>9.1f} ms", flush=True)
        commune = db.session.scalar(select(AdminUnit).join(Team, Team.commune_id == AdminUnit.id)
                                    .where(AdminUnit.province_id == lao_cai.id).limit(1))
        user = db.session.scalar(select(User).where(User.username == "bench-commune"))
        if user is None:
            user = User(username="bench-commune", role="commune_officer", area_id=commune.id,
                        must_change_password=False)
            user.set_password("bench commune password")
            db.session.add(user)
            db.session.commit()
        teams = len(queries.commune_month(commune, last))
    client = app.test_client()
    client.post("/login", data={"username": "bench-commune", "password": "bench commune password"})

    def page():
        response = client.get(f"/outputs/entry?month={last}")
        assert response.status_code == 200, response.status_code
    median, p95 = timed(page, runs)
    print(f"{'entry page (' + str(teams) + ' teams)':<34} {median:>11.1f} ms {p95:>5.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sqlite", help="SQLite file to build into or reuse")
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    path = args.sqlite or str(Path(tempfile.mkdtemp()) / "outputs.db")
    print(f"SQLite: {path}", flush=True)
    app = make_app(f"sqlite:///{path}")
    build(app, args.months)
    measure(app, args.runs)
    print("command: .venv/bin/python bench/outputs.py --sqlite " + path)


if __name__ == "__main__":
    main()
