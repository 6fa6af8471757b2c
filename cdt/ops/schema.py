"""The schema version: Alembic's revision recorded in a database against the migration scripts."""
from __future__ import annotations

from functools import lru_cache

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from cdt.config import ROOT


@lru_cache(maxsize=1)
def scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config)


def code_heads() -> frozenset[str]:
    """The head revision(s) of the migration scripts shipped with this code."""
    return frozenset(scripts().get_heads())


def database_revisions(connection: Connection) -> frozenset[str]:
    """The revision(s) recorded in the database (empty: never migrated)."""
    return frozenset(MigrationContext.configure(connection).get_current_heads())


def known(revision: str) -> bool:
    """Whether this code's migration scripts contain the revision."""
    try:
        return scripts().get_revision(revision) is not None
    except Exception:  # alembic raises for an unknown or malformed id
        return False
