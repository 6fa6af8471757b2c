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
- ``write_workbook_to(fileobj, sheets)``: THE .xlsx writer (every workbook the registry hands
  out: coverage report, member and team exports, the import template). It streams SpreadsheetML
  straight into the zip, row by row: constant memory, ~10x faster than openpyxl (which writes
  ~2,500 rows of 20 columns a second: 400,000 people would take ~3 minutes). Each ``Sheet``
  has a bold, frozen header row, then its rows (any iterable, consumed once), optional column
  widths and column formats (``"text"``: what a user types there stays text, so a phone
  number or citizen ID keeps its leading 0; ``"date"``: dd/mm/yyyy). A string is always a
  string cell (inline string, never a formula, whatever it starts with) and a string starting
  with a formula character is marked "quote prefix", as Excel does when a user types
  ``'=...``, so that editing the cell later does not turn it into a formula either. The value
  itself is kept exactly (no apostrophe added inside an .xlsx). Dates are real dates
  (dd/mm/yyyy, dd/mm/yyyy hh:mm), numbers numbers, booleans booleans; control characters
  that XML forbids are dropped.
- ``stream_xlsx_to(fileobj, headers, rows, sheet_title)`` and ``write_xlsx(headers, rows,
  sheet_title) -> bytes``: the same writer for a workbook of one sheet.
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
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
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


# --- the XLSX writer ---------------------------------------------------------------------------

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = date(1899, 12, 30)
_STYLE_HEADER, _STYLE_DATE, _STYLE_DATETIME, _STYLE_QUOTED, _STYLE_TEXT = 1, 2, 3, 4, 5
_COLUMN_STYLES = {None: 0, "text": _STYLE_TEXT, "date": _STYLE_DATE}  # Sheet.column_formats

_STYLES = (
    _XML_HEAD + f'<styleSheet xmlns="{_NS}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/>'
    '<numFmt numFmtId="165" formatCode="dd/mm/yyyy hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="6">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def _xml_text(value: str) -> str:
    if _ILLEGAL_XML.search(value):
        value = _ILLEGAL_XML.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_attr(value: str) -> str:
    return _xml_text(value).replace('"', "&quot;")


def _text_cell(ref: str, value: str, style: int = 0) -> str:
    if style != _STYLE_HEADER and value and value[0] in _FORMULA_FIRST:
        style = _STYLE_QUOTED
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}" t="inlineStr"{s}><is><t xml:space="preserve">{_xml_text(value)}</t></is></c>'


