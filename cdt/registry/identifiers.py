"""A person's identifiers, normalised: phone numbers (E.164) and citizen IDs (12 ASCII digits),
whatever script they were typed in (cdt.core.text.ascii_digits). Used by the Person model on every
write and by the registry's rules, forms, import and exports; imports no model, so the model can
import it."""
from __future__ import annotations

import re

import phonenumbers
from flask_babel import gettext as _

from cdt.core.text import ascii_digits

_CITIZEN_ID = re.compile(r"[0-9]{12}")


def normalize_phone(raw: str | None) -> str | None:
    """'0912 345 678', '+84912345678', '84-912-345-678' -> '+84912345678' (E.164). None if blank."""
    text = ascii_digits(raw or "").strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        raise ValueError(_("This is not a phone number.")) from None
    if not phonenumbers.is_valid_number(number) or number.country_code != 84:
        raise ValueError(_("This is not a valid Vietnamese mobile or landline number."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(stored: str | None) -> str:
    """'+84912345678' -> '0912 345 678' (how people write it)."""
    if not stored:
        return ""
    try:
        number = phonenumbers.parse(stored, "VN")
    except phonenumbers.NumberParseException:
        return stored
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def normalize_citizen_id(raw: str | None) -> str | None:
    """'010 090 123 456', '０１０…', '٠١٠…' -> '010090123456'. None if blank."""
    text = re.sub(r"\s+", "", ascii_digits(raw or ""))
    if not text:
        return None
    if not _CITIZEN_ID.fullmatch(text):
        raise ValueError(_("A citizen ID has exactly 12 digits."))
    return text
