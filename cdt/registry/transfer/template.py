"""The member import template, built from the importer's column list (columns.IMPORT_COLUMNS).

Its headers, their order, the column formats (phone and citizen ID typed as text, dates as
dd/mm/yyyy) and the guide sheet all come from that list, so the template cannot drift from
what the importer reads. Written by the one XLSX writer (cdt/core/spreadsheets.py).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from flask_babel import force_locale

from cdt.core.spreadsheets import Sheet, write_workbook_to
from cdt.registry.ethnicity import ETHNIC_GROUPS
from cdt.registry.models import GENDER_LABELS, POSITION_LABELS, ROLE_LABELS
from cdt.registry.rules import MAX_AGE, MIN_AGE
from cdt.registry.transfer.columns import IMPORT_COLUMNS, SAMPLE_ROW, ImportColumn

# The accepted values a column's guide lists ({choices}), in Vietnamese.
_CHOICES = {"gender": GENDER_LABELS, "ethnicity": ETHNIC_GROUPS, "position": POSITION_LABELS, "role": ROLE_LABELS}


def _guide(column: ImportColumn) -> str:
    values = _CHOICES.get(column.key)
    choices = ", ".join(str(v) for v in values.values()) if values else ""
    return column.guide_vi.format(choices=choices, min_age=MIN_AGE, max_age=MAX_AGE)


def write_template(fileobj: IO[bytes], villages: Sequence[tuple[str, str]]) -> None:
    """Vietnamese headers, one synthetic sample row (skipped by the importer), and a guide sheet
    with each column's accepted values and the commune's villages as (code, name)."""
    sample = dict(SAMPLE_ROW)
    if villages:
        sample["village"] = villages[0][1]
    with force_locale("vi"):
        guide = [[column.header_vi, _guide(column)] for column in IMPORT_COLUMNS]
    guide.append(["Dòng mẫu", f"Dòng “{SAMPLE_ROW['full_name']}” được bỏ qua khi nhập; có thể xoá."])
    if villages:
        guide += [[], ["Mã thôn", "Tên thôn"], *([code, name] for code, name in villages)]
    write_workbook_to(fileobj, [
        Sheet("Thanh vien", [column.header_vi for column in IMPORT_COLUMNS],
              [[sample[column.key] for column in IMPORT_COLUMNS]],
              column_widths=[20] * len(IMPORT_COLUMNS),
              column_formats=[column.cell_format for column in IMPORT_COLUMNS]),
        Sheet("Huong dan", ["Cột", "Giá trị được chấp nhận"], guide, column_widths=[22, 90]),
    ])
