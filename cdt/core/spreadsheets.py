"""Spreadsheet files in and out: formula-safe cells, CSV and XLSX writers, a guarded XLSX reader.

Shared by the registry import/export and the reports exports. The API:

- ``safe_cell(value)``: the value to put in a CSV cell. A string starting with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return gets a leading apostrophe (``'=1+1``), so that a
  spreadsheet opening the file shows text and never runs a formula (OWASP "CSV injection").
  ``None`` -> ``""``; dates -> ISO ``YYYY-MM-DD``; booleans -> ``"1"``/``"0"``; numbers unchanged.
- ``iter_csv(columns, rows)`` yields the bytes of a CSV file chunk by chunk (for streaming
  responses); ``write_csv(columns, rows) -> bytes`` is the same in one piece.
  Format, decided once for every export: UTF-8 with a byte-order mark (Excel needs the BOM to
  read Vietnamese correctly; every CSV reader that knows UTF-8 ignores it), comma separator,
  CRLF line ends, minimal quoting (RFC 4180). Every cell goes through ``safe_cell``.
- ``write_xlsx(headers, rows, sheet_title) -> bytes`` and ``write_xlsx_to(fileobj, ...)``:
  an .xlsx in openpyxl's write-only mode (constant memory: fine for 400,000 rows). A string
  is always stored as a string cell (never a formula, whatever it starts with) and a string
  starting with a formula character is marked "quote prefix", as Excel does when a user types
  ``'=...``, so that editing the cell later does not turn it into a formula either.
  The value itself is kept exactly (no apostrophe added inside an .xlsx).
  Dates are written as real dates (dd/mm/yyyy), numbers as numbers, the header row bold
  and frozen.
- ``open_xlsx_safely(data: bytes)``: checks the zip container *before* openpyxl parses
  anything (really a zip, really an xlsx, at most ``MAX_ENTRIES`` entries, at most
  ``MAX_UNCOMPRESSED`` bytes once expanded, no entry with a compression ratio above
  ``MAX_RATIO``), then opens it read-only with cached values (formulas are never evaluated).
  Raises ``SpreadsheetError`` (a ``ValueError`` with a translated message) otherwise.
- ``sniff(data)``: what the first bytes say a file is (``"zip"``, ``"ole"``, ``"text"``,
  ``"binary"``), to refuse a file that is not what its name says.
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from flask_babel import gettext as _

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_PREFIXES)

# Limits of open_xlsx_safely (an ordinary 20,000-row workbook is a few MB expanded, ~20 entries).
MAX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_ENTRIES = 500
MAX_RATIO = 200  # uncompressed / compressed, for entries above RATIO_CHECK_FROM bytes
RATIO_CHECK_FROM = 1024 * 1024

UTF8_BOM = "\ufeff"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"


class SpreadsheetError(ValueError):
    """A file refused before or while it is read; str(error) is a translated message."""


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def safe_cell(value: Any) -> Any:
    """A value ready for a CSV cell: text that could start a formula gets a leading apostrophe."""
    if type(value) is str:  # the common case first: exports call this for every cell
        return "'" + value if value and value[0] in _FORMULA_FIRST else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        return value
    text = str(value)
    if is_formula_like(text):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns what it is given (for streaming csv.writer)."""

    def write(self, value: str) -> str:
        return value


def iter_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, chunk_rows: int = 500) -> Iterator[bytes]:
    """The CSV file as UTF-8 byte chunks (BOM first, then the header, then `chunk_rows` rows a chunk)."""
    writer = csv.writer(_Echo())
    yield (UTF8_BOM + writer.writerow([safe_cell(c) for c in columns])).encode("utf-8")
    buffer: list[str] = []
    for row in rows:
        buffer.append(writer.writerow([safe_cell(v) for v in row]))
        if len(buffer) >= chunk_rows:
            yield "".join(buffer).encode("utf-8")
            buffer = []
    if buffer:
        yield "".join(buffer).encode("utf-8")


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    return b"".join(iter_csv(columns, rows))


