"""Every `next` goes through one safe-redirect helper (cdt/core/redirects.py): only a path on
this site is followed, whatever a browser would make of the text."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from cdt.core.redirects import is_safe_next
from cdt.demo import DEMO_PASSWORD

# Each of these leaves the site in some browser (or after one more decoding), or is not a path.
ATTACKS = [
    "/\t/example.org",            # browsers drop the tab: //example.org
    "/\n/example.org",
    "/\r/example.org",
    "/\r\n/example.org",
    "//example.org",
    "//example.org/path",
    "///example.org",
    "/\\example.org",            # a backslash is read as a slash
    "\\\\example.org",
    "/\\/example.org",
    "https://example.org",
    "http:/example.org",
    "http:example.org",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "\x00//example.org",
    "/\x00/example.org",
    " //example.org",             # leading space, stripped by browsers
    "\t//example.org",
    "/ /example.org",
    "/\u00a0/example.org",        # no-break space
    "/\u2028/example.org",
    "/\u200b/example.org",        # zero-width space
    "/\ufeff/example.org",
    "/\x7f/example.org",
    "/\x85/example.org",
    "%2F%2Fexample.org",
    "/%2F/example.org",
    "/%2f%2fexample.org",
    "/%5Cexample.org",
    "/%5cexample.org",
    "/%09/example.org",
    "/%0a/example.org",
    "/%00/example.org",
    "/%252F/example.org",         # encoded twice
    "/%25252F/example.org",
    "/%2525252F/example.org",    # still encoded after three rounds
    "example.org",
    "",
    "/" + "a" * 3000,
]

LOCAL = [
    "/",
    "/units/10",
    "/members?q=van%20an&page=2",
    "/members?q=nguy%E1%BB%85n+van",
    "/training?view=month&month=2023-05",
    "/teams/12#members",
    "/units/02866-001",
]


@pytest.mark.parametrize("target", ATTACKS)
def test_helper_refuses_everything_but_a_local_path(target):
    assert not is_safe_next(target)


@pytest.mark.parametrize("target", LOCAL)
def test_helper_keeps_local_paths(target):
    assert is_safe_next(target)


def test_helper_refuses_non_text():
    assert not is_safe_next(None) and not is_safe_next(["/"]) and not is_safe_next(b"/")


@pytest.mark.parametrize("target", ATTACKS)
def test_language_switch_stays_on_the_site(client, target):
    response = client.post("/language", data={"language": "en", "next": target})
    if "\x00" in target:  # a NUL anywhere in a request is refused before any view (cdt/core/inputs.py)
        assert response.status_code == 400 and "Location" not in response.headers
        return
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", LOCAL)
def test_language_switch_returns_to_the_page(client, target):
    response = client.post("/language", data={"language": "en", "next": target})
    assert response.status_code == 302 and response.headers["Location"] == target


@pytest.mark.parametrize("target", ["/\t/example.org", "/\\example.org", " //example.org", "/%2F/example.org",
                                    "https://example.org"])
def test_login_next_stays_on_the_site(client, target):
    response = client.post("/login", data={"username": "commune", "password": DEMO_PASSWORD, "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/\t/example.org", "//example.org", "https://example.org"])
def test_login_page_does_not_carry_a_foreign_next(client, target):
    page = client.get("/login", query_string={"next": target})
    hidden = re.search(r'<input id="next" name="next" type="hidden" value="([^"]*)"', page.text)
    assert hidden is not None and hidden.group(1) == ""


def test_logged_in_user_on_login_page_stays_on_the_site(client):
    client.post("/login", data={"username": "commune", "password": DEMO_PASSWORD})
    response = client.get("/login", query_string={"next": "/\t/example.org"})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_every_next_in_the_code_goes_through_the_helper():
    """Any code that reads a `next` value (a form field or a query argument) passes it to
    safe_next on the same line; a second, hand-written check cannot creep back in."""
    root = Path(__file__).resolve().parent.parent / "cdt"
    reads = re.compile(r"""(\bnext\.data\b|\[["']next["']\]|\.get\(\s*["']next["'])""")
    offenders = []
    for path in root.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if reads.search(line) and "safe_next(" not in line and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []
