"""Forms of the village changes (cdt/geo/villages.py); the rules live in the service."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from cdt.core.forms import REQUIRED, AppForm
from cdt.core.inputs import to_int
from cdt.registry.forms import LocalDateField


def _id(value):
    if isinstance(value, int):
        return value
    return to_int(value)


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):  # the service says which villages may be chosen
        pass


class _VillageChoice(SelectField):
    def pre_validate(self, form):
        pass


ON_HELP = _l("The first day of the new state. Reports for earlier days show the villages as they were.")


class MergeForm(AppForm):
    target = _VillageChoice(_l("Village that continues (its team continues)"), coerce=_id,
                            validators=[DataRequired(message=REQUIRED)])
    others = _Checkboxes(_l("Villages merged into it"), coerce=_id)
    name = StringField(_l("New name of the merged village"), validators=[Optional(), Length(max=120)],
                       description=_l("Leave empty to keep the continuing village's name."))
    on = LocalDateField(_l("Date of the merge"), validators=[DataRequired(message=REQUIRED)])
    move_members = BooleanField(_l("Move the members of the dissolved teams to the continuing team"), default=True)


class SplitForm(AppForm):
    village = _VillageChoice(_l("Village that is split"), coerce=_id, validators=[DataRequired(message=REQUIRED)])
    names = TextAreaField(_l("Names of the new villages"), validators=[DataRequired(message=REQUIRED)],
                          description=_l("One name per line. The village itself continues with its team."),
                          render_kw={"rows": 3})
    name = StringField(_l("New name of the village that is split"), validators=[Optional(), Length(max=120)],
                       description=_l("Leave empty to keep its name."))
    on = LocalDateField(_l("Date of the split"), validators=[DataRequired(message=REQUIRED)])


class RenameForm(AppForm):
    village = _VillageChoice(_l("Village"), coerce=_id, validators=[DataRequired(message=REQUIRED)])
    name = StringField(_l("New name"), validators=[DataRequired(message=REQUIRED), Length(max=120)])
    on = LocalDateField(_l("Date of the new name"), validators=[DataRequired(message=REQUIRED)])


class MoveForm(AppForm):
    village = _VillageChoice(_l("Village"), coerce=_id, validators=[DataRequired(message=REQUIRED)])
    target = _VillageChoice(_l("Commune it moves to"), coerce=_id, validators=[DataRequired(message=REQUIRED)])
    on = LocalDateField(_l("Date of the move"), validators=[DataRequired(message=REQUIRED)])
