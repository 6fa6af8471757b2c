"""The permission walk: EVERY rule of app.url_map, with every demo role and anonymous, on
objects inside and outside the user's area, against issue #3's role table.

| role              | area used here      | may change                              |
| admin             | -                   | everything                              |
| province_staff    | Lào Cai (10)        | nothing in the registry or training     |
| district_staff    | Bắc Hà (085)        | nothing                                 |
| commune_officer   | Bản Phố (02866)     | teams, people, memberships in the area  |
| youth_coordinator | Bắc Hà (085)        | training sessions, invitations, attendance in the area |

Objects are made in three places for every run:
- "own": commune 02866 (inside every demo user's area);
- "sibling": a commune of another district of Lào Cai (inside only for admin and province);
- "foreign": a commune of Hà Nội (01), loaded for the test (inside only for admin).

Expected answers: anonymous -> redirect to /login; a role the table does not allow -> 403
(403 or 404 outside its area); an allowed role -> success inside its area and 404 outside.
After every refused write the whole database is compared with its state before: it must
not have changed. GET pages of non-admins must never show the names of objects outside
their area, even when the query string names a foreign unit.

A route that is not in SPEC fails `test_every_route_is_classified`: classify new routes here.
"""
from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String, Text, case, func, select

from cdt import create_app
from cdt.extensions import db
from tests.conftest import BASE_CONFIG

ROLES = ("admin", "province", "district", "commune", "youth")
LOCATIONS = ("own", "sibling", "foreign")
INSIDE = {
    "admin": {"own", "sibling", "foreign"},
    "province": {"own", "sibling"},
    "district": {"own"},
    "commune": {"own"},
    "youth": {"own"},
}
MARKER = {"own": "Zownmark", "sibling": "Zsibmark", "foreign": "Zformark"}
LOGIN_REDIRECT = "login"
WRITE_OK = frozenset({200, 302, 303, 400, 409, 422})


@dataclass(frozen=True)
class Access:
    """Who may use one method of one route.

    roles: the roles allowed (None: anyone, anonymous included).
    scoped: objects named in the URL are area-scoped (404 outside the user's area).
    ok: the statuses of a successful call.
    """

    roles: frozenset | None
    scoped: bool = True
    ok: frozenset = frozenset({200})
    note: str = ""


def public(*ok: int, note: str = "") -> Access:
    return Access(None, scoped=False, ok=frozenset(ok or {200}), note=note)


def read(*roles: str, ok=(200,), scoped=True) -> Access:
    return Access(frozenset(roles or ROLES), scoped=scoped, ok=frozenset(ok))


def write(*roles: str, scoped=True, ok=WRITE_OK) -> Access:
    return Access(frozenset(roles), scoped=scoped, ok=frozenset(ok))


EVERYONE = ROLES
REGISTRY_WRITERS = ("admin", "commune")
TRAINING_WRITERS = ("admin", "youth")
PRIVACY = ("admin", "province", "district", "commune")

