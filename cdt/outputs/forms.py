"""Forms of the outputs feature. The month entry page's figures are read by cdt.outputs.entry (one
input per team and indicator), its CSRF token by cdt.core.forms.EmptyForm."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from cdt.core.forms import AppForm, options
from cdt.core.inputs import BoundedIntegerField
from cdt.outputs.models import MEASURES

_CODE = re.compile(r"[a-z0-9_]{2,40}")


class IndicatorForm(AppForm):
    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter a code.")), Length(max=40)])
    name_vi = StringField(_l("Name (Vietnamese)"), validators=[DataRequired(_l("Enter a name.")), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(_l("Enter a name.")), Length(max=200)])
    measure = SelectField(_l("What is counted"), choices=options(MEASURES.items()), default="people")
    valid_from = DateField(_l("Valid from"), validators=[Optional()])
    valid_to = DateField(_l("Valid until"), validators=[Optional()])
    position = BoundedIntegerField(_l("Order"), default=100, validators=[
        InputRequired(_l("Enter a number.")), NumberRange(min=0, max=10000)])
    active = BooleanField(_l("Active"), default=True)

    def validate_code(self, field):
        if not _CODE.fullmatch(field.data or ""):
            raise ValidationError(_l("Use 2 to 40 lower-case letters, digits or underscores."))

    def validate_valid_to(self, field):
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError(_l("The end of the period is before its start."))


class DeadlineForm(AppForm):
    day = BoundedIntegerField(_l("Reports are due on this day of the following month"), validators=[
        InputRequired(_l("Enter a number.")), NumberRange(min=1, max=28, message=_l("Enter a day from 1 to 28."))])


class TargetForm(AppForm):
    unit = SelectField(_l("Province or commune"), validators=[InputRequired(_l("Choose a unit."))],
                       validate_choice=False)
    indicator = SelectField(_l("Indicator"), validators=[InputRequired(_l("Choose an indicator."))],
                            validate_choice=False)
    month = SelectField(_l("Period"), default="", validate_choice=False)
    value = StringField(_l("Target"), validators=[Length(max=15)])


class UploadForm(AppForm):
    file = FileField(_l("Excel file (.xlsx)"), validators=[FileRequired(_l("Choose a file."))])


class AllowanceRateForm(AppForm):
    per_team = BoundedIntegerField(_l("Per team and month (VND)"), validators=[
        InputRequired(_l("Enter a number.")), NumberRange(min=0, max=100_000_000)])
    per_member = BoundedIntegerField(_l("Per member and month (VND), optional"), validators=[
        Optional(), NumberRange(min=0, max=100_000_000)])
    valid_from = DateField(_l("Valid from"), validators=[InputRequired(_l("Enter a date."))])
    valid_to = DateField(_l("Valid until"), validators=[Optional()])

    def validate_valid_to(self, field):
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError(_l("The end of the period is before its start."))