def _cell(ref: str, value: Any, text_style: int = 0) -> str:
    kind = type(value)
    if kind is str:
        return _text_cell(ref, value, text_style)
    if value is None:
        return ""
    if kind is bool:
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if kind is int or kind is float or kind is Decimal:
        return f'<c r="{ref}"><v>{value}</v></c>'
    if kind is date:
        return f'<c r="{ref}" s="{_STYLE_DATE}"><v>{(value - _EPOCH).days}</v></c>'
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - datetime(1899, 12, 30)
        serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
        return f'<c r="{ref}" s="{_STYLE_DATETIME}"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="{_STYLE_DATE}"><v>{(value - _EPOCH).days}</v></c>'
    if isinstance(value, (int, float, Decimal)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return _text_cell(ref, str(value), text_style)


def _column_letters(count: int) -> list[str]:
    from openpyxl.utils import get_column_letter

    return [get_column_letter(i) for i in range(1, count + 1)]


@dataclass
class Sheet:
    """One worksheet of write_workbook_to: a bold, frozen header row, then `rows` (streamed)."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    column_widths: Sequence[int] | None = None
    column_formats: Sequence[str | None] | None = None  # per column: "text", "date" or None


def write_workbook_to(fileobj: IO[bytes], sheets: Sequence[Sheet]) -> None:
    """Write an .xlsx of `sheets` into a binary file object (seekable or not), row by row."""
    titles = [_xml_attr(_sheet_title(sheet.title)) for sheet in sheets]
    if not sheets or len(set(titles)) != len(titles):
        raise ValueError("a workbook needs at least one sheet, and distinct sheet titles")
    numbers = range(1, len(sheets) + 1)
    with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_DEFLATED, compresslevel=3) as archive:
        archive.writestr("[Content_Types].xml", _XML_HEAD + (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
                      'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                      for n in numbers)
            + '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            "</Types>"))
        archive.writestr("_rels/.rels", _XML_HEAD + (
            f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        archive.writestr("xl/workbook.xml", _XML_HEAD + (
            f'<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>'
            + "".join(f'<sheet name="{title}" sheetId="{n}" r:id="rId{n}"/>' for n, title in zip(numbers, titles, strict=True))
            + "</sheets></workbook>"))
        archive.writestr("xl/_rels/workbook.xml.rels", _XML_HEAD + (
            f'<Relationships xmlns="{_PKG_REL}">'
            + "".join(f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
                      for n in numbers)
            + f'<Relationship Id="rId{len(sheets) + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'))
        archive.writestr("xl/styles.xml", _STYLES)
        for n, sheet in zip(numbers, sheets, strict=True):
            with archive.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as part:
                _write_sheet(part, sheet)


def _write_sheet(part: IO[bytes], sheet: Sheet) -> None:
    headers = sheet.headers
    widths = list(sheet.column_widths or [])
    styles = [_COLUMN_STYLES[f] for f in (sheet.column_formats or [])]
    text_styles = [style if style == _STYLE_TEXT else 0 for style in styles]
    head = [_XML_HEAD, f'<worksheet xmlns="{_NS}"><sheetViews><sheetView workbookViewId="0">'
                       '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                       "</sheetView></sheetViews>"]
    cols = []
    for i in range(max(len(widths), len(styles))):
        width = widths[i] if i < len(widths) else None
        style = styles[i] if i < len(styles) else 0
        if width or style:
            cols.append(f'<col min="{i + 1}" max="{i + 1}"'
                        + (f' width="{width}" customWidth="1"' if width else ' width="9.140625"')
                        + (f' style="{style}"' if style else "") + "/>")
    if cols:
        head.append("<cols>" + "".join(cols) + "</cols>")
    letters = _column_letters(max(len(headers), len(styles), 1))
    head.append('<sheetData><row r="1">')
    head.extend(_text_cell(f"{letters[i]}1", str(h), _STYLE_HEADER) for i, h in enumerate(headers))
    head.append("</row>")
    part.write("".join(head).encode("utf-8"))
    buffer: list[str] = []
    cell = _cell
    styled = _STYLE_TEXT in text_styles  # text columns: their strings keep the column's text format
    for number, row in enumerate(sheet.rows, start=2):
        if len(row) > len(letters):
            letters = _column_letters(len(row))
        suffix = str(number)
        if styled:
            cells = [cell(letter + suffix, v, style) for letter, v, style
                     in zip(letters, row, itertools.chain(text_styles, itertools.repeat(0)), strict=False)]
        else:
            cells = [cell(letter + suffix, v) for letter, v in zip(letters, row, strict=False)]
        buffer.append(f'<row r="{suffix}">' + "".join(cells) + "</row>")
        if len(buffer) >= 1000:
            part.write("".join(buffer).encode("utf-8"))
            buffer = []
    buffer.append("</sheetData></worksheet>")
    part.write("".join(buffer).encode("utf-8"))


def stream_xlsx_to(fileobj: IO[bytes], headers: Sequence[str], rows: Iterable[Sequence[Any]],
                   sheet_title: str = "Sheet", *, column_widths: Sequence[int] | None = None) -> None:
    """A workbook of one sheet (write_workbook_to), written row by row: constant memory."""
    write_workbook_to(fileobj, [Sheet(sheet_title, headers, rows, column_widths)])


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet_title: str = "Sheet",
               *, column_widths: Sequence[int] | None = None) -> bytes:
    """A workbook of one sheet as bytes (for small files, such as a coverage report)."""
    buffer = io.BytesIO()
    stream_xlsx_to(buffer, headers, rows, sheet_title, column_widths=column_widths)
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
