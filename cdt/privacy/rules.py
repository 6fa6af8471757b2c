"""Who may see a person, in one place.

Every list, search, export and API query of people applies these conditions, so that the
personal-data rules (restriction, withdrawn consent) are decided here and nowhere else:

- `shown_to(user)`: people the user may see at all in lists and search (a restricted person
  is shown only to the admin and the officer handling the request);
- `exportable()`: people who may leave the registry in an export or through the API (not
  those who withdrew consent, nor restricted people).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, not_, select, true
from sqlalchemy.sql.elements import ColumnElement


def shown_to(user: Any = None) -> ColumnElement[bool]:
    """Condition on Person: the people `user` may see in lists and search."""
    return true()


def exportable(person: Any = None) -> ColumnElement[bool]:
    """Condition on Person (or an alias of it, `person`): the people who may appear in exports and
    API answers.

    Not those who withdrew their consent (every consent record withdrawn, none given again);
    people whose consent is pending or given are exported. Figures (counts) never use it: the
    coverage report counts members whatever their consent."""
    return not_(consent_withdrawn(person))


# --------------------------------------------------------------------------- consent states
# A person's consent is pending (no consent record), given (an open record: not withdrawn) or
# withdrawn (records, all withdrawn). cdt/privacy/models.py keeps at most one open record each.

CONSENT_STATES = ("pending", "given", "withdrawn")


def _records(person: Any, *conditions) -> ColumnElement[bool]:
    from cdt.privacy.models import ConsentRecord
    from cdt.registry.models import Person

    person = Person if person is None else person
    return exists(select(ConsentRecord.id).where(ConsentRecord.person_id == person.id, *conditions)
                  .correlate(person))


def consent_given(person: Any = None) -> ColumnElement[bool]:
    from cdt.privacy.models import ConsentRecord

    return _records(person, ConsentRecord.withdrawn_on.is_(None))


def consent_withdrawn(person: Any = None) -> ColumnElement[bool]:
    from cdt.privacy.models import ConsentRecord

    return and_(_records(person, ConsentRecord.withdrawn_on.is_not(None)), not_(consent_given(person)))


def consent_pending(person: Any = None) -> ColumnElement[bool]:
    return not_(_records(person))


def consent_state(state: str, person: Any = None) -> ColumnElement[bool]:
    """Condition on Person: their consent is in `state` (pending, given, withdrawn)."""
    return {"pending": consent_pending, "given": consent_given, "withdrawn": consent_withdrawn}[state](person)
