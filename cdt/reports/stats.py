"""team_stat upkeep: install the triggers and recount every row (`flask cdt stats rebuild`).

The triggers (cdt/reports/models.py) keep team_stat exact on every write; `rebuild` is for
recovery (a database whose triggers were missing for a while) and for a fresh migration.
"""
from __future__ import annotations

import time

import click
from flask.cli import AppGroup
from sqlalchemy import func, select, text

from cdt.extensions import db
from cdt.reports.models import TeamStat, drop_trigger_ddl, rebuild_sql, trigger_ddl


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
        connection.execute(text("ANALYZE team, membership, person"))
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


stats_group = AppGroup("stats", help="Maintained report figures (team_stat).")


@stats_group.command("rebuild")
def rebuild_command() -> None:
    """Recount team_stat from the registry (and install its triggers if missing)."""
    started = time.perf_counter()
    rows = rebuild()
    db.session.commit()
    click.echo(f"team_stat rebuilt: {rows:,} teams in {time.perf_counter() - started:.1f} s.")
