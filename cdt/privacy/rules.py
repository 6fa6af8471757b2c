"""Who may see a person, in one place.

Every list, search, export and API query of people applies these conditions, so that the
personal-data rules (restriction, withdrawn consent) are decided here and nowhere else:

- `shown_to(user)`: people the user may see at all in lists and search (a restricted person
  is shown only to the admin and the officer handling the request);
- `exportable()`: people who may leave the registry in an export or through the API (not
  those who withdrew consent, nor restricted people).

`shown_to` is applied by cdt/auth/scope.py (`area_condition` for Person), the one place every
people query goes through; `exportable` by the exports and the API (and scope's
`export_condition`). An erased person (cdt/privacy/erasure.py) keeps a row (figures stay right)
but is no one: left out of every list, search and export, for everyone.

The conditions name the `person` and `consent_record` tables, not their models: the Person
model delegates to this module (`Person.shown_to`, `Person.exportable`, `Person.shown`), so
importing the models here would make an import circle.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import Table, and_, exists, false, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from cdt.extensions import db


def _people() -> Table:
    return db.metadata.tables["person"]


def _consent() -> Table:
    return db.metadata.tables["consent_record"]


def _user(user: Any) -> Any:
    if user is not None:
        return user
    return current_user if has_request_context() else None


def shown_to(user: Any = None) -> ColumnElement[bool]:
    """Condition on Person: the people `user` may see in lists and search. A restricted person is
    shown only to the admin and to the officer handling the restriction (who recorded it); an
    erased person to no one."""
    person = _people().c
    user = _user(user)
    not_erased = person.erased_at.is_(None)
    if getattr(user, "role", None) == "admin":
        return not_erased
    user_id = getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
    handling = person.restricted_by_id == user_id if user_id is not None else false()
    return and_(not_erased, or_(person.restricted_at.is_(None), handling))


def is_shown_to(person: Any, user: Any = None) -> bool:
    """`shown_to` for one loaded person (a team page lists its members through their memberships:
    a person the user may not see is listed without name or phone, so the counts stay)."""
    user = _user(user)
    if person.erased_at is not None:
        return False
    if person.restricted_at is None or getattr(user, "role", None) == "admin":
        return True
    return bool(getattr(user, "is_authenticated", False)) and person.restricted_by_id == getattr(user, "id", None)


def exportable(person: Any = None) -> ColumnElement[bool]:
    """Condition on Person (or an alias of it, `person`): the people who may appear in exports and
    API answers.

    Not those who withdrew their consent (every consent record withdrawn, none given again);
    people whose consent is pending or given are exported. Figures (counts) never use it: the
    coverage report counts members whatever their consent. Not restricted people (whoever
    exports), nor erased ones."""
    target = _people().c if person is None else person
    return and_(target.erased_at.is_(None), target.restricted_at.is_(None), not_(consent_withdrawn(person)))


# --------------------------------------------------------------------------- consent states
# A person's consent is pending (no consent record), given (an open record: not withdrawn) or
# withdrawn (records, all withdrawn). cdt/privacy/models.py keeps at most one open record each.

CONSENT_STATES = ("pending", "given", "withdrawn")


def _records(person: Any, *conditions) -> ColumnElement[bool]:
    consent = _consent()
    correlated = _people() if person is None else person
    person_id = correlated.c.id if person is None else person.id
    return exists(select(consent.c.id).where(consent.c.person_id == person_id, *conditions).correlate(correlated))


def consent_given(person: Any = None) -> ColumnElement[bool]:
    return _records(person, _consent().c.withdrawn_on.is_(None))


def consent_withdrawn(person: Any = None) -> ColumnElement[bool]:
    return and_(_records(person, _consent().c.withdrawn_on.is_not(None)), not_(consent_given(person)))


def consent_pending(person: Any = None) -> ColumnElement[bool]:
    return not_(_records(person))


def consent_state(state: str, person: Any = None) -> ColumnElement[bool]:
    """Condition on Person: their consent is in `state` (pending, given, withdrawn)."""
    return {"pending": consent_pending, "given": consent_given, "withdrawn": consent_withdrawn}[state](person)
