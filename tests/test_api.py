"""The read API (/api/v1): tokens, scoping, paging, conventions, coverage = CSV, OpenAPI, DHIS2."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from cdt.api import tokens
from cdt.api.models import ApiToken
from cdt.audit.models import AuditEvent
from cdt.auth.models import User
from cdt.extensions import db
from cdt.registry.models import Person
from tests.api_schema import errors
from tests.factories import (
    create_user,
    gen_commune,
    gen_district,
    gen_session,
    gen_team,
    gen_village,
)

DHIS2_SCHEMA = json.loads((Path(__file__).parent / "data" / "dhis2_datavalueset.schema.json").read_text())


def token_for(user: User, days: int = 30) -> str:
    _token, secret = tokens.create(user, "test", date.today() + timedelta(days=days))
    db.session.commit()
    return secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def world(app):
    """Two communes of one district, a team with two members and a session in each; a commune
    officer of the first, a district officer, an admin; their tokens."""
    with app.app_context():
        district = gen_district()
        own, other = gen_commune(district), gen_commune(district)
        team = gen_team(gen_village(own), members=2, name="Tổ công nghệ số Nậm Mòn")
        foreign_team = gen_team(gen_village(other), members=2)
        session = gen_session(own, title="Tập huấn VNeID")
        foreign_session = gen_session(other)
        officer = create_user("commune_officer", own)
        youth = create_user("youth_coordinator", own)
        staff = create_user("district_staff", district)
        admin = create_user("admin")
        people = list(db.session.scalars(select(Person.id).where(Person.commune_id == own.id).order_by(Person.id)))
        foreign_people = list(db.session.scalars(select(Person.id).where(Person.commune_id == other.id)))
        return {
            "own": own.code, "other": other.code, "district": district.code, "team": team.id,
            "foreign_team": foreign_team.id, "session": session.id, "foreign_session": foreign_session.id,
            "people": people, "foreign_people": foreign_people,
            "officer": token_for(officer), "youth": token_for(youth), "staff": token_for(staff),
            "admin": token_for(admin), "officer_id": officer.id,
        }


# --------------------------------------------------------------------------- authentication

@pytest.mark.bare
def test_no_token_a_wrong_token_or_a_session_cookie_get_401_json(app, client, world, login_as):
    for headers in ({}, bearer("cdt_not-a-token"), {"Authorization": "Basic YWRtaW46eA=="}):
        response = client.get("/api/v1/teams", headers=headers)
        assert response.status_code == 401
        assert response.is_json and response.json["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    login_as("admin")  # a logged-in browser does not lend its user to the API
    response = client.get("/api/v1/teams")
    assert response.status_code == 401 and response.is_json
    assert client.get("/api/v1/teams", headers=bearer(world["admin"])).status_code == 200


@pytest.mark.bare
def test_revoked_and_expired_tokens_get_401(app, client, world, frozen_clock):
    headers = bearer(world["officer"])
    assert client.get("/api/v1/teams", headers=headers).status_code == 200
    with app.app_context():
        token = tokens.find(world["officer"])
        tokens.revoke(token)
        db.session.commit()
    assert client.get("/api/v1/teams", headers=headers).status_code == 401
    staff = bearer(world["staff"])
    assert client.get("/api/v1/teams", headers=staff).status_code == 200
    frozen_clock(datetime.now(UTC) + timedelta(days=31))  # made for 30 days
    response = client.get("/api/v1/teams", headers=staff)
    assert response.status_code == 401 and response.json["code"] == "unauthorized"


@pytest.mark.bare
def test_a_deactivated_owner_s_token_stops_working(app, client, world):
    with app.app_context():
        db.session.get(User, world["officer_id"]).active = False
        db.session.commit()
    assert client.get("/api/v1/teams", headers=bearer(world["officer"])).status_code == 401


@pytest.mark.bare
def test_the_tokens_page_creates_a_token_once_stores_a_hash_and_revokes(app, client, login_as):
    login_as("commune")
    page = client.get("/account/tokens")
    assert page.status_code == 200
    expires = (date.today() + timedelta(days=10)).isoformat()
    response = client.post("/account/tokens", data={"name": "LGSP Lào Cai", "expires_on": expires})
    assert response.status_code == 200
    secret = re.search(r'id="new-token"[^>]*>(cdt_[A-Za-z0-9_-]+)<', response.get_data(as_text=True)).group(1)
    with app.app_context():
        stored = db.session.scalar(select(ApiToken).where(ApiToken.name == "LGSP Lào Cai"))
        assert stored.token_hash == tokens.digest(secret) and secret not in (stored.token_hash, stored.prefix)
        token_id = stored.id
    # Shown once: the list afterwards holds its name and prefix, never the secret.
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "LGSP Lào Cai" in listing and secret not in listing
    api = app.test_client()  # another client: no cookie
    assert api.get("/api/v1/teams", headers=bearer(secret)).status_code == 200
    with app.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at is not None
    response = client.post("/account/tokens/revoke", data={"token_id": token_id})
    assert response.status_code == 302
    assert api.get("/api/v1/teams", headers=bearer(secret)).status_code == 401
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "api_token")))
        assert actions == {"api_token.create", "api_token.revoke"}
    assert "đã thu hồi" in client.get("/account/tokens").get_data(as_text=True)


@pytest.mark.bare
def test_the_tokens_page_refuses_bad_input_and_other_users_tokens(app, client, world, login_as):
    login_as("commune")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(ApiToken))
    past = (date.today() - timedelta(days=1)).isoformat()
    response = client.post("/account/tokens", data={"name": "x", "expires_on": past})
    assert response.status_code == 400 and "invalid-feedback" in response.get_data(as_text=True)
    far = (date.today() + timedelta(days=400)).isoformat()
    assert client.post("/account/tokens", data={"name": "x", "expires_on": far}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == before
        other = tokens.find(world["officer"]).id
    assert client.post("/account/tokens/revoke", data={"token_id": other}).status_code == 404
    assert client.get("/api/v1/teams", headers=bearer(world["officer"])).status_code == 200


@pytest.mark.bare
def test_the_tokens_page_needs_the_csrf_token(app, client, login_as):
    login_as("commune")
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/account/tokens", data={"name": "x", "expires_on": date.today().isoformat()})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


# --------------------------------------------------------------------------- scoping

@pytest.mark.bare
def test_a_commune_officer_cannot_read_another_commune_by_any_parameter(client, world):
    headers = bearer(world["officer"])
    teams = client.get("/api/v1/teams?pageSize=1000", headers=headers).json["items"]
    assert [t["id"] for t in teams] == [world["team"]]
    members = client.get("/api/v1/members?pageSize=1000", headers=headers).json["items"]
    assert sorted(m["id"] for m in members) == world["people"]
    sessions = client.get("/api/v1/trainingSessions", headers=headers).json["items"]
    assert world["foreign_session"] not in [s["id"] for s in sessions] and world["session"] in [s["id"] for s in sessions]
    units = client.get("/api/v1/units?pageSize=1000", headers=headers).json["items"]
    assert world["other"] not in [u["code"] for u in units] and world["own"] in [u["code"] for u in units]
    other, foreign_person = world["other"], world["foreign_people"][0]
    for url in (f"/api/v1/teams/{world['foreign_team']}", f"/api/v1/members/{foreign_person}",
                f"/api/v1/trainingSessions/{world['foreign_session']}", f"/api/v1/units/{other}",
                f"/api/v1/teams?unit={other}", f"/api/v1/members?unit={other}",
                f"/api/v1/members?team={world['foreign_team']}", f"/api/v1/trainingSessions?unit={other}",
                f"/api/v1/coverage?unit={other}&by=village", f"/api/v1/outputs?unit={other}",
                f"/api/v1/dhis2/dataValueSets?unit={other}&period=2025-03&by=commune",
                f"/api/v1/coverage?unit={world['district']}&by=commune",
                f"/api/v1/units?parent={world['district']}"):
        response = client.get(url, headers=headers)
        text = response.get_data(as_text=True)
        assert response.status_code in (404, 200), url
        if response.status_code == 404:
            assert response.is_json and response.json["code"] == "not_found", url
        assert other not in text.replace(f"unit={other}", ""), url
        assert f'"id":{world["foreign_team"]},' not in text, url
    # The district officer reads both communes.
    staff = client.get("/api/v1/teams", headers=bearer(world["staff"])).json["items"]
    assert sorted(t["id"] for t in staff) == sorted([world["team"], world["foreign_team"]])


@pytest.mark.bare
def test_citizen_ids_only_for_roles_that_may_read_them(app, client, world):
    person = world["people"][0]
    officer = client.get(f"/api/v1/members/{person}", headers=bearer(world["officer"])).json
    youth = client.get(f"/api/v1/members/{person}", headers=bearer(world["youth"])).json
    assert "citizenId" in officer and "phone" in officer
    assert "citizenId" not in youth and "phone" not in youth and youth["fullName"] == officer["fullName"]


@pytest.mark.bare
def test_people_who_may_not_leave_the_registry_are_left_out(app, client, world, monkeypatch):
    """cdt.privacy.rules.exportable() decides (withdrawn consent, restriction): the API applies it."""
    from cdt.privacy import rules

    hidden = world["people"][0]
    monkeypatch.setattr(rules, "exportable", lambda: Person.id != hidden)
    headers = bearer(world["officer"])
    ids = [m["id"] for m in client.get("/api/v1/members", headers=headers).json["items"]]
    assert hidden not in ids and world["people"][1] in ids
    assert client.get(f"/api/v1/members/{hidden}", headers=headers).status_code == 404


# --------------------------------------------------------------------------- conventions

@pytest.mark.bare
def test_paging_is_stable_and_next_links_walk_every_item_once(app, client, world):
    with app.app_context():
        commune = gen_commune()
        for _ in range(5):
            gen_team(gen_village(commune))
    headers = bearer(world["admin"])
    first = client.get("/api/v1/teams?pageSize=2", headers=headers).json
    total = first["pager"]["total"]
    assert first["pager"]["pageCount"] == -(-total // 2) and total >= 7
    seen, page = [], first
    while True:
        seen += [t["id"] for t in page["items"]]
        if "nextPage" not in page["pager"]:
            break
        url = page["pager"]["nextPage"]
        assert "after=" in url
        page = client.get(url.replace("http://localhost", ""), headers=headers).json
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == total
    second = client.get("/api/v1/teams?pageSize=2&page=2", headers=headers).json
    assert [t["id"] for t in second["items"]] == seen[2:4]
    uncounted = client.get("/api/v1/teams?pageSize=2&totalPages=false", headers=headers).json["pager"]
    assert "total" not in uncounted and "nextPage" in uncounted


@pytest.mark.bare
def test_fields_filters_last_updated_etag_and_utf8(app, client, world):
    headers = bearer(world["officer"])
    response = client.get("/api/v1/teams?fields=id,name", headers=headers)
    assert response.json["items"] == [{"id": world["team"], "name": "Tổ công nghệ số Nậm Mòn"}]
    assert "Tổ công nghệ số Nậm Mòn" in response.get_data(as_text=True)  # not \\u escapes
    assert response.content_type.startswith("application/json")
    bad = client.get("/api/v1/teams?fields=id,secret", headers=headers)
    assert bad.status_code == 400 and bad.json["code"] == "bad_request" and "fields" in bad.json["errors"]
    for query in ("pageSize=0", "pageSize=1001", "page=x", "lastUpdated=yesterday", "status=gone", "on=2025-13-01"):
        url = "/api/v1/units?" + query if query.startswith("on") else "/api/v1/teams?" + query
        assert client.get(url, headers=headers).status_code == 400, query
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert client.get("/api/v1/teams", headers=headers, query_string={"lastUpdated": future}).json["items"] == []
    assert len(client.get("/api/v1/teams?lastUpdated=2000-01-01", headers=headers).json["items"]) == 1
    etag = response.headers["ETag"]
    again = client.get("/api/v1/teams?fields=id,name", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert client.get("/api/v1/teams?status=dissolved", headers=headers).json["items"] == []


@pytest.mark.bare
def test_errors_are_json_never_html(client, world):
    headers = bearer(world["admin"])
    for url, status in (("/api/v1/nothing-here", 404), ("/api/v1/teams/999999", 404), ("/api/nothing", 404)):
        response = client.get(url, headers=headers)
        assert response.status_code == status and response.is_json, url
        assert "<html" not in response.get_data(as_text=True)
    response = client.post("/api/v1/teams", headers=headers)
    assert response.status_code == 405 and response.is_json and "GET" in response.headers["Allow"]


@pytest.mark.bare
def test_the_message_is_translated(client, world):
    vi_response = client.get("/api/v1/teams", headers={"Accept-Language": "vi"})
    assert "mã truy cập" in vi_response.get_data(as_text=True)  # UTF-8, not \\u escapes
    vi = vi_response.json["message"]
    en = client.get("/api/v1/teams", headers={"Accept-Language": "en"}).json["message"]
    assert vi != en and "token" in en


@pytest.mark.bare
def test_the_rate_limit_answers_429_with_retry_after(app, client, world):
    app.config["CDT_API_RATE_LIMIT"] = "3/minute"
    headers = bearer(world["staff"])
    statuses = [client.get("/api/v1/units", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/units", headers=headers)
    assert response.is_json and response.json["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    assert client.get("/api/v1/units", headers=bearer(world["admin"])).status_code == 200  # per token


@pytest.mark.bare
def test_every_call_is_audited_without_personal_values(app, client, world):
    client.get("/api/v1/members", headers=bearer(world["officer"]))
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
        token = tokens.find(world["officer"])
        assert event.user_id == world["officer_id"]
        assert event.details["what"] == "api:api.members" and event.details["token"] == token.id
        assert event.details["rows"] == 2 and event.details["status"] == 200
        names = [p.full_name for p in db.session.scalars(select(Person))]
        assert not any(name in json.dumps(event.details, ensure_ascii=False) for name in names)


@pytest.mark.bare
def test_units_carry_parent_and_successions(client, world):
    headers = bearer(world["admin"])
    unit = client.get(f"/api/v1/units/{world['own']}", headers=headers).json
    assert unit["code"] == world["own"] and unit["level"] == "commune" and unit["parent"] == world["district"]
    villages = client.get(f"/api/v1/units?parent={world['own']}&level=village", headers=headers).json["items"]
    assert villages and all(v["parent"] == world["own"] for v in villages)
    # Today's Lào Cai (15) came from old Lào Cai (10) and Yên Bái: the bare database holds both maps.
    laocai = client.get("/api/v1/units/15", headers=headers).json
    assert "10" in [p["code"] for p in laocai["predecessors"]]
    old = client.get("/api/v1/units/10?on=2025-06-30", headers=headers).json
    assert old["validTo"] == "2025-06-30" and "15" in [s["code"] for s in old["successors"]]


@pytest.mark.bare
def test_sessions_count_invitations_and_attendance(app, client, world):
    from tests.factories import gen_attendance, gen_invitation

    with app.app_context():
        from cdt.training.models import TrainingSession

        session = db.session.get(TrainingSession, world["session"])
        gen_invitation(session, world["people"])
        gen_attendance(session, world["people"][:1])
    item = client.get(f"/api/v1/trainingSessions/{world['session']}", headers=bearer(world["officer"])).json
    assert item["invited"] == 2 and item["attended"] == 1 and item["startsAt"].endswith("+07:00")


# --------------------------------------------------------------------------- coverage = CSV

@pytest.mark.parametrize("query", ["", "unit=15&by=commune", "unit=15&by=village&as_of=2025-12-31",
                                   "unit=10&by=district&as_of=2025-03-31&from=2025-01-01&to=2025-03-31"])
def test_coverage_equals_the_csv(app, client, login_as, query):
    login_as("province")
    csv_response = client.get(f"/reports/coverage.csv?{query}")
    assert csv_response.status_code == 200
    csv_rows = list(csv.DictReader(io.StringIO(csv_response.get_data(as_text=True).lstrip("\ufeff"))))
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "province"))
        secret = token_for(user)
    api = app.test_client().get(f"/api/v1/coverage?{query}", headers=bearer(secret))
    assert api.status_code == 200
    rows = api.json["rows"]
    assert len(rows) == len(csv_rows) > 0

    def text(value):
        return "" if value is None else str(value)

    assert [{k: text(v) for k, v in row.items()} for row in rows] == csv_rows


def test_outputs_equal_the_csv(app, client, login_as):
    login_as("province")
    query = "unit=15&by=commune&from=2025-07&to=2025-10"
    csv_response = client.get(f"/reports/outputs.csv?{query}")
    assert csv_response.status_code == 200
    csv_rows = list(csv.DictReader(io.StringIO(csv_response.get_data(as_text=True).lstrip("\ufeff"))))
    with app.app_context():
        secret = token_for(db.session.scalar(select(User).where(User.username == "province")))
    api = app.test_client().get(f"/api/v1/outputs?{query}", headers=bearer(secret))
    assert api.status_code == 200
    rows = [{k: "" if v is None else str(v) for k, v in row.items()} for row in api.json["rows"]]
    assert rows == csv_rows and len(rows) > 0


# --------------------------------------------------------------------------- OpenAPI

@pytest.mark.bare
def test_the_openapi_document_lists_every_route_and_the_docs_page_shows_them(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.get_data(as_text=True))
    assert document["openapi"].startswith("3.")
    documented = {path for path in document["paths"]}
    routes = {re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/") and rule.endpoint.startswith("api.")}
    assert documented == routes
    for path, item in document["paths"].items():
        for parameter in item["get"]["parameters"]:
            assert parameter["in"] != "path" or "{" + parameter["name"] + "}" in path
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    page = docs.get_data(as_text=True)
    assert all(path in page for path in documented)
    assert not re.search(r'(src|href)="(https?:)?//(?!localhost)', page)  # nothing from a CDN


def _conforms(document: dict, path: str, response) -> list[str]:
    operation = document["paths"][path]["get"]
    documented = operation["responses"].get(str(response.status_code))
    if documented is None:
        return [f"{path}: undocumented status {response.status_code}"]
    content = documented.get("content")
    if content is None:
        return []
    return errors(response.json, content["application/json"]["schema"], document, path)


@pytest.mark.bare
def test_every_answer_conforms_to_the_document(app, client, world):
    document = client.get("/api/v1/openapi.json").json
    headers = bearer(world["admin"])
    values = {"team_id": world["team"], "person_id": world["people"][0], "session_id": world["session"],
              "code": world["own"]}
    failures = []
    for path in document["paths"]:
        url = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)
        query = {"period": "2025-03"} if "dhis2" in path else {}
        response = client.get(url, headers=headers, query_string=query)
        assert response.status_code == 200, (url, response.json)
        failures += _conforms(document, path, response)
    assert not failures, failures


def _value(schema: dict):
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "integer":
        return st.integers(min_value=-5, max_value=2**40)
    if kind == "boolean":
        return st.sampled_from(["true", "false", "maybe"])
    if schema.get("format") == "date":
        return st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)).map(str)
    return st.text(max_size=12)


@pytest.mark.bare
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_requests_never_fail_and_conform(app, client, world, data):
    """Schemathesis-style: for generated parameters of every operation, no 500, and the answer
    (200 or an error) conforms to the OpenAPI document."""
    app.config["CDT_API_RATE_LIMIT"] = "100000/minute"
    document = client.get("/api/v1/openapi.json").json
    path = data.draw(st.sampled_from(sorted(document["paths"])))
    operation = document["paths"][path]["get"]
    query, url = {}, path
    for parameter in operation["parameters"]:
        schema = parameter["schema"]
        if parameter["in"] == "path":
            value = data.draw(st.one_of(_value(schema), st.just(world["team"])))
            url = url.replace("{" + parameter["name"] + "}", str(value).replace("/", "%2F") or "x")
        elif data.draw(st.booleans()):
            query[parameter["name"]] = data.draw(st.one_of(_value(schema), st.text(max_size=8)))
    token = data.draw(st.sampled_from([world["admin"], world["officer"], world["youth"]]))
    response = client.get(url, headers=bearer(token), query_string=query)
    assert response.status_code < 500, (url, query, response.get_data(as_text=True)[:300])
    if response.status_code != 304:
        assert response.is_json
        assert not _conforms(document, path, response), (url, query)


# --------------------------------------------------------------------------- DHIS2

@pytest.mark.bare
def test_dhis2_export_validates_and_the_cli_gives_the_same(app, client, world, runner):
    headers = bearer(world["admin"])
    response = client.get(f"/api/v1/dhis2/dataValueSets?unit={world['district']}&period=202503", headers=headers)
    assert response.status_code == 200
    body = response.json
    assert errors(body, DHIS2_SCHEMA, DHIS2_SCHEMA) == []
    values = {(v["dataElement"], v["orgUnit"]): v["value"] for v in body["dataValues"]}
    assert values[("CDT_TEAMS", world["own"])] == "1" and values[("CDT_MEMBERS", world["own"])] == "2"
    assert {v["period"] for v in body["dataValues"]} == {"202503"} and body["orgUnitIdScheme"] == "CODE"
    result = runner.invoke(args=["cdt", "export", "dhis2", "--unit", world["district"], "--period", "2025-03"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == body
    assert client.get("/api/v1/dhis2/dataValueSets?period=2025-3", headers=headers).status_code == 400
    assert client.get("/api/v1/dhis2/dataValueSets", headers=headers).status_code == 400


@pytest.mark.bare
def test_dhis2_for_a_commune_officer_is_the_commune_itself(client, world):
    response = client.get("/api/v1/dhis2/dataValueSets?period=2025-03", headers=bearer(world["officer"]))
    assert response.status_code == 200
    assert {v["orgUnit"] for v in response.json["dataValues"]} == {world["own"]}
    assert response.content_type == "application/json; charset=utf-8"
    refused = client.get("/api/v1/dhis2/dataValueSets?period=2025-03&by=province", headers=bearer(world["officer"]))
    assert refused.status_code == 400 and world["own"] in refused.json["errors"]["by"][0]


@pytest.mark.bare
def test_dhis2_mapping_file_is_the_provinces_to_edit(app, client, world, tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"coverage": {"teams": "abcDEF12345"}, "dataElementIdScheme": "UID",
                                   "dataSet": "dsUID123456"}), encoding="utf-8")
    app.config["CDT_DHIS2_MAPPING"] = str(mapping)
    body = client.get(f"/api/v1/dhis2/dataValueSets?unit={world['district']}&period=2025-03",
                      headers=bearer(world["admin"])).json
    assert {v["dataElement"] for v in body["dataValues"]} == {"abcDEF12345"}
    assert body["dataSet"] == "dsUID123456" and body["dataElementIdScheme"] == "UID"
    assert errors(body, DHIS2_SCHEMA, DHIS2_SCHEMA) == []


@pytest.mark.bare
def test_the_schema_check_is_not_a_test_that_cannot_fail():
    bad = {"dataValues": [{"dataElement": "X", "period": "2025-03", "orgUnit": "1", "value": 3}]}
    assert len(errors(bad, DHIS2_SCHEMA, DHIS2_SCHEMA)) == 2
