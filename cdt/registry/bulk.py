"""Many people and memberships written in one go (the import of a commune's list).

The ORM writes a person per INSERT round and each new person's name keys (cdt/registry/names.py)
one person at a time; for 20,000 rows that is the bulk of a confirmation. Here the same rows are
written with a few multi-row statements, in the caller's transaction:

- `new_person`: a new person's column values as the ORM would write them (the model's validators
  run on them, the ancestor columns of the commune set), without building an ORM object;
- `insert_people`: those rows inserted in one go (cdt/core/bulk.py; ids returned in order), then
  their name keys in one more;
- `insert_memberships`: cdt/reports/stats.py, where team_stat is kept (one recount per team).
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from cdt.core.bulk import insert_rows
from cdt.core.text import fold, name_keys, vi_sort_key
from cdt.geo.models import AdminUnit
from cdt.geo.within import place
from cdt.privacy.crypto import columns_for
from cdt.registry.identifiers import normalize_citizen_id
from cdt.registry.models import Person, PersonNameKey
from cdt.reports.stats import insert_memberships

__all__ = ["insert_memberships", "insert_people", "new_person"]


def new_person(commune: AdminUnit, **values: Any) -> dict[str, Any]:
    """The row of a new person registered in `commune`: `values` (full_name, birth_date, gender,
    ethnicity, phone, citizen_id, youth_union, position) through the model's @validates functions
    (as `Person(...)` would run them; they read only their arguments), its folded search name and
    the commune's ancestor ids."""
    for key, (validator, _options) in Person.__mapper__.validators.items():
        if key in values:
            values[key] = validator(None, key, values[key])
    if "citizen_id" in values:  # stored encrypted, with its keyed hash (cdt/privacy/crypto.py)
        values.update(columns_for(normalize_citizen_id(values.pop("citizen_id"))))
    ancestors = SimpleNamespace()
    place(ancestors, commune)
    return {**values, "search_name": fold(values["full_name"]), "sort_name": vi_sort_key(values["full_name"]),
            **vars(ancestors)}


def insert_people(people: list[dict[str, Any]]) -> list[int]:
    """Insert these people (rows from `new_person`, all with the same keys); returns their ids, in
    order. Columns the rows leave out get the model's defaults (timestamps, version)."""
    ids = insert_rows(Person.__table__, people, return_ids=True)
    insert_rows(PersonNameKey.__table__, [{"key": key, "person_id": person_id}
                                          for person_id, person in zip(ids, people, strict=True)
                                          for key in name_keys(person["search_name"])])
    return ids
