"""Benchmark of the member/team exports and of the import check at national scale.

Builds `cdt.demo.build_demo("national")` (~81,000 teams, ~405,000 people) into a SQLite
database (reused when --sqlite PATH already exists), logs in as the demo admin through the
real login form, then times through the test client (full response, body consumed):

- /members/export.csv, /teams/export.csv, /teams/export.xlsx, /members/export.xlsx of the whole
  nation (~405,000 people, ~81,000 teams), the body consumed chunk by chunk,
- the import check (`prepare`) of a 20,000-row CSV (the upload limit) for one commune,

and prints seconds, rows, bytes, the number of SQL statements of each request, and the
process's peak resident memory (ru_maxrss, monotonic) right after each request, before the
bench reads the file back (the exports stream: memory must not grow with the row count).
Run it on an existing database file so that building the data set does not set the peak.

    .venv/bin/python bench/transfer.py --sqlite /tmp/cdt_transfer_national.sqlite3
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _catch_up_schema(db) -> None:
    """A reused database built by an older checkout: add the tables and nullable columns added since."""
    from sqlalchemy import inspect, text

    db.create_all()
    inspector = inspect(db.engine)
    with db.engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            have = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in have:
                    kind = column.type.compile(dialect=db.engine.dialect)
                    conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
                    print(f"added column {table.name}.{column.name} to the reused database")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", default="/tmp/cdt_transfer_national.sqlite3")
    args = parser.parse_args()

    from sqlalchemy import event, select

    from cdt import create_app
    from cdt.demo import DEMO_PASSWORD, build_demo
    from cdt.extensions import db
    from cdt.geo.models import AdminUnit

    path = Path(args.sqlite)
    config = {"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "RATELIMIT_ENABLED": False}
    app = create_app(config)
    if not path.exists():
        started = time.perf_counter()
        with app.app_context():
            db.create_all()
            build_demo("national")
        print(f"built the national data set in {time.perf_counter() - started:.0f} s")
    else:
        with app.app_context():
            _catch_up_schema(db)

    with app.app_context():
        engine = db.engine
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(1))

    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
    print(f"{'request':32} {'seconds':>8} {'rows':>9} {'MB':>7} {'SQL':>4} {'peak RSS MB':>12}")
    for url in ("/members/export.csv", "/teams/export.csv", "/teams/export.xlsx", "/members/export.xlsx"):
        statements.clear()
        started = time.perf_counter()
        response = client.get(url, buffered=False)
        assert response.status_code == 200, (url, response.status_code)
        size = lines = 0
        spool = tempfile.TemporaryFile()
        for chunk in response.response:  # consumed chunk by chunk, as a browser would
            size += len(chunk)
            lines += chunk.count(b"\n")
            spool.write(chunk)
        response.close()
        elapsed = time.perf_counter() - started
        peak = peak_mb()  # before the bench itself reads the file back
        if url.endswith(".csv"):
            rows = lines - 1
        else:
            from openpyxl import load_workbook

            spool.seek(0)
            sheet = load_workbook(spool, read_only=True).worksheets[0]
            rows = sum(1 for _ in sheet.iter_rows(min_row=2, max_col=1))
        spool.close()
        print(f"{url:32} {elapsed:8.1f} {rows:9,d} {size / 1e6:7.1f} {len(statements):4d} {peak:12.0f}")

    # The import check of a file at the row limit.
    from flask_babel import force_locale

    from cdt.core.spreadsheets import write_csv
    from cdt.registry.transfer.importing import MAX_ROWS, prepare

    with app.app_context(), force_locale("vi"):
        commune = db.session.scalar(select(AdminUnit).where(AdminUnit.code == "02866"))
        villages = db.session.scalars(select(AdminUnit.code).where(AdminUnit.parent_id == commune.id)).all()
        rows = [[f"Người Thử Tải {i}", "Nam" if i % 2 else "Nữ", f"{1 + i % 28:02d}/{1 + i % 12:02d}/{1970 + i % 35}",
                 "Kinh", f"09{i:08d}", "", "Có", "", villages[i % len(villages)], ""] for i in range(MAX_ROWS)]
        data = write_csv(["Họ và tên", "Giới tính", "Ngày sinh", "Dân tộc", "Số điện thoại", "Số CCCD", "Đoàn viên",
                          "Chức danh", "Thôn, tổ dân phố", "Vai trò trong tổ"], rows)
        statements.clear()
        started = time.perf_counter()
        result = prepare(commune, data, "csv")
        elapsed = time.perf_counter() - started
        print(f"{'import check, 20,000 csv rows':32} {elapsed:8.1f} {len(result.rows):9,d} {len(data) / 1e6:7.1f} "
              f"{len(statements):4d} {peak_mb():12.0f}   counts={result.counts}")
    print("Rerun: .venv/bin/python bench/transfer.py [--sqlite PATH]")


if __name__ == "__main__":
    main()
