"""A commune officer handles a person's personal data as a new user would, in a real browser at
360 x 740 and 1280 x 800 (issue 13): records the person's consent from the person's page, prints
the consent form, handles an access request end to end (received, acknowledged, completed with the
complete record), and erases another person on their erasure request."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.registry.models import Person

pytestmark = pytest.mark.e2e

COMMUNE = "02839"  # the demo commune officer's commune on today's map


def _people(server, count: int) -> list[tuple[int, str]]:
    with server.app.app_context():
        commune = db.session.scalar(select(AdminUnit).where(AdminUnit.code == COMMUNE, AdminUnit.valid_to.is_(None)))
        rows = db.session.execute(select(Person.id, Person.full_name).where(Person.commune_id == commune.id)
                                  .order_by(Person.id).limit(count)).all()
        db.session.remove()
        return [tuple(row) for row in rows]


def test_commune_officer_records_consent_prints_the_form_and_answers_an_access_request(browse):
    page = browse.page
    (person_id, name), = _people(browse.server, 1)
    browse.login("commune")
    browse.goto(f"/members/{person_id}")
    panel = page.locator("#consent")
    assert panel.locator("#consent-status").inner_text() == "Chờ đồng ý"
    browse.check("consent-pending")

    # Consent: how it was given (nothing chosen in advance), the day; then it shows as given.
    radios = panel.locator('input[type="radio"]')
    assert radios.count() >= 3 and not any(radios.nth(i).is_checked() for i in range(radios.count()))
    radios.first.check()
    panel.get_by_role("button", name="Ghi nhận đồng ý").click()
    page.wait_for_load_state()
    assert page.locator("#consent-status").inner_text() == "Đã đồng ý"

    # The printable consent form has the person's name.
    page.get_by_role("link", name="In phiếu đồng ý").click()
    page.wait_for_load_state()
    assert name in page.content()
    browse.check("consent-form")

    # An access request: recorded from the person's page, acknowledged, then completed.
    browse.goto(f"/members/{person_id}")
    page.get_by_role("link", name="Ghi nhận yêu cầu").click()
    page.wait_for_load_state()
    page.locator("#kind").select_option(label="Xem dữ liệu của mình")
    page.get_by_role("button", name=re.compile("^Lưu$")).click()
    page.wait_for_load_state()
    assert re.search(r"/privacy/requests/\d+$", page.url), page.url
    browse.check("access-request")
    page.get_by_role("button", name="Ghi nhận xác nhận").click()
    page.wait_for_load_state()
    page.locator("#close-outcome").fill("Đã in toàn bộ hồ sơ và trao tận tay.")
    page.get_by_role("button", name="Đóng yêu cầu").click()
    page.wait_for_load_state()
    assert page.locator("#request-status").inner_text() == "Đã hoàn thành"

    # The complete record the person asked for: a page, and the same as a download.
    browse.goto(f"/members/{person_id}/record")
    assert name in page.content()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("JSON")).first.click()
    assert download.value.suggested_filename.endswith(".json")
    browse.check("complete-record")


def test_commune_officer_erases_a_person_on_request(browse):
    page = browse.page
    (_first, _name), (person_id, name) = _people(browse.server, 2)
    browse.login("commune")
    browse.goto(f"/members/{person_id}/record")
    page.get_by_role("link", name="Xoá dữ liệu cá nhân").click()
    page.wait_for_load_state()
    browse.check("erase-confirm")
    page.get_by_role("button", name="Xoá vĩnh viễn").click()  # without the box ticked: refused
    page.wait_for_load_state()
    assert page.locator(".invalid-feedback").first.is_visible()
    page.locator('input[type="checkbox"][name="confirm"]').check()
    page.get_by_role("button", name="Xoá vĩnh viễn").click()
    page.wait_for_load_state()
    with browse.server.app.app_context():
        erased = db.session.get(Person, person_id)
        assert erased.erased_at is not None and erased.full_name != name and erased.phone is None
        db.session.remove()
    browse.goto("/members")
    assert name not in page.content()
