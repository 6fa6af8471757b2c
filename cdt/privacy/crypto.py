"""The citizen ID at rest: encrypted (Fernet, AES-128-CBC + HMAC-SHA256, from the `cryptography`
package) and found through a keyed hash (HMAC-SHA256), never stored in plain text.

- `CDT_CITIZEN_ID_KEY`: one Fernet key, or several separated by commas (the first encrypts, every
  one decrypts: how a key is rotated, see `flask cdt privacy rotate-key` and the README);
- `CDT_CITIZEN_ID_HASH_KEY`: the secret of the keyed hash (the blind index behind search and the
  duplicate rule: the same citizen ID gives the same hash, which the unique index compares).

Both come from the environment; in development they are generated once into the instance folder
(0600, cdt/config.py); production refuses to start without them (cdt/ops/production.py).
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

KEY_SETTING = "CDT_CITIZEN_ID_KEY"
HASH_KEY_SETTING = "CDT_CITIZEN_ID_HASH_KEY"

_cache: dict[str, Any] = {}


class CitizenIdKeyError(RuntimeError):
    """A citizen-ID key is missing or malformed (the message says which setting)."""


def split_keys(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").replace(";", ",").split(",") if part.strip()]


def key_problems(config) -> list[str]:
    """What is wrong with the citizen-ID keys of `config` (empty: fine); production mode refuses
    to start with any of these."""
    found = []
    keys = split_keys(config.get(KEY_SETTING))
    if not keys:
        found.append(f"{KEY_SETTING} is not set: generate one with `python3 -c 'from cryptography.fernet "
                     "import Fernet; print(Fernet.generate_key().decode())'`")
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            found.append(f"{KEY_SETTING} holds a value that is not a Fernet key (32 url-safe base64 bytes)")
            break
    hash_key = config.get(HASH_KEY_SETTING) or ""
    if not hash_key:
        found.append(f"{HASH_KEY_SETTING} is not set: generate one with "
                     "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`")
    elif len(hash_key) < 16:
        found.append(f"{HASH_KEY_SETTING} is too short: it needs 16 random characters or more")
    return found


def _fernet() -> MultiFernet:
    value = current_app.config.get(KEY_SETTING) or ""
    cached = _cache.get(value)
    if cached is None:
        keys = split_keys(value)
        if not keys:
            raise CitizenIdKeyError(f"{KEY_SETTING} is not set")
        try:
            cached = MultiFernet([Fernet(key) for key in keys])
        except (ValueError, TypeError):
            raise CitizenIdKeyError(f"{KEY_SETTING} is not a Fernet key") from None
        _cache[value] = cached
    return cached


def _hash_key() -> bytes:
    value = current_app.config.get(HASH_KEY_SETTING) or ""
    if not value:
        raise CitizenIdKeyError(f"{HASH_KEY_SETTING} is not set")
    return value.encode()


def encrypt(value: str | None) -> str | None:
    if value is None:
        return None
    return _fernet().encrypt(value.encode()).decode("ascii")


def decrypt(token: str | None) -> str | None:
    """The plain value; None for no value. A token no configured key opens raises CitizenIdKeyError (the
    key was changed without `rotate-key`)."""
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise CitizenIdKeyError(f"a citizen ID cannot be decrypted with {KEY_SETTING}: was the key changed "
                        "without `flask cdt privacy rotate-key`?") from None


def decrypter():
    """`decrypt` bound to the current keys, usable outside the app context (a streamed export)."""
    fernet = _fernet()

    def open_token(token: str | None) -> str | None:
        return fernet.decrypt(token.encode("ascii")).decode() if token else None

    return open_token


def blind_index(value: str | None) -> str | None:
    """HMAC-SHA256 of the normalised citizen ID, hex: what search and the duplicate rule compare."""
    if value is None:
        return None
    return hmac.new(_hash_key(), value.encode(), hashlib.sha256).hexdigest()


def rotate(token: str) -> str:
    """The token re-encrypted with the first (current) key."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")


def columns_for(value: str | None) -> dict[str, str | None]:
    """The stored columns of a (normalised) citizen ID: for bulk inserts that bypass the ORM."""
    return {"citizen_id_enc": encrypt(value), "citizen_id_hash": blind_index(value)}


def mask(value: str | None) -> str:
    """'010203004005' -> '••••••••4005': how a citizen ID is shown to who may not read it."""
    if not value:
        return ""
    return "•" * max(len(value) - 4, 0) + value[-4:]
