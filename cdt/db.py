"""Declarative base with a constraint naming convention, SQLite pragmas (timestamps: cdt.core.clock)."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


PRIVATE_FILE = 0o600


def _sqlite_path(cargs, cparams) -> Path | None:
    """The file an SQLite connection opens (None: in memory)."""
    database = str(cargs[0] if cargs else cparams.get("database") or "")
    if cparams.get("uri"):
        parts = urlsplit(database)
        if "mode=memory" in parts.query or "mode=ro" in parts.query:
            return None
        database = unquote(parts.path)
    if not database or database == ":memory:":
        return None
    return Path(database)


def make_private(path: Path) -> None:
    """Create `path` empty and 0600 when missing; take the group's and others' rights away
    from it and its journal files (SQLite gives those the database file's mode)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        pass
    except OSError:
        return  # a missing folder...: SQLite reports it when it opens the file
    for item in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
        try:
            mode = item.stat().st_mode
            if mode & 0o077:
                os.chmod(item, mode & 0o700)
        except OSError:
            continue


@event.listens_for(Engine, "do_connect")
def _sqlite_private_file(dialect, connection_record, cargs, cparams):
    """The SQLite database (citizen IDs, phones) is readable by the app's user only, whatever
    the umask: created 0600, and an older world-readable file is tightened when opened."""
    if dialect.name != "sqlite":
        return
    path = _sqlite_path(cargs, cparams)
    if path is not None:
        make_private(path)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):  # pragma: no cover - trivial
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Deleted and overwritten content is zeroed, not left in free pages (erasure, cdt/privacy).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
