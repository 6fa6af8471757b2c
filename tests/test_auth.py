"""Log-in, sessions, passwords, the admin user pages and the users CLI."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from cdt.audit.models import AuditEvent
from cdt.auth.models import User
from cdt.auth.passwords import common_passwords, password_problems, random_password
from cdt.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from cdt.extensions import db
from tests.conftest import login

GOOD = "Đồi chè xanh mướt sau mưa"  # 25 characters, Vietnamese, not common


def _user(app, username):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def _events(app, action=None, **filters):
    with app.app_context():
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        for key, value in filters.items():
            stmt = stmt.where(getattr(AuditEvent, key) == value)
        rows = db.session.scalars(stmt).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _set(app, username, **values):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        for key, value in values.items():
            if key == "password":
                user.set_password(value)
            else:
                setattr(user, key, value)
        db.session.commit()


# --- password policy ------------------------------------------------------------------

def test_password_policy_length_unicode_and_common_list():
    assert len(common_passwords()) > 19000
    assert password_problems("short-pass1")  # 11 characters
    longest = " ".join([GOOD] * 6)[:128]
    assert password_problems(longest + "x")
    assert password_problems(longest) == []
    assert password_problems(GOOD) == []
    # Vietnamese letters count once whether typed precomposed or decomposed (NFKC).
    decomposed = "De\u0302\u0301 me\u0300n a\u0306n co\u0309"  # 12 code points after NFKC, 17 before
    assert len(decomposed) == 17 and password_problems(decomposed) == []
    assert password_problems("De\u0302\u0301 me\u0300n a\u0306n c") != []  # 11 after NFKC
    # From the shipped list (Django's), in any case, and our Vietnamese additions.
    assert password_problems("Q1W2E3R4T5Y6") != []
    assert password_problems("qwerty123456") != []
    assert password_problems("matkhau123456") != []
    assert password_problems(DEMO_PASSWORD) != []
    assert password_problems("thanh.nguyen99", username="Thanh.Nguyen99") != []


def test_random_password_passes_policy_and_differs():
    first, second = random_password(), random_password()
    assert first != second and password_problems(first) == []


def test_stored_hashes_are_not_passwords(app):
    with app.app_context():
        hashes = db.session.scalars(select(User.password_hash)).all()
    assert len(hashes) == len(DEMO_ACCOUNTS)
    for value in hashes:
        assert DEMO_PASSWORD not in value
        assert value.startswith("scrypt:")
    assert len(set(hashes)) == len(DEMO_ACCOUNTS)  # salted


# --- log in ---------------------------------------------------------------------------

def test_login_page_in_vietnamese(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "Đăng nhập" in response.text
    assert "remember" not in response.text.lower()


def test_same_message_for_unknown_user_and_wrong_password(client, app):
    wrong = client.post("/login", data={"username": "commune", "password": "not the password!"})
    unknown = client.post("/login", data={"username": "nobody-here", "password": "not the password!"})
    assert wrong.status_code == unknown.status_code == 200

    def message(response):
        return re.search(r'role="alert">([^<]+)<', response.text).group(1)

    assert message(wrong) == message(unknown)
    failures = _events(app, "login.failure")
    assert [e.details for e in failures] == [{"reason": "wrong_password"}, {"reason": "unknown_account"}]
    assert failures[0].object_id == _user(app, "commune").id and failures[1].object_id is None
    assert all(e.user_id is None for e in failures)


def test_login_success_is_audited_and_case_insensitive(client, app):
    response = login(client, "Commune")
    assert "/login" not in response.request.path
    events = _events(app, "login.success")
    assert len(events) == 1 and events[0].username == "commune" and events[0].ip == "127.0.0.1"
    assert _user(app, "commune").last_login_at is not None


def test_deactivated_user_cannot_log_in(client, app):
    _set(app, "commune", active=False)
    response = client.post("/login", data={"username": "commune", "password": DEMO_PASSWORD})
    assert response.status_code == 200 and "/login" in response.request.path
    assert client.get("/").status_code == 302


def test_sixth_failed_login_within_a_minute_is_429(client):
    for _ in range(5):
        response = client.post("/login", data={"username": "commune", "password": "wrong password x"})
        assert response.status_code == 200
    response = client.post("/login", data={"username": "commune", "password": "wrong password x"})
    assert response.status_code == 429
    assert "Quá nhiều lần thử" in response.text  # translated page
    assert response.headers["Content-Security-Policy"]
    # Even the right password is refused while the account is throttled.
    assert client.post("/login", data={"username": "commune", "password": DEMO_PASSWORD}).status_code == 429


def test_failed_logins_limited_per_address_across_accounts(client, app):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "5 per minute"
    for i in range(5):
        response = client.post("/login", data={"username": f"someone{i}", "password": "wrong password x"})
        assert response.status_code == 200
    assert client.post("/login", data={"username": "other", "password": "wrong password x"}).status_code == 429


def test_failed_logins_limited_per_account_across_addresses(client):
    for i in range(5):
        response = client.post("/login", data={"username": "province", "password": "wrong password x"},
                               environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"})
        assert response.status_code == 200
    response = client.post("/login", data={"username": "province", "password": DEMO_PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert response.status_code == 429
    # Another account from a fresh address is not affected.
    response = client.post("/login", data={"username": "district", "password": DEMO_PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.0.100"})
    assert response.status_code == 302


def test_successful_logins_are_not_counted(client):
    for _ in range(7):
        login(client, "commune")
        client.post("/logout")
    assert client.post("/login", data={"username": "commune", "password": DEMO_PASSWORD}).status_code == 302


@pytest.mark.parametrize("target", ["https://example.org/", "//example.org/", "/\\example.org", "javascript:alert(1)",
                                    "http:/example.org"])
def test_next_only_to_a_local_path(client, target):
    response = client.post("/login", data={"username": "commune", "password": DEMO_PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_query_next_lands_locally(client):
    page = client.get("/login?next=https://example.org/")
    assert 'name="next" type="hidden" value=""' in page.text  # not even carried in the hidden field...
    response = client.post("/login", data={"username": "commune", "password": DEMO_PASSWORD,
                                           "next": "https://example.org/"}, follow_redirects=True)
    assert response.request.host == "localhost" and response.request.path.startswith("/units/")


def test_next_local_path_is_followed(client):
    response = client.post("/login", data={"username": "commune", "password": DEMO_PASSWORD, "next": "/units/10"})
    assert response.headers["Location"] == "/units/10"


def test_session_cleared_at_login(client):
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
        sess["locale"] = "en"
    login(client, "commune")
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["locale"] == "en"


# --- sessions -------------------------------------------------------------------------

def _cookie(client):
    return client.get_cookie("session").value


def test_copied_cookie_stops_working_after_logout(app, client):
    login(client, "commune")
    copied = _cookie(client)
    assert client.get("/").status_code == 302 and "/units/" in client.get("/").headers["Location"]
    assert client.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get("/units/02866")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert len(_events(app, "logout")) == 1


def test_logout_is_post_only(client):
    login(client, "commune")
    assert client.get("/logout").status_code == 405
    assert client.get("/units/02866").status_code == 200


def test_logout_ends_every_session_of_the_user(app, client):
    login(client, "commune")
    other = app.test_client()
    login(other, "commune")
    assert other.get("/units/02866").status_code == 200
    client.post("/logout")
    assert other.get("/units/02866").status_code == 302


def test_deactivation_ends_sessions(app, client):
    victim = app.test_client()
    login(victim, "commune")
    login(client, "admin")
    user_id = _user(app, "commune").id
    assert client.post(f"/admin/users/{user_id}/deactivate").status_code == 302
    assert victim.get("/units/02866").status_code == 302
    assert len(_events(app, "user.deactivate", object_id=user_id)) == 1


def test_idle_timeout_and_absolute_timeout(app, client):
    login(client, "commune")
    with client.session_transaction() as sess:
        sess["seen_at"] = time.time() - 31 * 60
    assert client.get("/units/02866").status_code == 302
    login(client, "commune")
    with client.session_transaction() as sess:
        sess["seen_at"] = time.time() - 29 * 60
    assert client.get("/units/02866").status_code == 200
    with client.session_transaction() as sess:
        sess["login_at"] = time.time() - 12 * 3600 - 1
    assert client.get("/units/02866").status_code == 302


def test_session_cookie_flags(client):
    response = client.post("/login", data={"username": "commune", "password": DEMO_PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "remember_token" not in response.headers.get("Set-Cookie", "")
    assert len(response.headers.getlist("Set-Cookie")) == 1


def test_secure_cookie_and_hsts_with_https(database_url):
    from cdt import create_app
    from tests.conftest import BASE_CONFIG

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "CDT_HTTPS": True,
                      "SESSION_COOKIE_SECURE": True})
    client = app.test_client()
    response = client.post("/login", data={"username": "commune", "password": DEMO_PASSWORD},
                           base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    with app.app_context():
        db.engine.dispose()


# --- passwords: change, forced change --------------------------------------------------

def test_change_password(app, client):
    login(client, "commune")
    other = app.test_client()
    login(other, "commune")
    response = client.post("/account/password", data={"current_password": DEMO_PASSWORD, "new_password": GOOD,
                                                      "confirm": GOOD})
    assert response.status_code == 302
    assert client.get("/units/02866").status_code == 200  # this session goes on
    assert other.get("/units/02866").status_code == 302  # the others end
    assert _user(app, "commune").check_password(GOOD)
    assert len(_events(app, "password.change")) == 1
    client.post("/logout")
    assert "/login" not in login(client, "commune", GOOD).request.path


@pytest.mark.parametrize("current,new,confirm,message", [
    ("wrong current pw", GOOD, GOOD, "Mật khẩu hiện tại không đúng"),
    (DEMO_PASSWORD, "too short", "too short", "ít nhất 12"),
    (DEMO_PASSWORD, "password123456", "password123456", "quá phổ biến"),
    (DEMO_PASSWORD, GOOD, GOOD + "x", "không khớp"),
    (DEMO_PASSWORD, "commune", "commune", "ít nhất 12"),
])
def test_change_password_refusals_keep_the_old_one(app, client, current, new, confirm, message):
    login(client, "commune")
    response = client.post("/account/password", data={"current_password": current, "new_password": new,
                                                      "confirm": confirm})
    assert response.status_code == 200
    assert message in response.text
    assert _user(app, "commune").check_password(DEMO_PASSWORD)
    assert _events(app, "password.change") == []


def test_must_change_password_is_sent_to_password_page_everywhere(app, client):
    _set(app, "district", must_change_password=True)
    response = client.post("/login", data={"username": "district", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/account/password"
    for path in ("/", "/units/085", "/admin/users", "/audit"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/password", path
    assert client.get("/account/password").status_code == 200
    client.post("/account/password", data={"current_password": DEMO_PASSWORD, "new_password": GOOD, "confirm": GOOD})
    assert client.get("/units/085").status_code == 200
    assert not _user(app, "district").must_change_password


# --- CSRF ---------------------------------------------------------------------------------

@pytest.mark.csrf
def test_csrf_less_post_refused(app, client):
    response = client.post("/login", data={"username": "commune", "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert "Yêu cầu không hợp lệ" in response.text
    assert _events(app, "login.success") == []
    # Logged in properly (token from the form), a token-less logout and admin action are refused too.
    page = client.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", data={"username": "admin", "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert client.post("/logout").status_code == 400
    assert client.get("/admin/users").status_code == 200
    user_id = _user(app, "commune").id
    assert client.post(f"/admin/users/{user_id}/deactivate").status_code == 400
    assert _user(app, "commune").active
    assert client.post("/admin/users/new", data={"username": "newbie", "role": "admin"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == len(DEMO_ACCOUNTS)


# --- admin pages --------------------------------------------------------------------------

def test_admin_lists_users(login_as):
    client = login_as("admin")
    response = client.get("/admin/users")
    assert response.status_code == 200
    for name in ("admin", "province", "district", "commune", "youth"):
        assert f">{name}</a>" in response.text
    assert "02839" in response.text  # the commune account's area since the 2025 reform
    response = client.get("/admin/users?role=commune_officer")
    assert ">commune</a>" in response.text and ">district</a>" not in response.text


@pytest.mark.parametrize("who", ["province", "district", "commune", "youth"])
def test_admin_pages_refused_to_other_roles(login_as, app, who):
    client = login_as(who)
    user_id = _user(app, "commune").id
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/new").status_code == 403
    assert client.post("/admin/users/new", data={"username": "intruder", "role": "admin"}).status_code == 403
    assert client.post(f"/admin/users/{user_id}", data={"role": "admin"}).status_code == 403
    assert client.post(f"/admin/users/{user_id}/reset-password").status_code == 403
    assert _user(app, "commune").role == "commune_officer"
    assert _user(app, "commune").check_password(DEMO_PASSWORD)


def test_admin_creates_user_with_one_time_password(app, login_as):
    client = login_as("admin")
    response = client.post("/admin/users/new", data={"username": "Lan.Tran", "full_name": "Trần Thị Lan",
                                                     "role": "commune_officer", "area_code": "02866"})
    assert response.status_code == 200
    password = re.search(r'id="one-time-password">([^<]+)<', response.text).group(1)
    assert response.headers["Cache-Control"] == "no-store"
    user = _user(app, "lan.tran")
    assert user.must_change_password and user.check_password(password) and user.area_id is not None
    event = _events(app, "user.create")[0]
    assert event.username == "admin" and event.object_id == user.id
    assert password not in str(event.details)
    # The new user must change the password at first log-in.
    new = app.test_client()
    response = new.post("/login", data={"username": "lan.tran", "password": password})
    assert response.headers["Location"] == "/account/password"


def test_admin_user_area_select_and_validation(app, login_as):
    client = login_as("admin")
    response = client.post("/admin/users/new", data={"username": "bacha", "role": "district_staff",
                                                     "area_select": "085"})
    assert response.status_code == 200 and "one-time-password" in response.text

    cases = [
        ({"username": "x1x", "role": "district_staff", "area_code": "02866"}, "huyện"),
        ({"username": "x2x", "role": "commune_officer", "area_select": "10"}, "xã"),
        ({"username": "x3x", "role": "province_staff", "area_code": "99"}, "99"),
        ({"username": "x4x", "role": "province_staff"}, "cần có địa bàn"),
        ({"username": "x5x", "role": "admin", "area_code": "10"}, "không có địa bàn"),
        ({"username": "commune", "role": "commune_officer", "area_code": "02866"}, "đã có người dùng"),
        ({"username": "bad name!", "role": "commune_officer", "area_code": "02866"}, "chữ thường"),
        ({"username": "x6x", "role": "superuser", "area_code": "10"}, "Lựa chọn không hợp lệ."),
    ]
    for data, message in cases:
        response = client.post("/admin/users/new", data=data)
        assert response.status_code == 200
        assert "one-time-password" not in response.text, data
        assert "is-invalid" in response.text and message in response.text, data
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == len(DEMO_ACCOUNTS) + 1
    assert len(_events(app, "user.create")) == 1


def test_admin_edits_role_and_area(app, login_as):
    victim = app.test_client()
    login(victim, "youth")
    client = login_as("admin")
    user = _user(app, "youth")
    response = client.post(f"/admin/users/{user.id}", data={"role": "youth_coordinator", "area_code": "02866",
                                                            "full_name": "Cán bộ Đoàn xã"})
    assert response.status_code == 302
    after = _user(app, "youth")
    with app.app_context():
        assert db.session.get(User, after.id).area.code == "02866"
    event = _events(app, "user.update")[0]
    assert "area" in event.details["changes"] and "full_name" in event.details["changes"]
    assert "Cán bộ Đoàn xã" not in str(event.details)  # field names, never values
    assert victim.get("/units/085").status_code == 302  # new rights at the next log-in
    # A role whose level does not fit the area is refused, nothing changes.
    response = client.post(f"/admin/users/{user.id}", data={"role": "province_staff", "area_code": "02866"})
    assert response.status_code == 200 and "is-invalid" in response.text
    assert _user(app, "youth").role == "youth_coordinator"


def test_admin_cannot_lock_themself_out(app, login_as):
    client = login_as("admin")
    admin = _user(app, "admin")
    client.post(f"/admin/users/{admin.id}/deactivate")
    assert _user(app, "admin").active
    response = client.post(f"/admin/users/{admin.id}", data={"role": "province_staff", "area_code": "10"})
    assert response.status_code == 200
    assert _user(app, "admin").role == "admin"


def test_admin_reset_password_and_reactivate(app, login_as):
    victim = app.test_client()
    login(victim, "commune")
    client = login_as("admin")
    user_id = _user(app, "commune").id
    response = client.post(f"/admin/users/{user_id}/reset-password")
    assert response.status_code == 200
    password = re.search(r'id="one-time-password">([^<]+)<', response.text).group(1)
    assert victim.get("/units/02866").status_code == 302
    user = _user(app, "commune")
    assert user.check_password(password) and user.must_change_password
    client.post(f"/admin/users/{user_id}/deactivate")
    client.post(f"/admin/users/{user_id}/reactivate")
    assert _user(app, "commune").active
    actions = [e.action for e in _events(app, object_id=user_id, object_type="user_account")
               if e.username == "admin" and e.action != "user.repoint"]  # the demo's reform re-pointed it
    assert actions == ["user.password_reset", "user.deactivate", "user.reactivate"]


def test_admin_user_pages_answer_404_for_unknown_user(login_as):
    client = login_as("admin")
    assert client.get("/admin/users/99999").status_code == 404
    assert client.post("/admin/users/99999/deactivate").status_code == 404


def test_admin_actions_are_post_only(app, login_as):
    client = login_as("admin")
    user_id = _user(app, "commune").id
    for action in ("deactivate", "reactivate", "reset-password"):
        assert client.get(f"/admin/users/{user_id}/{action}").status_code == 405
    assert _user(app, "commune").check_password(DEMO_PASSWORD)


# --- CLI ------------------------------------------------------------------------------

def test_cli_create_and_list(app, runner):
    result = runner.invoke(args=["cdt", "users", "create", "--username", "hoa", "--role", "youth_coordinator",
                                 "--area", "085"])
    assert result.exit_code == 0, result.output
    password = result.output.strip().split()[-1]
    user = _user(app, "hoa")
    assert user.check_password(password) and user.must_change_password
    assert _events(app, "user.create")[0].details["via"] == "cli"
    result = runner.invoke(args=["cdt", "users", "list"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == len(DEMO_ACCOUNTS) + 1
    assert any(line.startswith("hoa\tyouth_coordinator\t085 ") and "must-change-password" in line for line in lines)


@pytest.mark.parametrize("args,message", [
    (["--username", "a1b", "--role", "commune_officer", "--area", "085"], "must be a commune"),
    (["--username", "a1b", "--role", "commune_officer", "--area", "00000"], "No administrative unit"),
    (["--username", "a1b", "--role", "commune_officer"], "needs an area"),
    (["--username", "admin", "--role", "admin"], "already taken"),
    (["--username", "a1b", "--role", "boss", "--area", "10"], "Invalid value"),
])
def test_cli_create_errors(app, runner, args, message):
    result = runner.invoke(args=["cdt", "users", "create", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    if "Invalid value" not in message:
        assert len(result.output.strip().splitlines()) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == len(DEMO_ACCOUNTS)


@pytest.mark.parametrize("username,lands,sees,not_sees", [
    ("admin", "/units", ["/units/15", "/units/10", "/units/085", "/units/02866", "/units/02839"], []),
    # New Lào Cai's staff read its communes and the units it was made of (old 10, its districts).
    ("province", "/units/15", ["/units/15", "/units/02839", "/units/04252", "/units/10", "/units/085",
                               "/units/086", "/units/02866"], []),
    ("district", "/units/085", ["/units/085", "/units/02866"], ["/units/10", "/units/086", "/units/15"]),
    ("commune", "/units/02839", ["/units/02839", "/units/02866"], ["/units/15", "/units/10", "/units/085",
                                                                   "/units/04252"]),
    ("youth", "/units/085", ["/units/085", "/units/02866"], ["/units/10", "/units/086"]),
    ("commune2", "/units/04252", ["/units/04252"], ["/units/02839", "/units/02866", "/units/15"]),
])
def test_each_demo_account_logs_in_and_sees_only_its_area(client, username, lands, sees, not_sees):
    response = login(client, username)
    assert response.request.path == lands
    for path in sees:
        assert client.get(path).status_code == 200, path
    for path in not_sees:
        assert client.get(path).status_code == 404, path


def test_new_user_form_starts_from_no_role_and_risky_actions_ask_first(app, login_as):
    import re

    client = login_as("admin")
    page = client.get("/admin/users/new").get_data(as_text=True)
    role_select = re.search(r"<select[^>]*name=\"role\".*?</select>", page, re.S).group(0)
    assert re.findall(r"<option selected value=\"([^\"]*)\"", role_select) in ([], [""])
    assert re.findall(r"<option[^>]*value=\"([^\"]*)\"", role_select)[0] == ""  # "— chọn —" shows first
    response = client.post("/admin/users/new", data={"username": "nobody_role", "role": "", "area_code": ""})
    assert response.status_code in (200, 422)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "nobody_role")) is None
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "commune"))
    page = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert page.count("data-confirm=") >= 2


def test_new_user_form_starts_without_a_role_and_lists_todays_communes_by_name(app, login_as):
    """Issue 17, item 9: no role chosen in advance; the area is picked from a searchable list of
    today's communes (name, province), and the select offers today's units only."""
    from cdt.core import clock
    from cdt.geo.models import AdminUnit
    from cdt.geo.within import valid_on

    html = login_as("admin").get("/admin/users/new").text
    role_select = html[html.index('id="role"'):html.index("</select>", html.index('id="role"'))]
    assert "selected" not in role_select.split("</option>", 1)[1]  # only "— choose —" may be selected
    assert 'list="area-options"' in html and '<datalist id="area-options">' in html
    assert '<option value="02839">Xã Bắc Hà, Tỉnh Lào Cai</option>' in html
    with app.app_context():
        today = db.session.scalar(select(func.count()).select_from(AdminUnit).where(
            AdminUnit.level == "commune", valid_on(AdminUnit, clock.today())))
    datalist = html[html.index('<datalist id="area-options">'):html.index("</datalist>")]
    assert datalist.count("<option ") == today == 99
    area_select = html[html.index('id="area_select"'):html.index("</select>", html.index('id="area_select"'))]
    assert 'value="15"' in area_select and 'value="085"' not in area_select and 'value="10"' not in area_select
