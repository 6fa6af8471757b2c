"""The /api/v1 endpoints: read-only, each query scoped by cdt.auth.scope (the token owner's role and
area), people filtered by cdt.privacy.rules, answers in JSON (UTF-8, ISO 8601 dates, ETag)."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, g, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased
from werkzeug.exceptions import BadRequest, NotFound

from cdt.api import auth
from cdt.api import spec as s
from cdt.api.spec import DATE, MONTH, UNIT_FILTER, Param, operation, paging, ref
from cdt.api.spec import fields_param as declared_fields
from cdt.auth.scope import can, export_condition, get_in_area, scoped
from cdt.core import clock
from cdt.core.inputs import parse_day, to_int
from cdt.extensions import csrf, db, limiter
from cdt.geo.models import LEVELS, AdminUnit, UnitSuccession
from cdt.geo.queries import by_code, unit_in_area
from cdt.geo.within import valid_on, within
from cdt.ops.caching import conditional
from cdt.registry.models import Membership, Person, Team
from cdt.training.models import Attendance, Invitation, TrainingSession, TrainingTopic

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
limiter.limit(auth.rate_limit, key_func=auth.rate_limit_key)(bp)
bp.before_request(auth.authenticate)

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50


# --------------------------------------------------------------------------- answers

def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def json_response(body: Any, count: int | None = None) -> Response:
    """UTF-8 JSON (Vietnamese as is, not escaped), tagged with an ETag: 304 when unchanged."""
    g.api_count = count
    data = json.dumps(body, ensure_ascii=False, default=_default, separators=(",", ":"))
    response = Response(data, content_type="application/json; charset=utf-8")
    return conditional(response)


def bad(name: str, message: str):
    error = BadRequest()
    error.api_message = message
    error.param = name
    raise error


def not_found(message: str | None = None):
    error = NotFound()
    if message:
        error.api_message = message
    raise error


@bp.after_request
def _audit(response: Response) -> Response:
    """Every call made with a token is recorded: token, endpoint, status, items (never a value)."""
    token = getattr(g, "api_token", None)
    if token is not None:
        from cdt.api import tokens

        try:
            tokens.record_use(token.id, request.endpoint, response.status_code, g.get("api_count"))
        except Exception:  # the answer is already made; a failed audit write is logged, not shown
            from flask import current_app

            current_app.logger.exception("API audit event could not be recorded")
    return response


# --------------------------------------------------------------------------- parameters

def int_param(name: str, default: int | None = None, minimum: int = 0, maximum: int = 2**31 - 1) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = to_int(raw.strip(), minimum=minimum, maximum=maximum) if raw.strip().lstrip("-").isdigit() else None
    if value is None:
        bad(name, _("%(name)s must be a whole number from %(min)s to %(max)s.", name=name, min=minimum, max=maximum))
    return value


def bool_param(name: str, default: bool | None = None) -> bool | None:
    raw = (request.args.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no"):
        return False
    bad(name, _("%(name)s must be true or false.", name=name))


def date_param(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    day = parse_day(raw.strip()) if len(raw) <= 10 else None
    if day is None:
        bad(name, _("%(name)s must be a date as YYYY-MM-DD.", name=name))
    return day


def instant_param(name: str) -> datetime | None:
    """An ISO 8601 date or date-time as an aware UTC instant (no offset: the registry's zone)."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        if len(raw) <= 10:
            value = datetime.combine(date.fromisoformat(raw), time.min)
        else:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=clock.zone())
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        bad(name, _("%(name)s must be an ISO 8601 date or date-time, e.g. 2025-07-01T08:00:00+07:00.", name=name))


def choice_param(name: str, choices: tuple[str, ...]) -> str | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if raw not in choices:
        bad(name, _("%(name)s must be one of: %(choices)s.", name=name, choices=", ".join(choices)))
    return raw


def unit_param(name: str = "unit", day: date | None = None) -> AdminUnit | None:
    """The unit a code names (on `day`, default today) inside the token owner's area; 404 outside."""
    code = (request.args.get(name) or "").strip()
    if not code:
        return None
    unit = unit_in_area(code[:32], day)
    if unit is None:
        not_found()
    return unit


