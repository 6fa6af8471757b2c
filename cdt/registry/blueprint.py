"""The registry's blueprint: the team and member pages (cdt/registry/views.py) and the member
import and exports (cdt/registry/transfer/views.py) register their routes on it; the app
factory imports both view modules, so neither imports the other and this module imports neither."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("registry", __name__)
