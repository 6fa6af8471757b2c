"""`flask cdt demo --reset` deletes only demo data unless told --yes-delete-everything, and the
demo command refuses everything in production mode (CDT_ENV=production)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cdt import create_app
from cdt.audit.models import AuditEvent
from cdt.audit.service import record
from cdt.auth.models import User
from cdt.demo import DEMO_ACCOUNTS
from cdt.extensions import db
from cdt.registry.models import Team
from tests.conftest import BASE_CONFIG, login


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(User)),
                db.session.scalar(select(func.count()).select_from(Team)),
                db.session.scalar(select(func.count()).select_from(AuditEvent)))


def _one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_reset_refused_when_an_account_is_not_a_demo_account(app, runner):
    assert runner.invoke(args=["cdt", "users", "create", "--username", "lan.tran", "--role", "commune_officer",
                               "--area", "02866"]).exit_code == 0
    before = _counts(app)
    error = _one_line_error(runner.invoke(args=["cdt", "demo", "--reset"]))
    assert "1 account(s) that are not demo accounts" in error and "--yes-delete-everything" in error
    assert _counts(app) == before


def test_reset_refused_when_a_demo_username_is_a_real_account(app, runner):
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "district")).is_demo = False
        db.session.commit()
    assert "not demo accounts" in _one_line_error(runner.invoke(args=["cdt", "demo", "--reset"]))


def test_reset_refused_after_a_command_line_import(app, runner):
    with app.app_context():
        record("import", details={"rows": 3})  # what `flask cdt import members` records (no user)
        db.session.commit()
    before = _counts(app)
    assert "command line" in _one_line_error(runner.invoke(args=["cdt", "demo", "--reset"]))
    assert _counts(app) == before


DEMO_TEAMS = 1562 + 1372  # old Lào Cai's published figure, old Yên Bái's made-up one


def test_reset_refused_for_registry_data_without_demo_accounts(app, runner):
    with app.app_context():
        # The demo's own reform events name its admin: they go first (Core: the ORM refuses).
        db.session.execute(AuditEvent.__table__.delete())
        for user in db.session.scalars(select(User)).all():
            db.session.delete(user)
        db.session.commit()
    assert "no demo account" in _one_line_error(runner.invoke(args=["cdt", "demo", "--reset"]))
    assert _counts(app)[1] == DEMO_TEAMS


def test_reset_with_yes_delete_everything_deletes_it(app, runner):
    assert runner.invoke(args=["cdt", "users", "create", "--username", "lan.tran", "--role", "admin"]).exit_code == 0
    result = runner.invoke(args=["cdt", "demo", "--reset", "--yes-delete-everything"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        names = set(db.session.scalars(select(User.username)).all())
    assert names == {username for username, *_ in DEMO_ACCOUNTS}
    assert _counts(app)[1] == DEMO_TEAMS


def test_reset_allowed_on_demo_data_changed_through_demo_accounts(app, client, runner):
    login(client, "commune")
    client.post("/login", data={"username": "nobody", "password": "wrong password x"})
    assert _counts(app)[2] >= 1
    result = runner.invoke(args=["cdt", "demo", "--reset"])
    assert result.exit_code == 0, result.output
    with app.app_context():  # the audit trail was demo data too: only the new demo's reform is there
        assert set(db.session.scalars(select(AuditEvent.action).distinct())) == {"village.place", "user.repoint"}


# What production mode needs to start (cdt/ops/production.py): a real key and a shared limiter storage.
PRODUCTION = {"CDT_ENV": "production", "SECRET_KEY": "x7Kq2vLp9sWd4hTz8mNc3bRf6yGj1uQe5aXo0iVk",
              "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15"}


@pytest.fixture
def production_runner(database_url):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **PRODUCTION})
    yield app, app.test_cli_runner()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("args", [["--reset"], ["--reset", "--yes-delete-everything"], ["--if-empty"], []])
def test_demo_refused_in_production(production_runner, args):
    app, runner = production_runner
    before = _counts(app)
    error = _one_line_error(runner.invoke(args=["cdt", "demo", *args]))
    assert "production" in error
    assert _counts(app) == before


def test_demo_refused_in_production_on_an_empty_database(tmp_path):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
                      **PRODUCTION})
    with app.app_context():
        db.create_all()
    try:
        error = _one_line_error(app.test_cli_runner().invoke(args=["cdt", "demo"]))
        assert "production" in error
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(User)) == 0
            assert db.session.scalar(select(User).where(User.username == "admin")) is None
    finally:
        with app.app_context():
            db.engine.dispose()


def test_production_mode_comes_from_cdt_env(monkeypatch, tmp_path):
    from cdt import config

    assert config.load(str(tmp_path))["CDT_ENV"] in ("development", "production")
    monkeypatch.setenv("CDT_ENV", "Production")
    assert config.load(str(tmp_path))["CDT_ENV"] == "production"
    monkeypatch.setenv("CDT_ENV", "prod")
    with pytest.raises(ValueError, match="CDT_ENV"):
        config.load(str(tmp_path))