def fields_param(allowed: set[str]) -> list[str] | None:
    raw = (request.args.get("fields") or "").strip()
    if not raw or raw in ("*", ":all"):
        return None
    wanted = [f.strip() for f in raw.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in allowed]
    if unknown:
        bad("fields", _("Unknown fields: %(fields)s. Known: %(known)s.", fields=", ".join(unknown[:5]),
                        known=", ".join(sorted(allowed))))
    return wanted


def _pick(item: dict, fields: list[str] | None) -> dict:
    return item if fields is None else {k: item[k] for k in fields if k in item}


# --------------------------------------------------------------------------- paging

def paged(ids_stmt: Select, id_column: Any, load, allowed_fields: set[str]) -> Response:
    """A page of items. `ids_stmt` selects the ids of every item the caller may see (filtered and
    scoped); items come in id order (stable). `after` (the nextPage link's cursor) reads an index
    range; `page` alone skips rows. `load(ids)` returns the items' dicts in that order."""
    page = int_param("page", 1, minimum=1, maximum=10**7)
    size = int_param("pageSize", DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    after = int_param("after", None, minimum=0)
    counting = bool_param("totalPages", True)
    fields = fields_param(allowed_fields)
    stmt = ids_stmt.order_by(id_column).limit(size)
    if after is not None:
        stmt = stmt.where(id_column > after)
    else:
        stmt = stmt.offset((page - 1) * size)
    ids = list(db.session.scalars(stmt))
    items = [_pick(item, fields) for item in load(ids)] if ids else []
    pager: dict[str, Any] = {"page": page, "pageSize": size}
    more = len(ids) == size
    if counting:
        total = db.session.scalar(select(func.count()).select_from(ids_stmt.order_by(None).subquery()))
        pager["total"] = total
        pager["pageCount"] = -(-total // size)
        more = more and page * size < total if after is None else more
    if more and ids:
        args = {k: v for k, v in request.args.items() if k not in ("page", "after")}
        pager["nextPage"] = url_for(request.endpoint, **(request.view_args or {}), **args, page=page + 1,
                                    after=ids[-1], _external=True)
    return json_response({"pager": pager, "items": items}, len(items))


def _instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite keeps UTC instants without their offset
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _local(value: datetime) -> str:
    """A training session's wall-clock time (registry's zone) with its offset."""
    return value.replace(tzinfo=clock.zone()).isoformat()


# --------------------------------------------------------------------------- OpenAPI document

@operation(bp, "/openapi.json", summary="This API's OpenAPI 3.1 document", response={"type": "object"},
           public=True, tag="documentation")
def openapi():
    """The OpenAPI document, generated from the endpoints' declarations (no token needed)."""
    return json_response(s.document(url_for("core.index", _external=True)))


# --------------------------------------------------------------------------- units

UNIT_FIELDS = set(s.SCHEMAS["Unit"]["properties"])


def _successions(ids: list[int]) -> tuple[dict[int, list], dict[int, list]]:
    """{unit id: predecessors}, {unit id: successors} for a page of units: two statements."""
    before: dict[int, list] = {}
    after: dict[int, list] = {}
    other = aliased(AdminUnit)
    for mine, theirs, target in ((UnitSuccession.successor_id, UnitSuccession.predecessor_id, before),
                                 (UnitSuccession.predecessor_id, UnitSuccession.successor_id, after)):
        rows = db.session.execute(
            select(mine.label("unit_id"), other.code, other.name, UnitSuccession.kind, UnitSuccession.on)
            .join(other, other.id == theirs).where(mine.in_(ids)).order_by(other.code, other.id))
        for row in rows:
            target.setdefault(row.unit_id, []).append(
                {"code": row.code, "name": row.name, "kind": row.kind, "on": row.on})
    return before, after


def _units(ids: list[int]) -> list[dict]:
    parent = aliased(AdminUnit)
    rows = db.session.execute(
        select(AdminUnit, parent.code.label("parent_code")).outerjoin(parent, parent.id == AdminUnit.parent_id)
        .where(AdminUnit.id.in_(ids)).order_by(AdminUnit.id)).all()
    before, after = _successions(ids)
    return [{"id": u.id, "code": u.code, "name": u.name, "level": u.level, "kind": u.kind, "parent": parent_code,
             "validFrom": u.valid_from, "validTo": u.valid_to, "predecessors": before.get(u.id, []),
             "successors": after.get(u.id, [])} for u, parent_code in rows]


ON = Param("on", DATE, "The map's date: units valid on that day (default today).")


@operation(bp, "/units", summary="Administrative units in your area", params=[
    ON, Param("level", {"enum": list(LEVELS)}, "Only units of this level."),
    Param("parent", s.CODE, "Only the units directly below the unit with this GSO code (read on `on`)."),
    *paging("Unit", updated=False)], response=s._page_of("Unit"), tag="units")
def units():
    """Provinces, districts, communes and villages inside the token owner's area, valid on `on`, with
    their parent's code and the units they came from or went into (the 1 July 2025 reform)."""
    day = date_param("on") or clock.today()
    level = choice_param("level", LEVELS)
    stmt = scoped(select(AdminUnit.id), AdminUnit).where(valid_on(AdminUnit, day))
    if level:
        stmt = stmt.where(AdminUnit.level == level)
    parent_code = (request.args.get("parent") or "").strip()
    if parent_code:
        parent = db.session.scalar(by_code(parent_code[:32], day))
        if parent is None:
            not_found()
        stmt = stmt.where(AdminUnit.parent_id == parent.id)
    return paged(stmt, AdminUnit.id, _units, UNIT_FIELDS)


@operation(bp, "/units/<code>", summary="One administrative unit by GSO code", params=[
    Param("code", s.CODE, "GSO code (a village: `<commune code>-<3 digits>`).", location="path"), ON,
    declared_fields("Unit")],
    response=ref("Unit"), tag="units")
def unit(code: str):
    """The unit this code names on `on` (a code is unique on a date, not forever); 404 outside your area."""
    day = date_param("on") or clock.today()
    found = unit_in_area(code[:32], day)
    if found is None:
        not_found()
    return json_response(_pick(_units([found.id])[0], fields_param(UNIT_FIELDS)), 1)


# --------------------------------------------------------------------------- teams

TEAM_FIELDS = set(s.SCHEMAS["Team"]["properties"])
Village = aliased(AdminUnit, name="village")
Commune = aliased(AdminUnit, name="commune")


def _teams(ids: list[int]) -> list[dict]:
    today = clock.today()
    current = (
        select(func.count(Membership.id)).where(
            Membership.team_id == Team.id, Membership.joined_on <= today,
            (Membership.left_on.is_(None)) | (Membership.left_on > today))
        .correlate(Team).scalar_subquery()
    )
    rows = db.session.execute(
        select(Team, Village.code.label("village_code"), Village.name.label("village_name"),
               Commune.code.label("commune_code"), current.label("members"))
        .join(Village, Village.id == Team.village_id).join(Commune, Commune.id == Team.commune_id)
        .where(Team.id.in_(ids)).order_by(Team.id)).all()
    return [{"id": t.id, "name": t.name, "status": t.status, "village": vcode, "villageName": vname,
             "commune": ccode, "establishedOn": t.established_on, "dissolvedOn": t.dissolved_on,
             "decisionNumber": t.decision_number, "members": members, "created": _instant(t.created_at),
             "lastUpdated": _instant(t.updated_at)} for t, vcode, vname, ccode, members in rows]


@operation(bp, "/teams", summary="Teams in your area", params=[
    UNIT_FILTER, Param("status", {"enum": ["active", "dissolved"]}, "Only teams with this status."), *paging("Team")],
    response=s._page_of("Team"), tag="registry")
def teams():
    """Teams inside the token owner's area, with their village, commune and current member count."""
    stmt = scoped(select(Team.id), Team)
    unit_filter = unit_param()
    if unit_filter is not None:
        stmt = stmt.where(within(Team, unit_filter))
    status = choice_param("status", ("active", "dissolved"))
    if status:
        stmt = stmt.where(Team.status == status)
    since = instant_param("lastUpdated")
    if since is not None:
        stmt = stmt.where(Team.updated_at >= since)
    return paged(stmt, Team.id, _teams, TEAM_FIELDS)


@operation(bp, "/teams/<int:team_id>", summary="One team", params=[
    Param("team_id", {"type": "integer"}, "The team's id.", location="path"), declared_fields("Team")],
    response=ref("Team"), tag="registry")
def team(team_id: int):
    """One team by id; 404 outside your area."""
    found = get_in_area(Team, team_id)
    if found is None:
        not_found()
    return json_response(_pick(_teams([found.id])[0], fields_param(TEAM_FIELDS)), 1)


# --------------------------------------------------------------------------- members

MEMBER_FIELDS = set(s.SCHEMAS["Member"]["properties"])


def _people_condition():
    """People the caller may receive: in their area, shown to them, and exportable (not withdrawn
    consent, not restricted: cdt/privacy/rules.py)."""
    return (export_condition(Person),)


def _members(ids: list[int]) -> list[dict]:
    identifiers = can("citizen_id.read")
    people = db.session.execute(
        select(Person, Commune.code.label("commune_code")).join(Commune, Commune.id == Person.commune_id)
        .where(Person.id.in_(ids)).order_by(Person.id)).all()
    teams_of: dict[int, list] = {}
    for row in db.session.execute(
            select(Membership.person_id, Membership.team_id, Membership.role)
            .where(Membership.person_id.in_(ids), Membership.left_on.is_(None))
            .order_by(Membership.person_id, Membership.joined_on, Membership.id)):
        teams_of.setdefault(row.person_id, []).append({"team": row.team_id, "role": row.role})
    items = []
    for p, commune_code in people:
        item = {"id": p.id, "fullName": p.full_name, "gender": p.gender, "birthDate": p.birth_date,
                "ethnicity": p.ethnicity, "youthUnion": bool(p.youth_union), "position": p.position,
                "firstTrainedOn": p.first_trained_on, "commune": commune_code, "teams": teams_of.get(p.id, []),
                "created": _instant(p.created_at), "lastUpdated": _instant(p.updated_at)}
        if identifiers:  # the roles that may read citizen IDs on the pages (cdt/auth/scope.py)
            item["citizenId"] = p.citizen_id
            item["phone"] = p.phone
        items.append(item)
    return items


@operation(bp, "/members", summary="Members (people) in your area", params=[
    UNIT_FILTER, Param("team", {"type": "integer", "minimum": 1}, "Only current members of this team."),
    Param("youthUnion", {"type": "boolean"}, "Only youth-union members (true) or the others (false)."),
    Param("trained", {"type": "boolean"}, "Only people trained at least once (true) or never (false)."),
    *paging("Member")], response=s._page_of("Member"), tag="registry")
def members():
    """People registered in the token owner's area (their home commune), with their current teams.
    People who withdrew consent or whose processing is restricted are left out. Citizen ID and phone
    only for the roles that may read citizen IDs."""
    stmt = select(Person.id).where(*_people_condition())
    unit_filter = unit_param()
    if unit_filter is not None:
        stmt = stmt.where(within(Person, unit_filter))
    team_id = int_param("team", None, minimum=1)
    if team_id is not None:
        if get_in_area(Team, team_id) is None:
            not_found()
        stmt = stmt.where(Person.id.in_(select(Membership.person_id).where(
            Membership.team_id == team_id, Membership.left_on.is_(None))))
    youth = bool_param("youthUnion")
    if youth is not None:
        stmt = stmt.where(Person.youth_union.is_(youth))
    trained = bool_param("trained")
    if trained is not None:
        stmt = stmt.where(Person.first_trained_on.is_not(None) if trained else Person.first_trained_on.is_(None))
    since = instant_param("lastUpdated")
    if since is not None:
        stmt = stmt.where(Person.updated_at >= since)
    return paged(stmt, Person.id, _members, MEMBER_FIELDS)


@operation(bp, "/members/<int:person_id>", summary="One member", params=[
    Param("person_id", {"type": "integer"}, "The person's id.", location="path"), declared_fields("Member")],
    response=ref("Member"), tag="registry")
def member(person_id: int):
    """One person by id; 404 outside your area or when the person may not leave the registry."""
    found = db.session.scalar(select(Person.id).where(Person.id == person_id, *_people_condition()))
    if found is None:
        not_found()
    return json_response(_pick(_members([found])[0], fields_param(MEMBER_FIELDS)), 1)


# --------------------------------------------------------------------------- training sessions

SESSION_FIELDS = set(s.SCHEMAS["TrainingSession"]["properties"])
SESSION_STATUSES = ("planned", "held", "cancelled")


def _sessions(ids: list[int]) -> list[dict]:
    invited = dict(db.session.execute(select(Invitation.session_id, func.count()).where(
        Invitation.session_id.in_(ids)).group_by(Invitation.session_id)).all())
    attended = dict(db.session.execute(select(Attendance.session_id, func.count()).where(
        Attendance.session_id.in_(ids)).group_by(Attendance.session_id)).all())
    area = aliased(AdminUnit)
    rows = db.session.execute(
        select(TrainingSession, TrainingTopic.code, area.code.label("area_code"))
        .join(TrainingTopic, TrainingTopic.id == TrainingSession.topic_id)
        .join(area, area.id == TrainingSession.area_id)
        .where(TrainingSession.id.in_(ids)).order_by(TrainingSession.id)).all()
    return [{"id": t.id, "title": t.title, "topic": topic, "mode": t.mode, "status": t.status,
             "startsAt": _local(t.starts_at), "endsAt": _local(t.ends_at), "hours": t.hours, "area": area_code,
             "venue": t.venue, "capacity": t.capacity, "invited": invited.get(t.id, 0),
             "attended": attended.get(t.id, 0), "created": _instant(t.created_at),
             "lastUpdated": _instant(t.updated_at)} for t, topic, area_code in rows]


@operation(bp, "/trainingSessions", summary="Training sessions seen from your area", params=[
    UNIT_FILTER, Param("status", {"enum": list(SESSION_STATUSES)}, "Only sessions with this status."),
    Param("from", DATE, "Only sessions starting on or after this day."),
    Param("to", DATE, "Only sessions starting on or before this day."),
    Param("topic", {"type": "string", "maxLength": 40}, "Only sessions of this topic code."),
    *paging("TrainingSession")], response=s._page_of("TrainingSession"), tag="training")
def training_sessions():
    """Sessions serving a unit inside the token owner's area or containing it (as on the pages), with
    the number of people invited and attending."""
    stmt = scoped(select(TrainingSession.id), TrainingSession)
    unit_filter = unit_param()
    if unit_filter is not None:
        stmt = stmt.where(within(TrainingSession, unit_filter))
    status = choice_param("status", SESSION_STATUSES)
    if status:
        stmt = stmt.where(TrainingSession.status == status)
    first, last = date_param("from"), date_param("to")
    if first:
        stmt = stmt.where(TrainingSession.starts_at >= datetime.combine(first, time.min))
    if last:
        stmt = stmt.where(TrainingSession.starts_at < datetime.combine(last, time.max))
    topic = (request.args.get("topic") or "").strip()
    if topic:
        stmt = stmt.where(TrainingSession.topic_id.in_(select(TrainingTopic.id).where(TrainingTopic.code == topic)))
    since = instant_param("lastUpdated")
    if since is not None:
        stmt = stmt.where(TrainingSession.updated_at >= since)
    return paged(stmt, TrainingSession.id, _sessions, SESSION_FIELDS)


@operation(bp, "/trainingSessions/<int:session_id>", summary="One training session", params=[
    Param("session_id", {"type": "integer"}, "The session's id.", location="path"),
    declared_fields("TrainingSession")],
    response=ref("TrainingSession"), tag="training")
def training_session(session_id: int):
    """One session by id; 404 when not seen from your area."""
    found = get_in_area(TrainingSession, session_id)
    if found is None:
        not_found()
    return json_response(_pick(_sessions([found.id])[0], fields_param(SESSION_FIELDS)), 1)


# --------------------------------------------------------------------------- coverage and outputs

def _number(value: Any) -> Any:
    return None if value == "" else value


@operation(bp, "/coverage", summary="Coverage indicators (the figures of /reports/coverage.csv)", params=[
    Param("unit", s.CODE, "GSO code of the unit to report on (default: your area)."),
    Param("by", {"enum": list(LEVELS)}, "One row per unit of this level (default: the level below `unit`)."),
    Param("as_of", DATE, "Figures as they stood on this day (default today)."),
    Param("from", DATE, "Sessions held from this day."), Param("to", DATE, "Sessions held up to this day."),
    Param("map", DATE, "Group by the units of the map valid on this day (default: `as_of`)."),
], response=ref("Coverage"), tag="reports")
def coverage():
    """Exactly the rows and numbers of /reports/coverage.csv for the same parameters (one definition:
    cdt/reports/queries.py); percentages are numbers, blanks are null."""
    from cdt.geo.queries import successors
    from cdt.reports import queries
    from cdt.reports.params import parse_report  # the page's own parsing: same parameters, same errors

    report = parse_report()
    if report.ended:
        after = ", ".join(f"{u.code} {u.name}" for u in successors(report.unit))
        not_found(_("This unit had ended by that date; its successors: %(units)s.", units=after or "-"))
    if not report.valid or report.level is None:
        error = BadRequest()
        error.api_errors = {k: [str(m) for m in v] for k, v in report.form.errors.items()}
        raise error
    rows = queries.coverage(report.unit, report.level, report.as_of, report.period_from, report.period_to,
                            report.map_day)
    body = {"unit": report.unit.code if report.unit else None, "by": report.level, "as_of": report.as_of,
            "map": report.map_day, "from": report.period_from, "to": report.period_to,
            "rows": [{k: _number(v) for k, v in row.csv_values().items()} for row in rows]}
    return json_response(body, len(rows))


@operation(bp, "/outputs", summary="Outputs with targets (the figures of /reports/outputs.csv)", params=[
    Param("unit", s.CODE, "GSO code of the unit to report on (default: your area)."),
    Param("by", {"enum": ["province", "district", "commune", "team"]}, "One row per unit (or team) of this level."),
    Param("from", {"type": "string", "pattern": MONTH}, "First month, YYYY-MM."),
    Param("to", {"type": "string", "pattern": MONTH}, "Last month, YYYY-MM (default: last month)."),
    Param("indicator", {"type": "string", "maxLength": 40}, "Only this indicator code."),
], response=ref("Outputs"), tag="reports")
def outputs():
    """The outputs report's rows (one per unit and indicator, then the unit's totals): values reported,
    reports expected and received, targets and achievement, as /reports/outputs.csv."""
    from cdt.outputs import report as outputs_report
    from cdt.outputs import report_views

    req = report_views.parse()
    if req.errors:
        error = BadRequest()
        error.api_message = " ".join(req.errors)
        raise error
    lines = report_views.export_rows(req)
    columns = outputs_report.CSV_COLUMNS
    rows = [{k: _number(v) for k, v in zip(columns, line, strict=True)} for line in lines]
    body = {"unit": req.unit.code if req.unit else None, "by": req.level, "from": req.first, "to": req.last,
            "indicators": [{"code": i.code, "name": i.name_vi, "measure": i.measure} for i in req.indicators],
            "rows": rows}
    return json_response(body, len(rows))


# --------------------------------------------------------------------------- DHIS2

@operation(bp, "/dhis2/dataValueSets", summary="Coverage and outputs as a DHIS2 dataValueSet", params=[
    Param("unit", s.CODE, "GSO code of the unit (default: your area); its units of level `by` are the orgUnits."),
    Param("period", {"type": "string", "pattern": r"^[0-9]{4}-?(0[1-9]|1[0-2])$"}, "The month, YYYY-MM or YYYYMM.",
          required=True),
    Param("by", {"enum": ["province", "district", "commune"]}, "The orgUnits' level (default: commune)."),
], response=ref("DataValueSet"), tag="dhis2")
def dhis2_data_value_sets():
    """A dataValueSet to POST to DHIS2's /api/dataValueSets (ids by CODE): for each unit of level `by`
    inside `unit`, the mapped coverage counts at the month's end and the month's outputs. The mapping
    of our indicator codes to data elements is a file the province edits (README, "API")."""
    from cdt.api import dhis2
    from cdt.outputs import periods

    raw = (request.args.get("period") or "").strip()
    period = dhis2.parse_period(raw)
    if period is None:
        bad("period", _("period must be a month as YYYY-MM or YYYYMM."))
    level = choice_param("by", ("province", "district", "commune")) or "commune"
    day = min(periods.month_end(period), clock.today())
    code = (request.args.get("unit") or "").strip()
    if code:
        unit_ = unit_in_area(code[:32], day)
        if unit_ is None:
            not_found()
    else:
        from cdt.geo.queries import unit_arg_or_area

        unit_ = unit_arg_or_area(None)
    try:
        body = dhis2.data_value_set(unit_, period, level)
    except dhis2.DhisError as error:
        bad("by", str(error))
    return json_response(body, len(body["dataValues"]))
