"""The form base every form of the app derives from, and the forms every page shares.

`AppForm` (a FlaskForm: CSRF unless a form's Meta turns it off) gives every form:
- WTForms' own messages in the user's language, from our catalogue (`WTFormsTranslations`);
- text fields that normalise what was typed and refuse control or invisible characters
  (`cdt.core.text.clean_text`, multi-line for text areas); password and hidden fields are
  left as sent (passwords are normalised by cdt.auth.passwords);
- a clean error next to the field, instead of a 500, when a field that expects text receives
  something else: a file part of a multipart body, or a JSON number, list or object (a JSON
  body that is not an object counts as an empty submission).
"""
from __future__ import annotations

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import FileField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from cdt.core.text import clean_text

NOT_TEXT = _l("This field takes typed text, not a file.")


def ngettext_noop(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural message for extraction without translating it (keyword `ngettext_noop:1,2`)."""
    return singular, plural


# WTForms' own messages (every msgid of wtforms/locale/wtforms.pot), written here so that the
# extractor keeps them in our catalogue, where WTFormsTranslations finds them.
WTFORMS_MESSAGES = (
    _l("Invalid field name '%s'."),
    _l("Field must be equal to %(other_name)s."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Date must be at least %(min)s."),
    _l("Date must be at most %(max)s."),
    _l("Date must be between %(min)s and %(max)s."),
    _l("This field is required."),
    _l("Invalid input."),
    _l("Invalid email address."),
    _l("Invalid IP address."),
    _l("Invalid Mac address."),
    _l("Invalid URL."),
    _l("Invalid UUID."),
    _l("Invalid value, must be one of: %(values)s."),
    _l("Invalid value, can't be any of: %(values)s."),
    _l("This field cannot be edited."),
    _l("This field is disabled and cannot have a value."),
    _l("Invalid CSRF Token."),
    _l("CSRF token missing."),
    _l("CSRF failed."),
    _l("CSRF token expired."),
    _l("Invalid Choice: could not coerce."),
    _l("Choices cannot be None."),
    _l("Not a valid choice."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    _l("Not a valid datetime value."),
    _l("Not a valid date value."),
    _l("Not a valid time value."),
    _l("Not a valid week value."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
)
WTFORMS_PLURAL_MESSAGES = (
    ngettext_noop("Field must be at least %(min)d character long.",
                  "Field must be at least %(min)d characters long."),
    ngettext_noop("Field cannot be longer than %(max)d character.",
                  "Field cannot be longer than %(max)d characters."),
    ngettext_noop("Field must be exactly %(max)d character long.",
                  "Field must be exactly %(max)d characters long."),
    ngettext_noop("'%(value)s' is not a valid choice for this field.",
                  "'%(value)s' are not valid choices for this field."),
)
REQUIRED = _l("This field is required.")


class WTFormsTranslations:
    """WTForms' messages through the app's catalogue, in the request's language.

    Only the lookup: WTForms fills the placeholders itself (`message % {"min": ..., "max": ...}`).
    Flask-Babel's gettext/ngettext would format them first, with only `num`, and fail on
    `%(max)d` (the KeyError behind the 500 on an over-long name)."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


TRANSLATIONS = WTFormsTranslations()


def _is_text_field(field_class: type) -> bool:
    return issubclass(field_class, StringField) and not issubclass(field_class, (PasswordField, HiddenField))


def _text_filter(multiline: bool):
    def clean(value):
        return clean_text(value, multiline) if isinstance(value, str) else value

    return clean


_SINGLE_LINE, _MULTI_LINE = _text_filter(False), _text_filter(True)


class AppForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return TRANSLATIONS

        def bind_field(self, form, unbound_field, options):
            if _is_text_field(unbound_field.field_class):
                clean = _MULTI_LINE if issubclass(unbound_field.field_class, TextAreaField) else _SINGLE_LINE
                options = {**options, "filters": [clean, *unbound_field.kwargs.get("filters", ())]}
            return super().bind_field(form, unbound_field, options)

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        self._not_text: set[str] = set()
        try:
            formdata = self.meta.wrap_formdata(self, formdata)
        except (TypeError, ValueError):  # a JSON body that is not an object ([1, 2], "abc", 3)
            formdata = MultiDict()
        if isinstance(formdata, MultiDict):
            formdata = self._without_misplaced_values(formdata)
        super().process(formdata, obj, data=data, extra_filters=extra_filters, **kwargs)

    def _without_misplaced_values(self, formdata: MultiDict) -> MultiDict:
        """Values that are not text, sent to a field that is not a file field, are left out (and
        reported by validate()): no field's parser or validator ever sees them."""
        fields = {field.name: field for field in self._fields.values()}
        kept = MultiDict()
        for key, value in formdata.items(multi=True):
            field = fields.get(key)
            if field is not None and not isinstance(value, str) and not isinstance(field, FileField):
                self._not_text.add(key)
                continue
            kept.add(key, value)
        return kept

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators=extra_validators)
        for field in self._fields.values():
            if field.name in self._not_text:
                field.errors = [NOT_TEXT]
                valid = False
        return valid


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class LanguageForm(AppForm):
    language = HiddenField()
    next = HiddenField()


class EmptyForm(AppForm):
    """A POST-only action with nothing but the CSRF token."""