# endpoint -> {method: Access}. The role table of issue #3, route by route.
SPEC: dict[str, dict[str, Access]] = {
    # core, static
    "static": {"GET": public(200)},
    "bootstrap.static": {"GET": public(200)},
    "ops.healthz": {"GET": public(200)},
    "ops.readyz": {"GET": public(200, note="503 when the database or Redis is down (tests/test_ops_health.py)")},
    "core.index": {"GET": read(ok=(302,))},
    "core.set_language": {"POST": public(302, 400, note="no data: 400")},
    # accounts
    "auth.login": {"GET": public(200, 302, note="logged in: redirect"), "POST": public(200, 302, 429)},
    # Log-out answers with a redirect to /login, like a refusal; test_auth checks it really logs out.
    "auth.logout": {"POST": write(*EVERYONE, scoped=False, ok=(LOGIN_REDIRECT,))},
    "auth.change_password": {"GET": read(scoped=False), "POST": write(*EVERYONE, scoped=False, ok=(200,))},
    "auth.users": {"GET": read("admin", scoped=False)},
    "auth.user_new": {"GET": read("admin", scoped=False), "POST": write("admin", scoped=False)},
    "auth.user_edit": {"GET": read("admin", scoped=False), "POST": write("admin", scoped=False)},
    "auth.user_deactivate": {"POST": write("admin", scoped=False)},
    "auth.user_reactivate": {"POST": write("admin", scoped=False)},
    "auth.user_reset_password": {"POST": write("admin", scoped=False)},
    # audit trail
    "audit.events": {"GET": read("admin", "province", scoped=False)},
    # units
    "units.units": {"GET": read(ok=(200, 302))},
    "units.unit": {"GET": read()},
    # village changes of a commune: admin and province staff (an ended commune: a redirect to its page)
    "geo.village_changes": {"GET": read("admin", "province", ok=(200, 302))},
    "geo.village_merge": {"GET": read("admin", "province", ok=(200, 302)), "POST": write("admin", "province")},
    "geo.village_split": {"GET": read("admin", "province", ok=(200, 302)), "POST": write("admin", "province")},
    "geo.village_rename": {"GET": read("admin", "province", ok=(200, 302)), "POST": write("admin", "province")},
    "geo.village_move": {"GET": read("admin", "province", ok=(200, 302)), "POST": write("admin", "province")},
    "geo.village_undo": {"POST": write("admin", "province")},
    # registry: everyone reads in their area, admin and commune officers change
    "registry.teams": {"GET": read()},
    "registry.team": {"GET": read()},
    "registry.team_new": {"GET": read(*REGISTRY_WRITERS), "POST": write(*REGISTRY_WRITERS)},
    "registry.team_edit": {"GET": read(*REGISTRY_WRITERS), "POST": write(*REGISTRY_WRITERS)},
    "registry.team_set_role": {"POST": write(*REGISTRY_WRITERS)},
    "registry.members": {"GET": read()},
    "registry.member": {"GET": read()},
    "registry.member_new": {"GET": read(*REGISTRY_WRITERS), "POST": write(*REGISTRY_WRITERS)},
    "registry.member_edit": {"GET": read(*REGISTRY_WRITERS), "POST": write(*REGISTRY_WRITERS)},
    "registry.member_add_team": {"POST": write(*REGISTRY_WRITERS)},
    "registry.membership_end": {"POST": write(*REGISTRY_WRITERS)},
    "registry.membership_move": {"POST": write(*REGISTRY_WRITERS)},
    "registry.import_members": {"GET": read(*REGISTRY_WRITERS), "POST": write(*REGISTRY_WRITERS)},
    "registry.import_preview": {"GET": read(*REGISTRY_WRITERS, ok=(200, 302))},
    "registry.import_confirm": {"POST": write(*REGISTRY_WRITERS)},
    "registry.import_cancel": {"POST": write(*REGISTRY_WRITERS)},
    "registry.import_template": {"GET": read()},
    # exports: reading what the user may read, in their area
    "registry.export_members_csv": {"GET": read()},
    "registry.export_members_xlsx": {"GET": read()},
    "registry.export_teams_csv": {"GET": read()},
    "registry.export_teams_xlsx": {"GET": read()},
    # training: everyone reads in their area, admin and youth coordinators change
    "training.sessions": {"GET": read()},
    "training.session": {"GET": read()},
    "training.sign_in_sheet": {"GET": read()},
    "training.new": {"GET": read(*TRAINING_WRITERS), "POST": write(*TRAINING_WRITERS)},
    "training.edit": {"GET": read(*TRAINING_WRITERS), "POST": write(*TRAINING_WRITERS)},
    "training.delete": {"POST": write(*TRAINING_WRITERS)},
    "training.invite_teams": {"GET": read(*TRAINING_WRITERS), "POST": write(*TRAINING_WRITERS)},
    "training.invite_people": {"GET": read(*TRAINING_WRITERS), "POST": write(*TRAINING_WRITERS)},
    "training.uninvite": {"POST": write(*TRAINING_WRITERS)},
    "training.attendance": {"GET": read(*TRAINING_WRITERS), "POST": write(*TRAINING_WRITERS)},
    "training.calendar_feed": {"GET": public(404, note="no token: 404; a valid token is tested by training")},
    "training.renew_calendar": {"POST": write(*EVERYONE, scoped=False, ok=(302,))},
    # topic catalogue: admin only
    "training.topics": {"GET": read("admin", scoped=False)},
    "training.topic_new": {"GET": read("admin", scoped=False), "POST": write("admin", scoped=False)},
    "training.topic_edit": {"GET": read("admin", scoped=False), "POST": write("admin", scoped=False)},
    "training.topic_toggle": {"POST": write("admin", scoped=False)},
    # reports: everyone, their own area
    "reports.coverage": {"GET": read()},
    "reports.coverage_csv": {"GET": read()},
    "reports.coverage_xlsx": {"GET": read()},
    "reports.gaps": {"GET": read()},
    # outputs: commune officers enter their communes' months; province staff manage indicators,
    # deadlines, locks and targets of their province; everyone reads the report in their area
    "outputs.entry": {"GET": read(ok=(200, 302)), "POST": write("admin", "commune")},
    "outputs.indicators": {"GET": read("admin", "province", scoped=False)},
    "outputs.indicator_new": {"GET": read("admin", "province", scoped=False),
                              "POST": write("admin", "province", scoped=False)},
    "outputs.indicator_edit": {"GET": read("admin", "province", scoped=False),
                               "POST": write("admin", "province", scoped=False)},
    "outputs.months": {"GET": read("admin", "province", scoped=False)},
    "outputs.deadline": {"POST": write("admin", "province", scoped=False)},
    "outputs.lock": {"POST": write("admin", "province", scoped=False)},
    "outputs.reopen": {"POST": write("admin", "province", scoped=False)},
    "outputs.late": {"GET": read()},
    "outputs.targets_page": {"GET": read("admin", "province", scoped=False)},
    "outputs.target_set": {"POST": write("admin", "province", scoped=False)},
    "outputs.targets_template": {"GET": read("admin", "province", scoped=False, ok=(200, 400))},
    "outputs.targets_upload": {"POST": write("admin", "province", scoped=False)},
    "outputs.import_template": {"GET": read("admin", "commune", ok=(200, 400))},
    "outputs.import_month": {"GET": read("admin", "commune", ok=(200, 400)), "POST": write("admin", "commune")},
    "outputs.import_confirm": {"POST": write("admin", "commune")},
    "outputs.link_create": {"POST": write("admin", "commune")},
    "outputs.link_revoke": {"POST": write("admin", "commune")},
    "outputs.team_link": {"GET": public(404, note="unknown secret: 404; live links in tests/test_outputs_entry.py"),
                          "POST": public(404)},
    "outputs.allowance_rates": {"GET": read("admin", "province", scoped=False),
                                "POST": write("admin", "province", scoped=False)},
    "outputs.allowance_sheet": {"GET": read()},
    "outputs.allowance_xlsx": {"GET": read(ok=(200, 400))},
    "outputs.report": {"GET": read()},
    "outputs.report_csv": {"GET": read()},
    "outputs.report_xlsx": {"GET": read()},
    # the API (/api/v1): a Bearer token names the user, a session cookie never does (401 JSON for every
    # cookie); the token walk (roles, own and foreign objects) is in tests/test_api.py
    "api.openapi": {"GET": public(200)},
    **{f"api.{name}": {"GET": public(401, note="cookies do not authenticate the API")} for name in (
        "units", "unit", "teams", "team", "members", "member", "training_sessions", "training_session",
        "coverage", "outputs", "dhis2_data_value_sets")},
    "api_pages.docs": {"GET": public(200)},
    "api_pages.account_tokens": {"GET": read(scoped=False), "POST": write(*EVERYONE, scoped=False)},
    "api_pages.revoke_token": {"POST": write(*EVERYONE, scoped=False)},
    # privacy (issue 13): the notice is public; consent and requests belong to the commune officer of the
    # person's commune and above (district, province staff, admin), in their area; not youth coordinators
    "privacy.notice": {"GET": public(200)},
    "privacy.consent": {"GET": read(*PRIVACY)},
    "privacy.consent_record": {"POST": write(*PRIVACY)},
    "privacy.consent_withdraw": {"POST": write(*PRIVACY)},
    "privacy.consent_form": {"GET": read(*PRIVACY)},
    "privacy.requests": {"GET": read(*PRIVACY)},
    "privacy.request_new": {"GET": read(*PRIVACY, ok=(302,)), "POST": write(*PRIVACY)},
    "privacy.request_detail": {"GET": read(*PRIVACY)},
    "privacy.request_acknowledge": {"POST": write(*PRIVACY)},
    "privacy.request_extend": {"POST": write(*PRIVACY)},
    "privacy.request_close": {"POST": write(*PRIVACY)},
    # personal data (issue 13): everyone who may see a person reads their complete record; the admin
    # and the commune officer of the person's commune restrict and erase
    "privacy.person_record_page": {"GET": read()},
    "privacy.person_record_json": {"GET": read()},
    "privacy.person_record_csv": {"GET": read()},
    "privacy.person_restrict": {"POST": write(*REGISTRY_WRITERS)},
    "privacy.person_erase": {"GET": read(*REGISTRY_WRITERS), "POST": write(*REGISTRY_WRITERS)},
}

