"""Targets: a province's or a commune's target for an indicator, for a year or a month, set by the
province's staff (the admin anywhere), one by one or for every commune at once from a spreadsheet
(one row per commune, one column per indicator: the province's year target split over its communes).
Writes are audited (unit, indicator, year, month: never more)."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from cdt.audit.service import record
from cdt.core.spreadsheets import SpreadsheetError, open_xlsx_safely, write_xlsx
from cdt.core.transactions import commit_or_retry
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.within import valid_on, within
from cdt.outputs import periods
from cdt.outputs.entry import parse_count
from cdt.outputs.models import Indicator, OutputTarget
from cdt.outputs.queries import indicators_for

MAX_ROWS = 20000


def year_day(year: int):
    """The day whose map names the year's communes: its last day (or today's month for this year)."""
    last = min(f"{year}-12", periods.current())
    return periods.month_end(last if last >= f"{year}-01" else f"{year}-12")


def communes_of(province: AdminUnit, year: int) -> list[AdminUnit]:
    day = year_day(year)
    return list(db.session.scalars(select(AdminUnit).where(
        AdminUnit.level == "commune", within(AdminUnit, province, day), valid_on(AdminUnit, day)
    ).order_by(AdminUnit.code)))


def year_indicators(province: AdminUnit, year: int) -> list[Indicator]:
    return indicators_for(province.id, f"{year}-01", f"{year}-12")


def targets_of(province: AdminUnit, year: int) -> list[tuple[OutputTarget, str, str]]:
    """(target, unit code, unit name) of the province and its units for the year."""
    return list(db.session.execute(
        select(OutputTarget, AdminUnit.code, AdminUnit.name).join(AdminUnit, AdminUnit.id == OutputTarget.unit_id)
        .where(OutputTarget.province_id == province.id, OutputTarget.year == year)
        .order_by(AdminUnit.level != "province", AdminUnit.code, OutputTarget.indicator_id,
                  OutputTarget.month.is_not(None), OutputTarget.month)
    ).tuples())


def split_totals(province: AdminUnit, year: int) -> dict[int, int]:
    """{indicator id: sum of the communes' year targets}, to compare with the province's."""
    return dict(db.session.execute(
        select(OutputTarget.indicator_id, func.sum(OutputTarget.value))
        .join(AdminUnit, AdminUnit.id == OutputTarget.unit_id)
        .where(OutputTarget.province_id == province.id, OutputTarget.year == year,
               OutputTarget.month.is_(None), AdminUnit.level == "commune")
        .group_by(OutputTarget.indicator_id)
    ).all())


def _put(unit: AdminUnit, province_id: int, indicator_id: int, year: int, month: int | None,
         value: int | None) -> None:
    row = db.session.scalar(select(OutputTarget).where(
        OutputTarget.unit_id == unit.id, OutputTarget.indicator_id == indicator_id, OutputTarget.year == year,
        OutputTarget.month.is_(None) if month is None else OutputTarget.month == month))
    if value is None:
        if row is not None:
            db.session.delete(row)
        return
    if row is None:
        db.session.add(OutputTarget(unit_id=unit.id, province_id=province_id, indicator_id=indicator_id,
                                    year=year, month=month, value=value))
    else:
        row.value = value


def set_target(unit: AdminUnit, indicator: Indicator, year: int, month: int | None, value: int | None) -> None:
    """Set (value None: remove) one target of a province or commune."""

    def work() -> None:
        _put(unit, unit.province_id, indicator.id, year, month, value)
        record("outputs.target", unit, details={"indicator": indicator.code, "year": year, "month": month,
                                                "removed": value is None})

    commit_or_retry(work)


def template(province: AdminUnit, year: int) -> bytes:
    """The split sheet: one row per commune, one column per indicator, with the year targets set."""
    indicators = year_indicators(province, year)
    communes = communes_of(province, year)
    current = {(t.unit_id, t.indicator_id): t.value for t, _c, _n in targets_of(province, year) if t.month is None}
    headers = [_("Commune code"), _("Commune")] + [i.code for i in indicators]
    rows = [[c.code, c.name] + [current.get((c.id, i.id)) for i in indicators] for c in communes]
    return write_xlsx(headers, rows, _("Targets") + f" {year}", column_widths=[12, 30] + [16] * len(indicators))


@dataclass
class SplitResult:
    errors: list[str]
    written: int = 0


def import_split(province: AdminUnit, year: int, data: bytes) -> SplitResult:
    """Write the communes' year targets from the split sheet; one bad cell writes nothing.
    A blank cell leaves that target as it is."""
    try:
        workbook = open_xlsx_safely(data)
    except SpreadsheetError as error:
        return SplitResult([str(error)])
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 1))
    workbook.close()
    if not rows:
        return SplitResult([_("The file has no rows.")])
    by_code = {i.code: i for i in year_indicators(province, year)}
    header = [str(c).strip() if c is not None else "" for c in rows[0]]
    columns = {}
    errors: list[str] = []
    for position, name in enumerate(header[2:], start=2):
        if not name:
            continue
        if name not in by_code:
            errors.append(_("Column %(column)s: unknown indicator code %(code)s.", column=position + 1, code=name))
        else:
            columns[position] = by_code[name]
    communes = {c.code: c for c in communes_of(province, year)}
    writes = []
    for number, row in enumerate(rows[1:], start=2):
        if row is None or all(c is None or str(c).strip() == "" for c in row):
            continue
        code = str(row[0]).strip() if row and row[0] is not None else ""
        commune = communes.get(code)
        if commune is None:
            errors.append(_("Row %(row)s: %(code)s is not a commune of this province.", row=number, code=code))
            continue
        for position, indicator in columns.items():
            raw = row[position] if position < len(row) else None
            if raw is None or str(raw).strip() == "":
                continue
            value, ok = parse_count(str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw))
            if not ok:
                errors.append(_("Row %(row)s, %(code)s: enter a whole number from 0.", row=number, code=indicator.code))
                continue
            writes.append((commune, indicator, value))
    if errors:
        return SplitResult(errors)

    def work() -> int:
        for commune, indicator, value in writes:
            _put(commune, province.id, indicator.id, year, None, value)
        record("outputs.target.import", province, details={"year": year, "cells": len(writes)})
        return len(writes)

    return SplitResult([], commit_or_retry(work))
