"""Test fixtures.

Each test gets its own database, copied from a template built once per run:
- the demo template (the default): the Lào Cai demo (units, 1,562 teams, 7,363 people,
  training, the demo accounts), for tests that read the demo's figures and the e2e tests;
- the bare template (tests marked `@pytest.mark.bare`): the schema, Lào Cai's province,
  districts and communes, the training topics and the demo accounts; no village, team,
  person or session. Such tests make the few rows they need with tests/factories.py.
Each template is built on first use only:
- SQLite (always): the template file is copied per test;
- PostgreSQL (when CDT_TEST_POSTGRES=1 and TEST_DATABASE_URL are set, as `make test`
  does): a template database, and `CREATE DATABASE ... TEMPLATE` per test.
The demo accounts of both get a salted scrypt hash with a test work factor (a log-in costs
milliseconds, not a second).
The template schema comes from the models; tests/test_migrations.py proves that the
Alembic migrations build exactly that schema (no drift).
"""
from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import uuid

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from cdt import create_app
from cdt.demo import DEMO_PASSWORD
from cdt.extensions import db, limiter

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_STORAGE_URI": "memory://",
    # Fixed test keys of the citizen ID's encryption and keyed hash (cdt/privacy/crypto.py).
    "CDT_CITIZEN_ID_KEY": "dGVzdC1jaXRpemVuLWlkLWtleS0wMTIzNDU2Nzg5YWI=",
    "CDT_CITIZEN_ID_HASH_KEY": "test-citizen-id-hash-key-0123456789",
}

POSTGRES = os.environ.get("CDT_TEST_POSTGRES") == "1" and bool(os.environ.get("TEST_DATABASE_URL"))
_counter = itertools.count()


def _pg_url(name: str | None = None) -> str:
    url = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")
    if name:
        url = url.set(database=name)
    return url.render_as_string(hide_password=False)


def _admin_engine():
    return create_engine(_pg_url(), isolation_level="AUTOCOMMIT")


def _fill_demo() -> None:
    from cdt.demo import build_demo

    build_demo("laocai")


def _fill_bare() -> None:
    from cdt.demo import LAO_CAI, create_demo_accounts
    from cdt.geo.units import load_units
    from cdt.training.topics import ensure_topics

    load_units([LAO_CAI])
    ensure_topics()
    create_demo_accounts()


def _build(url: str, fill) -> None:
    from flask_migrate import stamp

    from cdt.auth.models import User
    from tests.factories import hash_password

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        # The schema from the models (fast); tests/test_migrations.py proves the
        # migrations build the same schema.
        db.create_all()
        stamp()
        fill()
        # The demo accounts: salted scrypt still, with the factories' work factor (production's
        # costs ~1 s a log-in on a busy CI, and most tests log in).
        for user in db.session.scalars(select(User)):
            user.password_hash = hash_password(DEMO_PASSWORD)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def _template(tmp_path_factory, label: str, fill):
    if POSTGRES:
        name = f"cdt_test_{label}_{os.getpid()}"
        engine = _admin_engine()
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        _build(_pg_url(name), fill)
        yield ("postgresql", name)
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
    else:
        path = tmp_path_factory.mktemp(label) / f"{label}.sqlite3"
        _build(f"sqlite:///{path}", fill)
        con = sqlite3.connect(path)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("PRAGMA journal_mode=DELETE")
        con.close()
        yield ("sqlite", path)


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    """The demo template."""
    yield from _template(tmp_path_factory, "tpl", _fill_demo)


@pytest.fixture(scope="session")
def bare_template_database(tmp_path_factory):
    """Units, topics and accounts only (tests marked `bare`)."""
    yield from _template(tmp_path_factory, "bare", _fill_bare)


def _strategy(conn) -> str:
    """' STRATEGY FILE_COPY' where the server knows it (PostgreSQL 15 and later)."""
    return " STRATEGY FILE_COPY" if conn.dialect.server_version_info >= (15,) else ""


@pytest.fixture
def database_url(request, tmp_path):
    bare = request.node.get_closest_marker("bare") is not None
    kind, template = request.getfixturevalue("bare_template_database" if bare else "template_database")
    if kind == "sqlite":
        target = tmp_path / "test.sqlite3"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    name = f"cdt_test_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    engine = _admin_engine()
    with engine.connect() as conn:
        # FILE_COPY: one file copy of the ~130 MB template (PostgreSQL 15's default, WAL_LOG, writes
        # every block through the WAL; measured 0.33 s against 0.46 s a test on this machine).
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{_strategy(conn)}'))
    yield _pg_url(name)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def app(database_url, request):
    config = {**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url}
    if request.node.get_closest_marker("csrf"):
        config["WTF_CSRF_ENABLED"] = True
    app = create_app(config)
    with app.app_context():
        limiter.reset()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def login(client, username: str, password: str = DEMO_PASSWORD):
    """Log in through the real form; returns the response (after redirects)."""
    response = client.post("/login", data={"username": username, "password": password}, follow_redirects=True)
    assert response.status_code == 200
    return response


@pytest.fixture
def login_as(client):
    """login_as("commune") logs the test client in as a demo account."""

    def _login(username: str):
        response = login(client, username)
        assert "/login" not in response.request.path, f"log-in as {username} failed"
        return client

    return _login


def pytest_configure(config):
    config.addinivalue_line("markers", "csrf: run the test with CSRF protection enabled")
    config.addinivalue_line("markers", "e2e: end-to-end browser test (Playwright + Chromium)")
    config.addinivalue_line("markers", "bare: run the test on the bare database (units, topics, accounts; "
                                       "no people): it makes its rows with tests/factories.py")


@pytest.fixture
def frozen_clock(monkeypatch):
    """frozen_clock(instant) stops the registry's clock (cdt.core.clock) at `instant` for the test.

    An aware datetime; a naive one is read as UTC. today(), now(), local_now(), utcnow() and
    day_start() all follow, and so do the column defaults (created_at, audit times)."""
    from datetime import UTC

    from cdt.core import clock

    def _freeze(instant):
        instant = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
        monkeypatch.setattr(clock, "_system_utcnow", lambda: instant.astimezone(UTC))
        return instant

    return _freeze
