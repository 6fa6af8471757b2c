"""Recording audit events. Call `record(...)` in the same transaction as the change it records.

- `record("team.update", team, changes=diff(before, after))`
- `record("export", details={"what": "members.csv", "rows": 120})`
- `record("login.failure", details={"username": "..."}, user=None)`
No personal value is ever stored (issue 13, the Personal Data Protection Law): `changes` keeps
only the names of the fields that changed, and a detail named like a personal field (a name, a
phone, a birth date, a citizen ID, a search text) keeps its key with the value withheld, at any
depth (an export's filters). This one function is where that happens, for every event. Free text
is stripped of control characters so a value can never forge a log line.
"""
from __future__ import annotations

import re
from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from cdt.audit.models import AuditEvent
from cdt.core.transactions import transactional
from cdt.extensions import db

# Keys whose values are personal data: recorded as present, never with their value.
# An uploaded file's name ("file") too: people name lists after a person ("ds-Lo-Thi-Thao.xlsx").
PERSONAL_KEYS = frozenset({"full_name", "search_name", "birth_date", "phone", "citizen_id", "email",
                           "q", "search", "address", "file"})
WITHHELD = "[withheld]"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def mask_citizen_id(value: Any) -> Any:
    """'010203004005' -> '********4005': how a citizen ID is shown to who may not read it."""
    if not value:
        return value
    text = str(value)
    return "*" * max(len(text) - 4, 0) + text[-4:]


def clean(value: Any) -> Any:
    """Strip control characters (newlines included) from strings, recursively."""
    if isinstance(value, str):
        return _CONTROL.sub(" ", value)
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return clean(str(value))


def changed_fields(changes: dict | list | None) -> list[str]:
    """What an event keeps of a change: the sorted names of the fields that changed."""
    if not changes:
        return []
    return sorted(str(key) for key in changes)


def without_personal_values(value: Any) -> Any:
    """`value` with the value of every personal key (PERSONAL_KEYS) withheld, recursively."""
    if isinstance(value, dict):
        return {key: (WITHHELD if key in PERSONAL_KEYS and item not in (None, "") else without_personal_values(item))
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_personal_values(item) for item in value]
    return value


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    """The current values of `fields` on `obj` (for diffing before/after an edit)."""
    return {name: getattr(obj, name) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed."""
    return {key: [before.get(key), after.get(key)] for key in after if before.get(key) != after.get(key)}


def _province_of(user: Any, object_type: str | None, object_id: int | None, obj: Any) -> int | None:
    """The province an event belongs to: the acting user's, else the account's it is about."""
    for candidate in (user, obj if object_type == "user_account" else None):
        area = getattr(candidate, "area", None)
        if area is not None:
            return area.province_id
    if object_type == "user_account" and object_id is not None and obj is None:
        from cdt.auth.models import User

        account = db.session.get(User, object_id)
        if account is not None and account.area is not None:
            return account.area.province_id
    return None


def record(action: str, obj: Any = None, *, changes: dict | None = None, details: dict | None = None,
           user: Any = "current", object_type: str | None = None, object_id: int | None = None) -> AuditEvent:
    """Add an AuditEvent to the session (committed with the caller's transaction)."""
    if user == "current":
        user = current_user if has_request_context() and current_user.is_authenticated else None
    payload: dict[str, Any] = {}
    if changes:
        payload["changes"] = changed_fields(changes)
    if details:
        payload.update(without_personal_values(details))
    if obj is not None:
        if object_id is None and getattr(obj, "id", None) is None:
            db.session.flush()
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
    event = AuditEvent(
        province_id=_province_of(user, object_type, object_id, obj),
        action=clean(action),
        user_id=getattr(user, "id", None),
        username=clean(getattr(user, "username", None)),
        object_type=object_type,
        object_id=object_id,
        details=clean(payload) or None,
        ip=clean(request.remote_addr) if has_request_context() else None,
    )
    db.session.add(event)
    return event


@transactional
def record_alone(action: str, obj: Any = None, **kwargs: Any) -> AuditEvent:
    """Record an event that is a transaction of its own (a page viewed, a file exported) and commit
    it; for an event that goes with a change, call `record` inside the change's transaction."""
    return record(action, obj, **kwargs)
