"""The one XLSX writer (cdt/core/spreadsheets.py) and the import template built with it from the
importer's column list."""
from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pytest
from openpyxl import load_workbook

from cdt.core.spreadsheets import Sheet, write_workbook_to
from cdt.registry.transfer import template
from cdt.registry.transfer.columns import IMPORT_COLUMNS


def _workbook(sheets):
    buffer = io.BytesIO()
    write_workbook_to(buffer, sheets)
    return load_workbook(io.BytesIO(buffer.getvalue()))


def test_several_sheets_with_text_and_date_columns():
    rows = (row for row in [["0912 000 111", "=1+1", date(2024, 5, 1)], [None, "x", None]])  # streamed once
    wb = _workbook([Sheet("Một", ["Phone", "Text", "Date"], rows, column_widths=[15, 30],
                          column_formats=["text", "text", "date"]),
                    Sheet("Hai", ["A"], [["b"]])])
    first, second = wb.worksheets
    assert [first.title, second.title] == ["Một", "Hai"]
    assert first["A2"].value == "0912 000 111" and first["A2"].number_format == "@"
    assert first["B2"].value == "=1+1" and first["B2"].data_type == "s" and first["B2"].quotePrefix
    assert first["C2"].is_date and first["C2"].number_format == "dd/mm/yyyy"
    # Empty cells of a text or date column take the column's format when the user types there.
    assert first.column_dimensions["A"].number_format == "@" and first.column_dimensions["A"].width == 15
    assert first.column_dimensions["C"].number_format == "dd/mm/yyyy"
    assert first["A1"].font.b and first.freeze_panes == "A2"
    assert second["A2"].value == "b" and second["A1"].font.b


def test_sheet_titles_must_differ():
    with pytest.raises(ValueError):
        write_workbook_to(io.BytesIO(), [Sheet("A", ["x"], []), Sheet("A", ["y"], [])])


def _template(client) -> list:
    response = client.get("/members/import/template.xlsx")
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data)).worksheets


def _check_template_follows(columns, sheets):
    sheet, guide = sheets
    assert [c.value for c in sheet[1]] == [c.header_vi for c in columns]
    by_header = {cell.value: cell.column_letter for cell in sheet[1]}
    for column in columns:
        letter = by_header[column.header_vi]
        expected = {"text": "@", "date": "dd/mm/yyyy", None: "General"}[column.cell_format]
        assert sheet.column_dimensions[letter].number_format == expected, column.key
    assert sheet[by_header["Họ và tên"] + "2"].value == "Nguyễn Văn Mẫu"
    assert sheet[by_header["Ngày sinh"] + "2"].number_format == "dd/mm/yyyy"
    assert [row[0].value for row in guide.iter_rows(min_row=2, max_row=len(columns) + 1)] == [
        c.header_vi for c in columns]


def test_template_is_built_from_the_importers_columns(login_as, monkeypatch):
    client = login_as("commune")
    sheets = _template(client)
    _check_template_follows(IMPORT_COLUMNS, sheets)
    assert "ví dụ 15/03/1995; tuổi từ 15 đến 80" in [c.value for c in sheets[1]["B"]][3]
    # Another column order (or another column) gives another template, with no cell to fix by hand.
    shuffled = (*reversed(IMPORT_COLUMNS[5:]), *IMPORT_COLUMNS[:5])
    shuffled = tuple(replace(c, cell_format="text") if c.key == "youth_union" else c for c in shuffled)
    monkeypatch.setattr(template, "IMPORT_COLUMNS", shuffled)
    _check_template_follows(shuffled, _template(client))
