"""Changes to sessions, invitations and attendance, each with its audit event and the
maintained "trained" mark (Person.first_trained_on) in the same transaction.

"Trained" = attended at least one held session; first_trained_on = the date of the earliest
held session the person attended (NULL: never). The coverage report counts it, so every
change that can move it (attendance added or removed, a session's status or start changed,
a session deleted) calls `refresh_first_trained` for the people concerned: one UPDATE that
recomputes the mark from attendance joined to held sessions.

Each public change is a unit of work (`@transactional`): it checks its rules (RuleError,
ConflictError from cdt/core/rules.py: nothing saved) and commits. The views only parse forms and
show the refusals.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.exc import StaleDataError

from cdt.audit.service import diff, record, snapshot
from cdt.core import clock
from cdt.core.clock import utcnow
from cdt.core.rules import ConflictError, RuleError
from cdt.core.transactions import transactional
from cdt.extensions import db
from cdt.registry.models import Person
from cdt.reports.models import lock_for_change
from cdt.training.models import Attendance, Invitation, TrainingSession, TrainingTopic
from cdt.training.topics import slug

TOPIC_FIELDS = ["code", "name_vi", "name_en", "active"]


class CancelNeedsConfirmation(Exception):
    """Cancelling a session that has attendance: the user must confirm first (the form then shows
    what cancelling does, and a box to tick). Nothing was saved."""


AUDITED_FIELDS = ["title", "topic_id", "mode", "starts_at", "ends_at", "hours", "venue", "trainer", "capacity",
                  "area_id", "status", "notes"]


def _insert(table):
    """INSERT ... ON CONFLICT DO NOTHING for the current dialect (SQLite and PostgreSQL)."""
    name = db.session.get_bind().dialect.name
    return (pg_insert if name == "postgresql" else sqlite_insert)(table)


def refresh_first_trained(person_ids: Iterable[int] | None = None, *, session_id: int | None = None) -> None:
    """Recompute Person.first_trained_on for the given people, or for the attendees of a session,
    in one UPDATE (the earliest start date of a held session each attended)."""
    # "held" inside the aggregate, not in WHERE: the planner then walks the person's attendance
    # (index on person_id) and each session by primary key, instead of every held session.
    earliest = (
        select(func.min(case((TrainingSession.status == "held", func.date(TrainingSession.starts_at)))))
        .select_from(Attendance)
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .where(Attendance.person_id == Person.id)
        .correlate(Person)
        .scalar_subquery()
    )
    if session_id is not None:
        person_ids = db.session.scalars(select(Attendance.person_id).where(Attendance.session_id == session_id))
    ids = sorted(set(person_ids or ()))
    if not ids:
        return
    who = Person.id.in_(ids)
    # Lock the people's rows first, and the team_stat rows their new mark recounts, in the order
    # every writer uses (PostgreSQL; SQLite serialises writers anyway): a concurrent save for the
    # same people then waits, and the UPDATE below, a new statement, sees what that save
    # committed, so the recount is never based on a stale view.
    lock_for_change(people=ids)
    db.session.execute(
        update(Person).where(who).values(first_trained_on=earliest),
        execution_options={"synchronize_session": False},
    )
    # Loaded Person objects would otherwise show the old mark.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Person):
            db.session.expire(obj, ["first_trained_on"])


def default_hours(ts: TrainingSession) -> Decimal:
    seconds = (ts.ends_at - ts.starts_at).total_seconds()
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.1"))


def fill_session(ts: TrainingSession, data: dict[str, Any], area) -> None:
    for name in ("title", "topic_id", "mode", "starts_at", "ends_at", "venue", "trainer", "capacity", "notes",
                 "status"):
        setattr(ts, name, data[name])
    ts.hours = data.get("hours") or default_hours(ts)
    ts.place_in(area)


def _attendance_count(ts: TrainingSession) -> int:
    return db.session.scalar(select(func.count()).select_from(Attendance).where(Attendance.session_id == ts.id)) or 0


@transactional
def create_session(data: dict[str, Any], area, user) -> TrainingSession:
    ts = TrainingSession(created_by_id=user.id)
    fill_session(ts, data, area)
    db.session.add(ts)
    db.session.flush()
    record("training_session.create", ts, details=snapshot(ts, AUDITED_FIELDS))
    return ts


@transactional
def update_session(ts: TrainingSession, data: dict[str, Any], area, *, opened_version: str | None = None,
                   confirm_cancel: bool = True) -> dict:
    """Save the edited session. Refused when it changed after the form was opened (`opened_version`:
    ConflictError) and, unless `confirm_cancel`, when it would cancel a session with attendance
    (CancelNeedsConfirmation)."""
    if opened_version and opened_version != str(ts.version_id):
        raise ConflictError()
    if (data.get("status") == "cancelled" and ts.status != "cancelled" and not confirm_cancel
            and _attendance_count(ts)):
        raise CancelNeedsConfirmation()
    before = snapshot(ts, AUDITED_FIELDS)
    fill_session(ts, data, area)
    after = snapshot(ts, AUDITED_FIELDS)
    changes = diff(before, after)
    if changes:
        try:
            db.session.flush()
        except StaleDataError:  # saved by someone else between our read and this write
            raise ConflictError() from None
        record("training_session.update", ts, changes=changes)
        if "status" in changes or "starts_at" in changes:
            refresh_first_trained(session_id=ts.id)
    return changes


@transactional
def delete_session(ts: TrainingSession) -> None:
    """Delete a session (its invitations go with it). Refused once attendance is recorded: such a
    session is cancelled instead."""
    if _attendance_count(ts):
        raise RuleError(None, _l("A session with recorded attendance cannot be deleted; cancel it instead."))
    attendees = list(db.session.scalars(select(Attendance.person_id).where(Attendance.session_id == ts.id)))
    record("training_session.delete", ts, details=snapshot(ts, AUDITED_FIELDS))
    db.session.execute(delete(Attendance).where(Attendance.session_id == ts.id))
    db.session.execute(delete(Invitation).where(Invitation.session_id == ts.id))
    db.session.delete(ts)
    db.session.flush()
    refresh_first_trained(attendees)


@transactional
def invite(ts: TrainingSession, people: list[tuple[int, int | None]], *, teams: list[int] | None = None) -> int:
    """Invite (person_id, team_id) pairs; people already invited are left as they are. Returns the
    number of new invitations."""
    if not people:
        return 0
    before = set(db.session.scalars(select(Invitation.person_id).where(Invitation.session_id == ts.id)))
    new = [(pid, tid) for pid, tid in people if pid not in before]
    if new:
        stmt = _insert(Invitation.__table__).values(
            [{"session_id": ts.id, "person_id": pid, "team_id": tid, "created_at": utcnow()} for pid, tid in new]
        ).on_conflict_do_nothing(index_elements=["session_id", "person_id"])
        db.session.execute(stmt)
        details: dict[str, Any] = {"people": [pid for pid, _tid in new]}
        if teams:
            details["teams"] = teams
        record("invitation.create", ts, details=details)
    return len(new)


@transactional
def uninvite(ts: TrainingSession, person_id: int) -> bool:
    result = db.session.execute(
        delete(Invitation).where(Invitation.session_id == ts.id, Invitation.person_id == person_id)
    )
    if result.rowcount:
        record("invitation.delete", ts, details={"person_id": person_id})
    return bool(result.rowcount)


def check_attendance(ts: TrainingSession, present: set[int], hours: Decimal) -> None:
    """The rules of recording attendance (RuleError when one is broken): the session is not
    cancelled and has begun, someone came, and the hours fit in the session."""
    if ts.status == "cancelled":
        raise RuleError(None, _l("This session is cancelled. Set it back to planned before recording attendance."))
    if ts.starts_at > clock.local_now():
        raise RuleError(None, _l("This session has not started yet; record attendance once it has begun."))
    if not present:
        raise RuleError(None, _l("Tick at least one person who came."))
    if hours > default_hours(ts):
        raise RuleError("hours", _l("The hours cannot exceed the length of the session."))


@transactional
def record_attendance(ts: TrainingSession, present: set[int], invited: set[int], hours: Decimal, user) -> dict:
    """Make the session's attendance exactly `present` (people not invited are walk-ins), each with
    `hours`; mark the session held. Refused when a rule of `check_attendance` is broken. Safe on
    double submission: the unique (session, person) constraint and ON CONFLICT DO NOTHING keep one
    row per person."""
    check_attendance(ts, present, hours)
    existing = set(db.session.scalars(select(Attendance.person_id).where(Attendance.session_id == ts.id)))
    added = sorted(present - existing)
    removed = sorted(existing - present)
    if added:
        stmt = _insert(Attendance.__table__).values([
            {"session_id": ts.id, "person_id": pid, "hours": hours, "walk_in": pid not in invited,
             "recorded_by_id": user.id, "recorded_at": utcnow()}
            for pid in added
        ]).on_conflict_do_nothing(index_elements=["session_id", "person_id"])
        db.session.execute(stmt)
    if removed:
        db.session.execute(delete(Attendance).where(Attendance.session_id == ts.id, Attendance.person_id.in_(removed)))
    changed_hours = db.session.execute(
        update(Attendance).where(Attendance.session_id == ts.id, Attendance.hours != hours).values(hours=hours)
    ).rowcount
    status_before = ts.status
    if status_before != "held" and _mark_held(ts):
        record("training_session.update", ts, changes={"status": [status_before, "held"]})
    if added or removed or changed_hours:
        record("attendance.update", ts, details={"added": added, "removed": removed, "hours": str(hours)})
    db.session.flush()
    if status_before != "held":
        refresh_first_trained(sorted(present | existing))
    else:
        refresh_first_trained(added + removed)
    return {"added": added, "removed": removed, "hours_changed": changed_hours}


def _mark_held(ts: TrainingSession) -> bool:
    """Set the session's status to held unless it is already: one UPDATE that bumps the version
    (an edit form opened before is refused) without checking it, so two saves of the attendance
    at the same moment both succeed. True when this call changed it."""
    changed = db.session.execute(
        update(TrainingSession).where(TrainingSession.id == ts.id, TrainingSession.status != "held")
        .values(status="held", version_id=TrainingSession.version_id + 1),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.expire(ts)
    return bool(changed)


@transactional
def renew_calendar_token(user) -> str:
    user.calendar_token = secrets.token_urlsafe(32)
    record("calendar.renew", user, object_type="user_account")
    return user.calendar_token


# --- topic catalogue -------------------------------------------------------------------------

@transactional
def save_topic(topic: TrainingTopic | None, code: str | None, name_vi: str, name_en: str,
               active: bool) -> TrainingTopic:
    """Add a topic (`topic` None) or change one. The code (made from the English name when left
    empty) is unique: RuleError on the `code` field otherwise."""
    code = code or (topic.code if topic else slug(name_en))
    clash = db.session.scalar(
        select(TrainingTopic.id).where(TrainingTopic.code == code, TrainingTopic.id != (topic.id if topic else 0))
    )
    if clash:
        raise RuleError("code", _l("Another topic already has this code."))
    if topic is None:
        topic = TrainingTopic(code=code, name_vi=name_vi, name_en=name_en, active=active)
        db.session.add(topic)
        db.session.flush()
        record("training_topic.create", topic, details=snapshot(topic, TOPIC_FIELDS))
        return topic
    before = snapshot(topic, TOPIC_FIELDS)
    topic.code, topic.name_vi, topic.name_en, topic.active = code, name_vi, name_en, active
    changes = diff(before, snapshot(topic, TOPIC_FIELDS))
    if changes:
        record("training_topic.update", topic, changes=changes)
    return topic


@transactional
def toggle_topic(topic: TrainingTopic) -> bool:
    """Deactivate an active topic or reactivate an inactive one; returns the new state."""
    topic.active = not topic.active
    record("training_topic.update", topic, changes={"active": [not topic.active, topic.active]})
    return topic.active
