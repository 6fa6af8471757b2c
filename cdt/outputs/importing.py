"""A commune's month from an Excel file: the template has one row per team (its village's code
first) and one column per indicator code, then the note. Reading checks every cell; one bad cell
and nothing is written (the preview lists the errors). Confirming writes the rows as the entry page
would (a blank cell: not reported); the teams missing from the file are left as they are; the same
file twice changes nothing the second time."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from cdt.core.spreadsheets import SpreadsheetError, open_xlsx_safely, write_xlsx
from cdt.core.text import clean_text
from cdt.geo.models import AdminUnit
from cdt.outputs import queries
from cdt.outputs.entry import MAX_NOTE, parse_count
from cdt.outputs.models import Indicator

MAX_ROWS = 2000
CODE_COLUMN, NAME_COLUMN = 0, 1
NOTE_HEADER = "note"


def template(commune: AdminUnit, period: str) -> bytes:
    indicators = queries.indicators_for(commune.province_id, period)
    rows = queries.commune_month(commune, period)
    headers = [_("Village code"), _("Team")] + [i.code for i in indicators] + [NOTE_HEADER]
    lines = [[r.village_code, r.team.name] + [r.values.get(i.id) for i in indicators]
             + [r.report.note if r.report else None] for r in rows]
    return write_xlsx(headers, lines, period, column_widths=[14, 36] + [14] * len(indicators) + [30])


@dataclass
class ImportRow:
    line: int
    team_id: int
    team_name: str
    values: dict[int, int | None]
    note: str | None


@dataclass
class Preview:
    indicators: list[Indicator]
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read(commune: AdminUnit, period: str, data: bytes) -> Preview:
    """Every row checked against the commune's teams of the month and the month's indicators."""
    indicators = queries.indicators_for(commune.province_id, period)
    preview = Preview(indicators)
    try:
        workbook = open_xlsx_safely(data)
    except SpreadsheetError as error:
        preview.errors.append(str(error))
        return preview
    try:
        lines = list(workbook.worksheets[0].iter_rows(values_only=True, max_row=MAX_ROWS + 1))
    finally:
        workbook.close()
    if len(lines) > MAX_ROWS:
        preview.errors.append(_("The file has more than %(max)s rows.", max=MAX_ROWS))
        return preview
    if not lines:
        preview.errors.append(_("The file has no rows."))
        return preview
    header = [_text(c) for c in lines[0]]
    by_code = {i.code: i for i in indicators}
    columns: dict[int, Indicator] = {}
    note_column = None
    for position, name in enumerate(header):
        if position in (CODE_COLUMN, NAME_COLUMN) or not name:
            continue
        if name == NOTE_HEADER:
            note_column = position
        elif name in by_code:
            columns[position] = by_code[name]
        else:
            preview.errors.append(_("Column %(column)s: unknown indicator code %(code)s.", column=position + 1,
                                    code=name))
    teams = {r.village_code: r.team for r in queries.commune_month(commune, period)}
    seen: set[int] = set()
    for number, line in enumerate(lines[1:], start=2):
        if all(_text(c) == "" for c in line):
            continue
        code = _text(line[CODE_COLUMN]) if line else ""
        team = teams.get(code)
        if team is None:
            preview.errors.append(_("Row %(row)s: no team of this commune active this month in village %(code)s.",
                                    row=number, code=code))
            continue
        if team.id in seen:
            preview.errors.append(_("Row %(row)s: village %(code)s appears twice.", row=number, code=code))
            continue
        seen.add(team.id)
        values: dict[int, int | None] = {}
        for position, indicator in columns.items():
            value, ok = parse_count(_text(line[position]) if position < len(line) else "")
            if not ok:
                preview.errors.append(_("Row %(row)s, %(code)s: enter a whole number from 0.", row=number,
                                        code=indicator.code))
            values[indicator.id] = value
        note = None
        if note_column is not None and note_column < len(line):
            try:
                note = clean_text(_text(line[note_column]), multiline=True)[:MAX_NOTE] or None
            except ValueError as error:
                preview.errors.append(_("Row %(row)s: %(error)s", row=number, error=str(error)))
        preview.rows.append(ImportRow(number, team.id, team.name, values, note))
    if not preview.rows and not preview.errors:
        preview.errors.append(_("The file has no rows."))
    return preview
