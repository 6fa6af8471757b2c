"""Importing a commune's member list: read the file, check every row, preview, then commit.

What an import does, decided once (the web page and `flask cdt import members` share it):
- each row is one person in one team: the active team of the row's village (code or name,
  within the commune being imported);
- a row whose person is already registered (cdt.registry.matching: same citizen ID anywhere,
  or in the province the same name and birth date, or the same phone and name) does not create
  a second record: the person is added to the team ("join"), or nothing happens when they are
  already a current member of it ("present"). The registered record is kept as it is, never
  overwritten;
- a row whose only match is a hint that disagrees (the same phone, another name or birth
  date) is never matched silently: it waits for the user's decision ("decide": same person /
  different person, same phone), posted with the confirmation; the command line, which asks
  nobody, refuses it as an error;
- two rows matching one registered person are an error (never a failed confirmation);
- only people registered in the commune being imported are matched that way (a person
  joins teams of their own commune). A row matching someone registered elsewhere is an
  error, and says who that is only to a user who may see them (cdt.auth.scope); for anyone
  else, and for the command line (which runs without an account), it says only that the
  person is registered in another area and whom to ask;
- so importing the same file twice adds nothing the second time;
- rows that are the same person as an earlier row of the file, that match two different
  registered people, that give a team a second leader or deputy, or that break a rule
  (phone, birth date, citizen ID, ...) are errors; any error blocks the whole import;
- confirming re-checks the stored file against the database as it is then, and writes all
  rows in one transaction or none.
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select, tuple_
from sqlalchemy.exc import IntegrityError

from cdt.audit.service import record
from cdt.auth.scope import ids_in_area
from cdt.core import clock
from cdt.core.spreadsheets import SpreadsheetError, open_xlsx_safely, sniff
from cdt.core.text import fold
from cdt.core.transactions import transactional
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.queries import villages_of
from cdt.registry import bulk, identifiers, matching, rules
from cdt.registry.models import Membership, Person, Team
from cdt.registry.transfer.columns import (
    COLUMNS_BY_KEY,
    IMPORT_COLUMNS,
    SAMPLE_ROW,
    citizen_id_text,
    match_headers,
    parse_date,
    parse_ethnicity,
    parse_full_name,
    parse_gender,
    parse_position,
    parse_role,
    parse_yes_no,
    phone_text,
    squash,
    text_of,
)
from cdt.reports.models import lock_for_change

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
EXTENSIONS = ("xlsx", "csv")
_CHUNK = 500


class ImportFileError(ValueError):
    """The file as a whole is refused (type, size, rows, headers); str() is translated."""


class ImportConflict(RuntimeError):
    """The database changed between the check and the write; nothing was written."""


@dataclass
class RowError:
    row: int
    column: str  # a column key, or "" for the row as a whole
    message: str

    @property
    def column_label(self) -> str:
        col = COLUMNS_BY_KEY.get(self.column)
        return str(col.label) if col else ""


@dataclass
class Row:
    number: int  # as the spreadsheet shows it (the header is row 1)
    values: dict[str, object]
    full_name: str = ""
    gender: str = ""
    birth_date: date | None = None
    ethnicity: str = ""
    phone: str | None = None
    citizen_id: str | None = None
    youth_union: bool = False
    position: str | None = None
    role: str = "member"
    joined_on: date | None = None
    village: AdminUnit | None = None
    team: Team | None = None
    errors: list[RowError] = field(default_factory=list)
    status: str = ""  # new | join | present | error
    existing: Person | None = None
    match_reason: str = ""
    # Uncertain matches waiting for the user's decision (status "decide"): (person or None when
    # the user may not see them, reason).
    hints: list[tuple[Person | None, str]] = field(default_factory=list)

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.number, column, message))

    @property
    def display(self) -> str:
        return text_of(self.values.get("full_name")) or "—"


@dataclass
class ImportResult:
    commune: AdminUnit
    rows: list[Row]
    ignored_headers: list[str]
    skipped_sample: bool = False

    @property
    def errors(self) -> list[RowError]:
        return [e for row in self.rows for e in row.errors]

    def with_status(self, status: str) -> list[Row]:
        return [r for r in self.rows if r.status == status]

    @property
    def counts(self) -> dict[str, int]:
        counts = {"rows": len(self.rows), "new": 0, "join": 0, "present": 0, "error": 0}
        for row in self.rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        return counts

    @property
    def no_errors(self) -> bool:
        return not any(row.errors for row in self.rows)

    @property
    def ok(self) -> bool:
        """Ready to write: no error, and no row waiting for a decision."""
        return self.no_errors and not any(row.status == "decide" for row in self.rows)


# --- reading the file ---------------------------------------------------------------------

def file_extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def read_table(data: bytes, extension: str) -> Iterator[list[object]]:
    """The file's rows as lists of cell values; refuses a file that is not what its name says."""
    if extension not in EXTENSIONS:
        raise ImportFileError(_("Choose an Excel (.xlsx) or CSV (.csv) file."))
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(_("The file is larger than %(max)s MB.", max=MAX_FILE_BYTES // (1024 * 1024)))
    if not data:
        raise ImportFileError(_("The file is empty."))
    if extension == "xlsx":
        try:
            workbook = open_xlsx_safely(data)
        except SpreadsheetError as error:
            raise ImportFileError(str(error)) from None
        return _xlsx_rows(workbook)
    kind = sniff(data)
    if kind == "zip":
        raise ImportFileError(_("This file is an Excel workbook, not a CSV file, although its name says so. "
                                "Name it .xlsx or save it again as CSV UTF-8."))
    if kind != "text":
        raise ImportFileError(_("This file is not a CSV text file, although its name says so."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_("This CSV file is not in UTF-8. In Excel, save it as \"CSV UTF-8 (comma delimited)\".")) from None
    return _csv_rows(text)


def _xlsx_rows(workbook) -> Iterator[list[object]]:
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    except ImportFileError:
        raise
    except Exception:
        raise ImportFileError(_("This Excel file is damaged and cannot be read.")) from None
    finally:
        workbook.close()


def _csv_rows(text: str) -> Iterator[list[object]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error:
        raise ImportFileError(_("This CSV file is malformed and cannot be read.")) from None


def _is_blank(cells: Iterable[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def read_rows(data: bytes, extension: str) -> tuple[list[Row], list[str], bool]:
    """Rows with their raw values by column key, the ignored headers, whether the sample row was skipped."""
    table = read_table(data, extension)
    header: list[object] | None = None
    header_row = 0
    for number, cells in enumerate(table, start=1):
        if not _is_blank(cells):
            header, header_row = cells, number
            break
    if header is None:
        raise ImportFileError(_("The file has no rows."))
    mapping, ignored = match_headers(header)
    missing = [c for c in IMPORT_COLUMNS if c.required and c.key not in mapping.values()]
    if missing:
        raise ImportFileError(_("Columns missing from the first row: %(columns)s. Start from the template.",
                                columns=", ".join(c.header_vi for c in missing)))
    rows: list[Row] = []
    skipped_sample = False
    sample_key = (fold(SAMPLE_ROW["full_name"]), squash(SAMPLE_ROW["phone"]))
    for number, cells in enumerate(table, start=header_row + 1):
        if _is_blank(cells):
            continue
        values = {key: cells[pos] if pos < len(cells) else None for pos, key in mapping.items()}
        if (fold(text_of(values.get("full_name"))), squash(text_of(values.get("phone")))) == sample_key:
            skipped_sample = True
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(_("The file has more than %(max)s rows; split it into several files.",
                                    max=f"{MAX_ROWS:,}".replace(",", ".")))
        rows.append(Row(number=number, values=values))
    if not rows:
        raise ImportFileError(_("The file has no rows to import under its header."))
    return rows, ignored, skipped_sample


# --- checking the rows ----------------------------------------------------------------------

def _parse_row(row: Row) -> None:
    v = row.values

    def take(column: str, parse: Callable[[object], object]):
        try:
            return parse(v.get(column))
        except ValueError as error:
            row.error(column, str(error))
            return None

    row.full_name = take("full_name", parse_full_name) or ""
    row.gender = take("gender", parse_gender) or ""
    birth = take("birth_date", parse_date)
    if birth is not None:
        row.birth_date = take("birth_date", lambda _v: rules.check_birth_date(birth))
    row.ethnicity = take("ethnicity", parse_ethnicity) or ""
    row.phone = take("phone", lambda value: identifiers.normalize_phone(phone_text(value)))
    row.citizen_id = take("citizen_id", lambda value: identifiers.normalize_citizen_id(citizen_id_text(value)))
    row.youth_union = bool(take("youth_union", parse_yes_no))
    row.position = take("position", parse_position)
    row.role = take("role", parse_role) or "member"
    joined = take("joined_on", parse_date)
    if joined is not None and joined > clock.today():
        row.error("joined_on", _("The date a member joined cannot be in the future."))
        joined = None
    row.joined_on = joined


def _village_index(commune: AdminUnit) -> tuple[dict[str, AdminUnit], dict[str, list[AdminUnit]]]:
    villages = villages_of(commune, clock.today())
    by_code = {v.code.lower(): v for v in villages}
    by_name: dict[str, list[AdminUnit]] = defaultdict(list)
    for village in villages:
        name = squash(village.name)
        by_name[name].append(village)
        # "Pả Chư Tỷ" for "Thôn Pả Chư Tỷ" / "Bản ..." / "Tổ dân phố ...", and "1" for "Tổ dân phố số 1"
        for prefix in ("thon", "ban", "todanpho", "todanphoso", "to"):
            if name.startswith(prefix) and len(name) > len(prefix):
                short = name[len(prefix):]
                if village not in by_name[short]:
                    by_name[short].append(village)
    return by_code, by_name


def _resolve_village(row: Row, by_code, by_name, commune: AdminUnit) -> None:
    text = text_of(row.values.get("village"))
    if not text:
        row.error("village", _("The village is required (its code or its name)."))
        return
    village = by_code.get(text.lower())
    if village is None:
        candidates = by_name.get(squash(text), [])
        if len(candidates) > 1:
            row.error("village", _("Several villages of %(commune)s are called “%(name)s”; use the village code.",
                                   commune=commune.name, name=text))
            return
        village = candidates[0] if candidates else None
    if village is None:
        row.error("village", _("No village “%(name)s” in %(commune)s.", name=text, commune=commune.name))
        return
    row.village = village


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _registered(rows: list[Row], province_id: int) -> list[Person]:
    """Registered people matching any row (batched: a few queries whatever the number of rows)."""
    people: dict[int, Person] = {}
    cids = sorted({r.citizen_id for r in rows if r.citizen_id})
    phones = sorted({r.phone for r in rows if r.phone})
    names = sorted({(fold(r.full_name), r.birth_date) for r in rows if r.full_name and r.birth_date})
    for chunk in _chunks(cids):
        people.update((p.id, p) for p in db.session.scalars(select(Person).where(Person.citizen_id.in_(chunk))))
    for chunk in _chunks(phones):
        people.update((p.id, p) for p in db.session.scalars(
            select(Person).where(Person.province_id == province_id, Person.phone.in_(chunk))))
    for chunk in _chunks(names):
        people.update((p.id, p) for p in db.session.scalars(
            select(Person).where(Person.province_id == province_id,
                                 tuple_(Person.search_name, Person.birth_date).in_(chunk))))
    return list(people.values())


def _commune_name(person: Person) -> str:
    unit = db.session.get(AdminUnit, person.commune_id)
    return unit.name if unit is not None else ""


def _facts(row: Row) -> matching.Facts:
    return matching.Facts(full_name=row.full_name or None, birth_date=row.birth_date, phone=row.phone,
                          citizen_id=row.citizen_id)


def _match_certain(row: Row, found: list[matching.Match], commune: AdminUnit, nameable: set[int],
                   elsewhere_message: str) -> None:
    """The row is a registered person (matching's certain rules): join them, or say why not."""
    people = {m.person.id: m for m in found}
    outside = [m.person for m in people.values() if m.person.commune_id != commune.id]
    if any(p.id not in nameable for p in outside):
        row.error("", elsewhere_message)
    elif outside:
        row.error("", _("%(name)s (#%(id)s) is registered in another commune, %(commune)s; a person joins the "
                        "teams of their own commune only.", name=outside[0].full_name, id=outside[0].id,
                        commune=_commune_name(outside[0])))
    elif len(people) > 1:
        names = "; ".join(f"{m.person.full_name} (#{m.person.id})" for m in people.values())
        row.error("", _("Matches several registered people: %(names)s. Correct the row.", names=names))
    else:
        match = found[0]
        person = match.person
        if row.citizen_id and person.citizen_id and person.citizen_id != row.citizen_id:
            row.error("citizen_id", _("%(reason)s as %(name)s (#%(id)s), whose citizen ID is different.",
                                      reason=match.reason.capitalize(), name=person.full_name, id=person.id))
        else:
            row.existing, row.match_reason = person, match.reason


def _match_hints(row: Row, found: list[matching.Match], commune: AdminUnit, nameable: set[int],
                 decisions: dict[int, str] | None) -> None:
    """Only hints (a shared phone with another name or birth date): the user decides. Without a
    decision the row waits ("decide"); the command line (decisions=None) refuses it."""
    decision = (decisions or {}).get(row.number)
    if decision == matching.DIFFERENT:
        return  # a new person who shares a phone
    row.hints = [(m.person if m.person.id in nameable else None, m.reason) for m in found]
    same_here = [m.person for m in found if m.person.commune_id == commune.id]
    if decision == matching.SAME and len(found) == 1 and same_here:
        row.existing, row.match_reason = same_here[0], found[0].reason
        return
    if decisions is None:
        row.error("phone", _("Someone registered has this phone number with another name or birth date: the same "
                             "person, or a family sharing one phone? Decide on the import page of the web "
                             "application."))
        return
    if decision == matching.SAME:
        row.error("phone", _("This row cannot be the same person as the one sharing its phone: they are "
                             "registered in another area, or several people share it. Choose “different person” or "
                             "correct the row."))
        return
    row.status = "decide"


def check_rows(commune: AdminUnit, rows: list[Row], progress: Callable[[int], None] | None = None,
               user: Any = None, decisions: dict[int, str] | None = None) -> None:
    """Parse and check every row against the rules, the file and the database; sets status and errors.

    `user` is who imports (None: the command line); it decides only which matching people outside
    the commune an error message may name. `decisions` are the user's answers about rows whose
    only match is a hint (row number -> matching.SAME / DIFFERENT); None (the command line) makes
    such a row an error instead of a question."""
    by_code, by_name = _village_index(commune)
    teams = {t.village_id: t for t in db.session.scalars(
        select(Team).where(Team.commune_id == commune.id, Team.status == "active"))}
    for index, row in enumerate(rows, start=1):
        _parse_row(row)
        _resolve_village(row, by_code, by_name, commune)
        if row.village is not None:
            row.team = teams.get(row.village.id)
            if row.team is None:
                row.error("village", _("%(village)s has no active team yet; create the team first.",
                                       village=row.village.name))
        if progress is not None and index % 200 == 0:
            progress(200)
    if progress is not None:
        progress(len(rows) % 200)

    # Duplicates within the file: a later row describing the same person as an earlier one, by
    # the rules of cdt.registry.matching (a phone shared by two names is two people).
    seen: dict[tuple, list[Row]] = defaultdict(list)
    for row in rows:
        facts = _facts(row)
        keys = []
        if row.citizen_id:
            keys.append(("cid", row.citizen_id))
        if row.full_name:
            keys.append(("name", fold(row.full_name), row.birth_date))
            if row.phone:
                keys.append(("phone", row.phone, fold(row.full_name)))
        earlier = next(((other, kind) for key in keys for other in seen.get(key, [])
                        if (kind := matching.same_in_file(_facts(other), facts))), None)
        if earlier is not None:
            row.error("", _("Same person as row %(row)s (%(reason)s).", row=earlier[0].number,
                            reason=matching.REASONS[earlier[1]]))
        for key in keys:
            seen[key].append(row)

    # Against the registry.
    registered = _registered([r for r in rows if not r.errors], commune.province_id)
    # Who may be named: people of the commune (which lies in the importing user's area), and
    # people elsewhere only when the user may see them. The rest are "registered elsewhere".
    elsewhere = [p.id for p in registered if p.commune_id != commune.id]
    nameable = {p.id for p in registered if p.commune_id == commune.id}
    if user is not None:
        nameable |= ids_in_area(Person, elsewhere, user)
    elsewhere_message = rules.registered_elsewhere(commune)
    by_cid = {p.citizen_id: p for p in registered if p.citizen_id}
    by_phone: dict[str, list[Person]] = defaultdict(list)
    for p in registered:
        if p.phone and p.province_id == commune.province_id:
            by_phone[p.phone].append(p)
    by_name_birth = {(p.search_name, p.birth_date): p for p in registered
                     if p.birth_date and p.province_id == commune.province_id}
    memberships: dict[int, list[Membership]] = defaultdict(list)
    for chunk in _chunks([p.id for p in registered]):
        for m in db.session.scalars(select(Membership).where(Membership.person_id.in_(chunk),
                                                             Membership.left_on.is_(None))):
            memberships[m.person_id].append(m)
    # Current leaders and deputies of the commune's teams.
    holders: dict[tuple[int, str], Membership] = {}
    team_ids = [t.id for t in teams.values()]
    for chunk in _chunks(team_ids):
        for m in db.session.scalars(select(Membership).where(
                Membership.team_id.in_(chunk), Membership.left_on.is_(None),
                or_(Membership.role == "leader", Membership.role == "deputy"))):
            holders[(m.team_id, m.role)] = m
    claimed: dict[tuple[int, str], int] = {}
    claimed_people: dict[int, int] = {}

    for row in rows:
        if row.errors:
            row.status = "error"
            continue
        candidates: dict[int, Person] = {}
        if row.citizen_id and row.citizen_id in by_cid:
            candidates[by_cid[row.citizen_id].id] = by_cid[row.citizen_id]
        for p in by_phone.get(row.phone, []) if row.phone else []:
            candidates[p.id] = p
        if row.full_name and row.birth_date and (fold(row.full_name), row.birth_date) in by_name_birth:
            p = by_name_birth[(fold(row.full_name), row.birth_date)]
            candidates[p.id] = p
        found = matching.judge_all(_facts(row), candidates.values())
        certain = [m for m in found if m.certain]
        hints = [m for m in found if not m.certain]
        if certain:
            _match_certain(row, certain, commune, nameable, elsewhere_message)
        elif hints:
            _match_hints(row, hints, commune, nameable, decisions)
        if row.existing is not None and not row.errors:
            if row.existing.id in claimed_people:
                row.error("", _("Row %(row)s matches the same registered person, %(name)s (#%(id)s); a person is "
                                "listed once. Remove one of the rows.", row=claimed_people[row.existing.id],
                                name=row.existing.full_name, id=row.existing.id))
            else:
                claimed_people[row.existing.id] = row.number
        if row.status == "decide" and not row.errors:
            continue
        if row.errors:
            row.status = "error"
            continue
        current = [m for m in memberships.get(row.existing.id, [])] if row.existing else []
        if row.existing and any(m.team_id == row.team.id for m in current):
            row.status = "present"
            continue
        row.status = "join" if row.existing else "new"
        if row.role in ("leader", "deputy"):
            slot = (row.team.id, row.role)
            holder = holders.get(slot)
            role_name = _("leader") if row.role == "leader" else _("deputy leader")
            if holder is not None:
                row.error("role", _("%(team)s already has a %(role)s (%(name)s); change it on the team page first.",
                                    team=row.team.name, role=role_name, name=holder.person.full_name))
            elif slot in claimed:
                row.error("role", _("Row %(row)s already names the %(role)s of this team.",
                                    row=claimed[slot], role=role_name))
            else:
                claimed[slot] = row.number
        if row.errors:
            row.status = "error"


def prepare(commune: AdminUnit, data: bytes, extension: str,
            progress: Callable[[int], None] | None = None,
            on_rows: Callable[[int], None] | None = None, user: Any = None,
            decisions: dict[int, str] | None = None) -> ImportResult:
    rows, ignored, skipped = read_rows(data, extension)
    if on_rows is not None:
        on_rows(len(rows))
    check_rows(commune, rows, progress, user=user, decisions=decisions)
    return ImportResult(commune=commune, rows=rows, ignored_headers=ignored, skipped_sample=skipped)


def describe_conflict(before: ImportResult, after: ImportResult) -> str:
    """What the registry's change did to the file, for the user whose confirmation failed: the
    rows whose outcome changed between the check and the write (checked again on the registry
    as it is now)."""
    was = {row.number: (row.status, row.existing.id if row.existing else None) for row in before.rows}
    changed = [row.number for row in after.rows
               if was.get(row.number) != (row.status, row.existing.id if row.existing else None)]
    if not changed:
        return _("Someone changed the registry while this file was being written, so nothing was imported. "
                 "The file has been checked again on the registry as it is now: look at the preview again "
                 "before confirming.")
    shown = ", ".join(str(n) for n in changed[:20]) + (" …" if len(changed) > 20 else "")
    return _("Someone changed the registry while this file was being written, so nothing was imported. "
             "Checked again on the registry as it is now, these rows have a different outcome: %(rows)s. "
             "See them below before confirming again.", rows=shown)


@transactional
def commit(result: ImportResult, *, filename: str, user=None, via: str = "web") -> dict[str, int]:
    """Write every row in one transaction (or none); returns the counts written. Run again when
    the database refused it for a concurrent change (cdt.core.transactions)."""
    if not result.ok:
        raise ValueError("an import with errors cannot be committed")
    commune = result.commune
    today = clock.today()
    written = [row for row in result.rows if row.status != "present"]
    lock_for_change(teams={row.team.id for row in written},
                    people={row.existing.id for row in written if row.existing is not None})
    try:
        # Few multi-row statements, not an ORM flush of every object: the new people (and their
        # name keys), then every membership with team_stat recounted once per team
        # (cdt/registry/bulk.py). 20,000 rows: a few seconds, inside the server's timeout.
        new_rows = [row for row in written if row.existing is None]
        people = [bulk.new_person(commune, full_name=row.full_name, birth_date=row.birth_date, gender=row.gender,
                                  ethnicity=row.ethnicity, phone=row.phone, citizen_id=row.citizen_id,
                                  youth_union=row.youth_union, position=row.position) for row in new_rows]
        new_ids = iter(bulk.insert_people(people))  # in the order of new_rows
        bulk.insert_memberships([
            {"person_id": row.existing.id if row.existing is not None else next(new_ids), "team_id": row.team.id,
             "role": row.role, "joined_on": row.joined_on or today} for row in written])
        created, joined = len(new_rows), len(written) - len(new_rows)
        counts = {"rows": len(result.rows), "created": created, "joined": joined,
                  "present": len(result.with_status("present"))}
        kwargs = {} if user is None else {"user": user}
        record("import", commune, object_type="admin_unit",
               details={"what": "members", "file": filename, "via": via, "commune": commune.code, **counts},
               **kwargs)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ImportConflict(_("Someone changed the registry while the file was being checked, and a row now "
                               "duplicates a record. Nothing was imported; check the file again.")) from None
    except Exception:
        db.session.rollback()
        raise
    return counts
