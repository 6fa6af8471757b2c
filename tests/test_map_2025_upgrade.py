"""A database made by the release before the 2025 map upgrades with `flask db upgrade` plus
`flask cdt units reform`, and its figures for 2023-06-30 stay exactly what they were.

The previous release is the commit the 2025-map work started from (RELEASE): its code is taken
from git (`git archive`), and it builds the database with its own migrations and demo, then
reports with its own CLI; this branch's code upgrades and reports again.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RELEASE = "7c597dc8fe3af0b8e7efa38e600426acc199c61d"
REPORTS = [
    ["--unit", "10", "--by", "district", "--as-of", "2023-06-30"],
    ["--unit", "085", "--by", "commune", "--as-of", "2023-06-30"],
    ["--unit", "02866", "--by", "village", "--as-of", "2023-06-30"],
]


def _flask(code: Path, url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "upgrade-test", "PYTHONPATH": str(code),
           "FLASK_APP": "app"}
    env.pop("CDT_ENV", None)
    done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=code, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, f"flask {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _release(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is needed to take the previous release's code")
    archive = tmp_path / "release.tar"
    done = subprocess.run(["git", "archive", "--format=tar", "-o", str(archive), RELEASE], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"the previous release is not in this repository: {done.stderr.strip()}")
    target = tmp_path / "release"
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    shutil.copytree(ROOT / "translations", target / "translations", dirs_exist_ok=True)
    return target


def test_previous_release_database_upgrades_and_keeps_its_2023_figures(tmp_path):
    release = _release(tmp_path)
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    _flask(release, url, "db", "upgrade")
    _flask(release, url, "cdt", "demo")
    before = [_flask(release, url, "cdt", "report", "coverage", "--format", "csv", *args) for args in REPORTS]
    districts = [line.split(",") for line in before[0].strip().splitlines()[1:]]
    assert len(districts) == 9 and sum(int(r[4]) for r in districts) == 1562  # the demo's figures

    _flask(ROOT, url, "db", "upgrade")
    _flask(ROOT, url, "cdt", "units", "load", "--province", "10")
    out = _flask(ROOT, url, "cdt", "units", "reform")
    assert "villages placed in a new commune: 1,562" in out or "villages placed in a new commune: 1562" in out
    after = [_flask(ROOT, url, "cdt", "report", "coverage", "--format", "csv", *args) for args in REPORTS]
    assert after == before
    # Today the same teams are on the new map: new Lào Cai (15), its 48 communes from old Lào Cai.
    today = _flask(ROOT, url, "cdt", "report", "coverage", "--unit", "15", "--by", "commune", "--format", "csv")
    rows = [line.split(",") for line in today.strip().splitlines()[1:]]
    assert len(rows) == 99
    assert sum(int(r[4]) for r in rows) == 1562 and sum(int(r[5]) for r in rows) == 1562
    assert sum(1 for r in rows if int(r[4])) == 48
