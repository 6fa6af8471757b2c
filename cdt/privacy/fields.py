"""The consent question shared by the privacy forms and the new-member form (cdt/registry/forms.py).
Imports nothing of the registry, so that the registry's forms may import it."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField
from wtforms.validators import Optional, ValidationError

from cdt.core.forms import options
from cdt.privacy.models import CONSENT_METHOD_LABELS

CHOOSE = _l("Choose one of the options.")
PENDING = "pending"


def consent_choices(with_pending: bool = False) -> list:
    choices = [(k, v) for k, v in CONSENT_METHOD_LABELS.items()]
    if with_pending:
        choices.append((PENDING, _l("Not yet: consent pending (the person has not signed or said yes)")))
    return options(choices)


def consent_field() -> RadioField:
    """The consent question of the new-member form: the ways consent is given, or "pending";
    nothing chosen in advance, and nothing chosen means pending (consent is never assumed)."""
    return RadioField(_l("Consent to data processing"), choices=consent_choices(with_pending=True),
                      validators=[Optional()], validate_choice=False)


def check_consent_choice(field) -> None:
    if field.data not in (None, "", PENDING, *CONSENT_METHOD_LABELS):
        raise ValidationError(CHOOSE)
