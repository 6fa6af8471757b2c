"""Home page and the language switch."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, session, url_for
from flask_login import current_user, login_required

from cdt.core.forms import LanguageForm
from cdt.core.i18n import remember_locale
from cdt.core.redirects import safe_next

bp = Blueprint("core", __name__)


@bp.get("/")
@login_required
def index():
    area = current_user.area
    if area is None:
        return redirect(url_for("units.units"))
    return redirect(url_for("units.unit", code=area.code))


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if not form.validate_on_submit() or form.language.data not in current_app.config["LANGUAGES"]:
        abort(400)
    session["locale"] = form.language.data
    if current_user.is_authenticated:
        remember_locale(current_user._get_current_object(), form.language.data)
    return redirect(safe_next(form.next.data))
