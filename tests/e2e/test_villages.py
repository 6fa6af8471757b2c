"""The province staff merges two villages of Xã Bắc Hà (02839) and splits another, as a new user
would, in a real browser at 360 x 740 and 1280 x 800: from the commune's page, a preview first, then
the change; the coverage report before the date shows the old villages, from the date the new ones."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from cdt.extensions import db
from cdt.geo.models import AdminUnit, VillageChange
from cdt.reports import queries as report_queries

pytestmark = pytest.mark.e2e

COMMUNE = "02839"
DAY = date(2026, 1, 1)


def _figures(server, day: date) -> tuple[int, int]:
    with server.app.app_context():
        from cdt.geo.queries import unit_by_code

        row = report_queries.summary(unit_by_code(COMMUNE), day)
        db.session.remove()
        return row.villages, row.teams


def test_province_merges_then_splits_villages(browse):
    server, page = browse.server, browse.page
    before = _figures(server, DAY)
    browse.login("province")
    browse.goto(f"/units/{COMMUNE}")
    page.get_by_role("link", name="Thay đổi thôn").click()
    page.wait_for_load_state()
    browse.check("village-changes")
    page.get_by_role("link", name="Gộp thôn").click()
    page.wait_for_load_state()

    target = page.locator("#target")
    first = target.locator("option").nth(1).inner_text()
    target.select_option(label=first)
    boxes = page.locator('input[name="others"]')
    boxes.nth(1).check()  # the second village (the first is the continuing one)
    merged = page.locator(f'label[for="{boxes.nth(1).get_attribute("id")}"]').inner_text()
    page.locator("#on").fill(DAY.isoformat())
    page.get_by_role("button", name="Xem trước").click()
    page.wait_for_load_state()
    preview = page.locator("#merge-preview")
    assert preview.is_visible() and merged.split(" (")[0] in preview.inner_text()
    browse.check("merge-preview")
    assert _figures(server, DAY) == before  # the preview changed nothing
    page.get_by_role("button", name=re.compile("^Gộp$")).click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/units/{COMMUNE}/villages")
    assert "Đã gộp các thôn." in page.content()
    assert _figures(server, DAY) == (before[0] - 1, before[1] - 1)
    assert _figures(server, date(2025, 12, 31)) == before

    page.get_by_role("link", name="Tách thôn").click()
    page.wait_for_load_state()
    page.locator("#village").select_option(label=first)
    page.locator("#names").fill("Thôn Tách Mới A\nThôn Tách Mới B")
    page.locator("#on").fill("2026-02-01")
    browse.check("split-form")
    page.get_by_role("button", name="Tách", exact=True).click()
    page.wait_for_load_state()
    assert "Đã tách thôn." in page.content()
    assert _figures(server, date(2026, 2, 1)) == (before[0] + 1, before[1] - 1)
    assert _figures(server, date(2026, 1, 31)) == (before[0] - 1, before[1] - 1)
    with server.app.app_context():
        assert [c.kind for c in db.session.scalars(select(VillageChange).order_by(VillageChange.id))] == \
            ["merge", "split"]
        assert db.session.scalar(select(AdminUnit.code).where(AdminUnit.name == "Thôn Tách Mới A")).startswith(
            f"{COMMUNE}-")
        db.session.remove()
    browse.check("history")
    # The report page reads the date: before the merge, the villages as they were.
    browse.goto(f"/reports/coverage?unit={COMMUNE}&as_of=2025-12-31")
    assert merged.split(" (")[0] in page.locator("main").inner_text()
    browse.goto(f"/reports/coverage?unit={COMMUNE}&as_of=2026-01-01")
    assert merged.split(" (")[0] not in page.locator("main").inner_text()
