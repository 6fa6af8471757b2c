"""/healthz (the process answers) and /readyz (it can serve: database reachable, migrations
current, Redis reachable). No session, no personal data, no user: a monitor or a load
balancer calls them anonymously, and they answer even when the database is down."""
from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import text

from cdt.extensions import db, limiter
from cdt.ops import schema

bp = Blueprint("ops", __name__)

# Endpoints that never read the session or load a user (see cdt/core/security.py).
SESSIONLESS = frozenset({"ops.healthz", "ops.readyz"})


def check_database() -> dict[str, str]:
    """{"database": ..., "migrations": ...}: "ok" or a short reason (never an exception text)."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = schema.database_revisions(connection)
    except Exception:
        current_app.logger.exception("Readiness: the database is unreachable")
        return {"database": "unreachable", "migrations": "unknown"}
    heads = schema.code_heads()
    if current == heads:
        migrations = "ok"
    elif not current:
        migrations = "not migrated: run flask db upgrade"
    elif all(schema.known(revision) for revision in current):
        migrations = "behind: run flask db upgrade"
    else:
        migrations = "ahead: the database was migrated by a newer version of the code"
    return {"database": "ok", "migrations": migrations}


def check_redis() -> str:
    """The log-in throttle's storage: "ok", "unreachable" or "not used" (per-process memory)."""
    storage = limiter.storage
    if type(storage).__name__ == "MemoryStorage":
        return "not used"
    return "ok" if storage.check() else "unreachable"


def readiness() -> tuple[str, dict[str, str]]:
    """("ready" | "degraded" | "unavailable", checks). Degraded: Redis is down, so log-in
    throttling counts per process, but every page works."""
    checks = {**check_database(), "redis": check_redis()}
    if checks["database"] != "ok" or checks["migrations"] != "ok":
        return "unavailable", checks
    if checks["redis"] not in ("ok", "not used"):
        return "degraded", checks
    return "ready", checks


def _json(body: dict, status: int):
    response = current_app.json.response(body)
    response.status_code = status
    return response


@bp.get("/healthz")
def healthz():
    return _json({"status": "ok"}, 200)


@bp.get("/readyz")
def readyz():
    status, checks = readiness()
    return _json({"status": status, "checks": checks}, 200 if status == "ready" else 503)