# URL arguments that name area-scoped objects, and how to fill them.
SCOPED_ARGS = {"team_id", "person_id", "membership_id", "session_id", "code", "request_id"}
GLOBAL_ARGS = {"user_id", "topic_id", "role", "filename", "period", "indicator_id", "secret", "change_id"}


def _collect_rules():
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    rules = {}
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        rules.setdefault(rule.endpoint, []).append((rule.rule, tuple(sorted(rule.arguments)), methods))
    with app.app_context():
        db.engine.dispose()
    return rules


RULES = _collect_rules()


def test_every_route_is_classified():
    missing = []
    for endpoint, variants in sorted(RULES.items()):
        for rule, _args, methods in variants:
            for method in methods:
                if method not in SPEC.get(endpoint, {}):
                    missing.append(f"{method} {rule} ({endpoint})")
    assert not missing, "routes not classified in tests/test_permissions.py SPEC:\n" + "\n".join(missing)
    stale = sorted(set(SPEC) - set(RULES))
    assert not stale, f"SPEC names endpoints that no longer exist: {stale}"


def test_unknown_url_arguments_are_classified():
    unknown = sorted({a for variants in RULES.values() for _r, args, _m in variants for a in args}
                     - SCOPED_ARGS - GLOBAL_ARGS)
    assert not unknown, f"URL arguments the walk cannot fill yet: {unknown}"


