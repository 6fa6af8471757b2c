"""The registry's blueprint: the team and member pages (cdt/registry/views.py) and the member
import and exports (cdt/registry/transfer/views.py) register their routes on it; the app
factory imports both (`routes()`), so neither module imports the other."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("registry", __name__)


def routes() -> Blueprint:
    """The blueprint with every registry route attached."""
    from cdt.registry import views  # noqa: F401
    from cdt.registry.transfer import views as transfer_views  # noqa: F401

    return bp
