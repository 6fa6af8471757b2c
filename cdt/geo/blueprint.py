"""The geo blueprint: the unit pages (cdt/geo/views.py) and the village changes of a commune
(cdt/geo/village_views.py) register their routes on it; the app factory imports both
view modules, so neither imports the other and this module imports neither."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("geo", __name__)
