"""Reading the figures typed on an entry page: one input per team and indicator (`v-<team>-<indicator>`)
and a note per team (`note-<team>`). Blank = not reported; otherwise a whole number from 0."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel import lazy_gettext as _l

from cdt.core.inputs import MAX_INT, to_int
from cdt.core.text import ascii_digits, clean_text
from cdt.outputs.services import Entry

NOT_A_COUNT = _l("Enter a whole number from 0, or leave it blank.")
NOTE_TOO_LONG = _l("The note is too long (2,000 characters at most).")
MAX_NOTE = 2000


def value_name(team_id: int, indicator_id: int) -> str:
    return f"v-{team_id}-{indicator_id}"


def note_name(team_id: int) -> str:
    return f"note-{team_id}"


def parse_count(raw: str | None) -> tuple[int | None, bool]:
    """(value, ok): blank -> (None, True); a whole number 0.. -> (n, True); else (None, False).
    Thousands separators typed as '.' or ',' or spaces are accepted ('1.200')."""
    text = ascii_digits(raw or "").strip()
    if not text:
        return None, True
    compact = text.replace(".", "").replace(",", "").replace(" ", "")
    number = to_int(compact, minimum=0, maximum=MAX_INT) if compact.isdigit() else None
    return number, number is not None


def parse_entries(form: Mapping[str, str], team_ids: Iterable[int], indicator_ids: list[int]
                  ) -> tuple[dict[int, Entry], dict[str, str]]:
    """{team_id: Entry} and {input name: error message} from a submitted form."""
    entries: dict[int, Entry] = {}
    errors: dict[str, str] = {}
    for team_id in team_ids:
        names = [value_name(team_id, i) for i in indicator_ids] + [note_name(team_id)]
        if not any(name in form for name in names):
            continue  # the team was not on the submitted page: left as it is
        values: dict[int, int | None] = {}
        for indicator_id in indicator_ids:
            name = value_name(team_id, indicator_id)
            value, ok = parse_count(form.get(name))
            if not ok:
                errors[name] = str(NOT_A_COUNT)
            values[indicator_id] = value
        note_raw = form.get(note_name(team_id)) or ""
        note = None
        try:
            note = clean_text(note_raw, multiline=True) or None
        except ValueError as error:
            errors[note_name(team_id)] = str(error)
        if note is not None and len(note) > MAX_NOTE:
            errors[note_name(team_id)] = str(NOTE_TOO_LONG)
        entries[team_id] = Entry(values, note)
    return entries, errors
