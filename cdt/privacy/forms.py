"""Forms of the privacy pages. Dates are checked again by cdt.privacy.services (the rules)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from cdt.core import clock
from cdt.core.forms import REQUIRED, AppForm, options
from cdt.privacy.fields import CHOOSE, consent_choices
from cdt.privacy.models import CHANNEL_LABELS, CONSENT_METHOD_LABELS, REQUEST_KIND_LABELS, REQUESTER_LABELS
from cdt.registry.forms import LocalDateField


class ConsentForm(AppForm):
    # A radio group with nothing chosen in advance: consent is never pre-ticked.
    method = RadioField(_l("How the person gave their consent"), choices=consent_choices(),
                        validators=[InputRequired(message=CHOOSE)], validate_choice=False)
    given_on = LocalDateField(_l("Given on"), validators=[Optional()], default=clock.today)


    def validate_method(self, field):
        if field.data not in CONSENT_METHOD_LABELS:
            raise ValidationError(CHOOSE)


class WithdrawForm(AppForm):
    withdrawn_on = LocalDateField(_l("Withdrawn on"), validators=[Optional()], default=clock.today)


class RequestForm(AppForm):
    kind = SelectField(_l("Request"), choices=options([("", _l("— choose —"))] + list(REQUEST_KIND_LABELS.items())),
                       validators=[DataRequired(message=CHOOSE)])
    received_on = LocalDateField(_l("Received on"), validators=[DataRequired(message=REQUIRED)],
                                 default=clock.today)
    requester = SelectField(_l("Who asked"), choices=options(list(REQUESTER_LABELS.items())), default="self")
    channel = SelectField(_l("How"), choices=options(list(CHANNEL_LABELS.items())), default="in_person")
    details = TextAreaField(_l("What was asked"), validators=[Optional(), Length(max=2000)],
                            render_kw={"rows": 3})

    def data_dict(self) -> dict:
        return {name: getattr(self, name).data for name in ("kind", "received_on", "requester", "channel", "details")}


class AcknowledgeForm(AppForm):
    acknowledged_on = LocalDateField(_l("Acknowledged on"), validators=[Optional()], default=clock.today)


class ExtendForm(AppForm):
    reason = TextAreaField(_l("Why more time is needed"), validators=[DataRequired(message=REQUIRED),
                                                                      Length(max=1000)], render_kw={"rows": 2})


class CloseForm(AppForm):
    status = SelectField(_l("Result"), choices=options([("completed", _l("Completed")), ("refused", _l("Refused"))]),
                         default="completed")
    outcome = TextAreaField(_l("What was done"), validators=[DataRequired(message=REQUIRED), Length(max=2000)],
                            render_kw={"rows": 3})
    closed_on = LocalDateField(_l("On"), validators=[Optional()], default=clock.today)


class EraseForm(AppForm):
    confirm = BooleanField(
        _l("I understand: the person's name, birth date, phone and citizen ID are erased for good, "
           "and cannot be restored."),
        validators=[DataRequired(message=_l("Tick the box to confirm the erasure."))])
