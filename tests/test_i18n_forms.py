"""WTForms' own messages come out in Vietnamese on every form of the app: every form derives from
the one form base (cdt.core.forms.AppForm), whose translations find WTForms' messages in our
catalogue; empty and nonsense submissions of each form give no English message."""
from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
import wtforms
from babel.messages.pofile import read_po
from flask_wtf import FlaskForm

import cdt
from cdt.core.forms import AppForm
from tests.test_i18n import _catalogue

WTFORMS_POT = Path(wtforms.__file__).parent / "locale" / "wtforms.pot"


def _all_form_classes() -> list[type]:
    for module in pkgutil.walk_packages(cdt.__path__, "cdt."):
        importlib.import_module(module.name)
    found, todo = set(), [FlaskForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return sorted((c for c in found if c.__module__.startswith("cdt.") and c is not AppForm),
                  key=lambda c: c.__qualname__)


FORMS = _all_form_classes()


def _wtforms_messages() -> list[tuple[str, ...]]:
    with open(WTFORMS_POT, "rb") as fh:
        return [m.id if isinstance(m.id, tuple) else (m.id,) for m in read_po(fh) if m.id]


def _english_patterns() -> list[re.Pattern]:
    """WTForms' English messages as patterns (placeholders match anything)."""
    patterns = []
    for ids in _wtforms_messages():
        for text in ids:
            parts = re.split(r"%\(\w+\)[sd]|%s", text)
            patterns.append(re.compile(".+?".join(re.escape(p) for p in parts)))
    return patterns


ENGLISH = _english_patterns()


def test_every_form_of_the_app_derives_from_the_form_base():
    assert len(FORMS) >= 20  # the walk really found the forms
    strays = [f"{c.__module__}.{c.__qualname__}" for c in FORMS if not issubclass(c, AppForm)]
    assert not strays, f"forms not derived from cdt.core.forms.AppForm: {strays}"


def test_every_wtforms_message_is_translated_in_our_catalogue():
    catalogue = {m.id if isinstance(m.id, str) else m.id[0]: m for m in _catalogue() if m.id}
    missing = [ids[0] for ids in _wtforms_messages() if ids[0] not in catalogue]
    assert not missing, f"WTForms messages missing from our catalogue: {missing}"
    for ids in _wtforms_messages():
        message = catalogue[ids[0]]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if len(ids) == 2:
            assert message.id == ids, f"{ids[0]} must be a plural entry"
        assert all(s and s not in ids for s in strings), ids


def _submissions(app, form_class) -> list[dict]:
    """An empty submission, then nonsense in every field: too long, not a number, date or choice."""
    with app.test_request_context("/"):
        names = [field.name for field in form_class(formdata=None)]
    return [{}, {name: "x" * 5000 for name in names}, {name: "-1" for name in names}]


def _errors(form) -> list[str]:
    out = []
    for messages in form.errors.values():
        out.extend(str(m) for m in messages)
    return out


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: c.__qualname__)
def test_no_wtforms_message_in_english_on_a_vietnamese_page(app, form_class):
    seen = []
    for data in _submissions(app, form_class):
        with app.test_request_context("/", method="POST", data=data, headers={"Accept-Language": "vi"}):
            form = form_class()
            for field in form:
                if getattr(field, "choices", ()) is None:  # the view sets these: none offered here
                    field.choices = []
            form.validate()
            errors = _errors(form)
        english = [e for e in errors if any(p.fullmatch(e) for p in ENGLISH)]
        assert not english, f"{form_class.__qualname__} with {sorted(data)[:5]}: {english}"
        seen.extend(errors)
    if form_class.__qualname__ not in ("EmptyForm", "IdsForm", "LanguageForm", "ImportConfirmForm",
                                       "InviteTeamsForm", "CoverageFilterForm", "AuditFilterForm",
                                       "EndMembershipForm"):
        assert seen, f"{form_class.__qualname__}: nonsense refused nowhere (the test submits nothing?)"


def test_the_change_password_page_says_required_in_vietnamese(login_as):
    client = login_as("commune")
    html = client.post("/account/password", data={}).get_data(as_text=True)
    assert "Vui lòng nhập thông tin này." in html
    assert "This field is required." not in html
