"""`flask cdt backup` / `flask cdt restore`: a backup taken while writers run is a consistent
snapshot; restored, it has the same rows and the same coverage report; restore refuses a
non-empty database without --force and a backup of an unknown schema version.

Runs on SQLite (online backup API) always, and on PostgreSQL (pg_dump/pg_restore) in the
PostgreSQL pass."""
from __future__ import annotations

import os
import threading
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from cdt import create_app
from cdt.extensions import db
from cdt.geo.queries import unit_by_code
from cdt.ops import schema
from cdt.registry import services
from cdt.registry.models import Team
from tests.conftest import BASE_CONFIG, POSTGRES, _admin_engine, _pg_url


@pytest.fixture
def empty_database_url(tmp_path):
    """A second, empty database of the same kind as this run's."""
    if not POSTGRES:
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"cdt_restore_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _cli(url: str, *args: str):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    try:
        return app.test_cli_runner().invoke(args=list(args))
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                    for t in sorted(inspect(conn).get_table_names())}
    finally:
        engine.dispose()


def _scalar(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def _coverage(url: str) -> str:
    result = _cli(url, "cdt", "report", "coverage", "--by", "commune", "--unit", "15", "--format", "csv")
    assert result.exit_code == 0, result.output
    return result.output


TEAM_STAT_DRIFT = """
    SELECT count(*) FROM team_stat s
    WHERE s.members <> (SELECT count(DISTINCT m.person_id) FROM membership m
                        WHERE m.team_id = s.team_id AND m.left_on IS NULL)
"""


def _writer(app, stop: threading.Event, name: str, written: list[int]):
    """Registers people one transaction each (person + membership + audit) until stopped."""
    with app.app_context():
        commune = unit_by_code("02839")  # new Xã Bắc Hà (the demo applies the 2025 reform)
        teams = db.session.scalars(select(Team).where(Team.commune_id == commune.id).order_by(Team.id)).all()
        n = 0
        while not stop.is_set():
            data = {"full_name": f"Thử Sao Lưu {name} {n:04d}", "gender": "male", "birth_date": date(1990, 1, 1 + n % 28),
                    "ethnicity": "kinh", "phone": f"+84339{ord(name) % 10}{n:05d}", "youth_union": n % 2 == 0}
            services.create_person(data, commune, teams[n % len(teams)], "member", date(2024, 1, 1))
            db.session.commit()
            written.append(n)
            n += 1
        db.session.remove()


def test_backup_while_writers_run_then_restore(app, runner, database_url, empty_database_url, tmp_path):
    stop = threading.Event()
    written: list[int] = []
    writers = [threading.Thread(target=_writer, args=(app, stop, name, written)) for name in ("A", "B")]
    for thread in writers:
        thread.start()
    try:
        while len(written) < 10:  # the writers are well under way
            threading.Event().wait(0.05)
        result = runner.invoke(args=["cdt", "backup", str(tmp_path / "live.backup")])
        at_backup_end = len(written)
        threading.Event().wait(0.3)  # ... and go on writing after it
    finally:
        stop.set()
        for thread in writers:
            thread.join(60)
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output
    assert oct(os.stat(tmp_path / "live.backup").st_mode & 0o777) == "0o600"
    assert len(written) > at_backup_end  # the writers really ran past the backup

    result = _cli(empty_database_url, "cdt", "restore", str(tmp_path / "live.backup"))
    assert result.exit_code == 0, result.output
    # A snapshot: whole transactions only (each person with their membership), figures consistent.
    people = _scalar(empty_database_url, "SELECT count(*) FROM person WHERE full_name LIKE 'Thử Sao Lưu %'")
    members = _scalar(empty_database_url, "SELECT count(*) FROM membership m JOIN person p ON p.id = m.person_id "
                                          "WHERE p.full_name LIKE 'Thử Sao Lưu %'")
    assert 10 <= people <= at_backup_end and members == people
    assert _scalar(empty_database_url, TEAM_STAT_DRIFT) == 0

    # Once the writers stopped: a backup restored (over the first restore: --force) is the same
    # database, table by table, and gives the same coverage report.
    result = runner.invoke(args=["cdt", "backup", str(tmp_path / "quiet.backup")])
    assert result.exit_code == 0, result.output
    refused = _cli(empty_database_url, "cdt", "restore", str(tmp_path / "quiet.backup"))
    assert refused.exit_code == 1 and "not empty" in refused.output and "--force" in refused.output
    result = _cli(empty_database_url, "cdt", "restore", "--force", str(tmp_path / "quiet.backup"))
    assert result.exit_code == 0, result.output
    source = _counts(database_url)
    assert source["person"] >= 7363 + len(written) and source["alembic_version"] == 1
    assert _counts(empty_database_url) == source
    assert _coverage(empty_database_url) == _coverage(database_url)


def _set_revision(url: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    finally:
        engine.dispose()


def test_restore_checks_the_schema_version(runner, database_url, empty_database_url, tmp_path):
    (head,) = schema.code_heads()
    # A backup of a newer version of the code (a revision this code does not know): refused.
    _set_revision(database_url, "abcdef123456")
    assert runner.invoke(args=["cdt", "backup", str(tmp_path / "newer.backup")]).exit_code == 0
    result = _cli(empty_database_url, "cdt", "restore", str(tmp_path / "newer.backup"))
    assert result.exit_code == 1 and "abcdef123456 is unknown" in result.output
    assert _counts(empty_database_url) == {} or not POSTGRES and not Path(empty_database_url[10:]).exists()
    # An older one is restored, with the instruction to upgrade.
    previous = schema.scripts().get_revision(head).down_revision
    _set_revision(database_url, previous)
    assert runner.invoke(args=["cdt", "backup", str(tmp_path / "older.backup")]).exit_code == 0
    result = _cli(empty_database_url, "cdt", "restore", str(tmp_path / "older.backup"))
    assert result.exit_code == 0 and "flask db upgrade" in result.output
    _set_revision(database_url, head)


def test_restore_refuses_what_is_not_a_backup(empty_database_url, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a database")
    result = _cli(empty_database_url, "cdt", "restore", str(path))
    assert result.exit_code == 1 and "not a backup" in result.output