# --- the world the walk runs in -------------------------------------------------------------

@dataclass
class World:
    units: dict = field(default_factory=dict)  # location -> commune AdminUnit id
    codes: dict = field(default_factory=dict)  # location -> commune code
    users: dict = field(default_factory=dict)  # role -> (id, session token)
    shared: dict = field(default_factory=dict)  # location -> {arg: value}
    counter: int = 0


def citizen_id(n: int) -> str:
    """12 digits, distinctive enough to be searched for in a page."""
    return f"0{98765:05d}{n:06d}"


def _make_objects(world: World, location: str) -> dict:
    """A fresh team (in a new village), person, membership, training session and invitation
    in the commune of `location`; returns the URL arguments naming them."""
    from cdt.geo.models import AdminUnit
    from cdt.privacy.models import PrivacyRequest
    from cdt.registry.models import Membership, Person, Team
    from cdt.training.models import Invitation, TrainingSession, TrainingTopic

    world.counter += 1
    n = world.counter
    commune = db.session.get(AdminUnit, world.units[location])
    village = AdminUnit(code=f"{commune.code}-9{n:02d}", name=f"Thôn {MARKER[location]} {n}", level="village",
                        kind="village", parent_id=commune.id, province_id=commune.province_id,
                        district_id=commune.district_id, commune_id=commune.id)
    db.session.add(village)
    db.session.flush()
    village.commune_id = commune.id
    team = Team(village_id=village.id, name=f"Tổ CNS {MARKER[location]} {n}", status="active")
    team.place_in(village)
    person = Person(full_name=f"Lò Văn {MARKER[location]} {n}", search_name=f"lo van {MARKER[location].lower()} {n}",
                    gender="male", ethnicity="kinh", citizen_id=citizen_id(n), birth_date=date(1990, 1, 1 + n % 28))
    person.place_in(commune)
    db.session.add_all([team, person])
    db.session.flush()
    membership = Membership(person_id=person.id, team_id=team.id, role="member", joined_on=date(2024, 1, 2))
    topic = db.session.scalar(select(TrainingTopic).order_by(TrainingTopic.id))
    starts = datetime.combine(date.today() + timedelta(days=10), datetime.min.time()) + timedelta(hours=8)
    session = TrainingSession(title=f"Tập huấn {MARKER[location]} {n}", topic_id=topic.id, mode="in_person",
                              starts_at=starts, ends_at=starts + timedelta(hours=4), hours=Decimal("4.0"),
                              status="planned")
    session.place_in(commune)
    db.session.add_all([membership, session])
    db.session.flush()
    db.session.add(Invitation(session_id=session.id, person_id=person.id, team_id=team.id))
    request = PrivacyRequest(person_id=person.id, kind="access", received_on=date.today(), requester="self",
                             channel="in_person", acknowledge_by=date.today() + timedelta(days=2),
                             due_on=date.today() + timedelta(days=21))
    db.session.add(request)
    db.session.commit()
    # Made in a commune of the map before 2025-07-01 (own: old Bản Phố, where the district and youth
    # accounts still work); the reform places them on today's map, as the demo's own data (own: in new
    # Xã Bắc Hà, the commune account's area).
    from cdt.geo import reform

    reform.apply(reform.plan())
    db.session.commit()
    return {"team_id": team.id, "person_id": person.id, "membership_id": membership.id,
            "session_id": session.id, "code": commune.code, "request_id": request.id}


