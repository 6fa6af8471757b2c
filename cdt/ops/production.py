"""Production mode (CDT_ENV=production, as `make serve` and the systemd unit set it): the app
refuses to start without what a province's service needs, and says what is missing."""
from __future__ import annotations

import logging

from flask import Flask

# The configuration cannot serve a province; the message lists every problem.
from cdt.config import ConfigError as ProductionConfigError

ENVIRONMENTS = ("development", "production")
MIN_SECRET_KEY = 32
# Values copied from examples instead of generated.
PLACEHOLDER_KEYS = frozenset({"change-me", "changeme", "secret", "dev", "development", "test", "..."})

log = logging.getLogger("cdt.ops")




def problems(config) -> list[str]:
    """What production mode refuses, one sentence each (empty: fine)."""
    found = []
    key = config.get("SECRET_KEY") or ""
    if not key:
        found.append("SECRET_KEY is not set: generate one with "
                     "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`")
    elif len(key) < MIN_SECRET_KEY or key.strip().lower() in PLACEHOLDER_KEYS:
        found.append(f"SECRET_KEY is too short or a placeholder: it needs {MIN_SECRET_KEY} random characters or more")
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if storage.startswith("memory"):
        found.append("REDIS_URL (or RATELIMIT_STORAGE_URI) is not set: with several workers the log-in "
                     "throttle needs a shared Redis, e.g. REDIS_URL=redis://127.0.0.1:6379/0")
    from cdt.privacy.crypto import key_problems

    found += key_problems(config)  # the citizen ID is encrypted at rest: no key, no start
    return found


def check(app: Flask) -> None:
    env = app.config.get("CDT_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ProductionConfigError(f"CDT_ENV={env!r}: use one of {', '.join(ENVIRONMENTS)}")
    if env != "production":
        return
    found = problems(app.config)
    if found:
        raise ProductionConfigError("Refusing to start in production (CDT_ENV=production):\n- " + "\n- ".join(found))
    if not app.config.get("CDT_HTTPS"):
        log.warning("CDT_HTTPS is off: cookies are not marked Secure. Set CDT_HTTPS=1 when the "
                    "reverse proxy serves HTTPS (it should).")
    if str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        log.warning("Production on SQLite: fine for one server, but a province's service should run on PostgreSQL.")
