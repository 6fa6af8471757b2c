"""The data version, and a cache of computed figures keyed on it.

`data_version` holds one row whose `token` changes in the same transaction as every change to
the registry's data: a listener on every engine notes that a connection wrote to a table other
than the few that no figure reads (`NO_FIGURES`: the audit trail, accounts, API tokens, ...),
and just before that transaction commits it writes a new random token. The token therefore
names a state of the data: two readers that see the same token see the same figures, whatever
the process, the worker or the server, and a reader never sees a new token with old data (the
token and the change commit together).

`cached(name, args, compute)` keeps the result of `compute()` in this process under (database,
token, name, args) (not inside a transaction that has written and not yet committed: it computes): the coverage report and the unit pages ask the database for the token (one
primary-key lookup) and recompute only after a change. Writes that bypass the application (SQL
typed in a shell) do not change the token: the entries live at most `CDT_RESULT_CACHE_SECONDS`
(default 600 s), and `CDT_RESULT_CACHE_SECONDS=0` turns the cache off.

A restored backup carries the token of its moment, which names exactly its data: an entry under
that token is right for it. A database without the table (one not yet migrated) is never cached.
"""
from __future__ import annotations

import copy
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import String, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import Pool

from cdt.extensions import db

T = TypeVar("T")

# Tables whose rows no figure reads: writing them leaves the token as it is (a log-in updates
# the account, a viewed person page writes an audit event: neither changes a report).
NO_FIGURES = frozenset({
    "audit_event", "user_account", "api_token", "consent_record", "privacy_request", "public_holiday",
    "team_link", "alembic_version", "data_version",
})
_READ_ONLY = ("SELECT", "PRAGMA", "SET", "SHOW", "SAVEPOINT", "RELEASE", "ROLLBACK", "EXPLAIN", "BEGIN",
              "COMMIT", "ANALYZE", "VACUUM")
_TARGET = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+[\"`]?(\w+)",
    re.IGNORECASE)
_CHANGED = "cdt_data_changed"
_TOKEN = "cdt_data_version"
MAX_ENTRIES = 256
MAX_ROWS = 5000  # a result with more rows than this (a nation by village) is not kept


class DataVersion(db.Model):
    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


@event.listens_for(DataVersion.__table__, "after_create")
def _first_row(target, connection, **kw) -> None:
    connection.execute(target.insert().values(id=1, token=secrets.token_hex(16)))


def writes_figures(statement: str) -> bool:
    """True when the SQL statement may change a figure: a write to a table not in NO_FIGURES (a
    statement of another kind that writes, e.g. WITH ... INSERT or DDL, counts as a change)."""
    head = statement.lstrip()[:12].upper()
    if head.startswith(_READ_ONLY):
        return False
    if head.startswith("WITH"):
        return re.search(r"\b(INSERT|UPDATE|DELETE)\b", statement, re.IGNORECASE) is not None
    match = _TARGET.match(statement)
    if match is None:
        return True
    return match.group(1).lower() not in NO_FIGURES


@event.listens_for(Engine, "after_cursor_execute")
def _note_change(conn, cursor, statement, parameters, context, executemany) -> None:
    if not conn.info.get(_CHANGED) and writes_figures(statement):
        conn.info[_CHANGED] = True


@event.listens_for(Engine, "rollback")
def _forget_change(conn) -> None:
    conn.info.pop(_CHANGED, None)
    conn.info.pop(_TOKEN, None)


@event.listens_for(Pool, "checkin")
def _forget_token(dbapi_connection, connection_record) -> None:
    connection_record.info.pop(_TOKEN, None)


@event.listens_for(Engine, "commit")
def _new_token(conn) -> None:
    """Just before the commit: a new token, in the same transaction as the change (the raw
    cursor: no event of its own). On PostgreSQL inside a savepoint, so that a database without
    the table (a migration in progress) still commits."""
    conn.info.pop(_TOKEN, None)
    if not conn.info.pop(_CHANGED, False):
        return
    update = f"UPDATE data_version SET token = '{secrets.token_hex(16)}' WHERE id = 1"
    raw = conn.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        if conn.dialect.name == "postgresql" and not getattr(raw, "autocommit", False):
            cursor.execute("SAVEPOINT cdt_data_version")
            try:
                cursor.execute(update)
            except Exception:
                cursor.execute("ROLLBACK TO SAVEPOINT cdt_data_version")
            else:
                cursor.execute("RELEASE SAVEPOINT cdt_data_version")
        else:
            # SQLite (a failed statement leaves the transaction as it was), or a connection in
            # autocommit mode (each statement is its own transaction: no savepoint there).
            try:
                cursor.execute(update)
            except Exception:
                pass
    finally:
        cursor.close()


def token() -> str | None:
    """The current data version (None: no row, nothing is cached), read once a transaction (a
    page asks several times; the commit, the rollback and the connection's return forget it)."""
    info = db.session.connection().info
    if _TOKEN not in info:
        info[_TOKEN] = db.session.scalar(select(DataVersion.token).where(DataVersion.id == 1))
    return info[_TOKEN]


class ResultCache:
    """A small LRU of computed results with an age limit, shared by the threads of a process."""

    def __init__(self, seconds: float, entries: int = MAX_ENTRIES):
        self.seconds = seconds
        self.entries = entries
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return False, None
            if time.monotonic() - item[0] > self.seconds:
                del self._items[key]
                return False, None
            self._items.move_to_end(key)
            return True, item[1]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def init_app(app) -> None:
    app.extensions["cdt_result_cache"] = ResultCache(float(app.config.get("CDT_RESULT_CACHE_SECONDS", 600)))


def cached(name: str, args: tuple, compute: Callable[[], T]) -> T:
    """compute(), or the copy of its result kept for this state of the data."""
    cache: ResultCache | None = current_app.extensions.get("cdt_result_cache")
    if cache is None or cache.seconds <= 0:
        return compute()
    if db.session.connection().info.get(_CHANGED):
        return compute()  # this transaction has changed data not yet committed: its own figures
    version = token()
    if version is None:
        return compute()
    key = (str(db.engine.url), version, name, args)
    found, value = cache.get(key)
    if not found:
        value = compute()
        if _rows(value) <= MAX_ROWS:
            cache.put(key, value)
    return _copy(value)


def _rows(value) -> int:
    if isinstance(value, list):
        return len(value)
    if isinstance(value, tuple):
        return sum(_rows(item) for item in value)
    return 1


def _copy(value):
    """A copy a caller may change (sort a list, set a row's field) without changing the kept value:
    lists and tuples copied with a shallow copy of each item (rows of numbers and strings)."""
    if isinstance(value, list):
        return [copy.copy(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_copy(item) for item in value)
    return copy.copy(value)
