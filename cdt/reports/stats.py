"""team_stat upkeep: install the triggers and recount every row (`flask cdt stats rebuild`), and
insert many memberships with one recount per team (`insert_memberships`, the import).

The triggers (cdt/reports/models.py) keep team_stat exact on every write; `rebuild` is for
recovery (a database whose triggers were missing for a while) and for a fresh migration.
"""
from __future__ import annotations

import time
from collections.abc import Iterable

import click
from flask.cli import AppGroup
from sqlalchemy import func, select, text

from cdt.core.bulk import insert_rows
from cdt.extensions import db
from cdt.reports.models import (
    COLUMNS,
    TeamStat,
    _select,
    drop_trigger_ddl,
    rebuild_sql,
    trigger_ddl,
    triggers_installed,
)

_CHUNK = 500


def rebuild() -> int:
    """Install the triggers if missing and recount every team's row; returns the number of rows.
    Runs in the caller's transaction (commit afterwards)."""
    connection = db.session.connection()
    dialect = connection.dialect.name
    for statement in trigger_ddl(dialect):
        connection.execute(text(statement))
    if dialect == "postgresql":
        connection.execute(text("LOCK TABLE team_stat IN EXCLUSIVE MODE"))
        # Right after a bulk load the planner has no statistics and would scan membership once per
        # team (the national recount ran >15 min); with them it is index lookups.
        connection.execute(text("ANALYZE team, membership, person, admin_unit, village_place"))
    for statement in rebuild_sql(dialect):
        connection.execute(text(statement))
    return db.session.scalar(select(func.count()).select_from(TeamStat))


def suspend() -> None:
    """Drop the triggers in the caller's transaction, for a bulk load that ends with `rebuild()`
    (one recount instead of one per row). Until then the report cannot take the fast path (it
    checks that the triggers exist), so its figures stay exact meanwhile."""
    connection = db.session.connection()
    for statement in drop_trigger_ddl(connection.dialect.name):
        connection.execute(text(statement))


def resume() -> None:
    """Reinstall the triggers that `suspend()` dropped (same transaction); recount with `recount`."""
    connection = db.session.connection()
    for statement in trigger_ddl(connection.dialect.name):
        connection.execute(text(statement))


def current_teams(people: Iterable[int]) -> set[int]:
    """Ids of the teams where these people are current members (their `shared` counts depend on
    every one of their memberships)."""
    membership = db.metadata.tables["membership"]
    ids = sorted(set(people))
    teams: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        teams.update(db.session.scalars(select(membership.c.team_id).where(
            membership.c.left_on.is_(None), membership.c.person_id.in_(ids[start:start + _CHUNK]))))
    return teams


def recount(teams: Iterable[int]) -> None:
    """Recount these teams' rows from scratch, in the caller's transaction (what a trigger does
    for one team, done once for many). Takes no row locks: for a writer that holds SQLite's write
    lock (on PostgreSQL the statement-level triggers recount, with their locks)."""
    ids = sorted(set(teams))
    connection = db.session.connection()
    dialect = connection.dialect.name
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        listed = ", ".join(str(int(i)) for i in chunk)
        connection.execute(text(f"DELETE FROM team_stat WHERE team_id IN ({listed})"))
        connection.execute(text(f"INSERT INTO team_stat ({COLUMNS}) {_select(f't.id IN ({listed})', dialect)}"))


def insert_memberships(rows: list[dict]) -> None:
    """Insert many memberships (dicts with person_id, team_id, role, joined_on) in the caller's
    transaction, with each affected team's team_stat row recounted ONCE, not once per row (a
    row-by-row recount grows with the square of a team's size: 20,000 rows into one commune took
    minutes). Same result as the triggers, exact afterwards:

    - PostgreSQL: one INSERT statement (unnest of arrays), so the statement-level trigger runs
      once, with its locks (concurrent writers of the same teams or people serialise as always);
    - SQLite: the row-level triggers are dropped for this transaction (the DDL is part of it: a
      rollback or a killed process brings them back untouched), the rows inserted by executemany,
      the teams concerned recounted, the triggers reinstalled before the commit. SQLite has one
      writer at a time, so nobody writes between the insert and the recount, and readers see
      the state before or after the whole transaction.

    The teams concerned: the memberships' teams and the people's other current teams (their
    `shared` counts). Call `lock_for_change` first, as every writer does."""
    if not rows:
        return
    connection = db.session.connection()
    table = db.metadata.tables["membership"]
    if connection.dialect.name == "postgresql" or not triggers_installed(connection):
        # PostgreSQL: one statement, one run of the statement-level trigger. No triggers (team_stat
        # not kept: the report counts live): nothing to recount.
        insert_rows(table, rows)
        return
    suspend()
    insert_rows(table, rows)
    recount({r["team_id"] for r in rows} | current_teams(r["person_id"] for r in rows))
    resume()


stats_group = AppGroup("stats", help="Maintained report figures (team_stat).")


@stats_group.command("rebuild")
def rebuild_command() -> None:
    """Recount team_stat from the registry (and install its triggers if missing)."""
    started = time.perf_counter()
    rows = rebuild()
    db.session.commit()
    click.echo(f"team_stat rebuilt: {rows:,} teams in {time.perf_counter() - started:.1f} s.")
