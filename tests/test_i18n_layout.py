"""The one layout, walked with every demo role over every page of its navigation: each page
answers, is Vietnamese, shows the user's area and the language switch, loads nothing from
another host, carries no inline script or style (the CSP would block them), and every form
control has a label a screen reader announces. Static assets are gzipped."""
from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser

import pytest

from cdt.demo import DEMO_ACCOUNTS
from tests.conftest import login

ROLES = [username for username, *_ in DEMO_ACCOUNTS]
# Pages with the main forms (built by the feature issues); checked when they exist.
FORM_PAGES = ["/members/new", "/members/import", "/training/new", "/reports/coverage", "/teams/new",
              "/admin/users/new", "/training/topics/new", "/account/password", "/audit"]
EXTERNAL = re.compile(r"""(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


class Page(HTMLParser):
    """Collects what the checks need from one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.inline_scripts = 0
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.style_tags = 0
        self.style_attrs: list[str] = []
        self.handlers: list[str] = []
        self.javascript_urls: list[str] = []
        self.nav_links: list[str] = []
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self._label_depth = 0
        self.html_lang = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "script":
            if a.get("src"):
                self.scripts.append(a["src"])
            elif a.get("type") not in ("application/json", "application/ld+json"):
                self.inline_scripts += 1
        if tag == "style":
            self.style_tags += 1
        if tag == "link" and "stylesheet" in (a.get("rel") or ""):
            self.stylesheets.append(a.get("href", ""))
        for name, value in attrs:
            if name == "style":
                self.style_attrs.append(f"<{tag} style={value!r}>")
            if name.startswith("on"):
                self.handlers.append(f"<{tag} {name}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.javascript_urls.append(f"<{tag} {name}={value!r}>")
        if tag == "a" and "nav-link" in (a.get("class") or "") and a.get("href", "").startswith("/"):
            self.nav_links.append(a["href"])
        if tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit", "button", "reset", "image"):
            self.controls.append({**a, "_tag": tag, "_wrapped": self._label_depth > 0})

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth = max(0, self._label_depth - 1)

    def unlabelled(self) -> list[str]:
        bad = []
        for c in self.controls:
            if c["_wrapped"] or c.get("aria-label") or c.get("aria-labelledby") or c.get("title"):
                continue
            if c.get("id") and c["id"] in self.label_for:
                continue
            bad.append(f"<{c['_tag']} name={c.get('name')!r} id={c.get('id')!r}>")
        return bad


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def check_page(path: str, html: str) -> list[str]:
    """Everything wrong with one page, as readable strings (empty when fine)."""
    page = parse(html)
    problems = []
    if page.inline_scripts:
        problems.append(f"{path}: {page.inline_scripts} inline <script>")
    if page.style_tags:
        problems.append(f"{path}: {page.style_tags} <style> tag(s)")
    problems += [f"{path}: inline style {s}" for s in page.style_attrs]
    problems += [f"{path}: event handler attribute {h}" for h in page.handlers]
    problems += [f"{path}: javascript: URL {u}" for u in page.javascript_urls]
    problems += [f"{path}: refers to another host: {m.group(0)}" for m in EXTERNAL.finditer(html)]
    # A full URL of the app itself (a calendar feed to copy, say) is fine; any other host is not.
    problems += [f"{path}: http(s) URL in the page: {u}" for u in re.findall(r"https?://(?!localhost[:/])[^\s\"'<>]+", html)]
    problems += [f"{path}: form control without a label {c}" for c in page.unlabelled()]
    return problems


def test_the_checks_catch_what_they_are_for():
    bad = (
        '<html lang="vi"><script>alert(1)</script><style>p{}</style><p style="color:red" onclick="x()">'
        '<a href="javascript:void(0)">x</a><img src="https://cdn.example/x.png">'
        '<link rel="stylesheet" href="//cdn.example/b.css"><input name="q" id="q"></html>'
    )
    problems = "\n".join(check_page("/bad", bad))
    for needle in ("inline <script>", "<style> tag", "inline style", "event handler", "javascript: URL",
                   "another host", "without a label"):
        assert needle in problems
    good = '<html lang="vi"><label for="q">Tìm</label><input name="q" id="q"><label>Có <input type="checkbox" name="c"></label></html>'
    assert check_page("/good", good) == []


def test_login_page_has_local_assets_only_and_labels(client):
    html = client.get("/login").get_data(as_text=True)
    assert check_page("/login", html) == []
    page = parse(html)
    assert page.stylesheets and page.scripts
    for asset in page.stylesheets + page.scripts:
        assert asset.startswith("/"), asset
        response = client.get(asset)
        assert response.status_code == 200, asset
        response.close()


@pytest.mark.parametrize("username", ROLES)
def test_every_navigation_page_for_every_role(client, username):
    home = login(client, username)
    html = home.get_data(as_text=True)
    page = parse(html)
    assert page.html_lang == "vi"
    # The user's area and the language switch are on the page.
    assert 'id="user-area"' in html and username in html
    assert 'action="/language"' in html and "Tiếng Việt" in html and "English" in html
    assert page.nav_links, "no navigation"
    problems = check_page(home.request.path, html)
    for path in dict.fromkeys(page.nav_links):
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 200, f"{username} {path}: {response.status_code}"
        body = response.get_data(as_text=True)
        assert '<html lang="vi">' in body, path
        problems += check_page(path, body)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("username", ["commune", "youth", "province", "admin"])
def test_form_pages_are_clean_and_labelled(client, username):
    login(client, username)
    problems = []
    for path in FORM_PAGES:
        response = client.get(path)
        if response.status_code != 200:
            continue  # not built yet, or not for this role
        problems += check_page(path, response.get_data(as_text=True))
    assert not problems, "\n".join(problems)


def test_navigation_follows_the_role(client):
    login(client, "commune")
    links = parse(client.get("/", follow_redirects=True).get_data(as_text=True)).nav_links
    assert "/audit" not in " ".join(links) and "/users" not in " ".join(links)
    client.post("/logout")
    login(client, "admin")
    html = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert len(parse(html).nav_links) > len(links)


def test_breadcrumbs_show_the_administrative_hierarchy(login_as):
    client = login_as("province")
    html = client.get("/units/02866").get_data(as_text=True)  # Xã Bản Phố, Huyện Bắc Hà, Tỉnh Lào Cai
    crumbs = re.search(r'<ol class="breadcrumb">(.*?)</ol>', html, re.S).group(1)
    assert crumbs.index("Lào Cai") < crumbs.index("Bắc Hà") < crumbs.index("Bản Phố")
    assert 'href="/units/10?on=2025-06-30"' in crumbs  # an ended unit's crumbs stay on its map and 'aria-current="page"' in crumbs


def test_flashed_message_is_shown_translated(client):
    login(client, "commune")
    client.post("/logout")
    html = client.get("/login").get_data(as_text=True)
    assert "Bạn đã đăng xuất." in html and 'role="alert"' in html


@pytest.mark.parametrize(
    "path", ["/bootstrap/static/css/bootstrap.min.css", "/bootstrap/static/js/bootstrap.min.js", "/static/app.css",
             "/static/js/app.js"]
)
def test_static_text_assets_are_gzipped(client, path):
    plain = client.get(path)
    raw = plain.get_data()
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    zipped = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.get_data()) == raw
    assert int(zipped.headers["Content-Length"]) == len(zipped.get_data()) < len(raw)
    # The browser's revalidation still answers 304 (weak ETag, as nginx does).
    etag = zipped.headers["ETag"]
    assert etag.startswith("W/")
    again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304
    for r in (plain, zipped, again):
        r.close()


def test_html_pages_are_not_compressed_by_the_app(client):
    """BREACH: pages carry a CSRF token and reflect input; only static assets are compressed."""
    response = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers


def test_bootstrap_flask_output_is_local_and_csp_safe(app):
    """Bootstrap-Flask's load_css()/load_js() (BOOTSTRAP_SERVE_LOCAL): files from this app only,
    no inline script, no integrity/crossorigin attributes pointing at a CDN copy."""
    from flask import render_template_string

    with app.test_request_context():
        html = render_template_string("{{ bootstrap.load_css() }}{{ bootstrap.load_js() }}")
    page = parse(html)
    assert page.stylesheets == ["/bootstrap/static/css/bootstrap.min.css"]
    assert page.scripts and all(src.startswith("/bootstrap/static/") for src in page.scripts)
    assert page.inline_scripts == 0 and "http" not in html and "cdn" not in html.lower() and '"//' not in html
