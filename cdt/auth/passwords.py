"""Password policy (OWASP ASVS 4.0.3 V2.1): 12 to 128 characters, any Unicode, no
composition rules, common passwords refused. The list ships in cdt/auth/data/ (see
its README.txt for where it comes from)."""
from __future__ import annotations

import gzip
import secrets
import unicodedata
from functools import lru_cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 128
DATA = Path(__file__).resolve().parent / "data"

# Random first passwords: no look-alike characters, 4 groups of 4 (about 95 bits).
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _normal(password: str) -> str:
    return unicodedata.normalize("NFKC", password).casefold().replace(" ", "")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    words: set[str] = set()
    with gzip.open(DATA / "common-passwords.txt.gz", "rt", encoding="utf-8") as fh:
        words.update(_normal(line.strip()) for line in fh if line.strip())
    for line in (DATA / "common-passwords-extra.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(_normal(line))
    return frozenset(words)


def password_problems(password: str, username: str | None = None) -> list[str]:
    """Why `password` is refused (translated messages); an empty list when it is fine.

    Length counts Unicode code points after NFC normalisation (so a Vietnamese letter with
    its marks counts once, however it was typed)."""
    text = unicodedata.normalize("NFC", password or "")
    problems = []
    if len(text) < MIN_LENGTH:
        problems.append(str(_l("The password must have at least %(n)d characters.", n=MIN_LENGTH)))
    elif len(text) > MAX_LENGTH:
        problems.append(str(_l("The password must have at most %(n)d characters.", n=MAX_LENGTH)))
    else:
        normal = _normal(text)
        if normal in common_passwords():
            problems.append(str(_l("This password is too common. Choose another one.")))
        elif username and normal == _normal(username):
            problems.append(str(_l("The password must not be the username.")))
    return problems


def random_password() -> str:
    """A first password for a new account or a reset: shown once, changed at first log-in."""
    groups = ["".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)
