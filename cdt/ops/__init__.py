"""Running the registry as a service: health and readiness, production checks, HTTP caching
of the feeds and static assets, backup and restore."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from cdt.ops import caching

    caching.init_app(app)
