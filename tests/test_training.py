"""Training: scheduling, warnings, invitations, attendance, hours, the trained mark the
coverage report counts, the calendar feed, topics, and permissions by role and area."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from cdt.audit.models import AuditEvent
from cdt.auth.models import User
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.registry.models import Membership, Person, Team
from cdt.reports.queries import coverage
from cdt.training.models import Attendance, Invitation, TrainingSession, TrainingTopic
from tests.conftest import login as _login
from tests.factories import current_members as members_of
from tests.factories import gen_attendance, gen_session, gen_team, gen_village

FMT = "%Y-%m-%dT%H:%M"
TOWN = "02839"  # Thị trấn Bắc Hà: nobody trained in the demo
LUNG_PHINH = "02848"  # Xã Lùng Phình: nobody trained in the demo
BAN_PHO = "02866"  # the demo commune officer's commune


def login(client, username: str):
    """Log in (logging out first: the log-in page sends a logged-in user away)."""
    client.post("/logout")
    return _login(client, username)


def unit(code: str) -> AdminUnit:
    return db.session.scalar(select(AdminUnit).where(AdminUnit.code == code))


def topic_id(code: str = "vneid") -> int:
    return db.session.scalar(select(TrainingTopic.id).where(TrainingTopic.code == code))


def local_now() -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None, second=0, microsecond=0)


def session_data(app, **overrides) -> dict:
    with app.app_context():
        data = {
            "title": "Tập huấn VNeID cho Tổ CNS",
            "topic_id": topic_id(),
            "mode": "in_person",
            "starts_at": (local_now() + timedelta(days=10)).replace(hour=8, minute=0).strftime(FMT),
            "ends_at": (local_now() + timedelta(days=10)).replace(hour=11, minute=30).strftime(FMT),
            "hours": "",
            "venue": "Hội trường UBND huyện Bắc Hà",
            "trainer": "Huyện đoàn Bắc Hà",
            "capacity": "60",
            "area_id": unit("085").id,
            "notes": "",
            "status": "planned",
        }
    data.update(overrides)
    return data


def create(client, app, **overrides) -> int:
    response = client.post("/training/new", data=session_data(app, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def past_times(hours_ago: int = 3, length: int = 2) -> dict:
    start = local_now() - timedelta(hours=hours_ago)
    return {"starts_at": start.strftime(FMT), "ends_at": (start + timedelta(hours=length)).strftime(FMT)}


def teams_of(code: str) -> list[int]:
    return list(db.session.scalars(
        select(Team.id).where(Team.commune_id == unit(code).id, Team.status == "active").order_by(Team.id)
    ))


def current_members(team_ids: list[int]) -> set[int]:
    return set(db.session.scalars(
        select(Membership.person_id).where(Membership.team_id.in_(team_ids), Membership.left_on.is_(None))
    ))


def recount_first_trained() -> dict[int, date | None]:
    """The straightforward definition, in Python: earliest held session each person attended."""
    held = {s.id: s.starts_at.date() for s in db.session.scalars(
        select(TrainingSession).where(TrainingSession.status == "held"))}
    first: dict[int, date] = {}
    for a in db.session.scalars(select(Attendance)):
        if a.session_id in held:
            day = held[a.session_id]
            if a.person_id not in first or day < first[a.person_id]:
                first[a.person_id] = day
    return first


def stored_first_trained() -> dict[int, date]:
    db.session.expire_all()
    return dict(db.session.execute(
        select(Person.id, Person.first_trained_on).where(Person.first_trained_on.is_not(None))
    ).all())


def sample() -> None:
    """For `bare` tests: Bắc Hà's town with two teams of four (a leader, a deputy, two members),
    Lùng Phình with one team of four, nobody of them trained; Bản Phố with a team of three who
    attended the district's held session of March 2023; Bảo Thắng with a team of two and a held
    session of its own."""
    for code, teams, members in ((TOWN, 2, 4), (LUNG_PHINH, 1, 4), (BAN_PHO, 1, 3)):
        for _ in range(teams):
            team = gen_team(gen_village(unit(code)), members=members)
    held = gen_session(unit("085"), starts_at=datetime(2023, 3, 1, 8))
    gen_attendance(held, [m.person_id for m in members_of(team)])
    bao_thang = db.session.scalar(select(AdminUnit).where(AdminUnit.parent_id == unit("086").id)
                                  .order_by(AdminUnit.code))
    gen_team(gen_village(bao_thang), members=2)
    gen_session(unit("086"), starts_at=datetime(2023, 4, 3, 8))


def trained(code: str) -> int:
    c = unit(code)
    return coverage(c, "commune")[0].trained_members


# --- scoping -------------------------------------------------------------------------------

@pytest.mark.bare
def test_district_session_is_seen_from_its_communes_not_elsewhere(app, client):
    with app.app_context():
        sample()
        bac_ha = db.session.scalar(select(TrainingSession.id).where(
            TrainingSession.district_id == unit("085").id).order_by(TrainingSession.id))
        other = db.session.scalar(select(TrainingSession.id).where(
            TrainingSession.district_id != unit("085").id).order_by(TrainingSession.id))
    login(client, "commune")
    assert client.get(f"/training/{bac_ha}").status_code == 200
    assert client.get(f"/training/{other}").status_code == 404
    page = client.get("/training?status=held").get_data(as_text=True)
    assert f"/training/{bac_ha}\"" in page
    assert f"/training/{other}\"" not in page


@pytest.mark.bare
def test_area_condition_for_sessions_inside_or_containing(app):
    from cdt.auth.scope import area_condition

    with app.app_context():
        commune_user = db.session.scalar(select(User).where(User.username == "commune"))
        district = unit("085")
        commune = unit(BAN_PHO)
        rows = [
            TrainingSession(title=f"s{i}", topic_id=topic_id(), starts_at=datetime(2030, 1, 1, 8),
                            ends_at=datetime(2030, 1, 1, 10), hours=Decimal(2), status="planned")
            for i in range(4)
        ]
        rows[0].place_in(district)  # contains the commune
        rows[1].place_in(commune)  # the commune itself
        rows[2].place_in(unit(LUNG_PHINH))  # a sibling commune
        rows[3].place_in(unit("10"))  # the province
        db.session.add_all(rows)
        db.session.flush()
        seen = set(db.session.scalars(
            select(TrainingSession.title).where(TrainingSession.title.in_(["s0", "s1", "s2", "s3"]),
                                                area_condition(TrainingSession, commune_user))
        ))
        assert seen == {"s0", "s1", "s3"}
        db.session.rollback()


# --- scheduling ----------------------------------------------------------------------------

@pytest.mark.bare
def test_youth_schedules_a_session_with_audit(app, client):
    login(client, "youth")
    form = client.get("/training/new").get_data(as_text=True)
    assert "Xã Lùng Phình" in form and "Huyện Si Ma Cai" not in form  # only units of Bắc Hà offered
    sid = create(client, app)
    with app.app_context():
        ts = db.session.get(TrainingSession, sid)
        assert ts.title == "Tập huấn VNeID cho Tổ CNS"
        assert ts.area_id == ts.district_id == unit("085").id and ts.commune_id is None
        assert ts.hours == Decimal("3.5")  # from the length when left empty
        assert ts.status == "planned" and ts.capacity == 60
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "training_session.create", AuditEvent.object_id == sid))
        assert event is not None and event.username == "youth"
    page = client.get(f"/training/{sid}").get_data(as_text=True)
    assert "Hội trường UBND huyện Bắc Hà" in page

    # Edit: a commune of Bắc Hà, new title; audited.
    with app.app_context():
        lp = unit(LUNG_PHINH).id
        version = db.session.get(TrainingSession, sid).version_id
    response = client.post(f"/training/{sid}/edit", data=session_data(
        app, title="Tập huấn tại Lùng Phình", area_id=lp, version_id=str(version)))
    assert response.status_code == 302
    with app.app_context():
        ts = db.session.get(TrainingSession, sid)
        assert ts.title == "Tập huấn tại Lùng Phình" and ts.commune_id == lp
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "training_session.update", AuditEvent.object_id == sid)) == 1


@pytest.mark.bare
@pytest.mark.parametrize("overrides, message", [
    ({"title": ""}, "Enter a title."),
    ({"ends_at": "2030-01-01T07:00", "starts_at": "2030-01-01T08:00"}, "The end must be after the start."),
    ({"hours": "9", "starts_at": "2030-01-01T08:00", "ends_at": "2030-01-01T10:00"},
     "The hours cannot exceed the length of the session."),
    ({"capacity": "abc"}, None),
    ({"venue": ""}, "Enter the venue of an in-person session."),
    ({"area_id": "FOREIGN"}, "Not a valid choice"),
])
def test_schedule_rejects_bad_input_and_saves_nothing(app, client, overrides, message):
    login(client, "youth")
    if overrides.get("area_id") == "FOREIGN":
        with app.app_context():
            overrides["area_id"] = unit("086").id  # Huyện Bảo Thắng: another district
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(TrainingSession))
    client.post("/language", data={"language": "en", "next": "/"})
    response = client.post("/training/new", data=session_data(app, **overrides))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "is-invalid" in page
    if message:
        assert message in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == before


# --- warnings ------------------------------------------------------------------------------

@pytest.mark.bare
def test_warning_venue_already_booked(app, client):
    login(client, "youth")
    first = create(client, app, title="Buổi 1")
    # Same venue (other case, no diacritics), overlapping time, a commune of the same district.
    with app.app_context():
        lp = unit(LUNG_PHINH).id
    second = create(client, app, title="Buổi 2", venue="hoi truong ubnd huyen bac ha ", area_id=lp,
                    starts_at=session_data(app)["starts_at"][:-5] + "10:00",
                    ends_at=session_data(app)["starts_at"][:-5] + "12:00")
    page = client.get(f"/training/{second}").get_data(as_text=True)
    assert "đã có lịch" in page or "already booked" in page
    assert "Buổi 1" in page
    # Not overlapping: no warning.
    third = create(client, app, title="Buổi 3", starts_at=session_data(app)["starts_at"][:-5] + "13:00",
                   ends_at=session_data(app)["starts_at"][:-5] + "15:00")
    page = client.get(f"/training/{third}").get_data(as_text=True)
    assert "đã có lịch" not in page and "already booked" not in page
    assert first


@pytest.mark.bare
def test_warning_more_invited_than_capacity(app, client):
    with app.app_context():
        sample()
    login(client, "youth")
    sid = create(client, app, capacity="3")
    with app.app_context():
        team = teams_of(LUNG_PHINH)[0]
        lp = unit(LUNG_PHINH).id
    response = client.post(f"/training/{sid}/invite/teams", data={"commune": lp, "team": [team], "who": "all"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "sức chứa là 3" in page or "capacity is 3" in page
    assert page.count("sức chứa là 3") + page.count("capacity is 3") == 1  # once: inline, not flashed too


@pytest.mark.bare
def test_warning_scheduled_in_the_past(app, client):
    login(client, "youth")
    sid = create(client, app, **past_times(hours_ago=30))
    page = client.get(f"/training/{sid}").get_data(as_text=True)
    assert "trong quá khứ" in page or "in the past" in page
    future = create(client, app)
    page = client.get(f"/training/{future}").get_data(as_text=True)
    assert "trong quá khứ" not in page and "in the past" not in page


@pytest.mark.bare
def test_cancelling_a_session_with_attendance_needs_confirmation(app, client):
    with app.app_context():
        sample()
    login(client, "youth")
    sid = create(client, app, **past_times())
    with app.app_context():
        team = teams_of(TOWN)[0]
        people = sorted(current_members([team]))
        town = unit(TOWN).id
    client.post(f"/training/{sid}/invite/teams", data={"commune": town, "team": [team], "who": "all"})
    client.post(f"/training/{sid}/attendance", data={"present": people, "hours": "2", "action": "save"})
    with app.app_context():
        ts = db.session.get(TrainingSession, sid)
        assert ts.status == "held"
        version = ts.version_id
        assert all(db.session.get(Person, p).first_trained_on is not None for p in people)
    data = session_data(app, status="cancelled", version_id=str(version), **past_times())
    response = client.post(f"/training/{sid}/edit", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'name="confirm_cancel"' in page
    with app.app_context():
        assert db.session.get(TrainingSession, sid).status == "held"  # nothing saved
    response = client.post(f"/training/{sid}/edit", data={**data, "confirm_cancel": "y"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(TrainingSession, sid).status == "cancelled"
        # The attendance no longer counts: these people were trained by nothing else.
        assert all(db.session.get(Person, p).first_trained_on is None for p in people)


# --- invitations ---------------------------------------------------------------------------

@pytest.mark.bare
def test_invite_whole_teams_of_a_commune_once(app, client):
    with app.app_context():
        sample()
    login(client, "youth")
    sid = create(client, app)
    with app.app_context():
        town = unit(TOWN).id
        teams = teams_of(TOWN)
        expected = current_members(teams)
    page = client.get(f"/training/{sid}/invite/teams?commune={town}").get_data(as_text=True)
    assert page.count('name="team"') == len(teams)
    client.post(f"/training/{sid}/invite/teams", data={"commune": town, "all": "1", "who": "all"})
    client.post(f"/training/{sid}/invite/teams", data={"commune": town, "all": "1", "who": "all"})  # again
    with app.app_context():
        invited = list(db.session.scalars(select(Invitation.person_id).where(Invitation.session_id == sid)))
        assert sorted(invited) == sorted(expected)  # every member, once
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "invitation.create", AuditEvent.object_id == sid)) == 1
        name, team_name = db.session.execute(
            select(Person.full_name, Team.name).join(Invitation, Invitation.person_id == Person.id)
            .join(Team, Team.id == Invitation.team_id).where(Invitation.session_id == sid)
        ).first()
    page = client.get(f"/training/{sid}").get_data(as_text=True)
    assert name in page and team_name in page


@pytest.mark.bare
def test_invite_leaders_only(app, client):
    with app.app_context():
        sample()
    login(client, "youth")
    sid = create(client, app)
    with app.app_context():
        town = unit(TOWN).id
        teams = teams_of(TOWN)
    client.post(f"/training/{sid}/invite/teams", data={"commune": town, "team": teams[:2], "who": "leaders"})
    with app.app_context():
        roles = db.session.scalars(
            select(Membership.role).join(Invitation, (Invitation.person_id == Membership.person_id)
                                         & (Invitation.team_id == Membership.team_id))
            .where(Invitation.session_id == sid)
        ).all()
        assert sorted(roles) == ["deputy", "deputy", "leader", "leader"]


@pytest.mark.bare
def test_invite_foreign_team_or_person_is_refused(app, client):
    with app.app_context():
        sample()
    login(client, "youth")
    with app.app_context():
        lp = unit(LUNG_PHINH)
    sid = create(client, app, area_id=lp.id)  # a session for Lùng Phình only
    with app.app_context():
        own = teams_of(LUNG_PHINH)[0]
        sibling = teams_of(TOWN)[0]  # Bắc Hà, but outside the session's commune
        foreign = db.session.scalar(select(Team.id).where(Team.district_id != unit("085").id))
        foreign_person = db.session.scalar(select(Person.id).where(Person.district_id != unit("085").id))
        sibling_person = db.session.scalar(select(Person.id).where(Person.commune_id == unit(TOWN).id))
    for bad in (foreign, sibling):
        response = client.post(f"/training/{sid}/invite/teams",
                               data={"commune": lp.id, "team": [own, bad], "who": "all"})
        assert response.status_code == 200
        assert "nothing was saved" in response.get_data(as_text=True) or "không lưu" in response.get_data(as_text=True)
    for bad in (foreign_person, sibling_person):
        response = client.post(f"/training/{sid}/invite/people", data={"person": [bad]})
        assert response.status_code == 200
    response = client.post(f"/training/{sid}/invite/people", data={"person": ["1 OR 1=1"]})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invitation).where(Invitation.session_id == sid)) == 0


@pytest.mark.bare
def test_invite_single_people_found_by_name(app, client):
    with app.app_context():
        sample()
    login(client, "youth")
    sid = create(client, app)
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.commune_id == unit(TOWN).id).order_by(Person.id))
        name, pid = person.full_name, person.id
        surname_folded = person.search_name.split()[-1]
    page = client.get(f"/training/{sid}/invite/people", query_string={"q": surname_folded}).get_data(as_text=True)
    assert name in page
    client.post(f"/training/{sid}/invite/people", data={"person": [pid]})
    with app.app_context():
        inv = db.session.scalar(select(Invitation).where(Invitation.session_id == sid))
        assert inv.person_id == pid and inv.team_id is not None  # their team is recorded
    page = client.get(f"/training/{sid}/invite/people", query_string={"q": surname_folded}).get_data(as_text=True)
    assert f'value="{pid}"' not in page  # already invited: not offered again
    client.post(f"/training/{sid}/invitations/{pid}/delete")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invitation).where(Invitation.session_id == sid)) == 0
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "invitation.delete"))


# --- attendance ----------------------------------------------------------------------------

@pytest.mark.bare
def test_attendance_double_submission_walk_in_and_hours(app, client):
    with app.app_context():
        sample()
    login(client, "youth")
    sid = create(client, app, **past_times(hours_ago=5, length=4))
    with app.app_context():
        town = unit(TOWN).id
        team = teams_of(TOWN)[0]
        invited = sorted(current_members([team]))
        walk_in = db.session.scalar(
            select(Person).where(Person.commune_id == unit(LUNG_PHINH).id).order_by(Person.id))
        walk_in_id, walk_in_name, walk_in_q = walk_in.id, walk_in.full_name, walk_in.search_name
    client.post(f"/training/{sid}/invite/teams", data={"commune": town, "team": [team], "who": "all"})
    page = client.get(f"/training/{sid}/attendance").get_data(as_text=True)
    assert page.count('name="present"') == len(invited)
    # Search for a walk-in keeps the ticks already made and offers the walk-in.
    response = client.post(f"/training/{sid}/attendance",
                           data={"present": invited[:2], "hours": "4", "q": walk_in_q, "action": "search"})
    page = response.get_data(as_text=True)
    assert walk_in_name in page
    assert page.count(" checked>") == 2
    # Someone already on the checklist is found too, marked as such (not hidden, not a second box).
    with app.app_context():
        listed = db.session.get(Person, invited[0])
        listed_name, listed_q = listed.full_name, listed.search_name
    response = client.post(f"/training/{sid}/attendance", data={"present": [], "hours": "4", "q": listed_q,
                                                               "action": "search"})
    results = response.get_data(as_text=True).split('name="q"', 1)[1]
    assert listed_name in results and "đã có trong danh sách" in results
    assert results.count(f'name="present" value="{invited[0]}"') == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attendance).where(Attendance.session_id == sid)) == 0
    present = invited[:-1] + [walk_in_id]
    data = {"present": present, "hours": "3.5", "action": "save"}
    assert client.post(f"/training/{sid}/attendance", data=data).status_code == 302
    assert client.post(f"/training/{sid}/attendance", data=data).status_code == 302  # double submission
    with app.app_context():
        rows = db.session.scalars(select(Attendance).where(Attendance.session_id == sid)).all()
        assert sorted(r.person_id for r in rows) == sorted(present)  # one row per person
        assert {r.person_id for r in rows if r.walk_in} == {walk_in_id}
        assert {r.hours for r in rows} == {Decimal("3.5")}
        assert db.session.get(TrainingSession, sid).status == "held"
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "attendance.update", AuditEvent.object_id == sid)) == 1

        from cdt.training.queries import person_training

        before = person_training(walk_in_id)
        assert before.total_hours >= Decimal("3.5") and before.held_sessions >= 1
    # Untick one person: their row goes; hours changed for everyone.
    client.post(f"/training/{sid}/attendance", data={"present": present[1:], "hours": "4", "action": "save"})
    with app.app_context():
        rows = db.session.scalars(select(Attendance).where(Attendance.session_id == sid)).all()
        assert sorted(r.person_id for r in rows) == sorted(present[1:])
        assert {r.hours for r in rows} == {Decimal("4.0")}
        assert person_training(walk_in_id).total_hours == before.total_hours + Decimal("0.5")
    page = client.get(f"/training/{sid}").get_data(as_text=True)
    assert walk_in_name in page


@pytest.mark.bare
def test_attendance_refuses_foreign_people_future_and_cancelled_sessions(app, client):
    with app.app_context():
        sample()
    login(client, "youth")
    sid = create(client, app, **past_times())
    with app.app_context():
        foreign = db.session.scalar(select(Person.id).where(Person.district_id != unit("085").id))
    response = client.post(f"/training/{sid}/attendance", data={"present": [foreign], "hours": "2", "action": "save"})
    assert response.status_code == 200
    future = create(client, app)
    with app.app_context():
        own = db.session.scalar(select(Person.id).where(Person.commune_id == unit(TOWN).id))
    response = client.post(f"/training/{future}/attendance", data={"present": [own], "hours": "2", "action": "save"})
    assert response.status_code == 200
    assert "chưa bắt đầu" in response.get_data(as_text=True) or "not started" in response.get_data(as_text=True)
    cancelled = create(client, app, status="cancelled", **past_times())
    response = client.post(f"/training/{cancelled}/attendance",
                           data={"present": [own], "hours": "2", "action": "save"})
    assert response.status_code == 200
    response = client.post(f"/training/{sid}/attendance", data={"hours": "2", "action": "save"})
    assert response.status_code == 200  # nobody ticked
    response = client.post(f"/training/{sid}/attendance", data={"present": [own], "hours": "2.5", "action": "save"})
    assert "Số giờ không được vượt quá thời lượng" in response.get_data(as_text=True)  # the session lasts 2 h
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.session_id.in_([sid, future, cancelled]))) == 0
        assert db.session.get(TrainingSession, sid).status == "planned"


@pytest.mark.bare
def test_attendance_insert_is_idempotent_at_the_database(app):
    """Two saves racing: the second insert meets the unique constraint and adds nothing."""
    from cdt.training import services

    with app.app_context():
        sample()
        ts = db.session.scalar(select(TrainingSession).where(TrainingSession.status == "held"))
        user = db.session.scalar(select(User).where(User.username == "admin"))
        pid = db.session.scalar(select(Person.id).where(Person.district_id == ts.district_id,
                                                        ~Person.id.in_(select(Attendance.person_id))))
        db.session.execute(services._insert(Attendance.__table__).values(
            session_id=ts.id, person_id=pid, hours=Decimal(4), walk_in=True, recorded_by_id=user.id,
            recorded_at=datetime(2023, 1, 1)).on_conflict_do_nothing(index_elements=["session_id", "person_id"]))
        db.session.execute(services._insert(Attendance.__table__).values(
            session_id=ts.id, person_id=pid, hours=Decimal(4), walk_in=True, recorded_by_id=user.id,
            recorded_at=datetime(2023, 1, 1)).on_conflict_do_nothing(index_elements=["session_id", "person_id"]))
        assert db.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.session_id == ts.id, Attendance.person_id == pid)) == 1
        db.session.rollback()


# --- the trained mark and the coverage report ---------------------------------------------

@pytest.mark.bare
def test_trained_mark_equals_recount_after_a_series_of_changes(app, client):
    with app.app_context():
        sample()
        assert stored_first_trained() == recount_first_trained()  # consistent as loaded
        town = unit(TOWN).id
        team_a, team_b = teams_of(TOWN)[:2]
        people_a = sorted(current_members([team_a]))
        people_b = sorted(current_members([team_b]))
        held_demo = db.session.scalar(select(TrainingSession).where(
            TrainingSession.status == "held", TrainingSession.district_id == unit("085").id))
        held_demo_id = held_demo.id
        demo_attendee = db.session.scalar(select(Attendance.person_id).where(Attendance.session_id == held_demo_id))
    login(client, "youth")
    s1 = create(client, app, title="S1", **past_times(hours_ago=50))
    s2 = create(client, app, title="S2", **past_times(hours_ago=3))

    def check():
        with app.app_context():
            assert stored_first_trained() == recount_first_trained()

    client.post(f"/training/{s1}/invite/teams", data={"commune": town, "team": [team_a, team_b], "who": "all"})
    client.post(f"/training/{s1}/attendance", data={"present": people_a, "hours": "2", "action": "save"})
    check()
    client.post(f"/training/{s2}/attendance", data={"present": people_a[:1] + people_b + [demo_attendee],
                                                    "hours": "2", "action": "save"})
    check()
    client.post(f"/training/{s1}/attendance", data={"present": people_a[1:], "hours": "2", "action": "save"})
    check()
    # Move S2 earlier than S1, then cancel S1 (confirmed), then re-plan it.
    with app.app_context():
        v2 = db.session.get(TrainingSession, s2).version_id
    client.post(f"/training/{s2}/edit", data=session_data(app, title="S2", status="held", version_id=str(v2),
                                                          **past_times(hours_ago=100)))
    check()
    with app.app_context():
        v1 = db.session.get(TrainingSession, s1).version_id
    client.post(f"/training/{s1}/edit", data=session_data(app, title="S1", status="cancelled", version_id=str(v1),
                                                          confirm_cancel="y", **past_times(hours_ago=50)))
    check()
    with app.app_context():
        v1 = db.session.get(TrainingSession, s1).version_id
    client.post(f"/training/{s1}/edit", data=session_data(app, title="S1", status="held", version_id=str(v1),
                                                          **past_times(hours_ago=50)))
    check()
    # Admin cancels a demo session of 2023.
    login(client, "admin")
    with app.app_context():
        ts = db.session.get(TrainingSession, held_demo_id)
        data = session_data(app, title=ts.title, status="cancelled", version_id=str(ts.version_id),
                            confirm_cancel="y", area_id=ts.area_id, venue=ts.venue, capacity="200",
                            starts_at=ts.starts_at.strftime(FMT), ends_at=ts.ends_at.strftime(FMT))
    assert client.post(f"/training/{held_demo_id}/edit", data=data).status_code == 302
    check()
    # A planned session with no attendance can be deleted; one with attendance cannot.
    assert client.post(f"/training/{s2}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(TrainingSession, s2) is not None
    check()


@pytest.mark.bare
def test_coverage_trained_members_change_with_attendance(app, client):
    with app.app_context():
        sample()
        before = trained(TOWN)
        team = teams_of(TOWN)[0]
        people = sorted(current_members([team]))
        town = unit(TOWN).id
    login(client, "youth")
    sid = create(client, app, **past_times())
    client.post(f"/training/{sid}/invite/teams", data={"commune": town, "team": [team], "who": "all"})
    client.post(f"/training/{sid}/attendance", data={"present": people, "hours": "2", "action": "save"})
    with app.app_context():
        assert trained(TOWN) == before + len(people)
    client.post(f"/training/{sid}/attendance", data={"present": people[:1], "hours": "2", "action": "save"})
    with app.app_context():
        assert trained(TOWN) == before + 1


@pytest.mark.bare
def test_person_history_and_team_share(app, client):
    from flask import render_template_string

    from cdt.training.queries import team_trained_share

    with app.app_context():
        sample()
    login(client, "youth")
    sid = create(client, app, title="Lịch sử tập huấn", **past_times(length=2))
    with app.app_context():
        team = teams_of(TOWN)[0]
        people = sorted(current_members([team]))
        assert team_trained_share(team).trained == 0
        share_members = team_trained_share(team).members
        assert share_members == len(people)
    client.post(f"/training/{sid}/attendance", data={"present": people[:2], "hours": "2", "action": "save"})
    with app.app_context(), app.test_request_context("/"):
        share = team_trained_share(team)
        assert (share.members, share.trained) == (len(people), 2)
        person = db.session.get(Person, people[0])
        html = render_template_string('{% include "training/_person_history.html" %}', person=person)
        assert "Lịch sử tập huấn" in html and "2,0" in html
        team_obj = db.session.get(Team, team)
        html = render_template_string('{% include "training/_team_share.html" %}', team=team_obj)
        assert f"2 / {len(people)}" in html


# --- lists, month view, sign-in sheet ------------------------------------------------------

@pytest.mark.bare
def test_sessions_list_filters_and_month_view(app, client):
    login(client, "youth")
    sid = create(client, app, title="Buổi tháng năm", starts_at="2031-05-14T08:00", ends_at="2031-05-14T11:00")
    page = client.get("/training").get_data(as_text=True)
    assert "Buổi tháng năm" in page
    with app.app_context():
        other_topic = topic_id("ecommerce")
    assert "Buổi tháng năm" not in client.get(f"/training?topic={other_topic}").get_data(as_text=True)
    assert "Buổi tháng năm" not in client.get("/training?status=held").get_data(as_text=True)
    month = client.get("/training?view=month&month=2031-05").get_data(as_text=True)
    assert "Buổi tháng năm" in month and f"/training/{sid}" in month
    assert month.count('class="cal-week"') == 5
    assert "Buổi tháng năm" not in client.get("/training?view=month&month=2031-06").get_data(as_text=True)
    assert client.get("/training?view=month&month=junk").status_code == 200
    # The demo's past sessions of Bắc Hà are listed (3) and the May 2023 one in its month.
    assert client.get("/training?view=month&month=2023-05").status_code == 200


@pytest.mark.bare
def test_sign_in_sheet_lists_invited_people(app, client):
    with app.app_context():
        sample()
    login(client, "youth")
    sid = create(client, app)
    with app.app_context():
        town = unit(TOWN).id
        team = teams_of(TOWN)[0]
        names = list(db.session.scalars(select(Person.full_name).where(Person.id.in_(current_members([team])))))
    client.post(f"/training/{sid}/invite/teams", data={"commune": town, "team": [team], "who": "all"})
    response = client.get(f"/training/{sid}/sign-in-sheet")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert all(name in page for name in names)
    assert "sign-sheet" in page and "training.css" in page


# --- calendar feed -------------------------------------------------------------------------

@pytest.mark.bare
def test_calendar_feed_and_renewal(app, client):
    login(client, "youth")
    sid = create(client, app, title="Buổi trong lịch")
    assert client.get("/training/calendar.ics").status_code == 404
    assert client.get("/training/calendar.ics?token=wrong").status_code == 404
    page = client.get("/training").get_data(as_text=True)
    assert "/training/calendar/renew" in page
    client.post("/training/calendar/renew")
    with app.app_context():
        token = db.session.scalar(select(User.calendar_token).where(User.username == "youth"))
    assert token
    page = client.get("/training").get_data(as_text=True)
    assert f"/training/calendar.ics?token={token}" in page
    anonymous = app.test_client()
    response = anonymous.get("/training/calendar.ics", query_string={"token": token})
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert "Buổi trong lịch" in events
    event = events["Buổi trong lịch"]
    assert event["location"] == "Hội trường UBND huyện Bắc Hà"
    assert event.decoded("dtstart").utcoffset() == timedelta(hours=7)
    assert f"/training/{sid}" in str(event["url"])
    # Only sessions in the owner's area.
    with app.app_context():
        other = db.session.scalar(select(TrainingSession.title).where(TrainingSession.district_id != unit("085").id,
                                                                      TrainingSession.starts_at >= datetime(2030, 1, 1)))
    assert other is None or other not in events
    # Renewing kills the old link.
    client.post("/training/calendar/renew")
    assert anonymous.get("/training/calendar.ics", query_string={"token": token}).status_code == 404
    with app.app_context():
        new_token = db.session.scalar(select(User.calendar_token).where(User.username == "youth"))
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "calendar.renew"))
    assert new_token != token
    assert anonymous.get("/training/calendar.ics", query_string={"token": new_token}).status_code == 200


@pytest.mark.bare
def test_calendar_feed_excludes_other_areas(app, client):
    login(client, "admin")
    with app.app_context():
        other_district = unit("086").id
    create(client, app, title="Buổi Bảo Thắng", area_id=other_district, venue="Hội trường Bảo Thắng")
    login(client, "youth")
    client.post("/training/calendar/renew")
    with app.app_context():
        token = db.session.scalar(select(User.calendar_token).where(User.username == "youth"))
    cal = Calendar.from_ical(client.get("/training/calendar.ics", query_string={"token": token}).data)
    assert "Buổi Bảo Thắng" not in {str(e["summary"]) for e in cal.walk("VEVENT")}


# --- permissions by role and area -----------------------------------------------------------

@pytest.mark.bare
@pytest.mark.parametrize("username", ["commune", "district", "province"])
def test_readers_cannot_change_training(app, client, username):
    with app.app_context():
        sample()
    login(client, username)
    with app.app_context():
        sid = db.session.scalar(select(TrainingSession.id).where(TrainingSession.district_id == unit("085").id))
    assert client.get("/training").status_code == 200
    assert client.get(f"/training/{sid}").status_code == 200
    assert client.get(f"/training/{sid}/sign-in-sheet").status_code == 200
    assert client.get("/training/new").status_code == 403
    assert client.post("/training/new", data=session_data(app)).status_code == 403
    for path in ("edit", "attendance", "invite/teams", "invite/people", "delete"):
        assert client.post(f"/training/{sid}/{path}").status_code == 403
    assert client.get("/training/topics").status_code == 403
    page = client.get(f"/training/{sid}").get_data(as_text=True)
    assert f"/training/{sid}/edit" not in page


@pytest.mark.bare
def test_coordinator_area_rules(app, client):
    login(client, "admin")
    with app.app_context():
        province = unit("10").id
        other_district = unit("086").id
    province_wide = create(client, app, title="Toàn tỉnh", area_id=province, venue="Hội trường tỉnh")
    elsewhere = create(client, app, title="Bảo Thắng", area_id=other_district, venue="Hội trường Bảo Thắng")
    login(client, "youth")
    assert client.get(f"/training/{province_wide}").status_code == 200  # seen: it contains Bắc Hà
    assert client.get(f"/training/{province_wide}/edit").status_code == 403  # not inside: not changeable
    assert client.post(f"/training/{province_wide}/attendance", data={"hours": "2"}).status_code == 403
    assert client.get(f"/training/{elsewhere}").status_code == 404
    assert client.get(f"/training/{elsewhere}/edit").status_code == 404
    assert client.post(f"/training/{elsewhere}/delete").status_code == 404
    assert client.get("/training/999999").status_code == 404


@pytest.mark.bare
def test_anonymous_is_sent_to_login(client):
    response = client.get("/training")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post("/training/calendar/renew").status_code == 302


@pytest.mark.bare
@pytest.mark.csrf
def test_posts_need_the_csrf_token(app, client):
    login_response = client.get("/login")
    assert login_response.status_code == 200
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"',
                      login_response.get_data(as_text=True))
    assert token
    value = token.group(1) or token.group(2)
    client.post("/login", data={"username": "youth", "password": "cdt-demo-2023", "csrf_token": value})
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(TrainingSession))
    response = client.post("/training/new", data=session_data(app))
    assert response.status_code in (200, 400)
    assert client.post("/training/calendar/renew").status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == before
        assert db.session.scalar(select(User.calendar_token).where(User.username == "youth")) is None


# --- topics --------------------------------------------------------------------------------

@pytest.mark.bare
def test_admin_keeps_the_topic_catalogue(app, client):
    login(client, "admin")
    page = client.get("/training/topics").get_data(as_text=True)
    assert "Định danh điện tử VNeID" in page and "VNeID electronic identification" in page
    response = client.post("/training/topics/new", data={"name_vi": "Chuyển đổi số nông nghiệp",
                                                         "name_en": "Digital agriculture", "active": "y"})
    assert response.status_code == 302
    with app.app_context():
        topic = db.session.scalar(select(TrainingTopic).where(TrainingTopic.code == "digital_agriculture"))
        assert topic is not None and topic.name_vi == "Chuyển đổi số nông nghiệp"
        tid = topic.id
    response = client.post("/training/topics/new", data={"name_vi": "Trùng", "name_en": "Dup",
                                                         "code": "digital_agriculture", "active": "y"})
    assert response.status_code == 200  # code taken
    client.post(f"/training/topics/{tid}/edit", data={"name_vi": "Nông nghiệp số", "name_en": "Digital farming",
                                                      "code": "digital_agriculture", "active": "y"})
    client.post(f"/training/topics/{tid}/toggle")
    with app.app_context():
        topic = db.session.get(TrainingTopic, tid)
        assert topic.name_vi == "Nông nghiệp số" and topic.active is False
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.object_type == "training_topic", AuditEvent.object_id == tid)) == 3
    # An inactive topic is not offered when scheduling.
    assert "Nông nghiệp số" not in client.get("/training/new").get_data(as_text=True)
    login(client, "youth")
    assert client.get("/training/topics").status_code == 403
    assert client.post(f"/training/topics/{tid}/toggle").status_code == 403


@pytest.mark.bare
def test_topics_seed_command_on_an_empty_catalogue(app, runner):
    with app.app_context():
        db.session.execute(TrainingTopic.__table__.delete().where(
            ~TrainingTopic.id.in_(select(TrainingSession.topic_id))))
        db.session.commit()
        left = db.session.scalar(select(func.count()).select_from(TrainingTopic))
    result = runner.invoke(args=["cdt", "topics", "seed"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TrainingTopic)) == 6
    assert f"({6 - left} added)" in result.output
    assert "(0 added)" in runner.invoke(args=["cdt", "topics", "seed"]).output


# --- the scenario ------------------------------------------------------------------

@pytest.mark.bare
def test_scenario_youth_trains_two_communes_of_bac_ha(app, client):
    with app.app_context():
        sample()
    """Demo `youth` schedules a session for two communes of Bắc Hà, invites their teams, ticks
    attendance on the phone checklist, and sees the trained share rise in the coverage report."""
    with app.app_context():
        district = unit("085")
        before = {r.code: r for r in coverage(district, "commune")}
        town, lp = unit(TOWN).id, unit(LUNG_PHINH).id
    assert before[TOWN].trained_members == 0 and before[LUNG_PHINH].trained_members == 0
    login(client, "youth")
    with app.app_context():
        services_topic = topic_id("online_public_services")
    sid = create(client, app, title="Tập huấn dịch vụ công cho Thị trấn Bắc Hà và Lùng Phình",
                 topic_id=services_topic, **past_times(hours_ago=4, length=3))
    for commune in (town, lp):
        client.post(f"/training/{sid}/invite/teams", data={"commune": commune, "all": "1", "who": "all"})
    checklist = client.get(f"/training/{sid}/attendance",
                           headers={"User-Agent": "Mozilla/5.0 (Linux; Android 13) Mobile"}).get_data(as_text=True)
    assert 'name="viewport"' in checklist and "big-check" in checklist
    with app.app_context():
        invited = sorted(db.session.scalars(select(Invitation.person_id).where(Invitation.session_id == sid)))
    assert len(invited) == before[TOWN].members + before[LUNG_PHINH].members
    came = invited[::2]  # about half came
    response = client.post(f"/training/{sid}/attendance", data={"present": came, "hours": "3", "action": "save"},
                           follow_redirects=True)
    assert response.status_code == 200
    with app.app_context():
        after = {r.code: r for r in coverage(district, "commune")}
        came_by_commune = {
            code: len(set(came) & current_members(teams_of(code))) for code in (TOWN, LUNG_PHINH)
        }
    for code in (TOWN, LUNG_PHINH):
        assert after[code].trained_members == came_by_commune[code] > 0
        assert after[code].trained_pct > 0
    assert after[BAN_PHO].trained_members == before[BAN_PHO].trained_members
    report = client.get("/units/085").get_data(as_text=True)
    assert report  # the district page (coverage) renders for the coordinator


@pytest.mark.bare
def test_stale_edit_is_refused_and_empty_session_can_be_deleted(app, client):
    login(client, "youth")
    sid = create(client, app)
    with app.app_context():
        old_version = db.session.get(TrainingSession, sid).version_id
    assert client.post(f"/training/{sid}/edit", data=session_data(
        app, title="Mới", version_id=str(old_version))).status_code == 302
    response = client.post(f"/training/{sid}/edit", data=session_data(
        app, title="Cũ đè lên", version_id=str(old_version)))
    assert response.status_code == 200
    assert "Người khác vừa sửa" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(TrainingSession, sid).title == "Mới"
    assert client.get(f"/training/{sid}/delete").status_code == 405  # no GET changes anything
    assert client.post(f"/training/{sid}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(TrainingSession, sid) is None
        assert db.session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == "training_session.delete", AuditEvent.object_id == sid))


@pytest.mark.bare
def test_unreadable_numbers_give_one_vietnamese_error(app, client):
    login(client, "youth")
    response = client.post("/training/new", data=session_data(app, capacity="abc", hours="x"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count("Không phải là số nguyên hợp lệ.") == 1
    assert page.count("Không phải là số hợp lệ.") == 1
    assert "Not a valid" not in page and "Nhập một số từ 1" not in page
