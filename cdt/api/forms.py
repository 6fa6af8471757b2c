"""The form of /account/tokens."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from cdt.api.tokens import MAX_DAYS
from cdt.core import clock
from cdt.core.forms import AppForm
from cdt.core.inputs import BoundedIntegerField, DayField


class TokenForm(AppForm):
    name = StringField(_l("Name (what the token is for)"), validators=[DataRequired(), Length(max=80)])
    expires_on = DayField(_l("Valid until"), validators=[InputRequired()])
    submit = SubmitField(_l("Create token"))

    def validate_expires_on(self, field) -> None:
        today = clock.today()
        if field.data is None:
            return
        if field.data < today:
            raise ValidationError(_l("Choose a date from today on."))
        if (field.data - today).days > MAX_DAYS:
            raise ValidationError(_l("A token may be valid for at most a year."))


class RevokeForm(AppForm):
    token_id = BoundedIntegerField(validators=[InputRequired()])  # fits an INTEGER column (fuzzed ids)
