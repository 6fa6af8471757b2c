"""Password policy (OWASP ASVS 4.0.3 V2.1, NIST SP 800-63B 5.1.1.2).

- Normalised with NFKC before anything else, when set and when checked (`normalize_password`),
  so the same password typed on another keyboard or system still matches.
- 12 to 128 characters (code points after normalisation), any Unicode, no composition rules;
  control and invisible characters (zero-width spaces, bidi marks, ...) refused.
- Refused when common (the list in cdt/auth/data/, see its README.txt), equal to the username,
  or easy to guess: zxcvbn's estimate must reach score 3 (at least 10^8 guesses; "safely
  unguessable" in zxcvbn's terms). With scrypt hashes and throttled log-ins that puts an online
  attack out of reach and makes an offline attack on a stolen hash slow; score 4 (10^10) would
  refuse many memorable Vietnamese sentences. zxcvbn knows English only: Vietnamese words,
  names and the country's place names are added to its dictionaries, and a password is also
  scored without its diacritics (the weaker result counts).
- The reason is said in the user's language: zxcvbn's own feedback is English, so the kind of
  its weakest match is mapped onto our messages.
"""
from __future__ import annotations

import gzip
import secrets
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

from flask_babel import gettext as _
from unidecode import unidecode

from cdt.core.text import refused_character

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_SCORE = 3
SCORED_LENGTH = 64
DATA = Path(__file__).resolve().parent / "data"

# Random first passwords: no look-alike characters, 4 groups of 4 (about 95 bits).
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# zxcvbn keeps the user's inputs in a module-level dictionary during a check.
_ZXCVBN_LOCK = threading.Lock()


def normalize_password(password: str | None) -> str:
    """What is hashed and compared: the password in NFKC."""
    return unicodedata.normalize("NFKC", password or "")


def _normal(password: str) -> str:
    return normalize_password(password).casefold().replace(" ", "")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    words: set[str] = set()
    with gzip.open(DATA / "common-passwords.txt.gz", "rt", encoding="utf-8") as fh:
        words.update(_normal(line.strip()) for line in fh if line.strip())
    words.update(_normal(line) for line in _data_lines("common-passwords-extra.txt"))
    return frozenset(words)


def _data_lines(name: str) -> list[str]:
    lines = (line.strip() for line in (DATA / name).read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _with_and_without_spaces(words) -> list[str]:
    """Each entry as written and without its spaces, first occurrence kept (the rank)."""
    out: dict[str, None] = {}
    for word in words:
        out.setdefault(word, None)
        out.setdefault(word.replace(" ", ""), None)
    return list(out)


def place_names() -> list[str]:
    """Provinces, districts and communes of the country (vietnam-provinces), folded, larger units
    first; names of one or two characters ('Phường 1') are left out."""
    from cdt.geo.units import province_tree

    tree = province_tree()
    names = [province["codename"].removeprefix("thanh_pho_").removeprefix("tinh_") for province in tree]
    names.extend(d["short_codename"] for province in tree for d in province["districts"])
    names.extend(w["short_codename"] for province in tree for d in province["districts"] for w in d["wards"])
    return [n for n in _with_and_without_spaces(n.replace("_", " ") for n in names) if len(n) > 2]


@lru_cache(maxsize=1)
def _add_dictionaries() -> None:
    """Vietnamese words, names and place names as zxcvbn dictionaries (once per process)."""
    from zxcvbn import matching  # imported when first needed: it loads its own lists (~0.4 s)

    matching.add_frequency_lists({
        "vi_words": _with_and_without_spaces(_data_lines("vietnamese-words.txt")),
        "vi_names": _with_and_without_spaces(_data_lines("vietnamese-names.txt")),
        "vi_places": place_names(),
    })


def _fold(text: str) -> str:
    """Without diacritics ('Đồi chè' -> 'Doi che'), the case kept."""
    return unidecode(text)


def _weakest(password: str, user_inputs: list[str]) -> dict:
    """zxcvbn's result for the password as typed or without diacritics, whichever is weaker.

    Only the first SCORED_LENGTH characters are scored: zxcvbn's time grows quickly with the
    length (over a second for 128 repeated characters), and a password is at least as hard to
    guess as its beginning."""
    from zxcvbn import zxcvbn

    _add_dictionaries()
    head = password[:SCORED_LENGTH]
    candidates = {head, _fold(head)[:SCORED_LENGTH]}
    with _ZXCVBN_LOCK:
        results = [zxcvbn(text, user_inputs=user_inputs, max_length=SCORED_LENGTH) for text in candidates]
    return min(results, key=lambda result: result["guesses"])


def _reason(sequence: list[dict]) -> str:
    """Why zxcvbn finds the password easy: its longest match that is not plain characters."""
    matches = [m for m in sequence if m["pattern"] != "bruteforce"]
    if not matches:
        return _("It follows a pattern that is easy to guess.")
    match = max(matches, key=lambda m: len(m["token"]))
    pattern, dictionary = match["pattern"], match.get("dictionary_name")
    if pattern == "repeat":
        return _("Repeated characters or words are easy to guess.")
    if pattern == "sequence":
        return _("Sequences like 1234 or abcd are easy to guess.")
    if pattern == "spatial":
        return _("Keyboard patterns like qwerty or asdf are easy to guess.")
    if pattern in ("date", "regex"):
        return _("Dates and years are easy to guess.")
    if dictionary == "passwords":
        return _("It is built on a commonly used password.")
    if dictionary == "user_inputs":
        return _("It contains your username or your name.")
    if dictionary == "vi_places":
        return _("Names of places are easy to guess.")
    if dictionary in ("vi_names", "surnames", "male_names", "female_names"):
        return _("Names are easy to guess.")
    return _("Common words and phrases are easy to guess.")


def strength_problem(password: str, user_inputs: list[str] | None = None) -> str | None:
    """A translated reason when zxcvbn scores the (normalised) password below MIN_SCORE."""
    inputs = []
    for value in user_inputs or []:
        for text in {value.lower(), _fold(value).lower()}:
            inputs.extend([text, *text.replace(".", " ").replace("_", " ").replace("-", " ").split()])
    result = _weakest(password, [i for i in dict.fromkeys(inputs) if i])
    if result["score"] >= MIN_SCORE:
        return None
    return _("This password is too easy to guess. %(reason)s Add a few more uncommon words, for example a "
             "short sentence only you would think of.", reason=_reason(result["sequence"]))


def password_problems(password: str, username: str | None = None, full_name: str | None = None) -> list[str]:
    """Why `password` is refused (translated messages); an empty list when it is fine.

    Length counts Unicode code points after NFKC normalisation (so a Vietnamese letter with
    its marks counts once, however it was typed)."""
    text = normalize_password(password)
    found = refused_character(text)
    if found is not None:
        position, char = found
        return [_("The password contains a control or invisible character (U+%(code)s, character %(position)d). "
                  "Use letters, digits, spaces and punctuation.", code=f"{ord(char):04X}", position=position)]
    if len(text) < MIN_LENGTH:
        return [_("The password must have at least %(n)d characters.", n=MIN_LENGTH)]
    if len(text) > MAX_LENGTH:
        return [_("The password must have at most %(n)d characters.", n=MAX_LENGTH)]
    normal = _normal(text)
    if normal in common_passwords():
        return [_("This password is too common. Choose another one.")]
    if username and normal == _normal(username):
        return [_("The password must not be the username.")]
    problem = strength_problem(text, [value for value in (username, full_name) if value])
    return [problem] if problem else []


def random_password() -> str:
    """A first password for a new account or a reset: shown once, changed at first log-in."""
    groups = ["".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)