def _sheet_title(title: str) -> str:
    # Excel: at most 31 characters, none of []:*?/\
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in str(title)).strip()
    return (cleaned or "Sheet")[:31]


def write_xlsx_to(fileobj: IO[bytes], headers: Sequence[str], rows: Iterable[Sequence[Any]],
                  sheet_title: str = "Sheet", *, column_widths: Sequence[int] | None = None) -> None:
    """Write an .xlsx (write-only mode, constant memory) into a binary file object."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(sheet_title))
    sheet.freeze_panes = "A2"
    if column_widths:
        from openpyxl.utils import get_column_letter

        for index, width in enumerate(column_widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)

    def text_cell(value: str, font: Font | None = None) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet)
        cell.value = value
        cell.data_type = "s"  # openpyxl would make "=..." a formula: force a string cell
        if is_formula_like(value):
            cell.quotePrefix = True
        if font is not None:
            cell.font = font
        return cell

    sheet.append([text_cell(str(h), bold) for h in headers])
    for row in rows:
        out: list[Any] = []
        for value in row:
            if value is None or isinstance(value, (bool, int, float, Decimal)):
                out.append(value)
            elif isinstance(value, (date, datetime)):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "dd/mm/yyyy hh:mm" if isinstance(value, datetime) else "dd/mm/yyyy"
                out.append(cell)
            else:
                out.append(text_cell(str(value)))
        sheet.append(out)
    workbook.save(fileobj)


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet_title: str = "Sheet",
               *, column_widths: Sequence[int] | None = None) -> bytes:
    buffer = io.BytesIO()
    write_xlsx_to(buffer, headers, rows, sheet_title, column_widths=column_widths)
    return buffer.getvalue()


def sniff(data: bytes) -> str:
    """'zip' (xlsx, docx, any zip), 'ole' (old .xls, password-protected .xlsx), 'text', 'binary'."""
    head = data[:8]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    sample = data[:8192]
    if b"\x00" in sample:
        return "binary"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the sample's end is still text.
        if error.start < len(sample) - 4:
            return "binary"
    return "text"


def check_xlsx_container(data: bytes) -> None:
    """Refuse a file that is not an xlsx zip, or whose zip would expand too far, before parsing."""
    kind = sniff(data)
    if kind == "ole":
        raise SpreadsheetError(_(
            "This file is an old Excel 97-2003 workbook (.xls) or a password-protected workbook. "
            "Open it in Excel, remove any password and save it as .xlsx, then upload it again."))
    if kind != "zip":
        raise SpreadsheetError(_("This file is not an Excel workbook (.xlsx), although its name says so."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise SpreadsheetError(_("This Excel file is damaged and cannot be read.")) from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise SpreadsheetError(_("This Excel file holds too many parts (%(count)s; at most %(max)s are allowed).",
                                     count=len(entries), max=MAX_ENTRIES))
        total = 0
        for info in entries:
            if info.flag_bits & 0x1:
                raise SpreadsheetError(_("This Excel file is encrypted and cannot be read."))
            total += info.file_size
            if total > MAX_UNCOMPRESSED:
                raise SpreadsheetError(_(
                    "This Excel file expands to more than %(max)s MB once unpacked and is refused.",
                    max=MAX_UNCOMPRESSED // (1024 * 1024)))
            if info.file_size > RATIO_CHECK_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise SpreadsheetError(_("This Excel file is abnormally compressed and is refused."))
        names = {info.filename for info in entries}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise SpreadsheetError(_("This file is not an Excel workbook (.xlsx), although its name says so."))


def open_xlsx_safely(data: bytes):
    """An openpyxl workbook (read-only, cached values) from untrusted bytes, after the zip checks.

    Python's zipfile never returns more than an entry's declared size (and fails its CRC if
    the data says otherwise), so the declared sizes checked here bound what parsing reads.
    The XML parser (expat) refuses entity-expansion bombs and does not fetch external entities.
    """
    check_xlsx_container(data)
    from openpyxl import load_workbook

    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:  # openpyxl raises many kinds of errors on malformed parts
        raise SpreadsheetError(_("This Excel file is damaged and cannot be read.")) from None
