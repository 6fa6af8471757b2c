"""The geo blueprint: the unit pages (cdt/geo/views.py) and the village changes of a commune
(cdt/geo/village_views.py) register their routes on it; the app factory imports both
(`routes()`), so neither module imports the other."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("geo", __name__)


def routes() -> Blueprint:
    """The blueprint with every geo route attached."""
    from cdt.geo import views, village_views  # noqa: F401

    return bp
