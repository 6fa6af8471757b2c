"""Log-in and account forms."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from cdt.auth.models import ROLE_LABELS
from cdt.auth.passwords import MAX_LENGTH, password_problems
from cdt.core.forms import Form


class LoginForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    # No upper bound here beyond the policy's own: a longer value is simply a wrong password.
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[DataRequired()],
                                 render_kw={"autocomplete": "new-password", "maxlength": MAX_LENGTH})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new_password", _l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Change password"))

    def __init__(self, *args, username: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._username = username

    def validate_new_password(self, field):
        problems = password_problems(field.data or "", self._username)
        if problems:
            raise ValidationError(problems[0])
        if field.data == self.current_password.data:
            raise ValidationError(_l("The new password must differ from the current one."))


def role_choices():
    return [(key, str(label)) for key, label in ROLE_LABELS.items()]


class UserForm(Form):
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=120)])
    role = SelectField(_l("Role"), choices=[], validators=[DataRequired()])
    area_select = SelectField(_l("Area (province or district)"), choices=[], validate_choice=False,
                              validators=[Optional()])
    area_code = StringField(_l("or GSO code of the area"), validators=[Optional(), Length(max=16)],
                            render_kw={"inputmode": "numeric", "autocomplete": "off"})
    submit = SubmitField(_l("Save"))

    def area(self) -> str:
        """The chosen area: the typed GSO code wins over the select."""
        return (self.area_code.data or "").strip() or (self.area_select.data or "").strip()


class NewUserForm(UserForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "off", "autocapitalize": "none"})
    submit = SubmitField(_l("Create account"))
