"""Text as people type it, made one way for every way in (forms, the import, the CLI, services).

- `clean_text`: NFKC (a letter typed with combining marks, as macOS and some Vietnamese
  keyboards send it, becomes the one precomposed letter; fullwidth forms become ASCII),
  surrounding whitespace stripped, and control or invisible characters refused with a
  translated message. Vietnamese letters, their marks and ordinary punctuation are kept.
- `ascii_digits`: identifiers (citizen ID, phone, GSO codes) in ASCII digits. NFKC turns
  fullwidth digits into ASCII but leaves Arabic-Indic, Devanagari and the other scripts'
  decimal digits alone; their value is unambiguous, so they are converted rather than refused.
"""
from __future__ import annotations

import unicodedata

from flask_babel import gettext as _

# Cc control, Cf format (zero-width spaces and joiners, bidi overrides, BOM, soft hyphen),
# Co private use, Cs surrogates, Cn unassigned; Zl/Zp line and paragraph separators.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
# What a multi-line text (notes) may hold among them: the ordinary line break and tab.
MULTILINE_ALLOWED = frozenset("\n\t")


def refused_character(text: str, multiline: bool = False) -> tuple[int, str] | None:
    """(1-based position, character) of the first control or invisible character, or None."""
    for position, char in enumerate(text, 1):
        if unicodedata.category(char) in REFUSED_CATEGORIES and not (multiline and char in MULTILINE_ALLOWED):
            return position, char
    return None


def refused_message(found: tuple[int, str]) -> str:
    position, char = found
    return _("The text contains a control or invisible character (U+%(code)s, character %(position)d); "
             "remove it.", code=f"{ord(char):04X}", position=position)


def clean_text(value: str, multiline: bool = False) -> str:
    """NFKC, line breaks as '\\n' (multi-line) or spaces (single line), stripped; ValueError with
    a translated message when a control or invisible character remains."""
    text = unicodedata.normalize("NFKC", value).replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    found = refused_character(text, multiline)
    if found is not None:
        raise ValueError(refused_message(found))
    return text.strip()


def ascii_digits(value: str) -> str:
    """NFKC, then every decimal digit of any script as its ASCII digit ('٠١٢' -> '012')."""
    text = unicodedata.normalize("NFKC", value)
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)
