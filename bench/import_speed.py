"""Benchmark of the member import at its limits: preview (check) and confirm (check + write).

On the Lào Cai demo (1,562 teams, 7,363 people), times two files of new synthetic people:

- a 20,000-row file (the upload limit, MAX_ROWS) for one commune of today's map (default 02839,
  Xã Bắc Hà: its 63 villages, so ~320 new members per team);
- a 7,363-row file (the size of the whole Lào Cai demo list) for another commune (default 02647,
  Phường Lào Cai).

For each file it prints the seconds of the preview (`prepare`, what the upload page runs), of the
write (`commit`), and of a confirmation as the web page runs it (the file checked again, then
written), and then checks that team_stat equals a recount from scratch (what `flask cdt stats
rebuild` computes) and that every row was written. SQLite always (the demo built once into
bench/results/ and copied per run); PostgreSQL too when TEST_DATABASE_URL (or --postgres) is set
(a database of its own, dropped afterwards).

    .venv/bin/python bench/import_speed.py
    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/import_speed.py

Targets (issue 14): 20,000 rows confirmed in < 10 s, 7,363 rows in < 3 s, on both databases.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"

HEADERS = ["Họ và tên", "Giới tính", "Ngày sinh", "Dân tộc", "Số điện thoại", "Thôn, tổ dân phố", "Đoàn viên",
           "Vai trò trong tổ"]
_SYLLABLES = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Nga", "Oanh", "Phúc",
              "Quang", "Sơn", "Tâm", "Uyên", "Vinh", "Xuân", "Yến", "Đức"]


def synthetic_file(count: int, villages: list[str], tag: str, phone_prefix: str) -> bytes:
    """`count` invented people spread over `villages` (codes): four-word names (`tag` and three
    syllables; with the birth date, never the same person twice), unique phones."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for n in range(count):
        name = f"{tag} {_SYLLABLES[n // 400 % 20]} {_SYLLABLES[n // 20 % 20]} {_SYLLABLES[n % 20]}"
        writer.writerow([name, "Nữ" if n % 2 else "Nam", f"{1 + n % 28:02d}/{1 + n % 12:02d}/{1970 + n % 30}",
                         "Kinh", f"{phone_prefix}{n:06d}", villages[n % len(villages)], "Có" if n % 3 == 0 else "",
                         ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def build_sqlite(work: Path) -> str:
    """A copy of the cached Lào Cai demo (built on first use)."""
    from cdt import create_app
    from cdt.demo import build_demo
    from cdt.extensions import db

    RESULTS.mkdir(parents=True, exist_ok=True)
    pristine = RESULTS / "import_speed_laocai.sqlite3"
    if not pristine.exists():
        print(f"building the Lào Cai demo into {pristine} ...", flush=True)
        partial = pristine.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{partial}", "SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            build_demo("laocai")
            db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        partial.rename(pristine)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(pristine, work)
    return f"sqlite:///{work}"


def build_postgres(admin_url: str, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from cdt import create_app
    from cdt.demo import build_demo
    from cdt.extensions import db

    base = make_url(admin_url).set(drivername="postgresql+psycopg")
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    print(f"building the Lào Cai demo into PostgreSQL database {name} ...", flush=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        build_demo("laocai")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return url


def drop_postgres(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def run(url: str, label: str, cases: list[tuple[str, str, int, str, str]]) -> list[tuple]:
    from sqlalchemy import func, select, text

    from cdt import create_app
    from cdt.core.clock import today
    from cdt.extensions import db
    from cdt.geo.models import AdminUnit
    from cdt.geo.queries import unit_by_code
    from cdt.geo.within import valid_on
    from cdt.registry.models import Membership
    from cdt.registry.transfer.importing import commit, prepare
    from cdt.reports.models import COLUMNS, _select

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    figures = []
    with app.app_context(), app.test_request_context("/"):
        dialect = db.engine.dialect.name
        for name, commune_code, rows, phone_prefix, tag in cases:
            commune = unit_by_code(commune_code, level="commune")  # the commune this code names today
            villages = list(db.session.scalars(select(AdminUnit.code).where(
                AdminUnit.commune_id == commune.id, AdminUnit.level == "village",
                valid_on(AdminUnit, today())).order_by(AdminUnit.code)))
            data = synthetic_file(rows, villages, tag, phone_prefix)
            before = db.session.scalar(select(func.count()).select_from(Membership))
            db.session.commit()

            started = time.perf_counter()
            result = prepare(commune, data, "csv")
            preview = time.perf_counter() - started
            assert result.ok, [(e.row, e.message) for e in result.errors[:5]]
            db.session.commit()

            started = time.perf_counter()
            result = prepare(commune, data, "csv")  # what the confirm button runs: check again ...
            check = time.perf_counter() - started
            started = time.perf_counter()
            counts = commit(result, filename=f"{name}.csv", via="bench")  # ... then write
            write = time.perf_counter() - started
            db.session.remove()

            after = db.session.scalar(select(func.count()).select_from(Membership))
            stored = {tuple(r) for r in db.session.execute(text(f"SELECT {COLUMNS} FROM team_stat"))}
            recount = {tuple(r) for r in db.session.execute(text(_select("1 = 1", dialect)))}
            exact = stored == recount
            db.session.commit()
            ok = counts["created"] == rows and after - before == rows and exact
            figures.append((label, name, rows, len(villages), preview, check + write, write, ok))
            print(f"{label:<10} {name:<22} {rows:>6,} rows  preview {preview:6.2f} s  confirm {check + write:6.2f} s "
                  f"(write {write:5.2f} s)  team_stat exact: {exact}  rows written: {after - before:,}", flush=True)
        db.session.remove()
        db.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the big file (default 20,000)")
    parser.add_argument("--commune", default="02839",
                        help="commune of the big file, read on today's map (default 02839, Xã Bắc Hà)")
    parser.add_argument("--laocai-rows", type=int, default=7_363)
    parser.add_argument("--laocai-commune", default="02647", help="today's Phường Lào Cai by default")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"),
                        help="a PostgreSQL URL whose server may get a scratch database (default TEST_DATABASE_URL)")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()

    cases = [(f"Big {args.rows}", args.commune, args.rows, "0338", "Lò"),
             (f"Laocai {args.laocai_rows}", args.laocai_commune, args.laocai_rows, "0339", "Giàng")]
    figures = []
    if not args.no_sqlite:
        work = RESULTS / "import_speed_run.sqlite3"
        figures += run(build_sqlite(work), "SQLite", cases)
    if args.postgres:
        name = f"cdt_bench_import_{os.getpid()}"
        try:
            figures += run(build_postgres(args.postgres, name), "PostgreSQL", cases)
        finally:
            drop_postgres(args.postgres, name)

    print()
    print("| database | file | rows | teams | preview (s) | confirm (s) | of which write (s) | exact |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for label, name, rows, teams, preview, confirm, write, ok in figures:
        print(f"| {label} | {name.split()[0]} | {rows:,} | {teams} | {preview:.2f} | {confirm:.2f} | {write:.2f} | "
              f"{'yes' if ok else 'NO'} |")
    print(f"\ncommand: .venv/bin/python bench/import_speed.py{' (TEST_DATABASE_URL set)' if args.postgres else ''}")
    if not all(f[-1] for f in figures):
        sys.exit(1)


if __name__ == "__main__":
    main()
