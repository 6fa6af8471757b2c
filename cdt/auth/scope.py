"""Area scoping and permissions: the one place that decides who may see and change what.

- `area_condition(model, user)` is the SQL condition that keeps rows of `model` inside
  the user's area today (`cdt.geo.within.within`, the one "inside a unit, on a date" rule).
  For people it also applies the personal-data rules (cdt/privacy/rules.py `shown_to`: a
  restricted person is shown only to the admin and the officer handling it; an erased one to no
  one), so every people list, search and loader follows them.
- `export_condition(model, user)`: area_condition and, for people, `exportable()` (what may
  leave the registry in an export or the API).
- `scoped(stmt, model, user)` adds it to a select.
- `get_in_area_or_404(model, id)` is the loader every view uses for an object by id;
  `get_in_area(model, id)` the same answering None; `ids_in_area(model, ids)` which of some ids
  lie in the area. Units have their own loaders in cdt/geo/queries.py (`unit_in_area_or_404`,
  `commune_in_area`), built on area_condition.
- `user_commune(user)` is the user's commune when their area is one (a commune officer's).
- `permission_required(name)` guards views that change things; `can(name)` asks.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, and_, false, true
from sqlalchemy.sql.elements import ColumnElement

from cdt.core.inputs import to_int
from cdt.extensions import db
from cdt.geo.within import within

T = TypeVar("T")

# What each role may do beyond reading its area (issue #3's role table).
PERMISSIONS: dict[str, frozenset[str]] = {
    "registry.write": frozenset({"admin", "commune_officer"}),
    "training.write": frozenset({"admin", "youth_coordinator"}),
    "users.manage": frozenset({"admin"}),
    "topics.manage": frozenset({"admin"}),
    "outputs.enter": frozenset({"admin", "commune_officer"}),
    "outputs.manage": frozenset({"admin", "province_staff"}),
    "audit.read": frozenset({"admin", "province_staff"}),
    "villages.manage": frozenset({"admin", "province_staff"}),
    # Consent and rights requests (issue 13): the commune officer of the person's commune and above.
    "privacy.manage": frozenset({"admin", "province_staff", "district_staff", "commune_officer"}),
    # Restrict or erase a person's data (issue 13): the admin, the commune officer of their commune.
    "privacy.erase": frozenset({"admin", "commune_officer"}),
    "citizen_id.read": frozenset(
        {"admin", "province_staff", "district_staff", "commune_officer"}
    ),
}


def _user(user: Any = None) -> Any:
    return current_user if user is None else user


def can(permission: str, user: Any = None) -> bool:
    user = _user(user)
    return bool(getattr(user, "is_authenticated", False)) and user.role in PERMISSIONS[permission]


def permission_required(permission: str) -> Callable[[T], T]:
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not can(permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def area_condition(model: Any, user: Any = None) -> ColumnElement[bool]:
    """SQL condition keeping `model` rows inside the user's area (today).

    A model may define `area_condition_for(unit)` when "inside" means more than its
    place (a training session serving a whole district is seen in each commune), and
    `shown_to(user)` when some of its rows are hidden from some users whatever the area
    (people: cdt/privacy/rules.py).
    """
    user = _user(user)
    condition = _place_condition(model, user)
    shown = getattr(model, "shown_to", None)
    if shown is not None:
        condition = and_(condition, shown(user))
    return condition


def export_condition(model: Any, user: Any = None) -> ColumnElement[bool]:
    """area_condition, and for people the personal-data rule of what may be exported."""
    condition = area_condition(model, user)
    exportable = getattr(model, "exportable", None)
    if exportable is not None:
        condition = and_(condition, exportable())
    return condition


def _place_condition(model: Any, user: Any) -> ColumnElement[bool]:
    if not getattr(user, "is_authenticated", False):
        return false()
    if user.role == "admin":
        return true()
    area = user.area
    if area is None:
        return false()
    custom = getattr(model, "area_condition_for", None)
    if custom is not None:
        return custom(area)
    return within(model, area)


def user_commune(user: Any = None) -> Any:
    """The user's commune when their area is a commune (a commune officer's), else None: the
    commune their registry forms and imports work in."""
    area = getattr(_user(user), "area", None)
    return area if area is not None and area.level == "commune" else None


def scoped(stmt: Select, model: Any, user: Any = None) -> Select:
    return stmt.where(area_condition(model, user))


def in_area(obj: Any, user: Any = None) -> bool:
    """Whether an already-loaded object lies in the user's area (same rule as area_condition)."""
    return obj.id in ids_in_area(type(obj), [obj.id], user)


_IDS_PER_STATEMENT = 500


def ids_in_area(model: Any, ids: Iterable[int], user: Any = None) -> set[int]:
    """Which of `ids` lie in the user's area (same rule as area_condition; a statement per 500 ids).

    For records found by a check that must see everything (a person already registered anywhere
    makes a new record a duplicate): only these may be shown to the user."""
    wanted = sorted(set(ids))
    inside: set[int] = set()
    condition = area_condition(model, user)
    for start in range(0, len(wanted), _IDS_PER_STATEMENT):
        chunk = wanted[start:start + _IDS_PER_STATEMENT]
        inside.update(db.session.scalars(db.select(model.id).where(model.id.in_(chunk), condition)))
    return inside


def get_in_area(model: type[T], object_id: Any, user: Any = None) -> T | None:
    """Load one object by id; None when there is no id, it does not exist or lies outside the user's area."""
    object_id = to_int(object_id)
    if object_id is None:
        return None
    return db.session.scalar(db.select(model).where(model.id == object_id, area_condition(model, user)))


def get_in_area_or_404(model: type[T], object_id: Any, user: Any = None) -> T:
    """Load one object by id; 404 when it does not exist or lies outside the user's area."""
    obj = get_in_area(model, object_id, user)
    if obj is None:
        abort(404)
    return obj

