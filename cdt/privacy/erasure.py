"""Erasure: one person anonymised irreversibly, everywhere (Law 91/2025/QH15, right to erasure).

What is erased, and what stays so that figures stay right:
- the person's row: name, folded name (and so every name key of `person_name_key`), birth date,
  phone, citizen ID (encrypted value and keyed hash), position, restriction are cleared; the
  row stays, with its place (commune), gender, ethnicity, youth-union and first-training marks,
  so every count of a past date (members, youth, trained, per team) is unchanged. `erased_at`
  marks it; lists, search and exports leave it out (cdt/privacy/rules.py);
- memberships, invitations and attendance keep their rows: they hold ids and dates only, no
  personal value (a team keeps its member count for past dates, a session its attendance);
- consent records keep their dates, method and notice version (evidence, no personal value);
  rights requests keep kind, dates and status, their free texts (details, reasons, outcome) are
  cleared;
- the audit trail holds field names, never values (cdt/audit/service.py): nothing to scrub; the
  erasure itself is recorded (`person.erase`, no value);
- uploaded import files still waiting for confirmation that mention the person (name, phone or
  citizen ID in a cell) are deleted; a file that cannot be read is deleted too;
- on SQLite, `secure_delete` (cdt/db.py) zeroes what is overwritten, and the write-ahead log is
  checkpointed and truncated so no old page keeps the values.

`ERASE_HOOKS`: functions `hook(person)` run inside the erasure's transaction by features that keep
more about a person (the consent records add theirs here).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text, update

from cdt.audit.service import record
from cdt.core.clock import utcnow
from cdt.core.text import ascii_digits, fold, vi_sort_key
from cdt.core.transactions import transactional
from cdt.extensions import db
from cdt.registry.models import Person

log = logging.getLogger("cdt.privacy")

ERASED_NAME = "—"
ERASE_HOOKS: list[Callable[[Person], None]] = []


@dataclass(frozen=True)
class Erased:
    """What identified the person (kept in memory only, to find the uploads that mention them)."""

    full_name: str
    phone: str | None
    citizen_id: str | None

    def found_in(self, cells: list[str]) -> bool:
        name = fold(self.full_name)
        phone_digits = (self.phone or "").lstrip("+")[2:] if self.phone else ""
        for cell in cells:
            if name and name in fold(cell):
                return True
            digits = "".join(ch for ch in ascii_digits(cell) if ch.isdigit())
            if self.citizen_id and self.citizen_id in digits:
                return True
            if phone_digits and len(phone_digits) >= 8 and phone_digits in digits:
                return True
        return False


def _clear_requests(person: Person) -> None:
    """The person's rights requests stay in the register (kind, dates, status: evidence that they
    were answered in time) without their free texts, which may name the person."""
    from cdt.privacy.models import PrivacyRequest

    db.session.execute(update(PrivacyRequest).where(PrivacyRequest.person_id == person.id)
                       .values(details=None, extension_reason=None, outcome=None))


def _clear(person: Person) -> Erased:
    erased = Erased(person.full_name, person.phone, person.citizen_id)
    person.full_name = ERASED_NAME
    person.search_name = ""  # no name key is written for an empty name (cdt/registry/names.py)
    person.sort_name = vi_sort_key(ERASED_NAME)  # the old key encodes the name, letter by letter
    person.birth_date = None
    person.phone = None
    person.citizen_id = None
    person.position = None
    person.restricted_at = None
    person.restricted_by_id = None
    person.erased_at = utcnow()
    _clear_requests(person)
    for hook in ERASE_HOOKS:
        hook(person)
    return erased


@transactional
def _erase_in_database(person: Person, user: Any, source: str) -> Erased:
    try:
        erased = _clear(person)
        record("person.erase", person, details={"source": source}, user=user)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return erased


def erase_person(person: Person, user: Any = "current", *, source: str = "request") -> None:
    """Anonymise `person` for good (see the module's docstring). `source`: `request` (a person's
    erasure request, from the page) or `retention` (flask cdt privacy purge)."""
    if person.erased_at is not None:
        return
    erased = _erase_in_database(person, user, source)
    remove_uploads_mentioning([erased])
    compact_sqlite()


def erase_people(people: list[Person], user: Any = None, *, source: str = "retention",
                 progress: Callable[[int], None] | None = None) -> int:
    """Erase several people (the retention purge): one transaction each, then one pass over the
    uploads and one checkpoint. Returns how many were erased."""
    done: list[Erased] = []
    for person in people:
        if person.erased_at is None:
            done.append(_erase_in_database(person, user, source))
        if progress is not None:
            progress(1)
    if done:
        remove_uploads_mentioning(done)
        compact_sqlite()
    return len(done)


def _cells(path: Path) -> list[str] | None:
    """Every cell of an upload as text; None when it cannot be read."""
    from cdt.registry.transfer.importing import read_table

    extension = path.name.split(".")[-1] if not path.name.endswith(".work") else path.name.split(".")[-2]
    try:
        return [str(cell) for row in read_table(path.read_bytes(), extension) for cell in row if cell is not None]
    except Exception:  # noqa: BLE001 - an unreadable file is removed, whatever the reason
        return None


def remove_uploads_mentioning(people: list[Erased]) -> int:
    """Delete the waiting import files that mention any of `people` (or that cannot be read).
    A file being confirmed right now (`.work`) is left to its confirmation, which deletes it."""
    from cdt.registry.transfer import uploads

    folder = uploads.folder_path()
    if not folder.is_dir():
        return 0
    removed = 0
    for item in folder.iterdir():
        if not item.is_file() or item.is_symlink() or item.name.endswith(uploads.WORK_SUFFIX):
            continue
        cells = _cells(item)
        if cells is None or any(person.found_in(cells) for person in people):
            item.unlink(missing_ok=True)
            removed += 1
    return removed


def compact_sqlite() -> None:
    """SQLite: write the log back into the database and truncate it (no page of the log keeps the
    old values; secure_delete, cdt/db.py, has zeroed them in the database file)."""
    if db.engine.dialect.name != "sqlite":
        return
    try:
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    except Exception:  # noqa: BLE001 - a busy database: the next checkpoint does it
        log.warning("privacy: the SQLite log could not be checkpointed after an erasure")


def secure_delete_on() -> bool:
    """Whether SQLite zeroes deleted content on this connection (True on PostgreSQL: not applicable)."""
    if db.engine.dialect.name != "sqlite":
        return True
    return bool(db.session.scalar(text("PRAGMA secure_delete")))
