"""The security baseline: headers on every response, translated error pages without a
traceback, log lines that user input cannot forge."""
from __future__ import annotations

import logging

import pytest

from cdt import create_app
from cdt.demo import DEMO_PASSWORD
from cdt.extensions import db
from tests.conftest import BASE_CONFIG, login

PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def assert_security_headers(response, page=True):
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {part.strip().split(" ")[0]: part.strip() for part in csp.split(";") if part.strip()}
    assert directives["object-src"] == "object-src 'none'"
    assert directives["base-uri"] == "base-uri 'none'"
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert directives["script-src"] == "script-src 'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    if page:
        assert response.headers["Cache-Control"] == "no-store"


def test_headers_on_a_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert_security_headers(response)
    assert "Strict-Transport-Security" not in response.headers


def test_headers_on_a_logged_in_404_and_pages(login_as):
    client = login_as("commune")
    for path, status in (("/units/01", 404), ("/units/02866", 200), ("/login", 302)):
        response = client.get(path)
        assert response.status_code == status, path
        assert_security_headers(response)


def test_static_files_are_cacheable_but_protected(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert_security_headers(response, page=False)
    assert response.headers.get("Cache-Control") != "no-store"
    response.close()


def test_no_inline_script_in_pages(login_as):
    client = login_as("admin")
    for path in ("/login", "/admin/users", "/admin/users/new", "/audit", "/account/password"):
        text = client.get(path).text
        assert "<script>" not in text and "onclick=" not in text and "style=" not in text, path


def test_hsts_when_https(database_url):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "CDT_HTTPS": True})
    response = app.test_client().get("/nothing-here", base_url="https://localhost")
    assert response.status_code == 404
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    with app.app_context():
        db.engine.dispose()


def test_debug_is_off_by_default(app):
    assert not app.debug


# --- error pages ---------------------------------------------------------------------------

@pytest.fixture
def raising_app(database_url):
    """An app whose /boom raises, with exceptions not propagated (as in production)."""
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "TESTING": False,
                      "PROPAGATE_EXCEPTIONS": False})

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail\nTraceback (most recent call last):")

    yield app
    with app.app_context():
        db.engine.dispose()


def test_forced_500_is_translated_without_traceback(raising_app, caplog):
    client = raising_app.test_client()
    with caplog.at_level(logging.ERROR, logger="cdt"):
        response = client.get("/boom")
    assert response.status_code == 500
    assert "Đã xảy ra lỗi" in response.text
    assert "secret internal detail" not in response.text and "Traceback" not in response.text
    assert_security_headers(response)
    assert any("Unhandled error" in r.getMessage() for r in caplog.records)


def test_forced_500_in_english(raising_app):
    client = raising_app.test_client()
    client.post("/language", data={"language": "en", "next": "/"})
    response = client.get("/boom")
    assert response.status_code == 500 and "Something went wrong" in response.text


@pytest.mark.parametrize("code,path,method,kwargs,text", [
    (404, "/nothing", "get", {}, "Không tìm thấy trang"),
    (405, "/logout", "get", {}, "Phương thức không được phép"),
    (413, "/login", "post", {"data": {"username": "x", "password": "y" * (7 * 1024 * 1024)}}, "Tệp quá lớn"),
    (400, "/language", "post", {"data": {"language": "xx"}}, "Yêu cầu không hợp lệ"),
])
def test_error_pages_translated(client, code, path, method, kwargs, text):
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == code
    assert text in response.text
    assert "Traceback" not in response.text
    assert_security_headers(response)


def test_405_names_the_allowed_methods_and_429_says_when_to_retry(client):
    response = client.get("/logout")
    assert response.status_code == 405 and "POST" in response.headers["Allow"] and "GET" not in response.headers["Allow"]
    for _ in range(6):
        response = client.post("/login", data={"username": "admin", "password": "not it at all"})
    assert response.status_code == 429 and response.headers["Retry-After"] == "60"


def test_403_page_translated(login_as):
    client = login_as("commune")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "Không có quyền truy cập" in response.text
    assert_security_headers(response)


def test_429_page_translated_with_headers(client):
    for _ in range(6):
        response = client.post("/login", data={"username": "admin", "password": "not it at all"})
    assert response.status_code == 429
    assert "Quá nhiều lần thử" in response.text
    assert_security_headers(response)


# --- logs -----------------------------------------------------------------------------------

def test_log_lines_cannot_be_forged(app, client, caplog):
    forged = "nobody\n2026-01-01 INFO Log-in of admin from 10.0.0.1\r\u2028x"
    with caplog.at_level(logging.INFO, logger="cdt"):
        # The log-in form refuses control characters in the username (nothing of it is logged)...
        response = client.post("/login", data={"username": forged[:60], "password": "wrong password x"})
        assert "ký tự điều khiển hoặc ký tự ẩn" in response.text
        # ... and whatever typed text reaches a logger is escaped.
        logging.getLogger("cdt.test").warning("Typed: %s", forged)
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("cdt")]
    assert any(m.startswith("Typed: nobody\\n2026-01-01") for m in messages), messages
    for message in messages:
        assert "\n" not in message and "\r" not in message and "\u2028" not in message
    assert len(caplog.text.strip().splitlines()) == len(caplog.records)


def test_log_filter_on_the_app_handler(app):
    """The filter is on Flask's own handler too, so a message logged elsewhere is escaped."""
    from flask.logging import default_handler

    from cdt.core.security import SAFE_LOG_FILTER

    assert SAFE_LOG_FILTER in default_handler.filters
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "user %s", ("a\nb",), None)
    SAFE_LOG_FILTER.filter(record)
    assert record.getMessage() == "user a\\nb"


def test_login_still_works_after_the_filters(client):
    assert "/login" not in login(client, "admin", DEMO_PASSWORD).request.path


def test_static_assets_load_no_user_from_the_database(app, client, login_as):
    from sqlalchemy import event

    from cdt.extensions import db

    login_as("commune")
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        for path in ("/static/app.css", "/bootstrap/static/css/bootstrap.min.css"):
            response = client.get(path)
            response.close()
            assert response.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert statements == []
    assert client.get("/members").status_code == 200  # pages still load the user
