"""Member and team exports: what the user may see, with the filters of /members and /teams.

Each export is ONE select (no query per row), streamed with `yield_per`, so that 400,000
people go out in constant memory: CSV row by row, XLSX through the streaming writer of
cdt/core/spreadsheets.py. The filters and the area scoping are those of the list pages
(cdt/registry/queries.py), so an export holds exactly what the page lists.

Members: one row per current membership (a person in two teams has two rows; a person
in no team has one row with empty team columns). With a team, role or village filter
only the memberships matching it are listed. The CSV uses stable English keys and raw
values (keys such as `male`, `kinh`, `leader`; ISO dates; 1/0); the XLSX is for people:
headers and values in the user's language, real dates.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import Label

from cdt.auth.scope import can, export_condition
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.privacy.crypto import decrypter
from cdt.privacy.rules import exportable
from cdt.registry import queries
from cdt.registry.ethnicity import ETHNIC_GROUPS
from cdt.registry.identifiers import display_phone
from cdt.registry.models import (
    GENDER_LABELS,
    POSITION_LABELS,
    ROLE_LABELS,
    TEAM_STATUS_LABELS,
    Membership,
    Person,
    Team,
)

YIELD_PER = 2000
_MOBILE_FIRST = frozenset("35789")


def phone_for_export(stored: str | None) -> str:
    """identifiers.display_phone, with a fast path for mobile numbers (most of them; phonenumbers costs
    ~0.1 ms a number, a minute for 400,000 rows): '+84912345678' -> '0912 345 678'.
    A test proves the fast path equals display_phone."""
    if not stored:
        return ""
    if len(stored) == 12 and stored.startswith("+84") and stored[3] in _MOBILE_FIRST and stored[3:].isdigit():
        return f"0{stored[3:6]} {stored[6:9]} {stored[9:]}"
    return display_phone(stored)

Village = aliased(AdminUnit, name="x_village")
Commune = aliased(AdminUnit, name="x_commune")
District = aliased(AdminUnit, name="x_district")


@dataclass(frozen=True)
class ExportColumn:
    key: str
    label: Any  # lazy English msgid: the XLSX header


# Where a team or a member is: the same columns in both exports.
PLACE_COLUMNS = (
    ExportColumn("village_code", _l("Village code")),
    ExportColumn("village_name", _l("Village")),
    ExportColumn("commune_code", _l("Commune code")),
    ExportColumn("commune_name", _l("Commune")),
    ExportColumn("district_code", _l("District code")),
    ExportColumn("district_name", _l("District")),
)
MEMBER_COLUMNS = (
    ExportColumn("id", _l("ID")),
    ExportColumn("full_name", _l("Full name")),
    ExportColumn("gender", _l("Gender")),
    ExportColumn("birth_date", _l("Birth date")),
    ExportColumn("ethnicity", _l("Ethnicity")),
    ExportColumn("phone", _l("Phone")),
    ExportColumn("youth_union", _l("Youth union member")),
    ExportColumn("position", _l("Position")),
    ExportColumn("team_id", _l("Team ID")),
    ExportColumn("team_name", _l("Team")),
    ExportColumn("role", _l("Role in team")),
    *PLACE_COLUMNS,
)
CITIZEN_ID_COLUMN = ExportColumn("citizen_id", _l("Citizen ID"))
MEMBER_TAIL_COLUMNS = (
    ExportColumn("joined_on", _l("Joined on")),
    ExportColumn("trained", _l("Trained")),
    ExportColumn("first_trained_on", _l("First trained on")),
)

TEAM_COLUMNS = (
    ExportColumn("id", _l("ID")),
    ExportColumn("name", _l("Team")),
    ExportColumn("status", _l("Status")),
    *PLACE_COLUMNS,
    ExportColumn("established_on", _l("Established on")),
    ExportColumn("decision_number", _l("Decision number")),
    ExportColumn("leader_name", _l("Leader")),
    ExportColumn("leader_phone", _l("Leader's phone")),
    ExportColumn("members", _l("Members")),
    ExportColumn("trained_members", _l("Trained members")),
    ExportColumn("last_training", _l("Last training")),
)


def member_columns(user=None) -> list[ExportColumn]:
    columns = list(MEMBER_COLUMNS)
    if can("citizen_id.read", user):
        columns.append(CITIZEN_ID_COLUMN)
    return columns + list(MEMBER_TAIL_COLUMNS)


# --------------------------------------------------------------------------- members

def _member_statement(args) -> Any:
    filters = queries.MemberFilters.from_args(args)
    people = queries.member_select(filters).with_only_columns(Person.id).order_by(None)
    on_membership = [Membership.person_id == Person.id, Membership.left_on.is_(None)]
    if filters.team:
        on_membership.append(Membership.team_id == filters.team)
    if filters.role:
        on_membership.append(Membership.role == filters.role)
    stmt = (
        select(
            Person.id, Person.full_name, Person.gender, Person.birth_date, Person.ethnicity, Person.phone,
            Person.youth_union, Person.position, Person.citizen_id_enc, Person.first_trained_on,
            Membership.team_id, Membership.role, Membership.joined_on, Team.name.label("team_name"),
            Village.code.label("village_code"), Village.name.label("village_name"),
            Commune.code.label("commune_code"), Commune.name.label("commune_name"),
            District.code.label("district_code"), District.name.label("district_name"),
        )
        .select_from(Person)
        .outerjoin(Membership, and_(*on_membership))
        .outerjoin(Team, Team.id == Membership.team_id)
        .outerjoin(Village, Village.id == Team.village_id)
        # The team's commune and district; the person's own when they are in no team. The 2025 map
        # has no districts: the district columns are then empty.
        .join(Commune, Commune.id == func.coalesce(Team.commune_id, Person.commune_id))
        .outerjoin(District, District.id == case((Team.id.is_not(None), Team.district_id),
                                                 else_=Person.district_id))
        # People who withdrew their consent, restricted or erased people never leave the registry in
        # a file (issue 13): scope's export_condition = area + cdt/privacy/rules.py exportable().
        .where(Person.id.in_(people), export_condition(Person))
    )
    if filters.village:
        stmt = stmt.where(Team.village_id == filters.village)
    elif filters.team or filters.role:
        stmt = stmt.where(Membership.id.is_not(None))
    return stmt.order_by(Person.sort_name, Person.id, Membership.joined_on, Membership.id)


def count_members(args) -> int:
    stmt = _member_statement(args).order_by(None)
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def member_rows(args, columns: list[ExportColumn], *, human: bool) -> Iterator[list[Any]]:
    """The rows of the member export, streamed from one statement.

    Everything that needs the request (filters, user, labels in the user's language) is done
    here, before the response streams; the generator itself only reads rows.
    """
    keys = [c.key for c in columns]
    if keys[:len(MEMBER_COLUMNS)] != [c.key for c in MEMBER_COLUMNS]:
        raise ValueError("member columns out of order")
    with_citizen_id = CITIZEN_ID_COLUMN.key in keys
    if human:
        labels = (
            {k: str(v) for k, v in GENDER_LABELS.items()}, dict(ETHNIC_GROUPS),
            {k: str(v) for k, v in POSITION_LABELS.items()}, {k: str(v) for k, v in ROLE_LABELS.items()},
            _("Yes"), _("No"),
        )
    else:
        labels = None
    stmt = _member_statement(args).execution_options(yield_per=YIELD_PER)
    return _member_generator(stmt, decrypter() if with_citizen_id else None, labels)


def _member_generator(stmt, decrypt, labels) -> Iterator[list[Any]]:
    # Rows are built positionally (no dict per row): this loop runs 400,000 times for the nation.
    phone = phone_for_export
    if labels is not None:
        genders, ethnicities, positions, roles, yes, no = labels
    for (pid, full_name, gender, birth_date, ethnicity, raw_phone, youth_union, position, citizen_id,
         first_trained_on, team_id, role, joined_on, team_name, village_code, village_name, commune_code,
         commune_name, district_code, district_name) in db.session.execute(stmt):
        trained = first_trained_on is not None
        if labels is not None:
            gender = genders.get(gender, gender)
            ethnicity = ethnicities.get(ethnicity, ethnicity)
            youth_union = yes if youth_union else no
            position = positions.get(position, position)
            role = roles.get(role, role)
            trained = yes if trained else no
        else:
            youth_union = bool(youth_union)
        row = [pid, full_name, gender, birth_date, ethnicity, phone(raw_phone), youth_union, position, team_id,
               team_name, role, village_code, village_name, commune_code, commune_name, district_code,
               district_name]
        if decrypt is not None:
            row.append(decrypt(citizen_id))  # stored encrypted (cdt/privacy/crypto.py)
        row += (joined_on, trained, first_trained_on)
        yield row


# --------------------------------------------------------------------------- teams

def _team_statement(args) -> Any:
    filters = queries.TeamFilters.from_args(args)
    ids = queries.team_ids_select(filters).with_only_columns(Team.id).order_by(None)
    leader = aliased(Membership, name="x_leader")
    leader_person = aliased(Person, name="x_leader_person")
    current = aliased(Membership, name="x_current")
    member_person = aliased(Person, name="x_member_person")
    counts = (
        select(current.team_id.label("team_id"), func.count(current.id).label("members"),
               func.count(member_person.first_trained_on).label("trained"))
        .join(member_person, member_person.id == current.person_id)
        .where(current.left_on.is_(None))
        .group_by(current.team_id)
        .subquery("x_counts")
    )
    # The same "last training" as the /teams page (one definition, correlated on the team).
    last_training = next(c for c in queries._team_columns() if isinstance(c, Label) and c.name == "last_training")
    return (
        select(
            Team.id, Team.name, Team.status, Team.established_on, Team.decision_number,
            Village.code.label("village_code"), Village.name.label("village_name"),
            Commune.code.label("commune_code"), Commune.name.label("commune_name"),
            District.code.label("district_code"), District.name.label("district_name"),
            leader_person.full_name.label("leader_name"), leader_person.phone.label("leader_phone"),
            func.coalesce(counts.c.members, 0).label("members"),
            func.coalesce(counts.c.trained, 0).label("trained_members"),
            last_training,
        )
        .join(Village, Village.id == Team.village_id)
        .join(Commune, Commune.id == Team.commune_id)
        .outerjoin(District, District.id == Team.district_id)  # none on the 2025 map
        .outerjoin(leader, and_(leader.team_id == Team.id, leader.role == "leader", leader.left_on.is_(None)))
        # A leader who withdrew their consent, restricted or erased: the team is listed, the leader's
        # name and phone are not.
        .outerjoin(leader_person, and_(leader_person.id == leader.person_id, exportable(leader_person)))
        .outerjoin(counts, counts.c.team_id == Team.id)
        .where(Team.id.in_(ids))
        .order_by(Village.code, Team.id)
    )


def count_teams(args) -> int:
    filters = queries.TeamFilters.from_args(args)
    ids = queries.team_ids_select(filters).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(ids)) or 0


def team_rows(args, columns: list[ExportColumn], *, human: bool) -> Iterator[list[Any]]:
    keys = [c.key for c in columns]
    statuses = {k: str(v) for k, v in TEAM_STATUS_LABELS.items()}
    stmt = _team_statement(args).execution_options(yield_per=YIELD_PER)
    return _team_generator(stmt, keys, human, statuses)


def _team_generator(stmt, keys, human, statuses) -> Iterator[list[Any]]:
    for r in db.session.execute(stmt):
        values = dict(r._mapping)
        values["leader_phone"] = phone_for_export(r.leader_phone)
        last = values.get("last_training")
        if isinstance(last, str):  # SQLite returns max() of a datetime as text
            last = last[:10]
        elif last is not None:
            last = last.date() if hasattr(last, "date") else last
        values["last_training"] = last
        if human:
            values["status"] = statuses.get(r.status, r.status)
            if isinstance(last, str):
                values["last_training"] = date.fromisoformat(last)
        yield [values[k] for k in keys]
