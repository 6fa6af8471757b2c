"""Forms of the registry. Each check uses cdt.registry.rules, so messages are translated and
shown next to their field; the parsed values are left in `form.clean`."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from cdt.core import clock
from cdt.core.forms import REQUIRED, AppForm, options
from cdt.core.inputs import DATE_FORMATS
from cdt.privacy.fields import check_consent_choice, consent_field
from cdt.privacy.models import CONSENT_METHOD_LABELS
from cdt.registry.ethnicity import ETHNIC_GROUPS
from cdt.registry.identifiers import normalize_citizen_id, normalize_phone
from cdt.registry.models import GENDER_LABELS, POSITION_LABELS, ROLE_LABELS, TEAM_STATUS_LABELS
from cdt.registry.rules import check_birth_date


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class LocalDateField(DateField):
    """<input type="date">; also accepts the dd/mm/yyyy that people type on old browsers."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=list(DATE_FORMATS), **kwargs)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime("%Y-%m-%d") if self.data else ""


class TeamForm(AppForm):
    village_id = SelectField(_l("Village"), coerce=_optional_int, validators=[DataRequired(message=REQUIRED)])
    name = StringField(_l("Team name"), validators=[Optional(), Length(max=160)],
                       description=_l("Leave empty for “CDT team” followed by the village name."))
    established_on = LocalDateField(_l("Established on"), validators=[Optional()])
    decision_number = StringField(_l("Decision number"), validators=[Optional(), Length(max=60)],
                                  render_kw={"placeholder": "125/QĐ-UBND"})
    status = SelectField(_l("Status"), choices=options([(k, v) for k, v in TEAM_STATUS_LABELS.items()]), default="active")
    dissolved_on = LocalDateField(_l("Dissolved on"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    version_id = HiddenField()

    def data_dict(self) -> dict:
        return {name: getattr(self, name).data for name in
                ("village_id", "name", "established_on", "decision_number", "status", "dissolved_on", "notes")}


class PersonForm(AppForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(message=REQUIRED), Length(max=120)],
                            render_kw={"autocomplete": "off"})
    gender = SelectField(_l("Gender"), choices=options([(k, v) for k, v in GENDER_LABELS.items()]))
    birth_date = LocalDateField(_l("Birth date"), validators=[DataRequired(message=REQUIRED)])
    ethnicity = SelectField(_l("Ethnicity"), choices=options(ETHNIC_GROUPS.items()), default="kinh")
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)],
                        render_kw={"inputmode": "tel", "autocomplete": "off", "placeholder": "0912 345 678"})
    citizen_id = StringField(_l("Citizen ID"), validators=[Optional(), Length(max=20)],
                             render_kw={"inputmode": "numeric", "autocomplete": "off"})
    youth_union = BooleanField(_l("Youth union member"))
    position = SelectField(_l("Position"), choices=options([("", "—")] + list(POSITION_LABELS.items())),
                           default="")
    version_id = HiddenField()

    def __init__(self, *args, show_citizen_id: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_citizen_id:
            del self.citizen_id
        self.clean: dict = {}

    def validate_full_name(self, field):
        if not " ".join((field.data or "").split()):
            raise ValidationError(REQUIRED)

    def validate_birth_date(self, field):
        try:
            check_birth_date(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def validate_phone(self, field):
        try:
            self.clean["phone"] = normalize_phone(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def validate_citizen_id(self, field):
        try:
            self.clean["citizen_id"] = normalize_citizen_id(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def data_dict(self) -> dict:
        data = {
            "full_name": self.full_name.data, "gender": self.gender.data, "birth_date": self.birth_date.data,
            "ethnicity": self.ethnicity.data, "phone": self.clean.get("phone"),
            "youth_union": self.youth_union.data, "position": self.position.data or None,
        }
        if "citizen_id" in self:
            data["citizen_id"] = self.clean.get("citizen_id")
        return data


class NewPersonForm(PersonForm):
    team_id = SelectField(_l("Team"), coerce=_optional_int, validators=[Optional()])
    role = SelectField(_l("Role"), choices=options([(k, v) for k, v in ROLE_LABELS.items()]), default="member")
    joined_on = LocalDateField(_l("Joined on"), validators=[Optional()], default=clock.today)
    # Issue 13: how the person consented, or "pending"; nothing pre-chosen (cdt/privacy/fields.py).
    consent = consent_field()

    def validate_consent(self, field):
        check_consent_choice(field)

    def consent_method(self) -> str | None:
        """The way consent was given, or None (pending)."""
        return self.consent.data if self.consent.data in CONSENT_METHOD_LABELS else None


class AddToTeamForm(AppForm):
    team_id = SelectField(_l("Team"), coerce=_optional_int, validators=[DataRequired(message=REQUIRED)])
    role = SelectField(_l("Role"), choices=options([(k, v) for k, v in ROLE_LABELS.items()]), default="member")
    joined_on = LocalDateField(_l("Joined on"), validators=[Optional()], default=clock.today)


class EndMembershipForm(AppForm):
    left_on = LocalDateField(_l("Left on"), validators=[Optional()], default=clock.today)


class MoveForm(AppForm):
    team_id = SelectField(_l("Move to team"), coerce=_optional_int, validators=[DataRequired(message=REQUIRED)])
    moved_on = LocalDateField(_l("On"), validators=[Optional()], default=clock.today)


class RoleForm(AppForm):
    membership_id = SelectField(_l("Member"), coerce=_optional_int, validators=[DataRequired(message=REQUIRED)])
    # Only offered once the user chose the leader as deputy (cdt.registry.services.set_role).
    leave_without_leader = BooleanField(_l("Yes, leave the team without a leader"))
