"""Files holding personal data are readable by the app's user only (0600, folders 0700),
whatever the umask; what a killed import confirmation leaves is cleaned at start-up."""
from __future__ import annotations

import os
import shutil
import stat
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from cdt import create_app
from cdt.extensions import db
from cdt.registry.models import Person
from cdt.registry.transfer import uploads
from tests.conftest import BASE_CONFIG
from tests.test_registry_transfer import GOOD, csv_bytes, preview, upload

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask():
    """The usual umask, under which files are created 0644 unless the app says otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _app(url: str, **config):
    return create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url, **config})


def _dispose(app):
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- the SQLite database ----------------------------------------------------------------------

def test_a_new_sqlite_database_and_its_journals_are_private(tmp_path):
    path = tmp_path / "cdt.sqlite3"
    app = _app(f"sqlite:///{path}")
    try:
        with app.app_context():
            db.create_all()
            db.session.execute(text("INSERT INTO admin_unit (code, name, level, kind) VALUES ('10', 'x', 'province', 'tinh')"))
            db.session.commit()
            wal, shm = path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")
            assert wal.exists() and shm.exists()  # WAL mode: both journal files exist while connected
            assert (mode(path), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
    finally:
        _dispose(app)


def test_an_existing_world_readable_database_is_made_private(template_database, tmp_path):
    kind, template = template_database
    if kind != "sqlite":
        pytest.skip("SQLite only")
    path = tmp_path / "old.sqlite3"
    shutil.copyfile(template, path)
    os.chmod(path, 0o644)
    app = _app(f"sqlite:///{path}")
    try:
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Person)) > 0
        assert mode(path) == 0o600
    finally:
        _dispose(app)


def test_the_instance_folder_is_created_private(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(instance))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'cdt.sqlite3'}"})
    try:
        assert mode(instance) == 0o700
        assert mode(instance / "secret_key") == 0o600
        with app.app_context():
            db.session.execute(text("SELECT 1"))
        assert mode(instance / "cdt.sqlite3") == 0o600
    finally:
        _dispose(app)


# --- waiting uploads ---------------------------------------------------------------------------

@pytest.fixture
def import_folder(app, tmp_path):
    folder = tmp_path / "imports"
    app.config["CDT_IMPORT_FOLDER"] = str(folder)
    return folder


def test_an_upload_waits_in_a_private_folder_in_a_private_file(app, login_as, import_folder):
    client = login_as("commune")
    assert upload(client, csv_bytes(GOOD), "a.csv").status_code == 302
    files = list(import_folder.iterdir())
    assert len(files) == 1
    assert mode(import_folder) == 0o700 and mode(files[0]) == 0o600


def _waiting(folder: Path, name: str, age: float = 0, file_mode: int = 0o600) -> Path:
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / name
    path.write_bytes(b"full_name\nLo Thi Mai\n")
    os.chmod(path, file_mode)
    if age:
        then = time.time() - age
        os.utime(path, (then, then))
    return path


def test_start_up_removes_what_a_killed_confirmation_left(database_url, tmp_path):
    folder = tmp_path / "imports"
    killed = _waiting(folder, "a" * 32 + ".csv.work")              # the worker died while confirming
    fresh = _waiting(folder, "b" * 32 + ".csv")                    # a preview waiting for its confirm
    forgotten = _waiting(folder, "c" * 32 + ".xlsx", age=7 * 3600)  # never confirmed
    old_mode = _waiting(folder, "d" * 32 + ".csv", file_mode=0o644)  # written by an older version
    app = _app(database_url, CDT_IMPORT_FOLDER=str(folder))
    _dispose(app)
    assert not killed.exists() and not forgotten.exists()
    assert fresh.exists() and old_mode.exists() and mode(old_mode) == 0o600


def test_start_up_leaves_a_confirmation_in_progress_alone(database_url, tmp_path):
    folder = tmp_path / "imports"
    waiting = _waiting(folder, "e" * 32 + ".csv")
    with uploads.Claim(waiting) as claim:  # another worker is confirming it
        assert claim.work.exists() and not waiting.exists()
        _dispose(_app(database_url, CDT_IMPORT_FOLDER=str(folder)))  # a worker (re)starts meanwhile
        assert claim.work.exists()
        assert claim.read().startswith(b"full_name")
    assert waiting.exists() and not claim.work.exists()  # put back for another try


def test_a_claimed_upload_cannot_be_claimed_twice(tmp_path):
    waiting = _waiting(tmp_path / "imports", "f" * 32 + ".csv")
    with uploads.Claim(waiting) as claim:
        with pytest.raises(uploads.Gone):
            uploads.Claim(waiting).__enter__()
        with pytest.raises(uploads.Gone):
            uploads.Claim(claim.work.with_name(waiting.name)).__enter__()
        claim.done()
    assert not waiting.exists() and not claim.work.exists()


def test_an_import_confirmed_while_a_worker_starts_completes(app, login_as, import_folder, database_url, monkeypatch):
    from cdt.registry.transfer import views as transfer_views

    client = login_as("commune")
    assert upload(client, csv_bytes(GOOD), "a.csv").status_code == 302
    _html, counts, token = preview(client)
    real_prepare = transfer_views.prepare

    def prepare_while_a_worker_starts(*args, **kwargs):
        _dispose(_app(database_url, CDT_IMPORT_FOLDER=str(import_folder)))
        assert [p.name.endswith(".work") for p in import_folder.iterdir()] == [True]
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(transfer_views, "prepare", prepare_while_a_worker_starts)
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Person))
    response = client.post("/members/import/confirm", data={"token": token})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Person)) == before + counts["new"]
    assert list(import_folder.iterdir()) == []
