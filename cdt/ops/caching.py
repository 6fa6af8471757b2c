"""HTTP caching where it is safe.

- Generated downloads that clients poll (the calendar feed, the coverage CSV): a strong
  ETag computed from the exact body, `Cache-Control: private, no-cache` (kept by the browser
  or calendar app, revalidated every time, never by a shared cache) and 304 Not Modified when
  the client already holds those bytes. A change in the data changes the body, hence the ETag.
  No Last-Modified: the feeds have no cheap exact modification time (a deleted session or a
  day passing changes them without touching a row), and a wrong one would serve stale data.
- Static assets: templates link them through `static_url()`, which appends a fingerprint of
  the file's content (`/static/app.css?v=1a2b3c4d5e`); a request carrying the current
  fingerprint is cached for a year (`public, max-age=31536000, immutable`). Any other request
  (no or an old fingerprint) gets Flask's default: revalidate with the ETag.
"""
from __future__ import annotations

import hashlib
import os

from flask import Flask, Response, current_app, request, url_for

IMMUTABLE = "public, max-age=31536000, immutable"
_fingerprints: dict[tuple[str, int, int], str] = {}


def conditional(response: Response) -> Response:
    """Tag a generated response with its body's hash and answer 304 when the client has it."""
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:40])
    response.cache_control.private = True
    response.cache_control.no_cache = True
    response.cache_control.no_store = False
    return response.make_conditional(request)


def revalidated(response: Response) -> bool:
    """A response that conditional() prepared (kept out of the blanket `no-store`)."""
    return bool(response.cache_control.private and response.cache_control.no_cache and response.get_etag()[0])


def is_static(endpoint: str | None) -> bool:
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))


def _folder(endpoint: str) -> str | None:
    if endpoint == "static":
        return current_app.static_folder
    blueprint = current_app.blueprints.get(endpoint.rsplit(".", 1)[0])
    return blueprint.static_folder if blueprint is not None else None


def fingerprint(endpoint: str, filename: str) -> str | None:
    """The first 10 hex digits of the SHA-256 of the static file (None: no such file).
    Cached by path, modification time and size, so an edited file gets a new one."""
    folder = _folder(endpoint)
    if folder is None:
        return None
    path = os.path.realpath(os.path.join(folder, filename))
    if not path.startswith(os.path.realpath(folder) + os.sep):
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (path, stat.st_mtime_ns, stat.st_size)
    value = _fingerprints.get(key)
    if value is None:
        with open(path, "rb") as fh:
            value = hashlib.sha256(fh.read()).hexdigest()[:10]
        _fingerprints[key] = value
    return value


def static_url(filename: str, endpoint: str = "static") -> str:
    """url_for(endpoint, filename=...) with the content fingerprint as `v`."""
    version = fingerprint(endpoint, filename)
    if version is None:
        return url_for(endpoint, filename=filename)
    return url_for(endpoint, filename=filename, v=version)


def _static_lifetime(response: Response) -> Response:
    if not is_static(request.endpoint) or response.status_code not in (200, 304):
        return response
    version = request.args.get("v")
    filename = (request.view_args or {}).get("filename")
    if version and filename and version == fingerprint(request.endpoint, filename):
        response.headers["Cache-Control"] = IMMUTABLE
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["static_url"] = static_url
    app.after_request(_static_lifetime)
