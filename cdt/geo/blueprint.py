"""The geo blueprint: the village changes of a commune (cdt/geo/village_views.py) register their
routes on it; the app factory imports that module. The unit pages that show a unit's figures live
with the reports that compute them (cdt/reports/units.py, blueprint `units`)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("geo", __name__)
