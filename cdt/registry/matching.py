"""Who is who: how a new entry (a form, an import row, an API call) is matched to a registered
person. Defined once here; the form (cdt.registry.services), the import
(cdt.registry.transfer.importing) and any later API call `judge` / `find_matches`.

The rules (README, "A person is recorded once"):
- a citizen ID is an identity: the same citizen ID is the same person, wherever registered;
  two different citizen IDs are two different people, whatever else they share;
- the same name (compared without diacritics) and the same birth date in the province is the
  same person (the database refuses a second record);
- a phone number alone is only a hint: a family often shares one phone. The same phone with
  the same name, and no birth date that disagrees, is the same person; the same phone with
  another name or another birth date is a question for the user: "same person" or "different
  person, same phone". It is never matched silently;
- a name alone (without the birth date) matches nobody.

`Match.certain` tells the two kinds apart: a certain match is the person (the form shows the
duplicate page, the import adds them to the team); an uncertain one needs the user's decision.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from cdt.core.text import fold
from cdt.registry.models import Person
from cdt.registry.rules import find_duplicates

CITIZEN_ID, NAME_BIRTH, PHONE = "citizen_id", "name_birth", "phone"
REASONS = {
    CITIZEN_ID: _l("same citizen ID"),
    NAME_BIRTH: _l("same name and birth date"),
    PHONE: _l("same phone"),
}
# What the user may answer about an uncertain match.
SAME, DIFFERENT = "same", "different"


@dataclass(frozen=True)
class Facts:
    """What is known about the person being entered (normalised values)."""

    full_name: str | None = None
    birth_date: date | None = None
    phone: str | None = None
    citizen_id: str | None = None


@dataclass
class Match:
    person: Person
    kind: str  # CITIZEN_ID | NAME_BIRTH | PHONE
    certain: bool

    @property
    def reason(self) -> str:
        return str(REASONS[self.kind])


def judge(facts: Facts, person: Person) -> Match | None:
    """Is `person` (registered, same province unless the citizen ID matched) the one described
    by `facts`? None: a different person."""
    if facts.citizen_id and person.citizen_id:
        if facts.citizen_id == person.citizen_id:
            return Match(person, CITIZEN_ID, True)
        # Two citizen IDs, two people; but the database still holds one record per name and
        # birth date in a province, so that match stays (the user must correct one of them).
        if _same_name(facts, person) and facts.birth_date and facts.birth_date == person.birth_date:
            return Match(person, NAME_BIRTH, True)
        return None
    if _same_name(facts, person) and facts.birth_date and facts.birth_date == person.birth_date:
        return Match(person, NAME_BIRTH, True)
    if facts.phone and facts.phone == person.phone:
        births_agree = not (facts.birth_date and person.birth_date) or facts.birth_date == person.birth_date
        return Match(person, PHONE, _same_name(facts, person) and births_agree)
    return None


def _same_name(facts: Facts, person: Person) -> bool:
    return bool(facts.full_name) and fold(facts.full_name) == (person.search_name or fold(person.full_name))


def judge_all(facts: Facts, people: Iterable[Person]) -> list[Match]:
    """The people among `people` that match `facts`, certain ones first."""
    matches = [m for m in (judge(facts, p) for p in people) if m is not None]
    return sorted(matches, key=lambda m: (not m.certain, m.person.id))


def find_matches(province_id: int, facts: Facts, exclude_id: int | None = None) -> list[Match]:
    """Registered people matching `facts`: anyone with the citizen ID, in the province anyone with
    the phone or the name and birth date. Not narrowed to a user's area: pass the people through
    `cdt.registry.rules.split_by_area` before anything about them reaches a user."""
    candidates = find_duplicates(province_id, phone=facts.phone, citizen_id=facts.citizen_id,
                                 full_name=facts.full_name, birth_date=facts.birth_date, exclude_id=exclude_id)
    return judge_all(facts, candidates)


def same_in_file(a: Facts, b: Facts) -> str | None:
    """Two rows of one file describing the same person: the reason, or None. The same rules as
    against the registry, applied to both rows (a shared phone alone is not the same person)."""
    if a.citizen_id and b.citizen_id:
        if a.citizen_id == b.citizen_id:
            return CITIZEN_ID
    name_a = fold(a.full_name) if a.full_name else None
    name_b = fold(b.full_name) if b.full_name else None
    same_name = bool(name_a) and name_a == name_b
    if same_name and a.birth_date and a.birth_date == b.birth_date:
        return NAME_BIRTH
    if a.citizen_id and b.citizen_id:
        return None
    if a.phone and a.phone == b.phone and same_name and (
            not (a.birth_date and b.birth_date) or a.birth_date == b.birth_date):
        return PHONE
    return None


def read_decisions(form: Mapping[str, str]) -> dict[int, str]:
    """The user's answers posted as `decide-<row>` = same | different (the import preview)."""
    decisions = {}
    for key, value in form.items():
        if key.startswith("decide-") and key[7:].isdigit() and value in (SAME, DIFFERENT):
            decisions[int(key[7:])] = value
    return decisions
