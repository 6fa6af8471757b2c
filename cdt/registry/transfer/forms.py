"""Forms of the import pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, StringField
from wtforms.validators import Optional

from cdt.core.forms import Form


class ImportUploadForm(Form):
    file = FileField(_l("File (.xlsx or .csv)"), validators=[FileRequired(_l("Choose a file."))])
    # Only shown to an administrator (a commune officer imports into their own commune).
    commune = StringField(_l("Commune code"), validators=[Optional()],
                          description=_l("The 5-digit GSO code of the commune, for example 02866."))


class ImportConfirmForm(Form):
    token = HiddenField()
