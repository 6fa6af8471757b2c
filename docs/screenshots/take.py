"""Retakes the README screenshots with the browser-test setup: the real app on the Lào Cai
demo (a fresh SQLite database in a temporary folder), Debian's Chromium through Playwright,
a Vietnamese browser.

Run:  .venv/bin/python docs/screenshots/take.py
Writes docs/screenshots/coverage-report.png (1280 x 800), member-form-phone.png and
attendance-phone.png (360 x 740).
"""
from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

OUT = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CDT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--lang=vi"]


def main() -> None:
    from playwright.sync_api import sync_playwright
    from sqlalchemy import func, select
    from werkzeug.serving import make_server

    from cdt import create_app
    from cdt.demo import DEMO_PASSWORD, build_demo
    from cdt.extensions import db
    from cdt.geo.models import AdminUnit
    from cdt.training.models import Invitation, TrainingSession

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/docs.sqlite3", "SECRET_KEY": "screenshots"}
        app = create_app(config)
        with app.app_context():
            db.create_all()
            build_demo("laocai")
            # A session of Huyện Bắc Hà (the youth coordinator's area) with the most invitations.
            bac_ha = db.session.scalar(select(AdminUnit.id).where(AdminUnit.code == "085"))
            session_id = db.session.scalar(
                select(TrainingSession.id)
                .join(Invitation, Invitation.session_id == TrainingSession.id)
                .where(TrainingSession.district_id == bac_ha, TrainingSession.status == "held")
                .group_by(TrainingSession.id)
                .order_by(func.count().desc(), TrainingSession.id)
                .limit(1)
            )
            db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS,
                                             env={**os.environ, "LANG": "vi_VN.UTF-8", "LANGUAGE": "vi"})

                def page_for(username: str, width: int, height: int):
                    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN",
                                                  base_url=base)
                    page = context.new_page()
                    page.goto("/login")
                    page.locator("#username").fill(username)
                    page.locator("#password").fill(DEMO_PASSWORD)
                    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
                    page.wait_for_load_state()
                    return page

                page = page_for("province", 1280, 800)
                page.goto("/reports/coverage")
                page.locator("main table a", has_text=re.compile("Bắc Hà")).first.click()
                page.wait_for_load_state()
                page.screenshot(path=str(OUT / "coverage-report.png"))

                page = page_for("commune", 360, 740)
                page.goto("/members/new")
                page.screenshot(path=str(OUT / "member-form-phone.png"))

                page = page_for("youth", 360, 740)
                page.goto(f"/training/{session_id}/attendance")
                page.screenshot(path=str(OUT / "attendance-phone.png"))
                browser.close()
        finally:
            server.shutdown()
    for name in ("coverage-report.png", "member-form-phone.png", "attendance-phone.png"):
        print(f"{OUT / name}: {(OUT / name).stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
