"""Forms every page shares."""
from flask import request
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import FileField, HiddenField


class Form(FlaskForm):
    """A form whose file parts reach only its file fields: a text field sent as a file part reads
    as absent (a file object is no text for a length check or a strip)."""

    class Meta:
        def wrap_formdata(self, form, formdata):
            formdata = FlaskForm.Meta.wrap_formdata(self, form, formdata)
            if isinstance(formdata, CombinedMultiDict):
                names = {field.name for field in form if isinstance(field, FileField)}
                files = MultiDict([(k, v) for k, v in request.files.items(multi=True) if k in names])
                return CombinedMultiDict((files, request.form))
            return formdata


class LanguageForm(Form):
    language = HiddenField()
    next = HiddenField()


class EmptyForm(Form):
    """A POST-only action with nothing but the CSRF token."""
