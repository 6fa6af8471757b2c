"""Many people and memberships written in one go (the import of a commune's list).

The ORM writes a person per INSERT round and each new person's name keys (cdt/registry/names.py)
one person at a time; for 20,000 rows that is the bulk of a confirmation. Here the same rows are
written with a few multi-row statements, in the caller's transaction:

- `insert_people`: the values of Person objects built as usual (so the model's validators and
  `place_in` ran) but never added to the session, inserted in one go (cdt/core/bulk.py; ids
  returned in order), then their name keys in one more;
- `insert_memberships`: cdt/reports/stats.py, where team_stat is kept (one recount per team).
"""
from __future__ import annotations

from cdt.core.bulk import insert_rows
from cdt.registry.models import Person, PersonNameKey
from cdt.registry.names import name_keys
from cdt.reports.stats import insert_memberships

__all__ = ["insert_memberships", "insert_people"]


def insert_people(people: list[Person]) -> list[int]:
    """Insert these new (transient) people; returns their ids, in order. Columns the objects
    leave unset get the model's defaults (timestamps, version)."""
    if not people:
        return []
    table = Person.__table__
    given = [c.key for c in table.columns if c.key != "id" and any(c.key in p.__dict__ for p in people)]
    ids = insert_rows(table, [{key: p.__dict__.get(key) for key in given} for p in people], return_ids=True)
    insert_rows(PersonNameKey.__table__, [{"key": key, "person_id": person_id}
                                          for person_id, person in zip(ids, people, strict=True)
                                          for key in name_keys(person.search_name)])
    return ids