@pytest.fixture
def world(app):
    from cdt.auth.models import User
    from cdt.geo.models import AdminUnit
    from cdt.geo.units import load_units

    w = World()
    with app.app_context():
        load_units(["01"])
        db.session.commit()
        own = db.session.scalar(select(AdminUnit).where(AdminUnit.code == "02866"))
        sibling = db.session.scalar(select(AdminUnit).where(
            AdminUnit.level == "commune", AdminUnit.province_id == own.province_id,
            AdminUnit.district_id != own.district_id).order_by(AdminUnit.code))
        province_01 = db.session.scalar(select(AdminUnit).where(AdminUnit.code == "01"))
        foreign = db.session.scalar(select(AdminUnit).where(
            AdminUnit.level == "commune", AdminUnit.province_id == province_01.id).order_by(AdminUnit.code))
        for location, unit in (("own", own), ("sibling", sibling), ("foreign", foreign)):
            w.units[location] = unit.id
            w.codes[location] = unit.code
        # The units outside show their marker too, so a report or a select that leaks them is seen.
        sibling.name = f"Xã {MARKER['sibling']} 0"
        db.session.get(AdminUnit, sibling.district_id).name = f"Huyện {MARKER['sibling']} 0"
        foreign.name = f"Xã {MARKER['foreign']} 0"
        db.session.get(AdminUnit, foreign.district_id).name = f"Quận {MARKER['foreign']} 0"
        province_01.name = f"Thành phố {MARKER['foreign']} 0"
        db.session.commit()
        for location in LOCATIONS:
            w.shared[location] = _make_objects(w, location)
        for username in ROLES:
            user = db.session.scalar(select(User).where(User.username == username))
            w.users[username] = (user.id, user.session_token)
        target = User(username="walk-target", role="commune_officer", area_id=own.id, must_change_password=False)
        target.set_password("walk target password")
        db.session.add(target)
        db.session.commit()
        w.shared_global = {"user_id": target.id, "topic_id": _first_topic(), "role": "leader", "period": "2025-02",
                           "secret": "no-such-team-link-secret", "change_id": 1, "indicator_id": _province_indicator(
                               db.session.scalar(select(User.area_id).where(User.username == "province")))}
    return w


def _province_indicator(province_id: int) -> int:
    """An output indicator of the demo province staff's province (today's Lào Cai, 15): its staff
    may change it; another province's may not."""
    from cdt.outputs.models import Indicator

    indicator = Indicator(code="walk_indicator", name_vi="Chỉ tiêu riêng", name_en="Own indicator",
                          measure="people", province_id=province_id)
    db.session.add(indicator)
    db.session.commit()
    return indicator.id


def _first_topic():
    from cdt.training.models import TrainingTopic

    return db.session.scalar(select(TrainingTopic.id).order_by(TrainingTopic.id))


def _aggregates(table) -> list:
    """One scan per table: row count, and per column a count and a sum/length/min/max that
    any insert, delete or change of a value moves."""
    exprs = [func.count()]
    for column in table.columns:
        kind = column.type
        exprs.append(func.count(column))
        if isinstance(kind, (Integer, Numeric)):
            exprs.append(func.sum(column))
        elif isinstance(kind, Boolean):
            exprs.append(func.sum(case((column.is_(True), 1), else_=0)))
        elif isinstance(kind, (String, Text)):
            exprs.append(func.sum(func.length(column)))
            exprs.append(func.max(column))
        elif isinstance(kind, (Date, DateTime)):
            exprs.append(func.max(column))
            exprs.append(func.min(column))
    return exprs


def fingerprint(objects: dict | None = None, skip: tuple[str, ...] = ()) -> str:
    """A digest of the whole database (aggregates of every column of every table but `skip`)
    and of the exact rows of the objects a request names: equal digests mean nothing changed."""
    from cdt.auth.models import User
    from cdt.privacy.models import PrivacyRequest
    from cdt.registry.models import Membership, Person, Team
    from cdt.training.models import TrainingSession, TrainingTopic

    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        if table.name not in skip:
            digest.update(repr(tuple(db.session.execute(select(*_aggregates(table))).one())).encode())
    models = {"team_id": Team, "person_id": Person, "membership_id": Membership, "session_id": TrainingSession,
              "user_id": User, "topic_id": TrainingTopic, "request_id": PrivacyRequest}
    for arg, value in (objects or {}).items():
        model = models.get(arg)
        if model is not None:
            row = db.session.execute(select(model.__table__).where(model.__table__.c.id == value)).first()
            digest.update(repr(tuple(row) if row else None).encode())
    db.session.rollback()
    return digest.hexdigest()


def _client(app, role):
    client = app.test_client()
    if role is not None:
        with client.session_transaction() as sess:
            user_id, token = WORLD_USERS[role]
            now = time.time()
            sess["_user_id"] = f"{user_id}:{token}"
            sess["_fresh"] = True
            sess["login_at"] = now
            sess["seen_at"] = now
    return client


WORLD_USERS: dict = {}


def _url(rule: str, values: dict) -> str:
    from werkzeug.routing import Map, Rule

    m = Map([Rule(rule, endpoint="x")])
    return m.bind("localhost").build("x", values)


