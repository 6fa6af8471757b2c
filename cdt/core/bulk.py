"""Insert many rows of one table with as few statements as the database allows.

- PostgreSQL: ONE statement, `INSERT ... SELECT ... FROM unnest(<one array per column>)`: the
  rows travel as arrays (no 20,000-row VALUES text for the driver to build and the server to
  parse), and a statement-level trigger runs once for all of them;
- SQLite: one executemany (the driver's C loop); the new ids, when asked for, are the
  consecutive numbers after the largest id (checked), under the transaction's write lock.

Column defaults of the model (timestamps, version counters) are applied to columns the rows do
not give, as an ORM insert would. Runs on the session's connection, in the caller's transaction.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, func, insert, select, text

from cdt.extensions import db


def _defaults(table: Table, given: set[str]) -> dict[str, Any]:
    """Values of the Python-side defaults of the columns not given (one evaluation for all rows)."""
    values: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.key in given or default is None or column.primary_key:
            continue
        if default.is_scalar:
            values[column.key] = default.arg
        elif default.is_callable:
            values[column.key] = default.arg(None)  # SQLAlchemy wraps it to take an execution context
    return values


def insert_rows(table: Table, rows: Sequence[dict[str, Any]], *, return_ids: bool = False) -> list[int]:
    """Insert `rows` (dicts with the same keys) into `table`; with `return_ids` the new primary
    keys (an integer `id`), in the order of `rows`."""
    if not rows:
        return []
    connection = db.session.connection()
    given = list(rows[0])
    defaults = _defaults(table, set(given))
    if connection.dialect.name != "postgresql":
        values = [{**defaults, **row} for row in rows] if defaults else list(rows)
        if not return_ids:
            connection.execute(insert(table), values)
            return []
        # RETURNING in parameter order costs one statement per row on SQLite. The transaction
        # holds SQLite's one write lock (writers call lock_for_change first), so nobody else
        # inserts meanwhile and SQLite numbers the new rows max(id) + 1, + 2, ...: checked below.
        before = connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
        connection.execute(insert(table), values)
        top, count = connection.execute(select(func.max(table.c.id), func.count()).where(table.c.id > before)).one()
        if (top, count) != (before + len(values), len(values)):
            raise RuntimeError(f"{table.name}: new ids not consecutive (another writer?); nothing is kept")
        return list(range(before + 1, before + len(values) + 1))
    dialect = connection.dialect
    names = given + list(defaults)
    arrays = ", ".join(f"CAST(:a{i} AS {table.c[name].type.compile(dialect=dialect)}[])"
                       for i, name in enumerate(given))
    columns = ", ".join(f'"{name}"' for name in names)
    picked = ", ".join([f"u.c{i}" for i in range(len(given))] + [f":d{i}" for i in range(len(defaults))])
    aliases = ", ".join(f"c{i}" for i in range(len(given)))
    sql = (f'INSERT INTO "{table.name}" ({columns}) SELECT {picked} FROM unnest({arrays}) '
           f"WITH ORDINALITY AS u({aliases}, n) ORDER BY u.n")
    params = {f"a{i}": [row[name] for row in rows] for i, name in enumerate(given)}
    params.update({f"d{i}": value for i, value in enumerate(defaults.values())})
    if not return_ids:
        connection.execute(text(sql), params)
        return []
    # The ids come from the table's sequence, called row after row in the ORDER BY's order, so
    # they increase in the order of `rows` (SQLAlchemy's insertmanyvalues relies on the same).
    return sorted(connection.execute(text(sql + " RETURNING id"), params).scalars())
