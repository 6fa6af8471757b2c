"""Time `flask cdt demo --scale national` and `flask cdt report coverage --unit 10 --by district`.

Run from the repository root:

    .venv/bin/python bench/national_load.py                 # fresh SQLite file in a temp dir
    .venv/bin/python bench/national_load.py --keep /tmp/national.sqlite3   # keep the database

The schema is created from the models (create_all) in a fresh SQLite file, then the two
commands run exactly as a user types them (`flask --app app ...`, DATABASE_URL set), so
the times include starting the application. Target (issue #2): the load under 3 minutes.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FLASK = [sys.executable, "-m", "flask", "--app", "app"]


def create_schema(url: str) -> None:
    from cdt import create_app
    from cdt.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        db.engine.dispose()


def timed(cmd: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{result.stdout}\n{result.stderr}")
    return seconds, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", metavar="PATH", help="build the database at PATH and keep it")
    args = parser.parse_args()

    tmp = None
    if args.keep:
        path = Path(args.keep).resolve()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="cdt-national-")
        path = Path(tmp.name) / "national.sqlite3"
    url = f"sqlite:///{path}"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}

    create_schema(url)
    load_s, load_out = timed([*FLASK, "cdt", "demo", "--scale", "national"], env)
    print(load_out.strip().splitlines()[-2] if load_out.strip() else "")
    report_s, report_out = timed([*FLASK, "cdt", "report", "coverage", "--unit", "10", "--by", "district"], env)
    report_csv_s, _ = timed(
        [*FLASK, "cdt", "report", "coverage", "--by", "province", "--format", "csv"], env
    )
    size_mb = path.stat().st_size / 1e6

    print(f"database: {path} ({size_mb:.0f} MB)")
    print(f"flask cdt demo --scale national                     {load_s:8.1f} s   (target < 180 s)"
          f"  {'OK' if load_s < 180 else 'TOO SLOW'}")
    print(f"flask cdt report coverage --unit 10 --by district   {report_s:8.2f} s   (whole command, app start included)")
    print(f"flask cdt report coverage --by province --format csv {report_csv_s:7.2f} s")
    print(report_out.strip().splitlines()[-1])
    print("rerun: .venv/bin/python bench/national_load.py")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
