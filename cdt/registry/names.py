"""The name keys that make the search an index range (rows of person_name_key); the text functions
(`fold`, `name_keys`, `team_search_name`) live in cdt/core/text.py.

A person's folded name "nguyen van an" gives the keys "nguyen van an", "van an" and "an" (table
person_name_key): a search text matches a person when it is the start of one of their keys, that is
when it starts at a word of the name ("van a" finds "Nguyễn Văn An", "an" finds every An, "guyen"
finds nobody). The keys are written with the person (ORM events below) and by `rebuild_name_keys()`
after bulk loads that bypass the ORM (the demo).
"""
from __future__ import annotations

from sqlalchemy import bindparam, event, inspect, select
from sqlalchemy.orm import aliased

from cdt.core.text import name_keys, team_search_name
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.registry.models import Person, PersonNameKey, Team


def _write_keys(connection, person_id: int, search_name: str | None, replace: bool) -> None:
    table = PersonNameKey.__table__
    if replace:
        connection.execute(table.delete().where(table.c.person_id == person_id))
    rows = [{"key": key, "person_id": person_id} for key in name_keys(search_name)]
    if rows:
        connection.execute(table.insert(), rows)


def rebuild_team_search_names(session) -> None:
    village = aliased(AdminUnit)
    rows = session.execute(select(Team.id, Team.name, village.name).join(village, village.id == Team.village_id)).all()
    table = Team.__table__
    stmt = table.update().where(table.c.id == bindparam("b_id")).values(search_name=bindparam("b_name"))
    for start in range(0, len(rows), 20_000):
        batch = [{"b_id": tid, "b_name": team_search_name(name, vname)} for tid, name, vname in rows[start:start + 20_000]]
        session.execute(stmt, batch)


def rebuild_name_keys(session=None, chunk: int = 20_000) -> int:
    """Recompute every person's name keys and every team's folded name (after a bulk load that
    bypassed the ORM); returns the number of person keys."""
    session = session or db.session
    rebuild_team_search_names(session)
    table = PersonNameKey.__table__
    session.execute(table.delete())
    written = 0
    last_id = 0
    while True:
        rows = session.execute(
            select(Person.id, Person.search_name).where(Person.id > last_id).order_by(Person.id).limit(chunk)
        ).all()
        if not rows:
            break
        batch = [{"key": key, "person_id": pid} for pid, name in rows for key in name_keys(name)]
        if batch:
            session.execute(table.insert(), batch)
        written += len(batch)
        last_id = rows[-1][0]
    return written


def install_listeners() -> None:
    """Keep person_name_key in step with Person.search_name on every ORM flush."""
    if getattr(install_listeners, "done", False):
        return
    install_listeners.done = True

    @event.listens_for(Person, "after_insert")
    def _after_insert(mapper, connection, target):
        _write_keys(connection, target.id, target.search_name, replace=False)

    @event.listens_for(Person, "after_update")
    def _after_update(mapper, connection, target):
        if inspect(target).attrs.search_name.history.has_changes():
            _write_keys(connection, target.id, target.search_name, replace=True)


install_listeners()
