"""Each demo role does its main job in a real browser, at 360 x 740 and 1280 x 800:
- the commune officer adds a member through the form and imports a file;
- the youth-union coordinator schedules a session, invites teams and ticks attendance;
- the province staff opens the coverage report, drills down and downloads the CSV.
Fields are found through their <label for> (what a screen reader announces), and every
step is checked against the database, not only the page."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cdt.extensions import db
from cdt.registry.models import Membership, Person
from cdt.training.models import Attendance, Invitation, TrainingSession

pytestmark = pytest.mark.e2e


def labelled(page, field_id: str):
    """The control with this id, after checking a visible <label for> names it."""
    label = page.locator(f'label[for="{field_id}"]')
    assert label.count() >= 1 and label.first.inner_text().strip(), f"no label for #{field_id}"
    return page.locator(f"#{field_id}")


def choose(select, pattern: str) -> str:
    """Selects the first option whose text matches; returns that text."""
    texts = select.locator("option").all_inner_texts()
    text = next((t for t in texts if re.search(pattern, t)), None)
    assert text is not None, f"no option matching {pattern!r} in {texts[:10]}"
    select.select_option(label=text)
    return text


def count(server, stmt) -> int:
    with server.app.app_context():
        value = db.session.scalar(stmt)
        db.session.remove()
        return value


def test_commune_officer_adds_a_member(browse):
    server, page = browse.server, browse.page
    before = count(server, select(func.count()).select_from(Person))
    browse.login("commune")
    browse.nav("Thành viên")
    page.locator('main a[href="/members/new"]').first.click()
    page.wait_for_load_state()
    browse.check("member-form")
    labelled(page, "full_name").fill("Lò Thị Phương Thảo")
    labelled(page, "birth_date").fill("1998-05-12")
    labelled(page, "gender").select_option("female")
    labelled(page, "phone").fill("0398 765 432")
    labelled(page, "ethnicity").select_option(label="Tày")
    labelled(page, "youth_union").check()
    team = labelled(page, "team_id")
    team.select_option(index=1)
    team_name = team.locator("option:checked").inner_text()
    page.locator('main form button[type="submit"]:not([name])').click()
    page.wait_for_load_state()
    assert re.search(r"/members/\d+$", page.url), page.url
    assert page.get_by_role("alert").filter(has_text="Đã đăng ký Lò Thị Phương Thảo").is_visible()
    # No consent chosen at registration: the person is pending, and the officer is told to print the form.
    assert page.get_by_role("alert").filter(has_text="chưa đồng ý").is_visible()
    assert page.get_by_role("heading", name=re.compile("Lò Thị Phương Thảo")).is_visible()
    browse.check("member-saved")
    assert count(server, select(func.count()).select_from(Person)) == before + 1
    with server.app.app_context():
        person = db.session.scalar(select(Person).where(Person.full_name == "Lò Thị Phương Thảo"))
        assert person.birth_date.isoformat() == "1998-05-12" and person.youth_union
        memberships = db.session.scalars(select(Membership).where(Membership.person_id == person.id)).all()
        assert len(memberships) == 1 and memberships[0].team.name == team_name
        db.session.remove()


def test_commune_officer_sees_errors_next_to_the_fields(browse):
    browse.login("commune")
    page = browse.page
    browse.goto("/members/new")
    labelled(page, "phone").fill("12345")
    page.locator('main form button[type="submit"]:not([name])').click()
    page.wait_for_load_state()
    # Translated errors, next to their fields, announced through aria-describedby.
    full_name = page.locator("#full_name")
    assert full_name.get_attribute("aria-invalid") == "true"
    error = page.locator(f"#{full_name.get_attribute('aria-describedby').split()[0]}")
    assert error.is_visible() and not error.inner_text().isascii()
    assert page.locator("#phone").get_attribute("aria-invalid") == "true"
    browse.check("member-form-errors")


def _import_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Họ và tên", "Giới tính", "Ngày sinh", "Dân tộc", "Số điện thoại", "Đoàn viên",
                     "Thôn, tổ dân phố", "Vai trò trong tổ"])
    writer.writerow(["Vàng Seo Dìn", "Nam", "03/04/1996", "H'Mông", "0357 214 680", "Có", "02866-001", "Thành viên"])
    writer.writerow(["Hoàng Thị Mai", "Nữ", "21/11/2001", "Tày", "0357 214 681", "", "02866-002", "Thành viên"])
    return out.getvalue().encode("utf-8")


def test_commune_officer_imports_a_file(browse):
    server, page = browse.server, browse.page
    before = count(server, select(func.count()).select_from(Person))
    browse.login("commune")
    browse.nav("Thành viên")
    link = page.locator('main a[href="/members/import"]')
    if link.count():
        link.first.click()
        page.wait_for_load_state()
    else:
        browse.goto("/members/import")
    labelled(page, "file").set_input_files(
        files=[{"name": "thanh-vien.csv", "mimeType": "text/csv", "buffer": _import_csv()}]
    )
    page.locator('main form[enctype="multipart/form-data"] button[type="submit"]').click()
    page.wait_for_load_state()
    assert "/members/import/preview" in page.url, page.url
    assert page.locator('[data-count="rows"]').inner_text() == "2"
    assert page.locator('[data-count="new"]').inner_text() == "2"
    assert page.locator('[data-count="error"]').inner_text() == "0"
    browse.check("import-preview")
    assert count(server, select(func.count()).select_from(Person)) == before  # nothing written yet
    page.locator('form[action="/members/import/confirm"] button[type="submit"]').click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").first.is_visible()
    browse.check("import-done")
    assert count(server, select(func.count()).select_from(Person)) == before + 2
    assert count(server, select(func.count()).select_from(Person).where(Person.full_name == "Vàng Seo Dìn")) == 1


def test_youth_coordinator_schedules_a_session_and_ticks_attendance(browse):
    server, page = browse.server, browse.page
    # The demo's `youth` works on old Huyện Bắc Hà, abolished on 1 July 2025: as an admin does for
    # such an account (README, "The 2025 map"), it is first reassigned to today's Xã Bắc Hà.
    with server.app.app_context():
        from cdt.auth import service
        from cdt.auth.models import User

        youth = db.session.scalar(select(User).where(User.username == "youth"))
        service.update_user(youth, youth.role, "02839", youth.full_name)
        db.session.remove()
    browse.login("youth")
    browse.nav("Tập huấn")
    page.locator('main a[href="/training/new"]').first.click()
    page.wait_for_load_state()
    browse.check("session-form")
    labelled(page, "title").fill("Hướng dẫn cài đặt VNeID cho người dân")
    labelled(page, "topic_id").select_option(index=1)
    choose(labelled(page, "area_id"), "Xã Bắc Hà")
    # Yesterday morning, so that attendance can be recorded today.
    with server.app.app_context():
        from cdt.training.queries import local_now

        day = (local_now() - timedelta(days=1)).date()
    labelled(page, "starts_at").fill(f"{day.isoformat()}T08:00")
    labelled(page, "ends_at").fill(f"{day.isoformat()}T11:00")
    labelled(page, "venue").fill("Nhà văn hóa xã Bắc Hà")
    page.locator('main form button[type="submit"]').click()
    page.wait_for_load_state()
    match = re.search(r"/training/(\d+)$", page.url)
    assert match, page.url
    session_id = int(match.group(1))
    with server.app.app_context():
        ts = db.session.get(TrainingSession, session_id)
        assert ts.title == "Hướng dẫn cài đặt VNeID cho người dân"
        db.session.remove()
    browse.check("session")

    # Invite the teams of Xã Bắc Hà: the commune select submits itself (app.js, no inline script).
    page.locator(f'main a[href="/training/{session_id}/invite/teams"]').first.click()
    page.wait_for_load_state()
    choose(page.locator("#commune"), "Xã Bắc Hà")
    page.wait_for_url(re.compile(r"commune=\d+"))
    page.locator("button[data-check-all]").first.click()
    assert page.locator(".checklist-teams input[name=team]:checked").count() >= 1
    page.locator('main form[method="post"] button[type="submit"]').last.click()
    page.wait_for_load_state()
    invited = count(server, select(func.count()).select_from(Invitation).where(Invitation.session_id == session_id))
    assert invited > 0

    # The attendance checklist: tick all, untick one, save.
    page.locator(f'main a[href="/training/{session_id}/attendance"]').first.click()
    page.wait_for_load_state()
    boxes = page.locator(".checklist-invited input[name=present]")
    assert boxes.count() == invited
    page.locator(".attendance-form button[data-check-all]:not([data-checked=false])").click()
    boxes.first.uncheck()
    browse.check("attendance")
    page.locator('.attendance-form button[name="action"][value="save"]').click()
    page.wait_for_load_state()
    assert re.search(rf"/training/{session_id}$", page.url), page.url
    assert page.get_by_role("alert").first.is_visible()
    present = count(server, select(func.count()).select_from(Attendance).where(Attendance.session_id == session_id))
    assert present == invited - 1
    with server.app.app_context():
        assert db.session.get(TrainingSession, session_id).status == "held"
        db.session.remove()


def test_province_staff_opens_coverage_drills_down_and_downloads_csv(browse):
    page = browse.page
    browse.login("province")
    browse.nav("Độ phủ")
    assert "/reports/coverage" in page.url
    table = page.locator("main table").first
    assert table.is_visible()
    # Today's Lào Cai (15): old Lào Cai's 1,562 and old Yên Bái's 1,372 villages, Vietnamese digits.
    assert "2.934" in page.locator("main").inner_text()
    browse.check("coverage-province")
    # Drill down to a commune of today's map.
    page.locator("main table a", has_text="Bắc Hà").first.click()
    page.wait_for_load_state()
    assert "Xã Bắc Hà" in page.locator("main").inner_text()
    browse.check("coverage-district")
    url = page.url
    with page.expect_download() as info:
        page.locator('main a[href*="coverage.csv"]').first.click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig") as fh:
        text = fh.read()
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) >= 2
    assert rows[0][:4] == ["level", "code", "name", "parent_code"]
    assert any(row[3] == "02839" for row in rows[1:]), rows[:3]  # the villages of Xã Bắc Hà
    assert page.url == url
    # 2023 as it was: old Lào Cai (10) on 30 June 2023, by district.
    browse.goto("/reports/coverage?unit=10&as_of=2023-06-30")
    assert "1.562" in page.locator("main").inner_text()
