"""No personal value in any log line, on any error path, and no typed log-in name kept
(cdt/core/logprivacy.py, hide_parameters on the engine, the log-in view)."""
from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy import inspect, select, text

from cdt import create_app
from cdt.audit.models import AuditEvent
from cdt.core.logprivacy import REDACTED, redact
from cdt.extensions import db, limiter
from cdt.registry.models import Person
from tests.conftest import BASE_CONFIG

NEW_PHONE = "0987654321"
NEW_NAME = "Vừ Thị Bí Mật"


@pytest.fixture
def failing_app(database_url):
    """An app (exceptions not propagated, as in production) with routes whose database
    statements fail while carrying a citizen ID, a phone number and a name."""
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "TESTING": False,
                      "PROPAGATE_EXCEPTIONS": False})

    @app.get("/test/duplicate-person")
    def duplicate_person():
        # A copy of a registered person with a new phone: the citizen ID is already taken,
        # so the INSERT (all of the person's values as parameters) fails in the database.
        existing = db.session.scalar(select(Person).where(Person.citizen_id.is_not(None)).order_by(Person.id))
        values = {c.key: getattr(existing, c.key) for c in inspect(Person).column_attrs if c.key != "id"}
        values.update(phone=NEW_PHONE, full_name=NEW_NAME)
        db.session.add(Person(**values))
        db.session.commit()
        return "saved"

    @app.get("/test/broken-query")
    def broken_query():
        citizen_id = db.session.scalar(select(Person).where(Person.citizen_id.is_not(None)).limit(1)).citizen_id
        db.session.execute(text("SELECT * FROM no_such_table WHERE citizen_id = :cid AND phone = :phone"),
                           {"cid": citizen_id, "phone": NEW_PHONE})
        return "found"

    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _citizen_id(app) -> str:
    with app.app_context():
        return db.session.scalar(select(Person).where(Person.citizen_id.is_not(None)).order_by(Person.id)).citizen_id


@pytest.fixture
def late_handler():
    """A handler added to the root logger after the app was created (as a server or a log
    shipper does), with the standard formatter: what it writes is what reaches a file."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


@pytest.mark.parametrize("path", ["/test/duplicate-person", "/test/broken-query"])
def test_database_error_logs_no_personal_value(failing_app, path, caplog, late_handler):
    citizen_id = _citizen_id(failing_app)
    client = failing_app.test_client()
    loggers = ["", "cdt", "sqlalchemy", "sqlalchemy.engine", "werkzeug", "flask_limiter"]
    for name in loggers:
        caplog.set_level(logging.DEBUG, logger=name)
    response = client.get(path)
    assert response.status_code == 500
    assert any("Unhandled error" in r.getMessage() for r in caplog.records)  # the error is logged...
    assert "Traceback" in caplog.text  # ...with its traceback
    # SQLAlchemy's own statement log was on (DEBUG): it is covered too.
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    written = caplog.text + late_handler.getvalue()
    for record in caplog.records:
        written += logging.Formatter().format(record)
    for value in (citizen_id, NEW_PHONE, NEW_NAME):
        assert value not in written, value
    assert citizen_id not in response.text and NEW_PHONE not in response.text


def test_sql_parameters_are_hidden_even_when_the_config_names_other_engine_options(database_url):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False}})
    with app.app_context():
        try:
            with pytest.raises(Exception) as raised:
                db.session.execute(text("SELECT * FROM no_such_table WHERE phone = :phone"), {"phone": NEW_PHONE})
            assert NEW_PHONE not in str(raised.value)
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("value", [
    "001234567890",          # citizen ID (12 digits)
    "012345678",             # old ID card (9 digits)
    "0912345678", "0912 345 678", "0912.345.678", "0912-345-678",
    "+84912345678", "+84 912 345 678", "84912345678",
])
def test_personal_numbers_are_redacted_in_any_message(value, caplog):
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("some.library").info("value %s and again (%s)", value, value)
        logging.getLogger("cdt").warning(f"inline {value}")
    assert value not in caplog.text
    assert caplog.text.count(REDACTED) == 3


def test_what_is_not_personal_is_kept():
    line = "Failed log-in (wrong_password) for commune from 192.168.100.200 on 2023-06-30, team 1562, 12345678"
    assert redact(line) == line


def test_request_lines_lose_their_query_values(caplog, monkeypatch):
    # Alembic's fileConfig (run by migration tests in this process) disables existing loggers.
    for name in ("werkzeug", "gunicorn.access"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    with caplog.at_level(logging.INFO):
        logging.getLogger("werkzeug").info('%s - - "%s" %s -', "127.0.0.1",
                                           "GET /members?q=nguy%E1%BB%85n+van+an&page=2 HTTP/1.1", 200)
        logging.getLogger("gunicorn.access").info('"GET /members?q=0912345678 HTTP/1.1" 200')
    assert "nguy%E1" not in caplog.text and "0912345678" not in caplog.text
    assert "/members?q=[redacted]&page=[redacted] HTTP/1.1" in caplog.text


def test_postgresql_detail_lines_are_redacted():
    message = ('(psycopg.errors.UniqueViolation) duplicate key value violates unique constraint "uq_person_citizen_id"\n'
               "DETAIL:  Key (citizen_id)=(Nguyễn Văn An) already exists.\n"
               "[SQL: INSERT INTO person ...]")
    cleaned = redact(message)
    assert "Nguyễn" not in cleaned and 'unique constraint "uq_person_citizen_id"' in cleaned
    assert redact("new row violates check constraint: Failing row contains (5, Lò Thị Mai, f).") == \
        "new row violates check constraint: Failing row contains ([redacted])."


# --- failed log-ins ----------------------------------------------------------------------------

PASSWORD_IN_USERNAME_BOX = "Mùa xuân 2024 Bắc Hà!"


def test_a_password_typed_as_username_is_kept_nowhere(app, client, caplog):
    with caplog.at_level(logging.DEBUG):
        for _ in range(6):  # the sixth is throttled: the limiter logs its key
            client.post("/login", data={"username": PASSWORD_IN_USERNAME_BOX, "password": "wrong password x"})
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login.failure")).all()
        assert len(events) == 5
        for event in events:
            stored = repr((event.username, event.details, event.object_type, event.object_id, event.ip))
            assert "xuân" not in stored.lower() and "2024" not in stored and "mùa" not in stored.lower()
            assert event.details == {"reason": "unknown_account"} and event.object_id is None
        storage = repr(vars(limiter.storage))
    assert "xuân" not in storage.lower() and "Bắc Hà" not in storage
    assert "xuân" not in caplog.text.lower() and "Bắc Hà" not in caplog.text
    assert any("exceeded" in r.getMessage() for r in caplog.records)  # the limiter did log


def test_failed_log_in_on_a_known_account_names_the_account_not_the_text(app, client, caplog):
    with caplog.at_level(logging.INFO, logger="cdt"):
        client.post("/login", data={"username": "  Commune ", "password": "wrong password x"})
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login.failure"))
        commune_id = db.session.execute(text("SELECT id FROM user_account WHERE username = 'commune'")).scalar()
    assert event.object_type == "user_account" and event.object_id == commune_id
    assert event.details == {"reason": "wrong_password"}
    assert any(r.getMessage().startswith("Failed log-in (wrong_password) for commune from")
               for r in caplog.records)
