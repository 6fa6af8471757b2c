"""Forms of the personal-data pages (CSRF on every one)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField
from wtforms.validators import DataRequired

from cdt.core.forms import AppForm


class EraseForm(AppForm):
    confirm = BooleanField(
        _l("I understand: the person's name, birth date, phone and citizen ID are erased for good, "
           "and cannot be restored."),
        validators=[DataRequired(message=_l("Tick the box to confirm the erasure."))])
