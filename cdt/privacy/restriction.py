"""Restriction of processing: a person's request to restrict what is done with their data. The
restricted person is shown only to the admin and the officer who recorded the restriction (the
officer handling the request), and left out of lists, search and exports (cdt/privacy/rules.py)."""
from __future__ import annotations

from typing import Any

from cdt.audit.service import record
from cdt.core.clock import utcnow
from cdt.core.transactions import transactional
from cdt.extensions import db
from cdt.registry.models import Person


@transactional
def restrict(person: Person, user: Any) -> None:
    try:
        person.restricted_at = utcnow()
        person.restricted_by_id = user.id
        record("person.restrict", person, user=user)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


@transactional
def lift_restriction(person: Person, user: Any) -> None:
    try:
        person.restricted_at = None
        person.restricted_by_id = None
        record("person.unrestrict", person, user=user)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
