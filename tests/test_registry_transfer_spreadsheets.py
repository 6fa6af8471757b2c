"""cdt/core/spreadsheets.py: formula-safe cells, CSV/XLSX writers, the guarded xlsx opening."""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from cdt.core import spreadsheets
from cdt.core.spreadsheets import SpreadsheetError, open_xlsx_safely, safe_cell, write_csv, write_xlsx


@pytest.fixture
def ctx(app):
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale("en"):
        yield


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+84912", "'+84912"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Nguyễn = An", "Nguyễn = An"), (None, ""), (True, "1"), (False, "0"),
    (date(2024, 1, 31), "2024-01-31"), (-5, -5), (3.5, 3.5),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_csv_is_utf8_with_bom_and_neutralised():
    data = write_csv(["a", "b"], [["=cmd|' /C calc'!A0", "Lào Cai"], [None, "x,y"]])
    assert data.startswith(b"\xef\xbb\xbfa,b\r\n")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[1] == "'=cmd|' /C calc'!A0,Lào Cai"
    assert text.splitlines()[2] == ',"x,y"'


def _streamed(headers, rows, title):
    buffer = io.BytesIO()
    spreadsheets.stream_xlsx_to(buffer, headers, rows, title)
    return buffer.getvalue()


@pytest.mark.parametrize("writer", [write_xlsx, _streamed], ids=["openpyxl", "streamed"])
def test_xlsx_never_writes_a_formula(writer):
    data = writer(["Tên", "Ngày"], [["=1+1", date(2020, 5, 1)], ["+84", 3], ["@x", None], ["-1", True],
                                    ["a < b & c\x01", datetime(2023, 5, 6, 8, 30)]], "Sheet: [1]/?")
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert sheet["A6"].value == "a < b & c" and sheet["B6"].value == datetime(2023, 5, 6, 8, 30)
    assert sheet["B4"].value is None
    assert sheet.title == "Sheet   1"
    cells = [sheet["A2"], sheet["A3"], sheet["A4"], sheet["A5"]]
    assert [c.value for c in cells] == ["=1+1", "+84", "@x", "-1"]
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    assert sheet["B2"].is_date and sheet["B3"].value == 3 and sheet["B5"].value is True
    assert sheet["A1"].font.b


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buffer.getvalue()


BASE = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}


@pytest.mark.parametrize("data, message", [
    (b"id,name\n1,x\n", "not an Excel workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "97-2003"),
    (_zip({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<Types/>"}), "not an Excel workbook"),
    (b"PK\x03\x04 truncated", "damaged"),
    (_zip({**BASE, **{f"x/{i}": b"" for i in range(spreadsheets.MAX_ENTRIES)}}), "too many parts"),
    (_zip({**BASE, "xl/worksheets/sheet1.xml": b"\0" * (51 * 1024 * 1024)}), "50 MB"),
    (_zip({**BASE, "xl/worksheets/sheet1.xml": b"a" * (5 * 1024 * 1024)}), "abnormally compressed"),
    (_zip({**BASE, "xl/worksheets/sheet1.xml": b"<x"}), "damaged"),
])
def test_hostile_or_wrong_files_are_refused(ctx, data, message):
    with pytest.raises(SpreadsheetError, match=message):
        open_xlsx_safely(data)


def test_bomb_is_refused_without_reading_it(ctx, monkeypatch):
    bomb = _zip({**BASE, "xl/worksheets/sheet1.xml": b"\0" * (51 * 1024 * 1024)})
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda *a, **k: pytest.fail("an entry was decompressed"))
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("an entry was decompressed"))
    with pytest.raises(SpreadsheetError):
        spreadsheets.check_xlsx_container(bomb)


def test_a_real_workbook_opens_with_values_not_formulas(ctx):
    wb = Workbook()
    wb.active.append(["Họ và tên", "Tuổi"])
    wb.active.append(["Lò Văn A", "=1+1"])
    buffer = io.BytesIO()
    wb.save(buffer)
    opened = open_xlsx_safely(buffer.getvalue())
    rows = list(opened.worksheets[0].iter_rows(values_only=True))
    opened.close()
    assert rows[0] == ("Họ và tên", "Tuổi")
    assert rows[1][0] == "Lò Văn A" and rows[1][1] is None  # cached value only: the formula is not evaluated