def _args_for(world: World, args, location: str, fresh: bool, app, rule_endpoint: str = "") -> dict:
    values = {}
    objects = world.shared[location]
    if fresh and any(a in SCOPED_ARGS - {"code"} for a in args):
        with app.app_context():
            objects = _make_objects(world, location)
    for arg in args:
        if arg in SCOPED_ARGS:
            values[arg] = objects[arg]
        elif arg == "filename":
            values[arg] = "css/bootstrap.min.css" if rule_endpoint == "bootstrap.static" else "app.css"
        else:
            values[arg] = world.shared_global[arg]
    return values


def _expected(access: Access, role: str | None, location: str, has_scoped_args: bool):
    """(the statuses expected, whether the call is a refusal that must change nothing)."""
    if access.roles is None:
        return access.ok, False
    if role is None:
        return {LOGIN_REDIRECT}, True
    inside = location in INSIDE[role] or not (access.scoped and has_scoped_args)
    if role not in access.roles:
        return ({403} if inside else {403, 404}), True
    return (access.ok, False) if inside else ({404}, True)


def _outcome(response) -> object:
    if response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", ""):
        return LOGIN_REDIRECT
    return response.status_code


def _walk(app, world: World, endpoint: str, rules=None, spec=None) -> list[str]:
    rules = RULES if rules is None else rules
    spec = SPEC if spec is None else spec
    failures = []
    for rule, args, methods in rules[endpoint]:
        scoped_args = [a for a in args if a in SCOPED_ARGS]
        for method in methods:
            access = spec[endpoint][method]
            locations = LOCATIONS if scoped_args and access.scoped else ("own",)
            cases = [(role, loc) for role in (None, *ROLES) for loc in locations]
            # Refusals first (the database must stay the same), then the allowed calls.
            cases.sort(key=lambda c: not _expected(access, c[0], c[1], bool(scoped_args))[1])
            if method == "GET":
                # No GET changes anything (the audit trail of views and exports aside).
                with app.app_context():
                    before_gets = fingerprint(world.shared["own"], skip=("audit_event",))
            for role, location in cases:
                expected, refused = _expected(access, role, location, bool(scoped_args))
                fresh = method == "POST" and not refused
                values = _args_for(world, args, location, fresh, app, endpoint)
                url = _url(rule, values)
                client = _client(app, role)
                if method == "POST" and refused:
                    with app.app_context():
                        before = fingerprint(values)
                response = client.open(url, method=method, data={})
                got = _outcome(response)
                text = _text_of(response)
                response.close()
                who = role or "anonymous"
                if got not in expected:
                    failures.append(f"{method} {url} ({endpoint}) as {who} [{location}]: "
                                    f"expected {sorted(map(str, expected))}, got {got}")
                if method == "POST" and refused:
                    with app.app_context():
                        if fingerprint(values) != before:
                            failures.append(f"{method} {url} ({endpoint}) as {who} [{location}]: "
                                            f"refused but the database changed")
                if method == "GET" and role == "youth" and got == 200 and CITIZEN_ID_PREFIX in text:
                    failures.append(f"GET {url} ({endpoint}) as youth: shows a citizen ID")
                if method == "GET" and role not in (None, "admin") and got == 200:
                    for other in LOCATIONS:
                        if other not in INSIDE[role] and _shows(text, other):
                            failures.append(f"GET {url} ({endpoint}) as {who}: shows an object of the "
                                            f"{other} area")
            if method == "GET":
                with app.app_context():
                    if fingerprint(world.shared["own"], skip=("audit_event",)) != before_gets:
                        failures.append(f"GET {rule} ({endpoint}) changed the database")
    return failures


def _shows(text: str, location: str) -> bool:
    """Whether a page shows an object of `location` (object names are "<marker> <number>";
    a query echoed back holds the marker alone)."""
    return re.search(MARKER[location] + r" \d", text) is not None


CITIZEN_ID_PREFIX = "098765"


def _text_of(response) -> str:
    """The text of a page, a CSV, or an XLSX workbook (all its XML parts)."""
    if _is_text(response):
        return response.get_data(as_text=True)
    data = response.get_data()
    if data[:2] == b"PK":
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return " ".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
                            if name.endswith(".xml"))
    return ""


def _is_text(response) -> bool:
    kind = response.mimetype or ""
    return kind.startswith("text/") or kind in ("application/json",)


@pytest.mark.parametrize("endpoint", sorted(RULES))
def test_walk(app, world, endpoint):
    if any(m not in SPEC.get(endpoint, {}) for _r, _a, methods in RULES[endpoint] for m in methods):
        pytest.fail(f"{endpoint} is not classified in SPEC")
    WORLD_USERS.clear()
    WORLD_USERS.update(world.users)
    failures = _walk(app, world, endpoint)
    assert not failures, "\n".join(failures)


