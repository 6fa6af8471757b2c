"""One configuration, read from the environment."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _count(name: str, default: int = 0) -> int:
    """A whole number >= 0 from the environment; anything else stops the start with a clear error."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise ValueError(f"{name} must be a whole number (0 or more), not {value!r}")
    return int(value)


def database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'cdt.sqlite3'}"
    # Heroku-style URLs name the old driver; we use psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class ConfigError(ValueError):
    """A setting the app refuses to start with (the message says which and why)."""


def environment() -> str:
    """CDT_ENV: `production` (make serve, systemd: commands that load the published demo accounts
    or delete data refuse there) or `development` (make run, tests)."""
    value = (os.environ.get("CDT_ENV") or "development").strip().lower()
    if value not in ("development", "production"):
        raise ConfigError(f"CDT_ENV must be 'development' or 'production', not {value!r}")
    return value


def secret_key(instance_path: str) -> str | None:
    """SECRET_KEY from the environment, else one generated once into the instance folder
    (development only: production must be given a real one, see cdt/ops/production.py)."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if environment() == "production":
        return None
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _instance_secret(instance_path: str, name: str, make) -> str:
    """A secret generated once into the instance folder (0600), read back afterwards."""
    path = Path(instance_path) / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def citizen_id_keys(instance_path: str) -> dict[str, str | None]:
    """CDT_CITIZEN_ID_KEY (Fernet key(s), comma-separated: the first encrypts) and
    CDT_CITIZEN_ID_HASH_KEY (the keyed hash's secret) from the environment; in development, when
    unset, generated once into the instance folder (0600). Production must be given both
    (cdt/ops/production.py refuses to start otherwise); see cdt/privacy/crypto.py."""
    keys: dict[str, str | None] = {
        "CDT_CITIZEN_ID_KEY": os.environ.get("CDT_CITIZEN_ID_KEY") or None,
        "CDT_CITIZEN_ID_HASH_KEY": os.environ.get("CDT_CITIZEN_ID_HASH_KEY") or None,
    }
    if environment() == "production":
        return keys
    if not keys["CDT_CITIZEN_ID_KEY"]:
        from cryptography.fernet import Fernet

        keys["CDT_CITIZEN_ID_KEY"] = _instance_secret(instance_path, "citizen_id_key",
                                                      lambda: Fernet.generate_key().decode())
    if not keys["CDT_CITIZEN_ID_HASH_KEY"]:
        keys["CDT_CITIZEN_ID_HASH_KEY"] = _instance_secret(instance_path, "citizen_id_hash_key",
                                                           lambda: secrets.token_urlsafe(32))
    return keys


def limiter_storage() -> str:
    """Where log-in throttling counts: RATELIMIT_STORAGE_URI, else REDIS_URL, else per process."""
    return os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://"


def engine_options(url: str) -> dict:
    # hide_parameters: a database error's message never quotes the values (citizen IDs,
    # phones, names) of the statement; create_app enforces it whatever the config.
    options: dict = {"pool_pre_ping": True, "hide_parameters": True}
    if url.startswith("postgresql"):
        # An unreachable server fails a request (and /readyz) in seconds, not after the TCP timeout.
        options["connect_args"] = {"connect_timeout": 5}
    return options


def load(instance_path: str) -> dict:
    https = _bool("CDT_HTTPS", False)
    url = database_url(instance_path)
    return {
        "CDT_ENV": environment(),
        "SECRET_KEY": secret_key(instance_path),
        **citizen_id_keys(instance_path),
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("CDT_TIMEZONE", "Asia/Ho_Chi_Minh"),
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
        "LANGUAGES": ["vi", "en"],
        "BOOTSTRAP_SERVE_LOCAL": True,
        "MAX_CONTENT_LENGTH": 6 * 1024 * 1024,
        "RATELIMIT_STORAGE_URI": limiter_storage(),
        # Redis down: count in this process's memory (same limits) until it answers again,
        # never an error page; a Redis that does not answer costs at most a second.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        "RATELIMIT_HEADERS_ENABLED": False,
        # Failed log-ins allowed per client address (a whole commune office may share one
        # public address); the per-account limit is fixed at 5 a minute (cdt/auth/views.py).
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per minute; 300 per hour"),
        # Reverse proxies in front of the app whose X-Forwarded-For is trusted (werkzeug
        # ProxyFix); 0 trusts none, so a client cannot choose the address it is counted under.
        "PROXY_FIX_X_FOR": _count("PROXY_FIX_X_FOR", 0),
        # Privacy requests (issue 13): working days to complete one, and its one extension.
        "CDT_PRIVACY_DUE_WORKING_DAYS": _count("CDT_PRIVACY_DUE_WORKING_DAYS", 15),
        "CDT_PRIVACY_EXTENSION_WORKING_DAYS": _count("CDT_PRIVACY_EXTENSION_WORKING_DAYS", 15),
        "CDT_IMPORT_FOLDER": os.environ.get("CDT_IMPORT_FOLDER") or None,
        # The API (cdt/api): requests a token may make (Flask-Limiter notation), the DHIS2 mapping file.
        "CDT_API_RATE_LIMIT": os.environ.get("CDT_API_RATE_LIMIT") or "120/minute",
        "CDT_DHIS2_MAPPING": os.environ.get("CDT_DHIS2_MAPPING") or None,
        # Computed figures kept per data version (cdt/core/data_version.py): the longest an entry
        # lives (changes made outside the app, e.g. in psql); 0: nothing is kept.
        "CDT_RESULT_CACHE_SECONDS": _count("CDT_RESULT_CACHE_SECONDS", 600),

        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "CDT_HTTPS": https,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "CDT_IDLE_TIMEOUT": timedelta(minutes=30),
        "WTF_CSRF_TIME_LIMIT": None,
    }
