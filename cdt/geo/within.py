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

Dates. Units belong to a map (validity dates); a village keeps its identity while its commune
changes (cdt.geo.models.VillagePlace: the 2025 reform, a village moved). The day `on` (None:
today, the registry's clock) says which placement to read, and an ended unit is read on its last
day ("inside old district 085" means where its villages were on 2025-06-30). Rows carry the
latest placement in their ancestor columns, so the answer is one column comparison whenever no
placement begins after the day (`columns_hold`, one index lookup); otherwise the village's dated
placement is read (teams, team_stat and villages by their village; people by their current
commune or their teams' villages; training sessions by the area they serve, whose own ancestors
never change; other rows, e.g. audit events, by their columns). `within` says where a row is; whether a unit exists on the
day is `valid_on`, asked separately.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, case, false, func, inspect, or_, select, true
from sqlalchemy.sql import ColumnElement, FromClause

from cdt.extensions import db
from cdt.geo.models import AdminUnit, VillagePlace


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


def _table_name(model: Any) -> str:
    if isinstance(model, FromClause):
        return getattr(getattr(model, "element", model), "name", "")
    return inspect(model).mapper.local_table.name


def _day(on: date | None) -> date:
    if on is not None:
        return on
    from cdt.core.clock import today

    return today()


def placement_day(unit: AdminUnit | None, on: date | None = None) -> date:
    """The day whose placement answers "inside `unit` on `on`": `on` (None: today), or the unit's
    last day when it ended before."""
    day = _day(on)
    if unit is not None and unit.valid_to is not None and unit.valid_to < day:
        return unit.valid_to
    return day


def columns_hold(day: date) -> bool:
    """Whether the rows' ancestor columns hold the placement valid on `day`: no village placement
    begins after it (the columns hold the latest one)."""
    # max() reads the end of the valid_from index whatever the planner's statistics (a filtered
    # LIMIT 1 scanned all ~160,000 placements on PostgreSQL before ANALYZE: ~15 ms a call).
    latest = db.session.scalar(select(func.max(VillagePlace.valid_from)))
    return latest is None or latest <= day


def _dated(place: Any, day: date) -> ColumnElement[bool]:
    return and_(or_(place.valid_from.is_(None), place.valid_from <= day),
                or_(place.valid_to.is_(None), place.valid_to >= day))


def _village_key(model: Any) -> Any:
    """The column naming a row's village when its place is a village's (None otherwise)."""
    if _is_unit(model):
        return _column(model, "id")
    return _column(model, "village_id")


def place_column(model: Any, level: str, on: date | None = None) -> Any:
    """The column (or expression) of `model` holding the id of a row's unit at `level` on the day
    `on` (None: rows of `model` are never inside a unit of that level, e.g. a training session
    inside a village). Group by its label, not the expression (a correlated subquery when the
    placement on that day is not the rows' latest)."""
    if level == "village" and _is_unit(model):
        return _column(model, "id")
    column = _column(model, f"{level}_id")
    village = _village_key(model)
    if column is None or level == "village" or columns_hold(_day(on)):
        return column
    area = _column(model, "area_id")
    if village is None and area is not None:
        # A row serving an area (a training session): the area's own ancestors, which never change.
        served = AdminUnit.__table__.alias("served")
        return select(served.c[f"{level}_id"]).where(served.c.id == area).scalar_subquery()
    if village is None:
        return column
    place = VillagePlace.__table__.alias("place_on")
    dated = (select(place.c[f"{level}_id"])
             .where(place.c.village_id == village, _dated(place.c, _day(on)))
             .limit(1).scalar_subquery())
    if _is_unit(model):
        # Units other than villages have one place (their own ancestors) for as long as they exist.
        return case((_column(model, "level") == "village", dated), else_=column)
    return dated


def within(model: Any, unit: AdminUnit | None, on: date | None = None) -> ColumnElement[bool]:
    """SQL condition: the row's place lies inside `unit` (or is the unit) on the day `on` (None:
    today; an ended unit: its last day).

    `unit` None: everywhere. For a training session the place is the area it serves, so this is
    "a session inside an area" (what that area's coordinator may change, what its report counts)."""
    if unit is None:
        return true()
    if unit.level == "village":
        column = place_column(model, "village")
        return false() if column is None else column == unit.id
    column = _column(model, f"{unit.level}_id")
    if column is None:
        return false()
    day = placement_day(unit, on)
    if _is_unit(model) and unit.valid_from is not None:
        return or_(_inside_by_columns(model, column, unit, day), _predecessor_of(model, unit))
    if (unit.valid_from is not None and _village_key(model) is None and _column(model, "area_id") is None
            and _table_name(model) != "person"):
        # A row fixed to a unit when recorded (an audit event's province): inside the unit, or inside
        # a unit of an earlier map that went into it (new Lào Cai's staff read old Lào Cai's events).
        earlier = select(AdminUnit.id).where(AdminUnit.level == unit.level, _predecessor_of(AdminUnit, unit))
        return or_(column == unit.id, column.in_(earlier))
    return _inside_by_columns(model, column, unit, day)


def _predecessor_of(model: Any, unit: AdminUnit) -> ColumnElement[bool]:
    """Units of an earlier map whose area went (wholly or in part) into `unit`: an old commune or
    province succeeded by a unit inside it, and (for a province) an old district one of whose
    communes was. What a new unit's staff may read of the history of their area."""
    from cdt.geo.models import UnitSuccession

    successor = AdminUnit.__table__.alias("succ_unit")
    old = AdminUnit.__table__.alias("old_unit")
    into = (select(UnitSuccession.predecessor_id)
            .join(successor, successor.c.id == UnitSuccession.successor_id)
            .where(successor.c[f"{unit.level}_id"] == unit.id))
    level = _column(model, "level")
    inside = _column(model, "id").in_(into)
    if unit.level == "province":  # a district is inside a province, never inside a commune
        districts = select(old.c.district_id).where(old.c.id.in_(into), old.c.district_id.is_not(None))
        inside = or_(inside, _column(model, "id").in_(districts))
    return and_(level != "village", _column(model, "valid_to") < unit.valid_from, inside)


def _inside_by_columns(model: Any, column: Any, unit: AdminUnit, day: date) -> ColumnElement[bool]:
    if columns_hold(day):
        return column == unit.id
    placed = select(VillagePlace.village_id).where(
        getattr(VillagePlace, f"{unit.level}_id") == unit.id, _dated(VillagePlace, day))
    village = _village_key(model)
    if village is not None:
        if _is_unit(model):
            return or_(and_(_column(model, "level") != "village", _column(model, f"{unit.level}_id") == unit.id),
                       and_(_column(model, "level") == "village", village.in_(placed)))
        return village.in_(placed)
    area = _column(model, "area_id")
    if area is not None:
        # A row serving an area (a training session): inside the unit by the area's own ancestors.
        return area.in_(select(AdminUnit.id).where(getattr(AdminUnit, f"{unit.level}_id") == unit.id))
    if _table_name(model) == "person":
        # A person's place is a commune (the one that registered them), not dated: inside the unit
        # by that commune, or as a member of a team of a village placed in the unit on the day.
        # The registry's tables by name: geo sits below the registry and never imports its models.
        membership, team = db.metadata.tables["membership"], db.metadata.tables["team"]
        in_teams = (select(membership.c.person_id).join(team, team.c.id == membership.c.team_id)
                    .where(team.c.village_id.in_(placed)))
        return or_(column == unit.id, _column(model, "id").in_(in_teams))
    return column == unit.id


def ancestor_ids(unit: AdminUnit, on: date | None = None) -> list[int]:
    """Ids of the units containing `unit` on the day `on` (None: today), top-down, ending with the
    unit itself (a village: its placement on that day)."""
    ids: list[int] = []
    place: Any = unit
    if unit.level == "village" and not columns_hold(_day(on)):
        dated = db.session.execute(select(VillagePlace.province_id, VillagePlace.district_id, VillagePlace.commune_id)
                                   .where(VillagePlace.village_id == unit.id, _dated(VillagePlace, _day(on)))
                                   .limit(1)).first()
        if dated is not None:
            place = dated
    for unit_id in (place.province_id, place.district_id, place.commune_id, unit.id):
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
