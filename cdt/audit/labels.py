"""How the audit trail reads to a person: actions, objects, detail keys and their values in the
reader's language, and links to the records an event is about (issue 17, item 8).

An event stores codes (`person.view`, `role: commune_officer`, `mode: in_person`); the page
never shows a bare code where a word exists. An action or a key this module does not know is
shown as stored, so a new event type is never hidden.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from cdt.extensions import db

ACTION_LABELS = {
    "login.success": _l("Logged in"),
    "login.failure": _l("Failed log-in"),
    "logout": _l("Logged out"),
    "password.change": _l("Changed own password"),
    "user.create": _l("Created a user"),
    "user.update": _l("Changed a user"),
    "user.deactivate": _l("Deactivated a user"),
    "user.reactivate": _l("Reactivated a user"),
    "user.password_reset": _l("Reset a user's password"),
    "user.repoint": _l("Moved an account to the successor unit"),
    "village.merge": _l("Merged villages"),
    "village.split": _l("Split a village"),
    "village.rename": _l("Renamed a village"),
    "village.move": _l("Moved a village to another commune"),
    "village.undo": _l("Undid a village change"),
    "person.record.view": _l("Viewed a person's complete record"),
    "person.record.export": _l("Downloaded a person's complete record"),
    "person.restrict": _l("Restricted the processing of a person's data"),
    "person.unrestrict": _l("Lifted the restriction of a person's data"),
    "person.erase": _l("Erased a person's personal data"),
    "export": _l("Exported data"),
    "import": _l("Imported a list"),
    "team.create": _l("Created a team"),
    "team.update": _l("Changed a team"),
    "person.create": _l("Added a person"),
    "person.update": _l("Changed a person"),
    "person.view": _l("Viewed a person's page"),
    "membership.create": _l("Added to a team"),
    "membership.update": _l("Changed a role in a team"),
    "membership.end": _l("Ended a membership"),
    "membership.move": _l("Moved to another team"),
    "training_session.create": _l("Scheduled a training session"),
    "training_session.update": _l("Changed a training session"),
    "training_session.delete": _l("Deleted a training session"),
    "invitation.create": _l("Invited to a session"),
    "invitation.delete": _l("Withdrew an invitation"),
    "attendance.update": _l("Recorded attendance"),
    "calendar.renew": _l("Renewed the calendar link"),
    "training_topic.create": _l("Added a training topic"),
    "training_topic.update": _l("Changed a training topic"),
    "village.place": _l("Placed a village on the new map"),
    "outputs.report": _l("Entered a monthly report"),
    "outputs.report.delete": _l("Deleted a monthly report"),
    "outputs.month.lock": _l("Locked a reporting month"),
    "outputs.month.reopen": _l("Reopened a reporting month"),
    "outputs.deadline": _l("Changed the reporting deadline"),
    "outputs.target": _l("Set a target"),
    "outputs.target.import": _l("Imported targets"),
    "outputs.allowance_rate": _l("Set an allowance rate"),
    "outputs.indicator.create": _l("Added an indicator"),
    "outputs.indicator.update": _l("Changed an indicator"),
    "outputs.link.create": _l("Created a team's reporting link"),
    "outputs.link.revoke": _l("Revoked a team's reporting link"),
    "api_token.create": _l("Created an API token"),
    "api_token.revoke": _l("Revoked an API token"),
}

OBJECT_LABELS = {
    "user_account": _l("User"),
    "team": _l("Team"),
    "person": _l("Person"),
    "membership": _l("Membership"),
    "training_session": _l("Training session"),
    "training_topic": _l("Training topic"),
    "admin_unit": _l("Administrative unit"),
    "allowance_rate": _l("Allowance rate"),
    "api_token": _l("API token"),
}

# Detail keys and the names of changed fields.
FIELD_LABELS = {
    "changes": _l("Fields changed"),
    "fields": _l("Fields changed"),
    "code": _l("Code"),
    "commune": _l("Commune"),
    "unit": _l("Unit"),
    "area": _l("Area"),
    "area_id": _l("Area"),
    "from": _l("From"),
    "to": _l("To"),
    "username": _l("User name"),
    "role": _l("Role"),
    "reason": _l("Reason"),
    "what": _l("What"),
    "rows": _l("Rows"),
    "filters": _l("Filters"),
    "file": _l("File"),
    "via": _l("Through"),
    "period": _l("Month"),
    "month": _l("Month"),
    "year": _l("Year"),
    "source": _l("Source"),
    "indicator": _l("Indicator"),
    "cells": _l("Cells"),
    "person_id": _l("Person"),
    "team_id": _l("Team"),
    "from_team_id": _l("From team"),
    "to_team_id": _l("To team"),
    "teams": _l("Teams"),
    "joined_on": _l("Joined on"),
    "left_on": _l("Left on"),
    "added": _l("Present added"),
    "removed": _l("Present removed"),
    "hours": _l("Hours"),
    "title": _l("Title"),
    "topic_id": _l("Topic"),
    "mode": _l("Format"),
    "starts_at": _l("Starts"),
    "ends_at": _l("Ends"),
    "venue": _l("Venue"),
    "trainer": _l("Trainer"),
    "capacity": _l("Capacity"),
    "status": _l("Status"),
    "notes": _l("Notes"),
    "name": _l("Name"),
    "name_vi": _l("Name (Vietnamese)"),
    "name_en": _l("Name (English)"),
    "active": _l("Active"),
    "village_id": _l("Village"),
    "established_on": _l("Established on"),
    "decision_number": _l("Decision number"),
    "dissolved_on": _l("Dissolved on"),
    "full_name": _l("Full name"),
    "gender": _l("Gender"),
    "birth_date": _l("Birth date"),
    "ethnicity": _l("Ethnicity"),
    "phone": _l("Phone"),
    "citizen_id": _l("Citizen ID"),
    "youth_union": _l("Youth union member"),
    "position": _l("Position"),
    "day": _l("Day"),
    "per_team": _l("Per team"),
    "per_member": _l("Per member"),
    "valid_from": _l("Valid from"),
    "imported": _l("Imported"),
    "created": _l("Created"),
    "matched": _l("Matched"),
    "skipped": _l("Skipped"),
    "token": _l("API token"),
    "expires": _l("Valid until"),
}

REASON_LABELS = {
    "unknown_user": _l("unknown user name"),
    "wrong_password": _l("wrong password"),
    "inactive_account": _l("deactivated account"),
}

WITHHELD_LABEL = _l("(personal value not kept)")

# Keys whose value is the id of a record with a page of its own: (object type, endpoint, argument).
_LINKED_KEYS = {
    "person_id": "person",
    "team_id": "team",
    "from_team_id": "team",
    "to_team_id": "team",
}
_ENDPOINTS = {
    "person": ("registry.member", "person_id"),
    "team": ("registry.team", "team_id"),
    "training_session": ("training.session", "session_id"),
    "user_account": ("auth.user_edit", "user_id"),
}


def _label(table: dict, key: Any) -> str:
    label = table.get(key)
    return str(label) if label is not None else str(key)


def action_label(action: str) -> str:
    return _label(ACTION_LABELS, action)


def object_label(object_type: str | None) -> str:
    return _label(OBJECT_LABELS, object_type or "") if object_type else ""


def field_label(key: str) -> str:
    return _label(FIELD_LABELS, key)


def _role_labels(action: str) -> dict:
    if action.startswith("user."):
        from cdt.auth.models import ROLE_LABELS
    else:
        from cdt.registry.models import ROLE_LABELS
    return ROLE_LABELS


def _value_labels(action: str, key: str) -> dict | None:
    if key == "role":
        return _role_labels(action)
    if key == "mode":
        from cdt.training.models import MODE_LABELS
        return MODE_LABELS
    if key == "status" and action.startswith("training_session"):
        from cdt.training.models import SESSION_STATUS_LABELS
        return SESSION_STATUS_LABELS
    if key == "reason":
        return REASON_LABELS
    return None


def _link(object_type: str, object_id: Any, text: str | None = None) -> Markup | str:
    text = text or f"{object_label(object_type)} #{object_id}"
    endpoint = _ENDPOINTS.get(object_type)
    if endpoint is None or not isinstance(object_id, int) or isinstance(object_id, bool):
        return text
    return Markup('<a href="{}">{}</a>').format(url_for(endpoint[0], **{endpoint[1]: object_id}), text)


def format_value(action: str, key: str, value: Any) -> Markup | str:
    """One detail value as a reader should see it (escaped; a link where the value is a record)."""
    from flask_babel import gettext as _

    from cdt.audit.service import WITHHELD

    if value is None or value == "":
        return "–"
    if value == WITHHELD:
        return str(WITHHELD_LABEL)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if key in ("changes", "fields") and isinstance(value, (list, tuple, dict)):
        return ", ".join(field_label(str(name)) for name in value)
    if key in _LINKED_KEYS:
        items = value if isinstance(value, (list, tuple)) else [value]
        return Markup(", ").join(_link(_LINKED_KEYS[key], item) for item in items)
    labels = _value_labels(action, key)
    if labels is not None and isinstance(value, str):
        return _label(labels, value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(str(k))}: {format_value(action, str(k), v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(str(format_value(action, key, item)) for item in value)
    return str(value)


def describe(event: Any) -> list[tuple[str, Markup | str]]:
    """The (label, value) lines of an event's details."""
    details = event.details if isinstance(event.details, dict) else {}
    return [(field_label(str(key)), format_value(event.action, str(key), value)) for key, value in details.items()]


class ObjectLinks:
    """Links to the records the events of one page are about, with the units' codes loaded in
    one query (a unit page is addressed by its code, an event stores the unit's id)."""

    def __init__(self, events: Iterable[Any]):
        from cdt.geo.models import AdminUnit

        unit_ids = {e.object_id for e in events if e.object_type == "admin_unit" and e.object_id}
        rows = db.session.execute(select(AdminUnit.id, AdminUnit.code, AdminUnit.valid_to)
                                  .where(AdminUnit.id.in_(unit_ids))).tuples().all() if unit_ids else []
        # An ended unit's code may name another unit today: its link stays on its last day.
        self._units = {id_: (code, valid_to) for id_, code, valid_to in rows}

    def __call__(self, event: Any) -> Markup | str:
        if not event.object_type:
            return "–"
        if event.object_type == "admin_unit" and event.object_id in self._units:
            code, valid_to = self._units[event.object_id]
            args = {"on": valid_to.isoformat()} if valid_to else {}
            return Markup('<a href="{}">{} {}</a>').format(url_for("units.unit", code=code, **args),
                                                          object_label("admin_unit"), code)
        return _link(event.object_type, event.object_id)
