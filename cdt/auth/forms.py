"""Log-in and account forms."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from cdt.auth.models import ROLE_LABELS
from cdt.auth.passwords import MAX_LENGTH, normalize_password, password_problems
from cdt.core.forms import AppForm


class LoginForm(AppForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    # No upper bound here beyond the policy's own: a longer value is simply a wrong password.
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class ChangePasswordForm(AppForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[DataRequired()],
                                 render_kw={"autocomplete": "new-password", "maxlength": MAX_LENGTH})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new_password", _l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Change password"))

    def __init__(self, *args, username: str | None = None, full_name: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._username = username
        self._full_name = full_name

    def validate_new_password(self, field):
        problems = password_problems(field.data or "", self._username, self._full_name)
        if problems:
            raise ValidationError(problems[0])
        if normalize_password(field.data) == normalize_password(self.current_password.data):
            raise ValidationError(_l("The new password must differ from the current one."))


def role_choices():
    """The roles, after an empty "— choose —": a new account never starts as an administrator."""
    return [("", str(_l("— choose —")))] + [(key, str(label)) for key, label in ROLE_LABELS.items()]


class UserForm(AppForm):
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=120)])
    role = SelectField(_l("Role"), choices=[], validators=[DataRequired()])
    area_select = SelectField(_l("Area (province or district)"), choices=[], validate_choice=False,
                              validators=[Optional()])
    area_code = StringField(_l("or a commune (name or GSO code)"), validators=[Optional(), Length(max=16)],
                            render_kw={"autocomplete": "off", "list": "area-options"})
    commune_options: list[tuple[str, str]] = []
    submit = SubmitField(_l("Save"))

    def area(self) -> str:
        """The chosen area: the typed GSO code wins over the select."""
        return (self.area_code.data or "").strip() or (self.area_select.data or "").strip()


class NewUserForm(UserForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "off", "autocapitalize": "none"})
    submit = SubmitField(_l("Create account"))
