"""gzip for the static text assets (Bootstrap's CSS and JS, app.css, the SVG icon).

Bootstrap alone is ~310 KB uncompressed and ~55 KB gzipped, so without compression no page
fits the 150 KB budget. Each file version (path + ETag) is compressed once and kept in
memory: the set of static files is small and fixed, so the cache is bounded.

HTML pages are deliberately NOT compressed by the app: every page carries a CSRF token and
several reflect what the user typed (search boxes), the two ingredients of the BREACH
attack on compressed HTTPS responses. Pages are small without it (see bench/page_weight.py).
A reverse proxy in front may still compress HTML if its operator accepts that trade-off.

The compressed response keeps the file's ETag as a weak validator (as nginx does), so the
browser's conditional requests keep answering 304.
"""
from __future__ import annotations

import gzip

from flask import Flask, Response, request

COMPRESSIBLE = frozenset(
    {"text/css", "text/javascript", "application/javascript", "image/svg+xml", "text/plain", "application/json"}
)
MIN_SIZE = 512
_cache: dict[tuple[str, str], bytes] = {}


def _is_static(endpoint: str | None) -> bool:
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))


def compress_static(response: Response) -> Response:
    if not _is_static(request.endpoint) or response.mimetype not in COMPRESSIBLE:
        return response
    response.vary.add("Accept-Encoding")
    if (
        response.status_code != 200
        or "Content-Encoding" in response.headers
        or request.accept_encodings["gzip"] <= 0
    ):
        return response
    etag, _weak = response.get_etag()
    key = (request.path, etag or "")
    body = _cache.get(key) if etag else None
    response.direct_passthrough = False
    if body is None:
        raw = response.get_data()  # reads the file; the file is closed with the response
        if len(raw) < MIN_SIZE:
            return response
        body = gzip.compress(raw, compresslevel=6, mtime=0)
        if etag:
            _cache[key] = body
    else:
        close = getattr(response.response, "close", None)
        if close is not None:
            response.call_on_close(close)
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Accept-Ranges", None)  # ranges would address the uncompressed bytes
    if etag:
        response.set_etag(etag, weak=True)
    return response


def init_app(app: Flask) -> None:
    app.after_request(compress_static)