# Query-string parameters a page might trust: each names a foreign unit or object.
HOSTILE_KEYS = ("unit", "area", "code", "commune", "district", "province", "village", "team", "team_id",
                "person", "person_id", "session", "session_id")


@pytest.mark.parametrize("endpoint", sorted(e for e, v in RULES.items()
                                            if any("GET" in m and not a for _r, a, m in v)
                                            and SPEC.get(e, {}).get("GET") is not None
                                            and SPEC[e]["GET"].roles is not None))
def test_foreign_query_parameters_never_widen_the_area(app, world, endpoint):
    """Lists, reports and exports given the code or id of a foreign unit or object answer
    404/400/403 or stay inside the user's area; never a foreign object's name."""
    WORLD_USERS.clear()
    WORLD_USERS.update(world.users)
    failures = []
    rule = next(r for r, a, m in RULES[endpoint] if "GET" in m and not a)
    access = SPEC[endpoint]["GET"]
    for role in ("province", "district", "commune", "youth"):
        if role not in access.roles:
            continue
        for location in ("sibling", "foreign"):
            if location in INSIDE[role]:
                continue
            objects = world.shared[location]
            code = world.codes[location]
            attempts = [
                {"unit": code},
                {"q": MARKER[location]},
                {**{key: code for key in HOSTILE_KEYS[1:7]},
                 "team": objects["team_id"], "team_id": objects["team_id"],
                 "person": objects["person_id"], "person_id": objects["person_id"],
                 "session": objects["session_id"], "session_id": objects["session_id"]},
            ]
            for query in attempts:
                client = _client(app, role)
                response = client.get(rule, query_string=query)
                text = _text_of(response)
                response.close()
                if response.status_code >= 500:
                    failures.append(f"GET {rule}?{query} as {role}: {response.status_code}")
                if _shows(text, location):
                    failures.append(f"GET {rule}?{query} as {role}: shows the {location} object")
    assert not failures, "\n".join(failures)


def test_the_walk_catches_a_broken_route(database_url, world):
    """The walk is not a test that cannot fail: on an app with deliberately broken routes it
    reports the wrong status, the changed database and the foreign object shown."""
    from flask import abort, request
    from flask_login import login_required

    from cdt.registry.models import Person, Team

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})

    @app.post("/broken/<int:team_id>/rename")
    @login_required
    def broken_rename(team_id):  # no permission check, no area check
        team = db.session.get(Team, team_id) or abort(404)
        team.name = "renamed"
        db.session.commit()
        return "ok"

    @app.get("/broken/teams")
    @login_required
    def broken_list():  # no scoping at all
        like = f"%{request.args.get('q', '')}%"
        return ", ".join(db.session.scalars(select(Person.full_name).where(Person.full_name.like(like))))

    @app.get("/broken/<int:person_id>/seen")
    @login_required
    def broken_seen(person_id):  # a GET that writes
        db.session.get(Person, person_id).position = "other"
        db.session.commit()
        return "seen"

    rules = {"broken_rename": [("/broken/<int:team_id>/rename", ("team_id",), ["POST"])],
             "broken_list": [("/broken/teams", (), ["GET"])],
             "broken_seen": [("/broken/<int:person_id>/seen", ("person_id",), ["GET"])]}
    spec = {"broken_rename": {"POST": write(*REGISTRY_WRITERS)}, "broken_list": {"GET": read()},
            "broken_seen": {"GET": read(scoped=False)}}
    WORLD_USERS.clear()
    WORLD_USERS.update(world.users)
    failures = _walk(app, world, "broken_rename", rules, spec)
    assert any("as province [own]: expected ['403'], got 200" in f for f in failures), failures
    assert any("as commune [foreign]: expected ['404'], got 200" in f for f in failures), failures
    assert any("refused but the database changed" in f for f in failures), failures
    failures = _walk(app, world, "broken_list", rules, spec)
    assert any("as commune: shows an object of the foreign area" in f for f in failures), failures
    failures = _walk(app, world, "broken_seen", rules, spec)
    assert failures == ["GET /broken/<int:person_id>/seen (broken_seen) changed the database"], failures
    with app.app_context():
        db.engine.dispose()


# --- hidden fields and tampered ids from a foreign area ------------------------------------------

