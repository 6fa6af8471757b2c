"""/healthz and /readyz; production mode's refusals; log-in when Redis is down."""
from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import event, text

from cdt import create_app
from cdt.demo import DEMO_PASSWORD
from cdt.extensions import db, limiter
from cdt.ops import schema
from cdt.ops.production import ProductionConfigError
from tests.conftest import BASE_CONFIG
from tests.ops_support import free_port, has_redis_server, private_redis

# Nothing listens there: connection refused at once.
DEAD_REDIS = f"redis://127.0.0.1:{free_port()}/0"


def _app(database_url: str, **config):
    return create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **config})


@pytest.fixture
def dispose():
    apps = []
    yield apps.append
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _body(response) -> dict:
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


# --------------------------------------------------------------------------- health

def test_healthz_answers_without_the_database_or_a_cookie(app, client):
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get("/healthz")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200 and _body(response) == {"status": "ok"}
    assert statements == [] and "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert _body(response) == {"status": "ready",
                               "checks": {"database": "ok", "migrations": "ok", "redis": "not used"}}
    assert "Set-Cookie" not in response.headers


def test_readyz_when_migrations_are_behind(app, client):
    (head,) = schema.code_heads()
    previous = schema.scripts().get_revision(head).down_revision
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": previous})
        db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = _body(response)
    assert body["status"] == "unavailable" and body["checks"]["migrations"].startswith("behind")
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = 'f00dfeedbeef'"))
        db.session.commit()
    assert _body(client.get("/readyz"))["checks"]["migrations"].startswith("ahead")


def test_readyz_with_the_database_down_is_503_even_for_a_logged_in_cookie(dispose):
    app = _app(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    dispose(app)
    client = app.test_client()
    with client.session_transaction() as session:  # a browser that was logged in
        session["_user_id"] = "1:sometoken"
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert _body(response) == {"status": "unavailable",
                               "checks": {"database": "unreachable", "migrations": "unknown", "redis": "not used"}}


# --------------------------------------------------------------------------- production mode

GOOD_KEY = "k" * 12 + "-production-secret-key-0123456789"


@pytest.mark.parametrize("env, problem", [
    ({"SECRET_KEY": None, "REDIS_URL": "redis://127.0.0.1:6379/0"}, "SECRET_KEY is not set"),
    ({"SECRET_KEY": "change-me", "REDIS_URL": "redis://127.0.0.1:6379/0"}, "too short or a placeholder"),
    ({"SECRET_KEY": GOOD_KEY, "REDIS_URL": None}, "REDIS_URL"),
])
def test_production_refuses_to_start_without_a_real_key_and_redis(monkeypatch, database_url, env, problem):
    monkeypatch.setenv("CDT_ENV", "production")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(ProductionConfigError, match=problem):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url})


def test_production_starts_with_a_key_and_redis_and_never_generates_a_key(monkeypatch, database_url, tmp_path,
                                                                         dispose):
    monkeypatch.setenv("CDT_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("REDIS_URL", DEAD_REDIS)
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.setenv("CDT_IMPORT_FOLDER", str(tmp_path / "uploads"))
    # The citizen ID's keys (cdt/privacy/crypto.py): production is given them, never generates them.
    monkeypatch.setenv("CDT_CITIZEN_ID_KEY", BASE_CONFIG["CDT_CITIZEN_ID_KEY"])
    monkeypatch.setenv("CDT_CITIZEN_ID_HASH_KEY", BASE_CONFIG["CDT_CITIZEN_ID_HASH_KEY"])
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    dispose(app)
    assert app.config["SECRET_KEY"] == GOOD_KEY
    assert app.config["RATELIMIT_STORAGE_URI"] == DEAD_REDIS
    assert app.config["CDT_IMPORT_FOLDER"] == str(tmp_path / "uploads")
    monkeypatch.delenv("SECRET_KEY")
    from cdt import config

    assert config.secret_key(str(tmp_path)) is None and not (tmp_path / "secret_key").exists()
    monkeypatch.delenv("CDT_CITIZEN_ID_KEY")
    assert config.citizen_id_keys(str(tmp_path))["CDT_CITIZEN_ID_KEY"] is None
    assert not (tmp_path / "citizen_id_key").exists()


def test_an_unknown_cdt_env_is_refused(monkeypatch, database_url):
    monkeypatch.setenv("CDT_ENV", "prod")
    with pytest.raises(ProductionConfigError, match="CDT_ENV"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url})


# --------------------------------------------------------------------------- Redis down

def _fail(client, username="commune"):
    return client.post("/login", data={"username": username, "password": "wrong password x"})


def test_redis_down_login_works_with_a_per_process_throttle(database_url, dispose, caplog):
    app = _app(database_url, RATELIMIT_STORAGE_URI=DEAD_REDIS)
    dispose(app)
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="flask-limiter"):
        response = client.post("/login", data={"username": "district", "password": DEMO_PASSWORD})
    assert response.status_code == 302  # logged in, no error page
    assert limiter.on_fallback
    assert "falling back to in-memory storage" in caplog.text  # the operator is told
    other = app.test_client()
    for _ in range(5):
        assert _fail(other).status_code == 200
    refused = other.post("/login", data={"username": "commune", "password": DEMO_PASSWORD})
    assert refused.status_code == 429 and "Quá nhiều lần thử" in refused.text
    # Another account from another address is not affected.
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "youth", "password": DEMO_PASSWORD},
                      environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 302
    response = client.get("/readyz")
    assert response.status_code == 503
    assert _body(response) == {"status": "degraded",
                               "checks": {"database": "ok", "migrations": "ok", "redis": "unreachable"}}


@pytest.mark.skipif(not has_redis_server(), reason="redis-server is not installed")
def test_redis_stops_and_comes_back(database_url, dispose):
    """Counts are shared through Redis by two app instances (two workers) while it runs; when it
    stops, each process counts alone and log-in keeps working; when it is back, /readyz is ready."""
    with private_redis() as (process, url, port):
        workers = [_app(database_url, RATELIMIT_STORAGE_URI=url) for _ in range(2)]
        for worker in workers:
            dispose(worker)
        clients = [w.test_client() for w in workers]
        assert _body(clients[0].get("/readyz"))["status"] == "ready"
        for n in range(5):  # 3 failures on one worker, 2 on the other
            assert _fail(clients[n % 2]).status_code == 200
        assert _fail(clients[1]).status_code == 429  # shared count

        process.terminate()
        process.wait(10)
        assert clients[0].post("/login", data={"username": "district", "password": DEMO_PASSWORD}).status_code == 302
        for _ in range(5):
            assert _fail(clients[1], "youth").status_code == 200
        assert _fail(clients[1], "youth").status_code == 429  # per process, same limit
        body = _body(clients[1].get("/readyz"))
        assert body["status"] == "degraded" and body["checks"]["redis"] == "unreachable"

    with private_redis(port):
        response = clients[0].get("/readyz")
        assert response.status_code == 200 and _body(response)["status"] == "ready"
