"""The password policy: normalised, no invisible characters, strong by zxcvbn's estimate with
Vietnamese words, names and place names, and the reason said in Vietnamese."""
from __future__ import annotations

import unicodedata

import pytest
from flask_babel import force_locale

from cdt.auth.passwords import MAX_LENGTH, SCORED_LENGTH, password_problems, place_names
from cdt.demo import DEMO_PASSWORD
from tests.conftest import login
from tests.test_auth import _events, _set, _user

PASSPHRASE = "Tháng Ba hoa gạo nở đỏ bên suối"


def _change(client, new: str, confirm: str | None = None):
    return client.post("/account/password", data={"current_password": DEMO_PASSWORD, "new_password": new,
                                                  "confirm": new if confirm is None else confirm})


@pytest.mark.parametrize(("password", "reason"), [
    ("aaaaaaaaaaaa", "Các ký tự hoặc từ lặp lại rất dễ đoán."),
    ("\u200b" * 12, "ký tự điều khiển hoặc ký tự ẩn (U+200B, ký tự thứ 1)"),
    ("1234567890ab", "Mật khẩu dựa trên một mật khẩu thông dụng."),
    ("matkhau12345", "Các từ và cụm từ thông dụng rất dễ đoán."),
    ("laocai123456", "Tên địa danh rất dễ đoán."),
])
def test_the_weak_passwords_of_the_issue_are_refused_with_a_vietnamese_reason(app, client, password, reason):
    login(client, "commune")
    response = _change(client, password)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert reason in html
    assert "easy to guess" not in html and "This field" not in html
    assert _user(app, "commune").check_password(DEMO_PASSWORD)
    assert _events(app, "password.change") == []


@pytest.mark.parametrize(("password", "reason"), [
    ("qwertyuiop[]asdf", "Keyboard patterns"),
    ("abcdefghijklmnop", "Sequences like 1234 or abcd"),
    ("19/05/1990!!", "Dates and years"),
    ("nguyễn văn hùng", "Names are easy to guess"),
    ("sapa lao cai", "Names of places"),
    ("anhyeuem2024", "Common words and phrases"),
    ("toiyeuvietnam1", "Common words and phrases"),
    ("an.nguyen.1990", "your username or your name"),
    ("nguyen thi lan 88", "your username or your name"),
])
def test_each_kind_of_weakness_has_its_own_reason(app, password, reason):
    problems = password_problems(password, username="an.nguyen", full_name="Nguyễn Thị Lan")
    assert len(problems) == 1 and reason in problems[0], problems
    with app.app_context(), force_locale("vi"):
        assert "dễ đoán" in password_problems(password, username="an.nguyen", full_name="Nguyễn Thị Lan")[0]


@pytest.mark.parametrize("password", [PASSPHRASE, "Mưa bụi ổi xô", "correct horse battery staple",
                                      "Ốc sên bò lẹ qua hè"])
def test_memorable_passphrases_pass(password):
    assert password_problems(password, username="commune", full_name="Nguyễn Văn An") == []


@pytest.mark.parametrize("char", ["\x00", "\x01", "\t", "\n", "\u200b", "\u200d", "\u2060", "\ufeff", "\u202e",
                                  "\ue000", "\u2028"])
def test_control_and_invisible_characters_are_refused_anywhere(app, char):
    password = PASSPHRASE[:5] + char + PASSPHRASE[5:]
    with app.app_context(), force_locale("vi"):
        problems = password_problems(password)
    assert len(problems) == 1 and "ký tự điều khiển hoặc ký tự ẩn" in problems[0]
    assert f"U+{ord(char):04X}" in problems[0]


def test_password_is_normalised_when_set_and_when_checked(app, client):
    """Typed with combining marks (macOS) or fullwidth letters, it is the same password."""
    login(client, "commune")
    decomposed = unicodedata.normalize("NFD", PASSPHRASE)
    assert decomposed != PASSPHRASE
    assert _change(client, decomposed).status_code == 302
    client.post("/logout")
    assert "/login" not in login(client, "commune", PASSPHRASE).request.path
    _set(app, "commune", password="ＣＤＴ ａｂｃ ｍｅｏ ｃｏｎ ｂｏ ｃｏ")  # fullwidth
    client.post("/logout")
    assert "/login" not in login(client, "commune", "CDT abc meo con bo co").request.path


def test_the_new_password_must_differ_after_normalisation(app, client):
    login(client, "commune")
    _change(client, PASSPHRASE)
    response = client.post("/account/password", data={
        "current_password": PASSPHRASE, "new_password": unicodedata.normalize("NFD", PASSPHRASE),
        "confirm": unicodedata.normalize("NFD", PASSPHRASE)})
    assert response.status_code == 200 and "phải khác mật khẩu hiện tại" in response.get_data(as_text=True)


def test_empty_password_form_is_in_vietnamese(client):
    login(client, "commune")
    response = client.post("/account/password", data={})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("Vui lòng nhập thông tin này.") == 3
    assert "This field is required." not in html


def test_length_is_counted_after_normalisation_and_long_passwords_are_scored_quickly():
    assert password_problems("Dế mèn ăn cỏ") == []  # 12 characters
    assert "at least 12" in password_problems("Dế mèn ăn c")[0]
    assert password_problems(unicodedata.normalize("NFD", "Dế mèn ăn cỏ")) == []  # 17 code points typed
    long = " ".join(["Đồi chè xanh mướt sau mưa"] * 6)[:MAX_LENGTH]
    assert len(long) == MAX_LENGTH > SCORED_LENGTH and password_problems(long) == []
    assert "at most 128" in password_problems(long + "x")[0]
    # Weak at its start: refused, and scored on its first characters only (zxcvbn slows down fast).
    assert "Repeated" in password_problems("x" * MAX_LENGTH)[0]


def test_place_names_come_from_the_whole_country():
    names = set(place_names())
    assert {"lao cai", "laocai", "bac ha", "ban pho", "ha noi", "hanoi", "ho chi minh"} <= names
    assert len(names) > 10000 and all(len(n) > 2 for n in names)


def test_demo_accounts_keep_the_demo_password_which_the_policy_refuses(app):
    assert password_problems(DEMO_PASSWORD)
    assert _user(app, "commune").check_password(DEMO_PASSWORD)
