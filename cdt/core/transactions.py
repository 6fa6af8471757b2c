"""One unit of work, committed; run again when the database gave up on it because of another
transaction (a deadlock, a serialization failure, SQLite's "database is locked").

Such a failure says nothing about the change itself: the database rolled it back and the same
work, run again on what the other transaction committed, normally succeeds. So every write path
runs its work through `commit_or_retry` (the registry's services and the importer through the
`@transactional` decorator, the training and account pages around their service calls): up to
ATTEMPTS runs, with a short random pause between them so that the two transactions do not meet
again. The work must be re-runnable: it reads what it checks and changes inside the call (objects
passed in are expired by the rollback and reloaded). After the last attempt the error goes up and
the error page says "busy, try again" (cdt/core/security.py), never a 500.

Deadlocks are avoided in the first place by taking row locks in one fixed order
(cdt.reports.models.lock_for_change); the retry is the safety net for every other path.
"""
from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from sqlalchemy.exc import DBAPIError

from cdt.extensions import db

ATTEMPTS = 3
PAUSE = 0.05  # seconds, doubled after each failed attempt, times a random factor in [0.5, 1.5)
# PostgreSQL: deadlock_detected, serialization_failure.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
_ACTIVE = "cdt_unit_of_work"

T = TypeVar("T")


def is_transient(error: BaseException) -> bool:
    """The database refused the statement because of a concurrent transaction; running the same
    work again can succeed."""
    if not isinstance(error, DBAPIError):
        return False
    orig = error.orig
    if getattr(orig, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    name = getattr(orig, "sqlite_errorname", None) or ""
    message = str(orig)
    return (name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
            or message.startswith(("database is locked", "database table is locked")))


def commit_or_retry(work: Callable[[], T]) -> T:
    """Run `work()` and commit; roll back when it raises (nothing saved). A transient failure is
    retried up to ATTEMPTS times in all. Called again inside a unit of work (a service using
    another), it just runs `work()`: the outer call commits, and retries the whole."""
    session = db.session
    if session.info.get(_ACTIVE):
        return work()
    attempt = 1
    while True:
        session.info[_ACTIVE] = True
        try:
            result = work()
            session.commit()
            return result
        except BaseException as error:
            session.rollback()
            if attempt >= ATTEMPTS or not is_transient(error):
                raise
            pause = PAUSE * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)  # jitter, not a secret
            current_app.logger.warning("Concurrent transaction (%s), attempt %s of %s; retrying in %.0f ms",
                        getattr(error.orig, "sqlstate", None) or type(error.orig).__name__, attempt, ATTEMPTS,
                        pause * 1000)
            time.sleep(pause)
            attempt += 1
        finally:
            session.info.pop(_ACTIVE, None)


def transactional(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorator: each call of `fn` is one unit of work (`commit_or_retry`)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return commit_or_retry(lambda: fn(*args, **kwargs))

    return wrapper
