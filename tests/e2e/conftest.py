"""Browser tests: the real app on a free port, Debian's Chromium driven by Playwright.

Each test gets its own copy of the Lào Cai demo database (SQLite) and its own server
(werkzeug, threaded, CSRF on, not in testing mode: errors render as users see them and
are collected here, so a server error fails the test). Chromium is /usr/bin/chromium (or
CDT_CHROMIUM); when it is missing every test here is skipped with that reason, and
`make test` says so. Screenshots go to test-artifacts/screenshots/ (git-ignored).
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from cdt import create_app
from cdt.config import ROOT
from cdt.demo import DEMO_PASSWORD
from cdt.extensions import db
from tests.conftest import BASE_CONFIG

CHROMIUM = os.environ.get("CDT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}


def chromium_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"browser tests skipped: Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests skipped: the playwright package is not installed"
    return None


class _Errors(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        self.records.append(self.format(record))


def _buffered(app):
    """Reads each response whole before the server writes it, so the static file behind it
    is closed at once: werkzeug's development server skips closing it when the browser drops
    the connection early (a cancelled favicon request), which leaks a file handle."""

    def wsgi(environ, start_response):
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    return wsgi


@dataclass
class LiveServer:
    url: str
    app: object
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def live_server(template_database, tmp_path):
    kind, template = template_database
    if kind != "sqlite":
        pytest.skip("browser tests run on SQLite")
    path = tmp_path / "e2e.sqlite3"
    shutil.copyfile(template, path)
    app = create_app({
        "SECRET_KEY": "e2e-secret-key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "RATELIMIT_STORAGE_URI": "memory://",
        "WTF_CSRF_ENABLED": True,
        # The template's citizen IDs are encrypted with the test keys: the server reads them with the same.
        "CDT_CITIZEN_ID_KEY": BASE_CONFIG["CDT_CITIZEN_ID_KEY"],
        "CDT_CITIZEN_ID_HASH_KEY": BASE_CONFIG["CDT_CITIZEN_ID_HASH_KEY"],
    })
    handler = _Errors()
    app.logger.addHandler(handler)
    requests_log = logging.getLogger("werkzeug")
    level = requests_log.level
    requests_log.setLevel(logging.WARNING)  # one line per request drowns a failure's report
    server = make_server("127.0.0.1", 0, _buffered(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, errors=handler.records)
    yield live
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    app.logger.removeHandler(handler)
    requests_log.setLevel(level)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    assert not handler.records, "server errors:\n" + "\n".join(r.splitlines()[0] + " ... " + r.splitlines()[-1] for r in handler.records)


@pytest.fixture(scope="session")
def browser():
    reason = chromium_missing()
    if reason and os.environ.get("CDT_REQUIRE_BROWSER") == "1":
        pytest.fail(reason.replace("skipped", "required (CDT_REQUIRE_BROWSER=1)"))
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # A Vietnamese browser, as users have: date inputs show dd/mm/yyyy (where the
        # chromium-l10n package is installed; without it they fall back to the US order).
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--lang=vi"],
            env={**os.environ, "LANG": "vi_VN.UTF-8", "LANGUAGE": "vi"},
        )
        yield browser
        browser.close()


class Browse:
    """One browser context for one test: records what a user would not see but must not
    happen (console errors such as CSP violations, script errors, requests to other hosts)."""

    def __init__(self, browser, server: LiveServer, viewport: dict, name: str, locale: str = "vi-VN"):
        self.server = server
        self.viewport = viewport
        self.name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        self.context = browser.new_context(
            viewport=viewport, locale=locale, accept_downloads=True, service_workers="block",
            base_url=server.url,
        )
        self.context.set_default_timeout(15_000)
        self.problems: list[str] = []
        self.foreign: list[str] = []
        self.context.route(re.compile(r"^(?!" + re.escape(server.url) + r"/).*"), self._block_foreign)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("response", self._response)
        self.page.on("pageerror", lambda exc: self.problems.append(f"script error: {exc}"))
        self.shots = 0

    def _block_foreign(self, route):
        url = route.request.url
        if not url.startswith(("data:", "blob:", "about:")):
            self.foreign.append(url)
        route.abort()

    def _console(self, message):
        # A page answered with 4xx on purpose (422 for a form with errors) is not a problem;
        # failed assets are caught in _response.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {message.text}")

    def _response(self, response):
        if response.status >= 400 and response.request.resource_type != "document":
            self.problems.append(f"{response.request.resource_type} {response.url}: HTTP {response.status}")

    @property
    def phone(self) -> bool:
        return self.viewport["width"] < 576

    def goto(self, path: str):
        response = self.page.goto(path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        return response

    def login(self, username: str, password: str = DEMO_PASSWORD):
        self.goto("/login")
        self.page.get_by_label(re.compile("Tên đăng nhập|Username")).fill(username)
        self.page.get_by_label(re.compile("^(Mật khẩu|Password)$")).fill(password)
        self.page.get_by_role("button", name=re.compile("^(Đăng nhập|Log in)$")).click()
        self.page.wait_for_load_state()
        assert "/login" not in self.page.url, f"log-in as {username} failed: {self.page.url}"

    def open_menu(self):
        """On a phone the navigation is collapsed behind the toggler (Bootstrap's JS)."""
        toggler = self.page.locator(".navbar-toggler")
        if toggler.is_visible() and toggler.get_attribute("aria-expanded") != "true":
            toggler.click()
            self.page.locator("#nav-main.show").wait_for()

    def nav(self, label) -> None:
        self.open_menu()
        self.page.locator("#nav-main").get_by_role("link", name=label).click()
        self.page.wait_for_load_state()

    def switch_language(self, name: str):
        self.page.locator(".topbar").get_by_role("button", name=name).click()
        self.page.wait_for_load_state()

    def scroll_overflow(self) -> int:
        """How many pixels the page is wider than the window (0: no horizontal scrolling)."""
        return self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")

    def check(self, label: str, full_page: bool = True) -> Path:
        """Asserts the page has no horizontal scrolling and saves a screenshot."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        w, h = self.viewport["width"], self.viewport["height"]
        path = SCREENSHOTS / f"{self.name}-{self.shots:02d}-{label}-{w}x{h}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        overflow = self.scroll_overflow()
        assert overflow <= 0, f"{label} ({self.page.url}) scrolls sideways by {overflow}px at {w}px"
        return path

    def close(self):
        self.context.close()
        assert not self.foreign, f"requests to other hosts: {self.foreign}"
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request):
    return VIEWPORTS[request.param]


@pytest.fixture
def browse(browser, live_server, viewport, request):
    """browse.page is a fresh Vietnamese-speaking browser tab on a fresh server and database."""
    b = Browse(browser, live_server, viewport, request.node.name)
    yield b
    b.close()
