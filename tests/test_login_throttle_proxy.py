"""Log-in throttling behind a reverse proxy: X-Forwarded-For is trusted only for
PROXY_FIX_X_FOR proxies, the per-address limit leaves a shared office address alone in
normal use, and the per-account limit stays at 5 failures a minute."""
from __future__ import annotations

import pytest

from cdt import create_app
from cdt.demo import DEMO_PASSWORD
from cdt.extensions import db, limiter
from tests.conftest import BASE_CONFIG

WRONG = "wrong password x"


@pytest.fixture
def make_app(database_url):
    apps = []

    def _make(**config):
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **config})
        with app.app_context():
            limiter.reset()
        apps.append(app)
        return app

    yield _make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _post(client, username, password=WRONG, forwarded=None, remote=None):
    kwargs = {}
    if forwarded is not None:
        kwargs["headers"] = {"X-Forwarded-For": forwarded}
    if remote is not None:
        kwargs["environ_base"] = {"REMOTE_ADDR": remote}
    return client.post("/login", data={"username": username, "password": password}, **kwargs)


def test_behind_one_proxy_each_client_is_counted_on_its_own(make_app):
    app = make_app(PROXY_FIX_X_FOR=1, LOGIN_LIMIT_PER_ADDRESS="5 per minute")
    client = app.test_client()
    for i in range(5):
        assert _post(client, f"someone{i}", forwarded="203.0.113.5").status_code == 200
    assert _post(client, "someone9", forwarded="203.0.113.5").status_code == 429
    # Every request comes from the proxy (127.0.0.1), but another client is not blocked.
    assert _post(client, "commune", DEMO_PASSWORD, forwarded="198.51.100.7").status_code == 302


def test_behind_one_proxy_the_audit_trail_has_the_client_address(make_app):
    from sqlalchemy import select

    from cdt.audit.models import AuditEvent

    app = make_app(PROXY_FIX_X_FOR=1)
    _post(app.test_client(), "commune", DEMO_PASSWORD, forwarded="198.51.100.7")
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.ip).where(AuditEvent.action == "login.success")) == "198.51.100.7"


def test_behind_one_proxy_a_client_cannot_spoof_its_way_out(make_app):
    """The proxy appends the real address; what the client put in front is ignored."""
    app = make_app(PROXY_FIX_X_FOR=1, LOGIN_LIMIT_PER_ADDRESS="5 per minute")
    client = app.test_client()
    for i in range(5):
        response = _post(client, f"someone{i}", forwarded=f"10.9.9.{i}, 203.0.113.5")
        assert response.status_code == 200
    assert _post(client, "other", forwarded="10.9.9.99, 203.0.113.5").status_code == 429


def test_without_trusted_proxies_x_forwarded_for_is_ignored(make_app):
    app = make_app(LOGIN_LIMIT_PER_ADDRESS="5 per minute")  # PROXY_FIX_X_FOR defaults to 0
    assert app.config["PROXY_FIX_X_FOR"] == 0
    client = app.test_client()
    for i in range(5):
        assert _post(client, f"someone{i}", forwarded=f"203.0.113.{i}").status_code == 200
    assert _post(client, "other", forwarded="198.51.100.7").status_code == 429


def test_six_failures_on_one_account_lock_it_from_any_address(make_app):
    app = make_app(PROXY_FIX_X_FOR=1)
    client = app.test_client()
    for i in range(5):
        assert _post(client, "commune", forwarded=f"203.0.113.{i}").status_code == 200
    assert _post(client, "commune", DEMO_PASSWORD, forwarded="198.51.100.7").status_code == 429
    assert _post(client, "district", DEMO_PASSWORD, forwarded="198.51.100.8").status_code == 302


def test_a_shared_office_address_is_not_blocked_by_normal_failures(make_app):
    """A commune office: 30 staff behind one public address, typing mistakes spread over the
    morning. 25 failures on different accounts within a minute still let a colleague in."""
    app = make_app()
    client = app.test_client()
    for i in range(25):
        assert _post(client, f"staff{i:02d}", remote="203.0.113.5").status_code == 200
    assert _post(client, "commune", DEMO_PASSWORD, remote="203.0.113.5").status_code == 302


def test_the_per_address_limit_still_stops_a_spray(make_app):
    """Many accounts tried from one address: the default limit stops it within the minute."""
    app = make_app()
    limit = app.config["LOGIN_LIMIT_PER_ADDRESS"]
    per_minute = int(limit.split()[0])
    assert 20 <= per_minute <= 100, limit
    client = app.test_client()
    statuses = [_post(client, f"victim{i:03d}", remote="203.0.113.5").status_code for i in range(per_minute + 1)]
    assert statuses[:per_minute] == [200] * per_minute and statuses[-1] == 429


def test_an_ipv6_client_counts_by_its_64_network(make_app):
    app = make_app(LOGIN_LIMIT_PER_ADDRESS="5 per minute")
    client = app.test_client()
    for i in range(5):
        assert _post(client, f"someone{i}", remote=f"2001:db8:1:2::{i + 1:x}").status_code == 200
    assert _post(client, "other", remote="2001:db8:1:2:ffff::9").status_code == 429
    assert _post(client, "commune", DEMO_PASSWORD, remote="2001:db8:1:3::1").status_code == 302


def test_proxy_setting_must_be_a_count(monkeypatch, tmp_path):
    from cdt import config

    monkeypatch.setenv("PROXY_FIX_X_FOR", "yes")
    with pytest.raises(ValueError, match="PROXY_FIX_X_FOR"):
        config.load(str(tmp_path))
    monkeypatch.setenv("PROXY_FIX_X_FOR", "2")
    assert config.load(str(tmp_path))["PROXY_FIX_X_FOR"] == 2