def _area_rows(commune_id: int) -> str:
    """Exact rows of everything that lies in (or points into) one commune."""
    from cdt.registry.models import Membership, Person, Team
    from cdt.training.models import Attendance, Invitation, TrainingSession

    teams = select(Team.id).where(Team.commune_id == commune_id)
    people = select(Person.id).where(Person.commune_id == commune_id)
    sessions = select(TrainingSession.id).where(TrainingSession.commune_id == commune_id)
    parts = [
        select(Team.__table__).where(Team.commune_id == commune_id).order_by(Team.id),
        select(Person.__table__).where(Person.commune_id == commune_id).order_by(Person.id),
        select(Membership.__table__).where(Membership.team_id.in_(teams) | Membership.person_id.in_(people))
        .order_by(Membership.id),
        select(TrainingSession.__table__).where(TrainingSession.commune_id == commune_id).order_by(TrainingSession.id),
        select(Invitation.__table__).where(Invitation.session_id.in_(sessions) | Invitation.person_id.in_(people)
                                           | Invitation.team_id.in_(teams)).order_by(Invitation.id),
        select(Attendance.__table__).where(Attendance.session_id.in_(sessions) | Attendance.person_id.in_(people))
        .order_by(Attendance.id),
    ]
    digest = hashlib.sha256()
    for stmt in parts:
        for row in db.session.execute(stmt):
            digest.update(repr(tuple(row)).encode())
        digest.update(b"|")
    db.session.rollback()
    return digest.hexdigest()


def _hostile_body(world: World, location: str, objects: dict, app, endpoint: str) -> dict:
    """A plausible, complete form whose every reference names an object of `location`."""
    from cdt.geo.models import AdminUnit

    with app.app_context():
        commune = db.session.get(AdminUnit, world.units[location])
        world.counter += 1
        village = AdminUnit(code=f"{commune.code}-8{world.counter:02d}", name=f"Thôn trống {world.counter}",
                            level="village", kind="village", parent_id=commune.id, province_id=commune.province_id,
                            district_id=commune.district_id, commune_id=commune.id)
        db.session.add(village)
        db.session.commit()
        village_id = village.id  # a village without a team: a new team could go there
        topic_id = _first_topic()
    when = (date.today() + timedelta(days=30)).isoformat()
    return {
        # references (single and repeated)
        "village_id": village_id, "team_id": objects["team_id"], "membership_id": objects["membership_id"],
        "person_id": objects["person_id"], "session_id": objects["session_id"], "area_id": world.units[location],
        "team": objects["team_id"], "person": objects["person_id"], "present": objects["person_id"],
        "commune": world.codes[location], "unit": world.codes[location], "area": world.codes[location],
        # the rest of the forms, valid
        "name": f"Tổ CNS hostile {MARKER[location]} 1", "full_name": f"Lò Thị {MARKER[location]} 99",
        "title": f"Tập huấn hostile {MARKER[location]} 1", "gender": "female", "birth_date": "1996-04-05",
        "ethnicity": "kinh", "role": "member", "joined_on": "2025-01-02", "left_on": date.today().isoformat(),
        "moved_on": date.today().isoformat(), "established_on": "2024-01-02",
        "status": "planned" if endpoint.startswith("training.") else "active",
        "topic_id": topic_id, "mode": "in_person", "starts_at": f"{when}T08:00", "ends_at": f"{when}T11:00",
        "hours": "3", "who": "all", "youth_union": "y", "venue": "Nhà văn hóa thôn",
    }


HOSTILE_WRITES = sorted(
    (endpoint, role)
    for endpoint, methods in SPEC.items()
    if "POST" in methods and methods["POST"].roles is not None and methods["POST"].scoped
    for role in ("commune", "youth")
    if role in methods["POST"].roles
)


@pytest.mark.parametrize("endpoint,role", HOSTILE_WRITES)
def test_foreign_ids_in_a_form_are_refused(app, world, endpoint, role):
    """An allowed write on an object of the user's own area, whose form names objects of
    another district (sibling) or province (foreign): nothing in those areas changes."""
    if endpoint not in RULES:
        pytest.skip(f"{endpoint} no longer exists")
    WORLD_USERS.clear()
    WORLD_USERS.update(world.users)
    failures = []
    for rule, args, methods in RULES[endpoint]:
        if "POST" not in methods:
            continue
        for location in ("sibling", "foreign"):
            with app.app_context():
                target = _make_objects(world, location)
            values = _args_for(world, args, "own", True, app, endpoint)
            url = _url(rule, values)
            body = _hostile_body(world, location, target, app, endpoint)
            with app.app_context():
                before = _area_rows(world.units[location])
            response = _client(app, role).post(url, data=body)
            response.close()
            if response.status_code >= 500:
                failures.append(f"POST {url} ({endpoint}) as {role} naming {location} objects: {response.status_code}")
            with app.app_context():
                if _area_rows(world.units[location]) != before:
                    failures.append(f"POST {url} ({endpoint}) as {role} naming {location} objects: "
                                    f"the {location} area changed (status {response.status_code})")
    assert not failures, "\n".join(failures)
