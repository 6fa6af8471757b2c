"""The one rule "inside a unit, on a date", and the one reading of a unit's validity dates.

Every row that has a place carries the ids of the units it lies in, its ancestor columns:
`province_id`, `district_id`, `commune_id` (a unit: its own id at its own level), and
`village_id` for rows that sit in a village (teams, team_stat). "Row R lies inside unit U" is
then one indexed comparison, R.<U.level>_id = U.id (R.id = U.id for a unit inside a village: the
village itself). Everything that asks the question calls this module: area scoping
(cdt/auth/scope.py), the coverage figures and gap lists (cdt/reports/queries.py), training's
areas (a session inside an area, a session serving a place), audit readers.

- `place_column(model, level)`: the column holding a row's unit at `level` (what roll-ups group by).
- `within(model, unit, on=None)`: rows of `model` whose place lies inside `unit` on the day `on`.
- `containing(model, unit, on=None)`: rows serving an area (`area_id`: training sessions) whose
  area contains `unit` on the day (the unit itself or a unit above it).
- `ancestor_ids(unit, on=None)`: the ids of the units containing `unit` on the day, top-down,
  the unit itself last.
- `valid_on(model, day)`: units valid on `day`. Both dates are inclusive and a missing one is
  open: valid_from <= day (or none) and valid_to >= day (or none); the pre-2025 map ends with
  valid_to = 2025-06-30, its last day.
- `place(row, unit)`: writes a row's ancestor columns from the unit it is placed in.

`model` may be a mapped class, an `aliased()` one, or a Table / an alias of one (`.c`).

Dates. A row's place is not dated yet: its ancestor columns hold it whatever the day, so `on`
changes nothing today. When places become dated (the 2025 map: villages whose commune changes on
2025-07-01), `on` says which placement to read, None meaning today; callers already pass the day
they mean (the reports their `as_of`, training the session's day, scoping today), so that change
is made here and nowhere else. `within` says where a row is; whether a unit exists on the day is
`valid_on`, asked separately.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, false, inspect, or_, true
from sqlalchemy.sql import ColumnElement, FromClause

from cdt.geo.models import AdminUnit


def _column(model: Any, name: str) -> Any:
    """The column `name` of a mapped class, an aliased class or a table (alias); None when absent."""
    if isinstance(model, FromClause):
        return model.c.get(name)
    return getattr(model, name, None)


def _is_unit(model: Any) -> bool:
    """Whether the rows of `model` are administrative units (admin_unit, or an alias of it)."""
    if isinstance(model, FromClause):
        return model.is_derived_from(AdminUnit.__table__)
    return inspect(model).mapper.class_ is AdminUnit


def place_column(model: Any, level: str, on: date | None = None) -> Any:
    """The column of `model` holding the id of a row's unit at `level` (None: rows of `model` are
    never inside a unit of that level, e.g. a training session inside a village)."""
    if level == "village" and _is_unit(model):
        return _column(model, "id")
    return _column(model, f"{level}_id")


def within(model: Any, unit: AdminUnit | None, on: date | None = None) -> ColumnElement[bool]:
    """SQL condition: the row's place lies inside `unit` (or is the unit) on the day `on`.

    `unit` None: everywhere. For a training session the place is the area it serves, so this is
    "a session inside an area" (what that area's coordinator may change, what its report counts)."""
    if unit is None:
        return true()
    column = place_column(model, unit.level, on)
    if column is None:
        return false()
    return column == unit.id


def ancestor_ids(unit: AdminUnit, on: date | None = None) -> list[int]:
    """Ids of the units containing `unit` on the day `on`, top-down, ending with the unit itself."""
    ids: list[int] = []
    for unit_id in (unit.province_id, unit.district_id, unit.commune_id, unit.id):
        if unit_id is not None and unit_id not in ids:
            ids.append(unit_id)
    return ids


def containing(model: Any, unit: AdminUnit, on: date | None = None) -> ColumnElement[bool]:
    """SQL condition: the row serves an area (`area_id`) that contains `unit` on the day `on` (the
    unit itself or a unit above it): "a session serving a place" (a district-wide session serves
    each of its communes and villages)."""
    return _column(model, "area_id").in_(ancestor_ids(unit, on))


def valid_on(model: Any, day: date) -> ColumnElement[bool]:
    """SQL condition: the unit is valid on `day` (both dates inclusive, a missing one open)."""
    valid_from, valid_to = _column(model, "valid_from"), _column(model, "valid_to")
    return and_(or_(valid_from.is_(None), valid_from <= day), or_(valid_to.is_(None), valid_to >= day))


def place(row: Any, unit: AdminUnit) -> None:
    """Write the ancestor columns of `row` from `unit`, the unit it is placed in (a team's village,
    a person's commune, the area a session serves)."""
    row.province_id = unit.province_id
    row.district_id = unit.district_id
    row.commune_id = unit.commune_id
