"""Backup and restore of the whole database (`flask cdt backup PATH`, `flask cdt restore PATH`).

- SQLite: SQLite's online backup API copies the database page by page inside one read
  transaction: a consistent snapshot taken while the app goes on writing (WAL mode lets
  writers continue). The copy is a plain self-contained SQLite file.
- PostgreSQL: `pg_dump --format=custom`, which reads one snapshot of the database while the
  app writes; `pg_restore` restores it (in one transaction).

A backup is written to a temporary file beside PATH and renamed into place only when it is
complete and checked, so PATH is never half a backup. A restore goes into an empty database
(no tables); a database that holds tables is refused unless `force` is given. The backup's
schema version (Alembic revision) must be one this code knows: a backup from a newer version
is refused, an older one is restored and then needs `flask db upgrade`.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from cdt.ops import schema

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why (one line)."""


@dataclass
class Result:
    path: Path
    kind: str  # "sqlite" or "postgresql"
    revisions: frozenset[str]
    size: int = 0
    note: str = ""


def kind_of_url(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"backups of a {backend} database are not supported")
    return backend


def kind_of_file(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as error:
        raise BackupError(f"{path}: {error.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path}: not a backup made by `flask cdt backup` (neither SQLite nor pg_dump custom format)")


# --------------------------------------------------------------------------- helpers

def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for pg_dump/pg_restore, the password passed in the environment
    (never on the command line, where `ps` shows it)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} was not found: install the PostgreSQL client (apt-get install postgresql-client)")
    return path


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        message = (result.stderr or result.stdout or "").strip().splitlines()
        raise BackupError(f"{Path(args[0]).name} failed: " + (message[-1] if message else f"status {result.returncode}"))
    return result


def _revisions_of_url(url: str) -> frozenset[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return schema.database_revisions(connection)
    finally:
        engine.dispose()


def _read_only(path: Path, **kw) -> sqlite3.Connection:
    """A read-only connection (the path escaped as a URI: '?' or '#' in a file name stay literal)."""
    return sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, **kw)


def _sqlite_revisions(path: Path) -> frozenset[str]:
    con = _read_only(path)
    try:
        return frozenset(row[0] for row in con.execute("SELECT version_num FROM alembic_version"))
    except sqlite3.DatabaseError:
        return frozenset()
    finally:
        con.close()


_COPY = re.compile(r"^COPY \S*alembic_version \(version_num\) FROM stdin;$")


def _pgdump_revisions(path: Path) -> frozenset[str]:
    """The alembic_version rows inside a custom-format dump (pg_restore prints them as COPY data)."""
    out = _run([_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(path)],
               dict(os.environ)).stdout
    revisions, inside = set(), False
    for line in out.splitlines():
        if _COPY.match(line):
            inside = True
        elif inside and line == "\\.":
            break
        elif inside and line:
            revisions.add(line.strip())
    return frozenset(revisions)


def _temporary_beside(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(fd)
    return Path(name)


# --------------------------------------------------------------------------- backup

def backup(url: str, target: Path) -> Result:
    """Write a consistent backup of the database at `url` to `target` (replaced atomically)."""
    kind = kind_of_url(url)
    target = Path(target)
    partial = _temporary_beside(target)
    try:
        if kind == "sqlite":
            revisions = _backup_sqlite(_sqlite_path(url), partial)
        else:
            uri, env = _libpq(url)
            _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                  f"--file={partial}", f"--dbname={uri}"], env)
            revisions = _pgdump_revisions(partial)
        if not revisions:
            raise BackupError("the database has no schema version (alembic_version): run `flask db upgrade` first")
        os.chmod(partial, 0o600)  # a backup holds everybody's personal data
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return Result(target, kind, revisions, target.stat().st_size)


def _backup_sqlite(source: Path, partial: Path) -> frozenset[str]:
    if not source.exists():
        raise BackupError(f"{source}: no such database")
    src = _read_only(source, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)  # all pages in one step: one read transaction, one snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        check = dst.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the copy failed its integrity check: {check}")
    finally:
        dst.close()
        src.close()
    return _sqlite_revisions(partial)


# --------------------------------------------------------------------------- restore

def revisions_in_backup(path: Path) -> tuple[str, frozenset[str]]:
    kind = kind_of_file(path)
    return kind, (_sqlite_revisions(path) if kind == "sqlite" else _pgdump_revisions(path))


def check_schema(revisions: frozenset[str]) -> str:
    """"" when the backup's schema is this code's; a note when it is older; BackupError when unknown."""
    if not revisions:
        raise BackupError("the backup has no schema version (alembic_version): not a backup of this registry")
    unknown = sorted(r for r in revisions if not schema.known(r))
    if unknown:
        raise BackupError(f"the backup's schema version {', '.join(unknown)} is unknown to this version of the "
                          "code (a backup of a newer version?): restore it with that version")
    if revisions != schema.code_heads():
        return "the backup's schema is older than this code: run `flask db upgrade` now"
    return ""


def tables_in(url: str) -> list[str]:
    """The tables of the target database (a missing SQLite file has none)."""
    if kind_of_url(url) == "sqlite" and not _sqlite_path(url).exists():
        return []
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return inspect(connection).get_table_names()
    finally:
        engine.dispose()


def restore(url: str, source: Path, force: bool = False) -> Result:
    """Restore a backup into the database at `url`: empty, or any with force=True."""
    source = Path(source)
    kind = kind_of_url(url)
    backup_kind, revisions = revisions_in_backup(source)
    if backup_kind != kind:
        raise BackupError(f"{source} is a {backup_kind} backup and the database is {kind}: "
                          "restore it into a database of the same kind")
    note = check_schema(revisions)
    existing = tables_in(url)
    if existing and not force:
        raise BackupError(f"the database is not empty ({len(existing)} tables): restore into an empty database, "
                          "or add --force to replace its content")
    if kind == "sqlite":
        _restore_sqlite(source, _sqlite_path(url))
    else:
        uri, env = _libpq(url)
        args = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                f"--dbname={uri}"]
        if existing:
            args += ["--clean", "--if-exists"]
        _run([*args, str(source)], env)
    restored = _revisions_of_url(url)
    if restored != revisions:
        raise BackupError("the restored database does not carry the backup's schema version")
    return Result(source, kind, revisions, source.stat().st_size, note)


def _restore_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = _read_only(source)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)  # replaces every page of the target, through its own journal
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
        src.close()
