"""Safe redirects: the one check for every `next` a request carries (log-in, the language
switch, anything else that sends the user back to where they were).

Only a path on this site is followed. Browsers are lenient with a Location header: they drop
tabs and line breaks anywhere in it and spaces and control characters around it, read `\\` as
`/`, and take `//host` as another site. So `/\\t/example.org` becomes `//example.org`. Anything
that is not a plain local path, before or after percent-decoding, gives the fallback.
"""
from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import url_for

MAX_LENGTH = 2048
# Control characters (C0, DEL, C1), every kind of whitespace, and characters some parsers
# treat as separators or strip: a local path from this app never holds one of them raw.
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\x9f\s\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\\]")


def _is_local_path(target: str) -> bool:
    if _FORBIDDEN.search(target):
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def is_safe_next(target: object) -> bool:
    """True when `target` is a path on this site that every browser reads the same way."""
    if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
        return False
    if not _is_local_path(target):
        return False
    # The same test on each percent-decoded form of the path: a proxy or a browser that
    # decodes once more must not find another host either (`/%2F/example.org`,
    # `/%09/example.org`). The query string is left alone: it never changes the host, and
    # a search such as `?q=van%20an` is a fine place to come back to.
    path = re.split(r"[?#]", target, maxsplit=1)[0]
    for _ in range(3):
        decoded = unquote(path)
        if decoded == path:
            return True
        if not _is_local_path(decoded):
            return False
        path = decoded
    return False  # still encoded after three rounds: not a path this app makes


def safe_next(target: object, fallback: str | None = None) -> str:
    """`target` when it is a local path, else `fallback` (default: the home page)."""
    if is_safe_next(target):
        return target  # type: ignore[return-value]
    return url_for("core.index") if fallback is None else fallback
