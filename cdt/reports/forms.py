"""The report's filter (a GET form: it changes nothing, so it carries no CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from cdt.core.forms import AppForm
from cdt.core.inputs import DayField
from cdt.geo.models import LEVEL_LABELS, LEVELS


class IsoDateField(DayField):
    """A date argument of the report: YYYY-MM-DD or dd/mm/yyyy (cdt.core.inputs.DayField)."""


class CoverageFilterForm(AppForm):
    class Meta:
        csrf = False

    unit = HiddenField()
    sort = HiddenField()
    by = SelectField(_l("One row per"), choices=[SelectChoice(level, LEVEL_LABELS[level]) for level in LEVELS],
                     validators=[Optional()], validate_choice=False)
    as_of = IsoDateField(_l("Figures as of"), validators=[Optional()])
    period_from = IsoDateField(_l("Sessions held from"), validators=[Optional()], name="from")
    period_to = IsoDateField(_l("Sessions held until"), validators=[Optional()], name="to")
    map_day = IsoDateField(_l("Units of the map of"), validators=[Optional()], name="map")

    def validate_by(self, field):
        if field.data and field.data not in LEVELS:
            raise ValidationError(_l("Choose a level from the list."))

    def validate_period_to(self, field):
        if field.data and self.period_from.data and field.data < self.period_from.data:
            raise ValidationError(_l("The end of the period is before its start."))
