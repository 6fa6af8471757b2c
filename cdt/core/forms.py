"""Forms every page shares."""
from flask_wtf import FlaskForm
from wtforms import HiddenField


class LanguageForm(FlaskForm):
    language = HiddenField()
    next = HiddenField()


class EmptyForm(FlaskForm):
    """A POST-only action with nothing but the CSRF token."""
