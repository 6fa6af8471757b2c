"""A person's complete record (access and portability, Law 91/2025/QH15): profile, memberships,
training (invitations and attendance), consent history, and who viewed, exported or changed the
record (from the audit trail). One gatherer for the printable page, the JSON and the CSV.

`RECORD_SECTIONS`: more sections by feature, `name -> function(person) -> list of dicts`. The
consent history (CONSENT_SECTION) comes from cdt/privacy/models.py.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from cdt.audit.models import AuditEvent
from cdt.auth.scope import can
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.registry.models import Membership, Person, Team
from cdt.training.models import Attendance, Invitation, TrainingSession, TrainingTopic

CONSENT_SECTION = "consent"
RECORD_SECTIONS: dict[str, Callable[[Person], list[dict[str, Any]]]] = {}
MAX_EVENTS = 1000


def _profile(person: Person, user: Any) -> dict[str, Any]:
    commune = db.session.get(AdminUnit, person.commune_id)
    return {
        "id": person.id,
        "full_name": person.full_name,
        "gender": person.gender,
        "birth_date": person.birth_date,
        "ethnicity": person.ethnicity,
        "phone": person.phone,
        "citizen_id": person.citizen_id_shown(user) or None,
        "youth_union": bool(person.youth_union),
        "position": person.position,
        "first_trained_on": person.first_trained_on,
        "commune_code": commune.code if commune else None,
        "commune_name": commune.name if commune else None,
        "restricted": person.restricted_at is not None,
        "created_at": person.created_at,
        "updated_at": person.updated_at,
    }


def _memberships(person: Person) -> list[dict[str, Any]]:
    village = AdminUnit
    rows = db.session.execute(
        select(Membership.id, Membership.team_id, Team.name, village.code, village.name, Membership.role,
               Membership.joined_on, Membership.left_on)
        .join(Team, Team.id == Membership.team_id).join(village, village.id == Team.village_id)
        .where(Membership.person_id == person.id).order_by(Membership.joined_on, Membership.id)).all()
    return [{"id": r[0], "team_id": r[1], "team_name": r[2], "village_code": r[3], "village_name": r[4],
             "role": r[5], "joined_on": r[6], "left_on": r[7]} for r in rows]


def _training(person: Person) -> list[dict[str, Any]]:
    invited = set(db.session.scalars(select(Invitation.session_id).where(Invitation.person_id == person.id)))
    attended = dict(db.session.execute(select(Attendance.session_id, Attendance.hours)
                                       .where(Attendance.person_id == person.id)).all())
    ids = invited | set(attended)
    if not ids:
        return []
    rows = db.session.execute(
        select(TrainingSession.id, TrainingSession.title, TrainingTopic.code, TrainingSession.starts_at,
               TrainingSession.status)
        .join(TrainingTopic, TrainingTopic.id == TrainingSession.topic_id)
        .where(TrainingSession.id.in_(ids)).order_by(TrainingSession.starts_at, TrainingSession.id)).all()
    return [{"session_id": r[0], "title": r[1], "topic": r[2], "starts_at": r[3], "status": r[4],
             "invited": r[0] in invited, "attended": r[0] in attended, "hours": attended.get(r[0])} for r in rows]


def _consent(person: Person) -> list[dict[str, Any]]:
    """The person's consent history (cdt/privacy/models.py), newest first."""
    from cdt.privacy.services import consent_history

    return [{"given_on": r.given_on, "method": r.method, "notice_version": r.notice_version,
             "recorded_at": r.recorded_at, "withdrawn_on": r.withdrawn_on} for r in consent_history(person.id)]


def _events(person: Person) -> list[dict[str, Any]]:
    """Who viewed, exported or changed the record: the audit trail's events about this person."""
    rows = db.session.execute(
        select(AuditEvent.at, AuditEvent.action, AuditEvent.username)
        .where(AuditEvent.object_type == "person", AuditEvent.object_id == person.id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(MAX_EVENTS)).all()
    return [{"at": r[0], "action": r[1], "username": r[2]} for r in rows]


def person_record(person: Person, user: Any = None) -> dict[str, Any]:
    """The whole record of `person` as `user` may see it (the citizen ID masked unless they may
    read it)."""
    record = {
        "person": _profile(person, user),
        "memberships": _memberships(person),
        "training": _training(person),
        CONSENT_SECTION: _consent(person),
        "processing": _events(person),
    }
    for name, section in RECORD_SECTIONS.items():
        record[name] = section(person)
    record["citizen_id_readable"] = can("citizen_id.read", user)
    return record


def plain(value: Any) -> Any:
    """A value as JSON or CSV carries it (dates in ISO 8601)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


SECTIONS = ("person", "memberships", "training", CONSENT_SECTION, "processing")
CSV_COLUMNS = ("section", "item", "field", "value")


def as_json(record: dict[str, Any]) -> dict[str, Any]:
    return {name: plain(record[name]) for name in (*SECTIONS, *RECORD_SECTIONS) if name in record}


def csv_rows(record: dict[str, Any]) -> list[list[Any]]:
    """One row per value: section, item number (0 for the profile), field, value."""
    rows: list[list[Any]] = []
    for name in dict.fromkeys((*SECTIONS, *RECORD_SECTIONS)):
        value = record.get(name)
        items = [value] if isinstance(value, dict) else (value or [])
        for number, item in enumerate(items, start=0 if name == "person" else 1):
            for field, field_value in item.items():
                rows.append([name, number, field, plain(field_value)])
    return rows
