"""The requests register (issue 13): deadlines in working days (weekends, the shipped 2026 holidays,
days added with `flask cdt holidays add`), the request's life (received, acknowledged, extended
once, closed), the home page's list of requests near or past their deadline for those who must act,
and scoping (another commune's officer gets 404, youth coordinators 403)."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from cdt.extensions import db
from cdt.privacy.models import PrivacyRequest
from cdt.privacy.workdays import add_working_days, is_working_day, working_days_between
from tests.factories import create_user, current_members, gen_team, gen_village
from tests.factories import unit as by_code

pytestmark = pytest.mark.bare

BAC_HA = "02839"  # a commune of the 2025 map (new Lào Cai, 15)
SI_MA_CAI = "02842"


def test_deadlines_skip_weekends_and_holidays(app, runner):
    with app.app_context():
        # Tết 2026: Monday 16 to Friday 20 February off; Thursday 12 + 2 working days = Monday 23.
        assert add_working_days(date(2026, 2, 12), 2) == date(2026, 2, 23)
        # Friday 24 April: Monday 27 (Hùng Kings, compensated), 30 April and 1 May are off.
        assert add_working_days(date(2026, 4, 24), 2) == date(2026, 4, 29)
        assert add_working_days(date(2026, 4, 24), 15) == date(2026, 5, 20)
        # Saturday 10 January 2026 is worked (Friday 2 January was swapped with it).
        assert add_working_days(date(2026, 1, 8), 2) == date(2026, 1, 10)
        assert not is_working_day(date(2026, 1, 2)) and is_working_day(date(2026, 1, 10))
        # A request received on a Saturday: the next two working days.
        assert add_working_days(date(2026, 3, 7), 2) == date(2026, 3, 10)
        assert working_days_between(date(2026, 4, 24), date(2026, 5, 4)) == 3
        assert working_days_between(date(2026, 5, 4), date(2026, 4, 24)) == -3
    # A day off decided later, added from the command line, moves the deadline; removed, it does not.
    result = runner.invoke(args=["cdt", "holidays", "add", "2026-03-09", "Nghỉ thử"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert add_working_days(date(2026, 3, 7), 2) == date(2026, 3, 11)
    listing = runner.invoke(args=["cdt", "holidays", "list", "--year", "2026"]).output
    assert "2026-03-09" in listing and "added" in listing and "2026-02-17" in listing and "shipped" in listing
    assert runner.invoke(args=["cdt", "holidays", "remove", "2026-03-09"]).exit_code == 0
    with app.app_context():
        assert add_working_days(date(2026, 3, 7), 2) == date(2026, 3, 10)
    assert runner.invoke(args=["cdt", "holidays", "add", "2026-02-30", "x"]).exit_code != 0


@pytest.fixture
def world(app, frozen_clock):
    frozen_clock(datetime(2026, 4, 24, 3, 0))  # Friday 24 April 2026, 10:00 in Hà Nội
    with app.app_context():
        team = gen_team(gen_village(by_code(BAC_HA)), members=1, established_on=date(2026, 1, 5))
        person = current_members(team)[0].person
        return {
            "person": person.id, "name": person.full_name,
            "officer": create_user("commune_officer", BAC_HA).username,
            "other": create_user("commune_officer", SI_MA_CAI).username,
            "province": create_user("province_staff", "15").username,
        }


def _request(app, person_id: int) -> PrivacyRequest:
    with app.app_context():
        req = db.session.scalar(select(PrivacyRequest).options(joinedload(PrivacyRequest.handled_by))
                                .where(PrivacyRequest.person_id == person_id))
        db.session.expunge_all()
        return req


def test_a_request_from_received_to_closed(app, world, login_as):
    client = login_as(world["officer"])
    form = client.get(f"/privacy/requests/new?person={world['person']}")
    assert form.status_code == 200 and world["name"] in form.get_data(as_text=True)
    response = client.post("/privacy/requests/new", data={
        "person": world["person"], "kind": "erasure", "received_on": "2026-04-24", "requester": "self",
        "channel": "in_person", "details": "Xin xóa thông tin"})
    assert response.status_code == 302
    req = _request(app, world["person"])
    assert (req.kind, req.status, req.acknowledge_by, req.due_on) == ("erasure", "received", date(2026, 4, 29),
                                                                       date(2026, 5, 20))
    page = client.get(f"/privacy/requests/{req.id}").get_data(as_text=True)
    assert "29/04/2026" in page and "20/05/2026" in page and "Xóa dữ liệu" in page

    assert client.post(f"/privacy/requests/{req.id}/acknowledge", data={"ack-acknowledged_on": "2026-04-24"}
                       ).status_code == 302
    refused = client.post(f"/privacy/requests/{req.id}/extend", data={"ext-reason": ""})
    assert refused.status_code == 422 and "Vui lòng nhập thông tin này." in refused.get_data(as_text=True)
    assert client.post(f"/privacy/requests/{req.id}/extend", data={"ext-reason": "Cần xác minh"}).status_code == 302
    again = client.post(f"/privacy/requests/{req.id}/extend", data={"ext-reason": "Lần nữa"})
    assert again.status_code == 422 and "Chỉ được gia hạn một lần." in again.get_data(as_text=True)
    req = _request(app, world["person"])
    assert (req.status, req.acknowledged_on, req.due_on) == ("acknowledged", date(2026, 4, 24), date(2026, 6, 10))

    refused = client.post(f"/privacy/requests/{req.id}/close", data={"close-status": "completed", "close-outcome": ""})
    assert refused.status_code == 422
    assert client.post(f"/privacy/requests/{req.id}/close", data={
        "close-status": "completed", "close-outcome": "Đã xóa theo yêu cầu", "close-closed_on": "2026-04-24"}
    ).status_code == 302
    req = _request(app, world["person"])
    assert (req.status, req.outcome, req.handled_by.username) == ("completed", "Đã xóa theo yêu cầu", world["officer"])
    # A closed request takes no more action.
    assert client.post(f"/privacy/requests/{req.id}/acknowledge", data={}).status_code == 422
    listed = client.get("/privacy/requests?status=completed").get_data(as_text=True)
    assert world["name"] in listed and world["name"] not in client.get("/privacy/requests?status=open").get_data(
        as_text=True)


def test_bad_request_input_is_refused_next_to_the_field(app, world, login_as):
    client = login_as(world["officer"])
    base = {"person": world["person"], "kind": "access", "received_on": "2026-04-24", "requester": "self",
            "channel": "phone"}
    for change, message in (({"kind": ""}, "Chọn một trong các lựa chọn."),
                            ({"received_on": "2026-04-27"}, "Ngày không được sau ngày hôm nay."),
                            ({"received_on": "hôm qua"}, None), ({"channel": "pigeon"}, None)):
        response = client.post("/privacy/requests/new", data={**base, **change})
        assert response.status_code == 422, change
        if message:
            assert message in response.get_data(as_text=True)
    assert _request(app, world["person"]) is None


def _home(client) -> str:
    return client.get("/", follow_redirects=True).get_data(as_text=True)


def test_home_page_shows_requests_near_or_past_their_deadline_to_who_must_act(app, world, login_as, client,
                                                                              frozen_clock):
    officer = login_as(world["officer"])
    officer.post("/privacy/requests/new", data={"person": world["person"], "kind": "access",
                                                "received_on": "2026-04-24", "requester": "self",
                                                "channel": "in_person"})
    req_id = _request(app, world["person"]).id
    link = f"/privacy/requests/{req_id}"
    # Friday: to acknowledge by Wednesday 29 (2 working days): the commune officer sees it at once.
    home = _home(officer)
    assert 'id="privacy-due"' in home and link in home and "Sắp đến hạn" in home
    client.post("/logout")
    province = login_as(world["province"])
    assert link not in _home(province)  # not late: the commune acts
    frozen_clock(datetime(2026, 4, 30, 3, 0))  # Thursday (a holiday): the 29th has passed
    home = _home(province)
    assert link in home and "Quá hạn" in home
    client.post("/logout")
    other = login_as(world["other"])
    assert link not in _home(other)
    client.post("/logout")
    officer = login_as(world["officer"])
    assert link in _home(officer) and "Quá hạn" in _home(officer)
    officer.post(f"{link}/acknowledge", data={"ack-acknowledged_on": "2026-04-30"})
    # Acknowledged: the next deadline is Wednesday 20 May, 4 working days after Thursday 14 May.
    frozen_clock(datetime(2026, 5, 14, 3, 0))
    assert link not in _home(officer)
    frozen_clock(datetime(2026, 5, 15, 3, 0))  # 3 working days left: due soon
    assert link in _home(officer)
    frozen_clock(datetime(2026, 5, 21, 3, 0))
    client.post("/logout")
    province = login_as(world["province"])
    assert link in _home(province) and "Quá hạn" in _home(province)


def test_another_communes_officer_gets_404_and_youth_403(app, world, login_as, client):
    officer = login_as(world["officer"])
    officer.post("/privacy/requests/new", data={"person": world["person"], "kind": "objection",
                                                "received_on": "2026-04-24", "requester": "guardian",
                                                "channel": "paper"})
    req_id = _request(app, world["person"]).id
    client.post("/logout")
    other = login_as(world["other"])
    assert other.get(f"/privacy/requests/{req_id}").status_code == 404
    assert other.get(f"/privacy/requests/new?person={world['person']}").status_code == 404
    assert other.post(f"/privacy/requests/{req_id}/acknowledge", data={}).status_code == 404
    assert other.post(f"/privacy/requests/{req_id}/close", data={"close-status": "refused",
                                                                  "close-outcome": "x"}).status_code == 404
    assert world["name"] not in other.get("/privacy/requests").get_data(as_text=True)
    req = _request(app, world["person"])
    assert (req.status, req.acknowledged_on, req.closed_on) == ("received", None, None)
    client.post("/logout")
    youth = login_as("youth")
    assert youth.get("/privacy/requests").status_code == 403
    assert youth.get(f"/privacy/requests/{req_id}").status_code == 403
    client.post("/logout")
    province = login_as(world["province"])
    assert world["name"] in province.get("/privacy/requests").get_data(as_text=True)


def test_the_register_and_the_home_page_run_a_fixed_number_of_statements(app, world, login_as):
    from tests.test_registry_lists import counting

    with app.app_context():
        team = gen_team(gen_village(by_code(BAC_HA)), members=4, established_on=date(2026, 1, 5))
        people = [m.person_id for m in current_members(team)]
    client = login_as(world["officer"])

    def record(person_id):
        assert client.post("/privacy/requests/new", data={
            "person": person_id, "kind": "access", "received_on": "2026-04-24", "requester": "self",
            "channel": "phone"}).status_code == 302

    def statements(url):
        client.get(url)  # warm-up
        with counting(app) as seen:
            html = client.get(url, follow_redirects=True).get_data(as_text=True)
        return len(seen), html.count("/privacy/requests/")

    record(world["person"])
    one = statements("/privacy/requests"), statements("/")
    for person_id in people:
        record(person_id)
    five = statements("/privacy/requests"), statements("/")
    assert five[0][1] > one[0][1] and five[1][1] > one[1][1]  # more rows listed...
    assert (five[0][0], five[1][0]) == (one[0][0], one[1][0])  # ...by the same statements
