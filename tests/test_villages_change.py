"""Merging, splitting, renaming and moving villages (cdt/geo/villages.py, /units/<commune>/villages/...):
dated, audited, undoable, scoped to admin and province staff of the area, and read by the coverage
report from their date (before it: the villages as they were)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from cdt.audit.models import AuditEvent
from cdt.auth.models import User
from cdt.core import clock
from cdt.extensions import db
from cdt.geo import villages as service
from cdt.geo.models import AdminUnit, VillageChange, VillagePlace
from cdt.registry.models import Membership, Team, TeamDecision
from cdt.reports import queries as report_queries
from tests.conftest import login
from tests.factories import TEST_PASSWORD, acting_as, create_unit_tree, create_user, current_members, gen_team

pytestmark = pytest.mark.bare

MERGE_DAY = date(2024, 3, 1)
SPLIT_DAY = date(2024, 5, 1)
MOVE_DAY = date(2024, 6, 1)


@pytest.fixture
def area(app):
    """A province with two communes of three villages; teams in the first two villages of the
    first commune (3 and 2 members); a province staff account of that province."""
    with app.app_context():
        tree = create_unit_tree(communes=2, villages=3)
        commune = tree.communes[0]
        v1, v2, v3 = tree.villages_of(commune)
        t1 = gen_team(v1, members=3)
        t2 = gen_team(v2, members=2)
        staff = create_user("province_staff", tree.province)
        return {"commune": commune.code, "other": tree.communes[1].code, "villages": [v1.id, v2.id, v3.id],
                "teams": [t1.id, t2.id], "staff": staff.username, "province": tree.province.code}


def _unit(code: str) -> AdminUnit:
    return db.session.scalar(select(AdminUnit).where(AdminUnit.code == code))


def _figures(code: str, day: date) -> tuple[int, int, int]:
    row = report_queries.summary(_unit(code), day)
    return row.villages, row.teams, row.members


def _village_rows(code: str, day: date) -> set[str]:
    return {row.code for row in report_queries.coverage(_unit(code), "village", day)}


def _log_in(client, username: str):
    login(client, username, TEST_PASSWORD)


def _merge_form(area: dict, **overrides) -> dict:
    v1, v2, _v3 = area["villages"]
    data = {"target": str(v1), "others": [str(v2)], "on": MERGE_DAY.isoformat(), "move_members": "y", "name": ""}
    data.update(overrides)
    return data


def _state() -> tuple:
    """What a refused change must leave alone."""
    return (db.session.scalar(select(func.count()).select_from(VillageChange)),
            db.session.scalar(select(func.count()).select_from(AdminUnit).where(AdminUnit.valid_to.is_not(None),
                                                                                AdminUnit.level == "village")),
            db.session.scalar(select(func.count()).select_from(AdminUnit).where(AdminUnit.level == "village")),
            db.session.scalar(select(func.count()).select_from(Team).where(Team.status == "dissolved")),
            db.session.scalar(select(func.count()).select_from(Membership).where(Membership.left_on.is_not(None))),
            db.session.scalar(select(func.count()).select_from(VillagePlace)))


def test_merge_preview_then_merge_and_coverage_before_and_after(app, client, area):
    _log_in(client, area["staff"])
    code = area["commune"]
    with app.app_context():
        before = _state()
        assert _figures(code, MERGE_DAY) == (3, 2, 5)

    page = client.post(f"/units/{code}/villages/merge", data=_merge_form(area))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="merge-preview"' in html and 'name="confirm"' in html
    with app.app_context():
        assert _state() == before  # a preview changes nothing

    done = client.post(f"/units/{code}/villages/merge", data=_merge_form(area, confirm="1", name="Thôn Hợp Nhất"))
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/units/{code}/villages")
    with app.app_context():
        v1, v2, v3 = (db.session.get(AdminUnit, i) for i in area["villages"])
        t1, t2 = (db.session.get(Team, i) for i in area["teams"])
        assert v2.valid_to == date(2024, 2, 29) and v1.valid_to is None and v1.name == "Thôn Hợp Nhất"
        assert t2.status == "dissolved" and t2.dissolved_on == MERGE_DAY and t1.status == "active"
        assert len(current_members(t1)) == 5 and current_members(t2) == []
        moved = [m for m in current_members(t1) if m.joined_on == MERGE_DAY]
        assert len(moved) == 2 and {m.role for m in moved} == {"member"}
        # Reports: the day before, the villages and teams as they were; from the date, the merged state.
        assert _figures(code, date(2024, 2, 29)) == (3, 2, 5)
        assert _figures(code, MERGE_DAY) == (2, 1, 5)
        assert report_queries.fast_path_applies(clock.today())  # today's figures from team_stat agree
        assert _figures(code, clock.today()) == (2, 1, 5)
        assert _village_rows(code, date(2024, 2, 29)) == {v1.code, v2.code, v3.code}
        assert _village_rows(code, MERGE_DAY) == {v1.code, v3.code}
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "village.merge"))
        assert event is not None and event.object_id == v1.id
        assert sorted(event.details["changes"]) == ["name", "valid_to"] and "Thôn Hợp Nhất" not in str(event.details)
        assert event.details["villages"] == [v1.code, v2.code] and event.details["members_moved"] == 2

    csv = client.get(f"/reports/coverage.csv?unit={code}&by=village&as_of=2024-02-29").get_data(as_text=True)
    assert len(csv.strip().splitlines()) == 1 + 3
    csv = client.get(f"/reports/coverage.csv?unit={code}&by=village&as_of=2024-03-01").get_data(as_text=True)
    assert len(csv.strip().splitlines()) == 1 + 2
    history = client.get(f"/units/{code}/villages").get_data(as_text=True)
    assert "Thôn Hợp Nhất" in history and "01/03/2024" in history


def test_merge_without_moving_members_ends_their_memberships(app, client, area):
    _log_in(client, area["staff"])
    code = area["commune"]
    client.post(f"/units/{code}/villages/merge", data=_merge_form(area, confirm="1", move_members=""))
    with app.app_context():
        t1, t2 = (db.session.get(Team, i) for i in area["teams"])
        assert len(current_members(t1)) == 3 and current_members(t2) == []
        assert _figures(code, MERGE_DAY) == (2, 1, 3)
        assert _figures(code, date(2024, 2, 29)) == (3, 2, 5)


def test_split_then_coverage_before_and_after(app, client, area):
    _log_in(client, area["staff"])
    code = area["commune"]
    v1 = area["villages"][0]
    response = client.post(f"/units/{code}/villages/split",
                           data={"village": str(v1), "names": "Thôn Mới Một\n\nThôn Mới Hai\n", "name": "",
                                 "on": SPLIT_DAY.isoformat()})
    assert response.status_code == 302
    with app.app_context():
        new = db.session.scalars(select(AdminUnit).where(AdminUnit.valid_from == SPLIT_DAY)
                                 .order_by(AdminUnit.code)).all()
        assert [(u.code, u.name) for u in new] == [(f"{code}-004", "Thôn Mới Một"), (f"{code}-005", "Thôn Mới Hai")]
        assert _figures(code, date(2024, 4, 30)) == (3, 2, 5)
        assert _figures(code, SPLIT_DAY) == (5, 2, 5)
        assert _village_rows(code, SPLIT_DAY) - _village_rows(code, date(2024, 4, 30)) == {u.code for u in new}
        assert report_queries.summary(_unit(code), SPLIT_DAY).coverage_pct == 40  # 2 teams, 5 villages
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "village.split")) == 1


def test_undo_merge_restores_villages_teams_and_members(app, client, area):
    _log_in(client, area["staff"])
    code = area["commune"]
    with app.app_context():
        before = {m.id: (m.team_id, m.left_on) for m in db.session.scalars(select(Membership))}
        decisions = db.session.scalar(select(func.count()).select_from(TeamDecision))
    client.post(f"/units/{code}/villages/merge", data=_merge_form(area, confirm="1", name="Thôn Hợp Nhất"))
    with app.app_context():
        change = db.session.scalar(select(VillageChange))
        v1_name = db.session.get(AdminUnit, area["villages"][0]).name
    assert v1_name == "Thôn Hợp Nhất"

    response = client.post(f"/units/{code}/villages/changes/{change.id}/undo")
    assert response.status_code == 302
    with app.app_context():
        v1, v2, _v3 = (db.session.get(AdminUnit, i) for i in area["villages"])
        t1, t2 = (db.session.get(Team, i) for i in area["teams"])
        assert v2.valid_to is None and v1.name != "Thôn Hợp Nhất"
        assert t2.status == "active" and t2.dissolved_on is None
        assert {m.id: (m.team_id, m.left_on) for m in db.session.scalars(select(Membership))} == before
        assert db.session.scalar(select(func.count()).select_from(TeamDecision)) == decisions
        assert _figures(code, MERGE_DAY) == (3, 2, 5) and _figures(code, clock.today()) == (3, 2, 5)
        undone = db.session.get(VillageChange, change.id)
        undo = db.session.get(VillageChange, undone.undone_by_id)
        assert undo.kind == "undo" and undo.undoes_id == change.id and undo.on == MERGE_DAY
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "village.undo")) == 1
    # An undone change cannot be undone twice; nothing changes.
    again = client.post(f"/units/{code}/villages/changes/{change.id}/undo", follow_redirects=True)
    assert "đã được hoàn tác" in again.get_data(as_text=True)


def test_undo_split_removes_the_new_villages(app, client, area):
    _log_in(client, area["staff"])
    code = area["commune"]
    with app.app_context(), acting_as(db.session.scalar(select(User).where(User.username == area["staff"]))):
        change = service.split(_unit(code), area["villages"][2], SPLIT_DAY, ["Thôn Tách"], None)
        change_id = change.id
    with app.app_context():
        assert _figures(code, SPLIT_DAY) == (4, 2, 5)
    assert client.post(f"/units/{code}/villages/changes/{change_id}/undo").status_code == 302
    with app.app_context():
        assert _figures(code, SPLIT_DAY) == (3, 2, 5)
        assert db.session.scalar(select(AdminUnit).where(AdminUnit.name == "Thôn Tách")) is None


def test_move_then_undo(app, client, area):
    _log_in(client, area["staff"])
    code, other = area["commune"], area["other"]
    v1 = area["villages"][0]
    with app.app_context():
        target = _unit(other).id
    response = client.post(f"/units/{code}/villages/move",
                           data={"village": str(v1), "target": str(target), "on": MOVE_DAY.isoformat()})
    assert response.status_code == 302
    with app.app_context():
        assert _figures(code, date(2024, 5, 31)) == (3, 2, 5) and _figures(other, date(2024, 5, 31)) == (3, 0, 0)
        assert _figures(code, MOVE_DAY) == (2, 1, 2) and _figures(other, MOVE_DAY) == (4, 1, 3)
        assert db.session.get(Team, area["teams"][0]).commune_id == target
        change = db.session.scalar(select(VillageChange).where(VillageChange.kind == "move"))
    # The change is listed on both communes' pages; undone from the target commune's.
    assert client.post(f"/units/{other}/villages/changes/{change.id}/undo").status_code == 302
    with app.app_context():
        assert _figures(code, MOVE_DAY) == (3, 2, 5) and _figures(other, MOVE_DAY) == (3, 0, 0)
        assert db.session.get(Team, area["teams"][0]).commune_id == _unit(code).id


def test_rename_then_undo(app, client, area):
    _log_in(client, area["staff"])
    code = area["commune"]
    v3 = area["villages"][2]
    with app.app_context():
        old = db.session.get(AdminUnit, v3).name
    assert client.post(f"/units/{code}/villages/rename",
                       data={"village": str(v3), "name": "Thôn Đổi Tên", "on": "2024-07-01"}).status_code == 302
    with app.app_context():
        assert db.session.get(AdminUnit, v3).name == "Thôn Đổi Tên"
        change = db.session.scalar(select(VillageChange))
    client.post(f"/units/{code}/villages/changes/{change.id}/undo")
    with app.app_context():
        assert db.session.get(AdminUnit, v3).name == old


def test_only_admin_and_province_staff_of_the_area(app, client, area):
    code = area["commune"]
    with app.app_context():
        officer = create_user("commune_officer", _unit(code)).username
        elsewhere = create_unit_tree(communes=1, villages=1)
        stranger = create_user("province_staff", elsewhere.province).username
        stranger_commune = elsewhere.communes[0].code
        before = _state()
    _log_in(client, officer)
    assert client.get(f"/units/{code}/villages/merge").status_code == 403
    assert client.post(f"/units/{code}/villages/merge", data=_merge_form(area, confirm="1")).status_code == 403
    assert "Village changes" not in client.get(f"/units/{code}").get_data(as_text=True)
    client.post("/logout")
    _log_in(client, stranger)
    for page in ("", "/merge", "/split", "/rename", "/move"):
        assert client.get(f"/units/{code}/villages{page}").status_code == 404
    assert client.post(f"/units/{code}/villages/merge", data=_merge_form(area, confirm="1")).status_code == 404
    with app.app_context():
        assert _state() == before
    # A change of another province cannot be undone, even through one's own commune's page.
    client.post("/logout")
    _log_in(client, area["staff"])
    client.post(f"/units/{code}/villages/merge", data=_merge_form(area, confirm="1"))
    with app.app_context():
        change_id = db.session.scalar(select(VillageChange.id))
    client.post("/logout")
    _log_in(client, stranger)
    assert client.post(f"/units/{stranger_commune}/villages/changes/{change_id}/undo").status_code == 404
    with app.app_context():
        assert db.session.get(VillageChange, change_id).undone_by_id is None


def test_bad_input_gives_a_translated_field_error_and_changes_nothing(app, client, area):
    _log_in(client, area["staff"])
    code = area["commune"]
    v1, _v2, _v3 = area["villages"]
    with app.app_context():
        before = _state()
    page = client.post(f"/units/{code}/villages/merge", data=_merge_form(area, others=[str(v1)], confirm="1"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Không thể gộp một thôn với chính nó." in html
    assert 'id="others-error"' in html
    page = client.post(f"/units/{code}/villages/merge", data=_merge_form(area, others=[], confirm="1"))
    assert "Chọn ít nhất một thôn để gộp vào." in page.get_data(as_text=True)
    page = client.post(f"/units/{code}/villages/merge", data=_merge_form(area, on="2099-01-01", confirm="1"))
    assert "Ngày không được sau ngày hôm nay." in page.get_data(as_text=True)
    with app.app_context():
        assert _state() == before

    # A village made by a split on SPLIT_DAY cannot be merged on a day before it existed.
    client.post(f"/units/{code}/villages/split", data={"village": str(v1), "names": "Thôn Mới", "on": SPLIT_DAY.isoformat()})
    with app.app_context():
        new = db.session.scalar(select(AdminUnit).where(AdminUnit.name == "Thôn Mới"))
        before = _state()
    page = client.post(f"/units/{code}/villages/merge",
                       data=_merge_form(area, others=[str(new.id)], on="2024-04-01", confirm="1"))
    html = page.get_data(as_text=True)
    assert "Thôn Mới chỉ có từ 01/05/2024: hãy chọn ngày sau đó." in html and 'id="on-error"' in html
    # Nor anything change on a day before the village's latest change.
    page = client.post(f"/units/{code}/villages/rename", data={"village": str(v1), "name": "X", "on": "2024-04-01"})
    assert "Các thôn này đã thay đổi ngày 01/05/2024" in page.get_data(as_text=True)
    with app.app_context():
        assert _state() == before
