"""Forms of the training feature (every one an AppForm: CSRF everywhere, text normalised)."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from cdt.core.forms import AppForm, options
from cdt.core.inputs import BoundedIntegerField, FiniteDecimalField
from cdt.training.models import MODE_LABELS, SESSION_STATUS_LABELS

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
MAX_LENGTH = timedelta(days=7)


class ValidInput:
    """Stop the chain quietly when the value could not even be read (one error, not two)."""

    def __call__(self, form, field):
        if field.process_errors:
            raise StopValidation()


def _blank_to_none(value):
    return value or None


class SessionForm(AppForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=200)])
    topic_id = SelectField(_l("Topic"), coerce=int, validators=[InputRequired(_l("Choose a topic."))])
    mode = RadioField(_l("Format"), choices=options(MODE_LABELS.items()), default="in_person",
                      validators=[InputRequired(_l("Choose in person or online."))])
    starts_at = DateTimeLocalField(_l("Starts"), format=DATETIME_FORMAT,
                                   validators=[InputRequired(_l("Enter the start date and time."))])
    ends_at = DateTimeLocalField(_l("Ends"), format=DATETIME_FORMAT,
                                 validators=[InputRequired(_l("Enter the end date and time."))])
    hours = FiniteDecimalField(_l("Training hours"), places=1, validators=[
        Optional(), ValidInput(), NumberRange(min=Decimal("0.5"), max=Decimal("80"), message=_l("Enter between 0.5 and 80 hours."))
    ])
    venue = StringField(_l("Venue"), filters=[_blank_to_none], validators=[Length(max=200)])
    trainer = StringField(_l("Trainer"), filters=[_blank_to_none], validators=[Length(max=120)])
    capacity = BoundedIntegerField(_l("Capacity (people)"), validators=[
        Optional(), ValidInput(), NumberRange(min=1, max=10000, message=_l("Enter a number between 1 and 10,000."))
    ])
    area_id = SelectField(_l("Area served"), coerce=int, validators=[InputRequired(_l("Choose the area served."))])
    notes = TextAreaField(_l("Notes"), filters=[_blank_to_none], validators=[Length(max=2000)])
    status = SelectField(_l("Status"), choices=options(SESSION_STATUS_LABELS.items()), default="planned")
    version_id = HiddenField()
    confirm_cancel = BooleanField(_l("Yes, cancel this session although attendance was recorded"))

    def __init__(self, *args, topic_choices=(), area_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.topic_id.choices = options(topic_choices)
        self.area_id.choices = options(area_choices)

    def validate_ends_at(self, field):
        start, end = self.starts_at.data, field.data
        if start is None or end is None:
            return
        if end <= start:
            raise ValidationError(_l("The end must be after the start."))
        if end - start > MAX_LENGTH:
            raise ValidationError(_l("A session cannot last more than 7 days."))

    def validate_hours(self, field):
        start, end = self.starts_at.data, self.ends_at.data
        if field.data is None or start is None or end is None or end <= start:
            return
        if field.data > Decimal((end - start).total_seconds()) / 3600:
            raise ValidationError(_l("The hours cannot exceed the length of the session."))

    def validate_venue(self, field):
        if self.mode.data == "in_person" and not field.data:
            raise ValidationError(_l("Enter the venue of an in-person session."))

    def data_for_service(self) -> dict:
        return {
            "title": self.title.data, "topic_id": self.topic_id.data, "mode": self.mode.data,
            "starts_at": self.starts_at.data, "ends_at": self.ends_at.data, "hours": self.hours.data,
            "venue": self.venue.data, "trainer": self.trainer.data, "capacity": self.capacity.data,
            "notes": self.notes.data, "status": self.status.data,
        }


class InviteTeamsForm(AppForm):
    """Team ids come as repeated `team` values (checkboxes), parsed and checked in the view."""
    who = RadioField(_l("Who to invite"), default="all", choices=options([
        ("all", _l("All current members")),
        ("leaders", _l("Leaders and deputies only")),
    ]))


class IdsForm(AppForm):
    """A POST whose ids (checkboxes) are read from the request and checked against the area."""


class AttendanceForm(AppForm):
    hours = FiniteDecimalField(_l("Hours attended"), places=1, validators=[
        InputRequired(_l("Enter the hours attended.")), ValidInput(),
        NumberRange(min=Decimal("0.5"), max=Decimal("80"), message=_l("Enter between 0.5 and 80 hours.")),
    ])
    q = StringField(_l("Find a walk-in by name"), validators=[Length(max=120)])


class TopicForm(AppForm):
    name_vi = StringField(_l("Name (Vietnamese)"),
                          validators=[DataRequired(_l("Enter the Vietnamese name.")), Length(max=160)])
    name_en = StringField(_l("Name (English)"),
                          validators=[DataRequired(_l("Enter the English name.")), Length(max=160)])
    code = StringField(_l("Code"), filters=[_blank_to_none], validators=[Optional(), Length(max=40)])
    active = BooleanField(_l("Active (offered when scheduling)"), default=True)

    def validate_code(self, field):
        if field.data and not re.fullmatch(r"[a-z0-9_]+", field.data):
            raise ValidationError(_l("Use lower-case letters, digits and underscores only."))
