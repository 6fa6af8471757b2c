"""Account operations shared by the log-in and admin pages and the CLI. Each one is a unit of
work (`@transactional`): it checks its rules, records its AuditEvent and commits, or raises
AccountError (a RuleError) and saves nothing."""
from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cdt.audit.service import record
from cdt.auth.models import ROLE_AREA_LEVELS, ROLES, User
from cdt.auth.passwords import random_password
from cdt.core.clock import utcnow
from cdt.core.rules import RuleError
from cdt.core.text import ascii_digits, clean_text
from cdt.core.transactions import transactional
from cdt.extensions import db
from cdt.geo.models import LEVEL_LABELS, AdminUnit

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
AUDITED_FIELDS = ["full_name", "role", "area", "active"]


class AccountError(RuleError):
    """A refused account change; str(error) is a translated message for the user."""

    def __init__(self, message, field: str | None = None):
        super().__init__(field, str(message))


def normal_username(username: str) -> str:
    return (username or "").strip().lower()


def check_username(username: str) -> str:
    username = normal_username(username)
    if not USERNAME_RE.match(username):
        raise AccountError(_l("3 to 64 characters: lower-case letters, digits, dot, dash or underscore, "
                              "starting with a letter or digit."), "username")
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username)) is not None:
        raise AccountError(_l("This username is already taken."), "username")
    return username


def resolve_area(role: str, code: str | None, day: date | None = None) -> AdminUnit | None:
    """The area a user of `role` gets from a GSO code; AccountError when it does not fit."""
    if role not in ROLES:
        raise AccountError(_l("Unknown role."), "role")
    code = ascii_digits(code or "").strip()
    levels = ROLE_AREA_LEVELS[role]
    if not levels:
        if code:
            raise AccountError(_l("An administrator has no area; leave it empty."), "area_code")
        return None
    if not code:
        raise AccountError(_l("This role needs an area."), "area_code")
    from cdt.geo.queries import unit_by_code

    unit = unit_by_code(code, day)  # the unit the code names on the day (None: today)
    if unit is None:
        raise AccountError(_l("No administrative unit has the code %(code)s.", code=code), "area_code")
    if unit.level not in levels:
        allowed = ", ".join(str(LEVEL_LABELS[level]).lower() for level in levels)
        raise AccountError(_l("For this role the area must be a %(levels)s.", levels=allowed), "area_code")
    return unit


def clean_full_name(full_name: str | None) -> str | None:
    try:
        return clean_text(full_name or "") or None
    except ValueError as error:
        raise AccountError(str(error), "full_name") from None


def _state(user: User) -> dict:
    return {
        "full_name": user.full_name,
        "role": user.role,
        "area": user.area.code if user.area is not None else None,
        "active": user.active,
    }


@transactional
def create_user(username: str, role: str, area_code: str | None, full_name: str | None = None,
                via: str = "web") -> tuple[User, str]:
    """A new account with a random first password (returned, to be shown once)."""
    username = check_username(username)
    area = resolve_area(role, area_code)
    full_name = clean_full_name(full_name)
    password = random_password()
    user = User(username=username, role=role, area=area, full_name=full_name,
                must_change_password=True, active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record("user.create", user, details={"username": username, "role": role,
                                         "area": area.code if area else None, "via": via})
    return user, password


@transactional
def update_user(user: User, role: str, area_code: str | None, full_name: str | None, actor=None) -> dict:
    """Change role, area and name; returns the changes ({field: [old, new]})."""
    from cdt.audit.service import diff

    if actor is not None and actor.id == user.id and role != user.role:
        raise AccountError(_l("You cannot change your own role."), "role")
    area = resolve_area(role, area_code)
    full_name = clean_full_name(full_name)
    before = _state(user)
    user.role = role
    user.area = area
    user.full_name = full_name
    changes = diff(before, _state(user))
    if changes:
        if "role" in changes or "area" in changes:
            user.rotate_session_token()  # new rights take effect at the next log-in
        record("user.update", user, changes=changes)
    return changes


@transactional
def set_active(user: User, active: bool, actor=None) -> None:
    if actor is not None and actor.id == user.id and not active:
        raise AccountError(_l("You cannot deactivate your own account."))
    if user.active == active:
        return
    user.active = active
    user.rotate_session_token()
    record("user.reactivate" if active else "user.deactivate", user)


@transactional
def reset_password(user: User) -> str:
    password = random_password()
    user.set_password(password)
    user.must_change_password = True
    user.rotate_session_token()
    record("user.password_reset", user)
    return password


@transactional
def record_login(user: User) -> None:
    """A successful log-in: a plain write of the log-in time (the account has no version counter),
    so simultaneous log-ins of one account (a double tap) all succeed."""
    user.last_login_at = utcnow()
    record("login.success", user, user=user)


@transactional
def record_failed_login(user: User | None, reason: str) -> None:
    """A refused log-in. What was typed is never kept (it is often a password typed in the wrong
    box): the event names the account when one has that name, else nothing."""
    record("login.failure", user=None, details={"reason": reason},
           object_type="user_account" if user else None, object_id=user.id if user else None)


@transactional
def log_out(user: User) -> None:
    """End every session of the account: every copy of the session cookie stops working."""
    record("logout", user)
    user.rotate_session_token()


@transactional
def change_password(user: User, current_password: str, new_password: str) -> None:
    """The user's own password change; other sessions end (the caller renews this one)."""
    if not user.check_password(current_password):
        raise AccountError(_l("The current password is wrong."), "current_password")
    user.set_password(new_password)
    user.must_change_password = False
    user.rotate_session_token()
    record("password.change", user)
