"""The privacy blueprint, apart from its views: cdt/privacy/views.py (notice, consent, requests) and
cdt/privacy/record_views.py (complete record, restriction, erasure) both add their routes to it."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("privacy", __name__)
