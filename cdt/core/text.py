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

import functools
import unicodedata

from flask_babel import gettext as _
from unidecode import unidecode

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


# --------------------------------------------------------------------------- Vietnamese order

# The Vietnamese alphabet (ă, â after a; đ after d; ê after e; ô, ơ after o; ư after u), with the
# Latin letters Vietnamese names borrow (f, j, w, z) in their Latin places. Digits first.
_ALPHABET = "0123456789aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {letter: f"{position + 2:02d}" for position, letter in enumerate(_ALPHABET)}
# Tone marks (combining, after NFD), in dictionary order: level (none), huyền, hỏi, ngã, sắc, nặng.
_TONES = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}
# Marks that make another letter of the alphabet rather than a tone.
_LETTER_MARKS = {("a", "\u0306"): "ă", ("a", "\u0302"): "â", ("e", "\u0302"): "ê", ("o", "\u0302"): "ô",
                 ("o", "\u031b"): "ơ", ("u", "\u031b"): "ư"}
SORT_KEY_LENGTH = 400


def vi_sort_key(text: str | None) -> str:
    """A key whose plain (byte or any-locale) order is the Vietnamese dictionary order of `text`:
    letters first ("D" before "Đ", "A" < "Ă" < "Â"), tones only where the letters are equal
    (a < à < ả < ã < á < ạ), case ignored, a shorter word before a longer one ("An" < "An Bình" <
    "Anh"). Digits only, so no database collation can reorder it (PostgreSQL's en_US sorts
    letters and punctuation its own way; SQLite compares bytes).

    Layout: two digits per letter ("01" between words, "00" ends the letters: it sorts before
    any letter, so a prefix comes first), then one tone digit per letter."""
    letters: list[str] = []
    tones: list[str] = []
    for word in (text or "").lower().split():
        if letters:
            letters.append("01")
            tones.append("0")
        for char in word:
            decomposed = unicodedata.normalize("NFD", char)
            base, marks, tone = decomposed[0], decomposed[1:], "0"
            for mark in marks:
                if mark in _TONES:
                    tone = _TONES[mark]
                else:
                    base = _LETTER_MARKS.get((base, mark), base)
            rank = _RANK.get(base)
            if rank is None:  # another script's letter: its Latin reading, else after z
                latin = unidecode(base).lower()[:1]
                rank = _RANK.get(latin, "99")
            letters.append(rank)
            tones.append(tone)
    return ("".join(letters) + "00" + "".join(tones))[:SORT_KEY_LENGTH]


# --------------------------------------------------------------------------- search


@functools.lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """'Nguyễn Văn  An' -> 'nguyen van an' (what name search compares). Cached: an import folds
    each cell's text several times (header and value matching, duplicate checks, the search
    name), and most cells repeat ("Nam", "Kinh", a village)."""
    return " ".join(unidecode(text or "").lower().split())


def name_keys(search_name: str | None) -> list[str]:
    """'nguyen van an' -> ['nguyen van an', 'van an', 'an']."""
    words = (search_name or "").split()
    keys: list[str] = []
    for start in range(len(words)):
        key = " ".join(words[start:])[:120]
        if key not in keys:
            keys.append(key)
    return keys


def team_search_name(team_name: str | None, village_name: str | None) -> str:
    return fold(f"{team_name or ''} {village_name or ''}")[:300]
