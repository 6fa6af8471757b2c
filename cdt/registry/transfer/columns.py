"""The columns of the member import file and how a cell's text becomes a value.

Headers are matched without diacritics, case or punctuation, so "Họ và tên", "HO VA TEN",
"full_name" and "Full name" are the same column. The Vietnamese headers below are part of
the file format (the template uses them whatever the interface language); the English keys
are those of the member export, so an exported file can be imported again. The import
template (template.py) is built from this list: its headers, column formats and guide.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from cdt.core.text import clean_text, fold
from cdt.registry.ethnicity import ETHNIC_GROUPS
from cdt.registry.models import GENDER_LABELS, POSITION_LABELS, ROLE_LABELS


@dataclass(frozen=True)
class ImportColumn:
    key: str
    label: object  # lazy English msgid, shown translated in the preview
    header_vi: str  # the template's header
    required: bool = False
    aliases: tuple[str, ...] = field(default_factory=tuple)
    # The template: "text" keeps what a user types as text (leading zeros), "date" shows dd/mm/yyyy;
    # guide_vi is the column's line in the template's guide ({choices}: the accepted values).
    cell_format: str | None = None
    guide_vi: str = ""


IMPORT_COLUMNS: tuple[ImportColumn, ...] = (
    ImportColumn("full_name", _l("Full name"), "Họ và tên", True, ("ho ten", "ten", "name"),
                 guide_vi="Bắt buộc"),
    ImportColumn("gender", _l("Gender"), "Giới tính", True, ("gioi", "sex"),
                 guide_vi="{choices} (bắt buộc)"),
    ImportColumn("birth_date", _l("Birth date"), "Ngày sinh", False, ("ngay thang nam sinh", "dob"),
                 cell_format="date", guide_vi="ngày/tháng/năm, ví dụ 15/03/1995; tuổi từ {min_age} đến {max_age}"),
    ImportColumn("ethnicity", _l("Ethnicity"), "Dân tộc", True, ("dan toc",),
                 guide_vi="Tên một trong 54 dân tộc (bắt buộc): {choices}"),
    ImportColumn("phone", _l("Phone"), "Số điện thoại", False, ("dien thoai", "sdt", "so dt", "phone number"),
                 cell_format="text", guide_vi="Di động hoặc cố định, ví dụ 0912 345 678"),
    ImportColumn("citizen_id", _l("Citizen ID"), "Số CCCD", False,
                 ("cccd", "so cccd", "can cuoc cong dan", "so dinh danh", "so dinh danh ca nhan"),
                 cell_format="text", guide_vi="12 chữ số (không bắt buộc)"),
    ImportColumn("youth_union", _l("Youth union member"), "Đoàn viên", False, ("doan vien", "youth union"),
                 guide_vi="Có, hoặc để trống"),
    ImportColumn("position", _l("Position"), "Chức danh", False, ("chuc vu", "chuc danh"),
                 guide_vi="{choices}"),
    ImportColumn("village", _l("Village"), "Thôn, tổ dân phố", True,
                 ("thon", "thon to dan pho", "thon ban", "village_code", "village_name", "ma thon", "ten thon"),
                 guide_vi="Mã hoặc tên thôn của xã (bắt buộc)"),
    ImportColumn("role", _l("Role in team"), "Vai trò trong tổ", False, ("vai tro", "role"),
                 guide_vi="{choices} (để trống: Thành viên)"),
    ImportColumn("joined_on", _l("Joined on"), "Ngày tham gia", False, ("ngay vao to",),
                 cell_format="date", guide_vi="ngày/tháng/năm (để trống: ngày nhập)"),
)
COLUMNS_BY_KEY = {c.key: c for c in IMPORT_COLUMNS}

# A synthetic sample row for the template (no real person; a 555-style fictitious number).
SAMPLE_ROW = {
    "full_name": "Nguyễn Văn Mẫu",
    "gender": "Nam",
    "birth_date": date(1995, 3, 15),
    "ethnicity": "Kinh",
    "phone": "0912 000 111",
    "citizen_id": None,
    "youth_union": "Có",
    "position": "Trưởng thôn",
    "village": None,  # the template puts the commune's first village here
    "role": "Thành viên",
    "joined_on": None,
}

_PUNCT = re.compile(r"[^a-z0-9]+")


def squash(text: object) -> str:
    """'Họ và tên ' -> 'hovaten', "H'Mông" -> 'hmong': what header and value matching compares."""
    return _PUNCT.sub("", fold(str(text)))


def _header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for column in IMPORT_COLUMNS:
        names = [column.key, column.header_vi, *column.aliases]
        for locale in ("en", "vi"):
            with force_locale(locale):
                names.append(str(column.label))
        for name in names:
            index.setdefault(squash(name), column.key)
    return index


def match_headers(headers: list[object]) -> tuple[dict[int, str], list[str]]:
    """{cell index: column key} for the recognised headers, and the headers ignored.

    A file with two village columns (an export has village_code and village_name) is read by
    its code column.
    """
    index = _header_index()
    found: dict[int, str] = {}
    ignored: list[str] = []
    villages: list[tuple[int, int]] = []  # (preference, position)
    for position, header in enumerate(headers):
        text = str(header).strip() if header is not None else ""
        if not text:
            continue
        key = index.get(squash(text))
        if key == "village":
            villages.append((0 if squash(text) in {"villagecode", "mathon"} else 1, position))
        elif key is None or key in found.values():
            ignored.append(text)
        else:
            found[position] = key
    villages.sort()
    for rank, (_pref, position) in enumerate(villages):
        if rank == 0:
            found[position] = "village"
        else:
            ignored.append(str(headers[position]).strip())
    return found, ignored


# --- values -------------------------------------------------------------------------------

@functools.cache
def _index(name: str) -> dict[str, str]:
    """The value index of one column (built once a process: labels in both languages, aliases)."""
    if name == "gender":
        return _labels(GENDER_LABELS, GENDER_ALIASES)
    if name == "role":
        return _labels(ROLE_LABELS, ROLE_ALIASES)
    if name == "position":
        return _labels(POSITION_LABELS, POSITION_ALIASES)
    index = {squash(k): k for k in ETHNIC_GROUPS}
    index.update({squash(name): k for k, name in ETHNIC_GROUPS.items()})
    index.update({squash(a): k for a, k in ETHNIC_ALIASES.items()})
    return index


def _labels(mapping: dict[str, object], extra: dict[str, str]) -> dict[str, str]:
    index = {squash(key): key for key in mapping}
    for key, label in mapping.items():
        for locale in ("en", "vi"):
            with force_locale(locale):
                index.setdefault(squash(str(label)), key)
    for alias, key in extra.items():
        index.setdefault(squash(alias), key)
    return index


GENDER_ALIASES = {"nam": "male", "nu": "female", "m": "male", "f": "female", "trai": "male", "gai": "female"}
ROLE_ALIASES = {
    "to truong": "leader", "tổ trưởng": "leader", "truong": "leader",
    "to pho": "deputy", "tổ phó": "deputy", "pho": "deputy", "deputy leader": "deputy",
    "thanh vien": "member", "to vien": "member", "tv": "member",
}
POSITION_ALIASES = {
    "trưởng thôn": "village_head", "trưởng bản": "village_head", "tổ trưởng tổ dân phố": "village_head",
    "bí thư chi bộ": "party_cell_secretary", "bí thư chi đoàn": "youth_union_secretary",
    "chi hội phụ nữ": "womens_union", "hội phụ nữ": "womens_union", "công an xã": "commune_police",
    "giáo viên": "teacher", "y tế thôn bản": "health_worker", "nhân viên y tế thôn bản": "health_worker",
    "công chức xã": "commune_officer", "cán bộ xã": "commune_officer", "học sinh": "student",
    "sinh viên": "student", "học sinh, sinh viên": "student", "khác": "other",
}
ETHNIC_ALIASES = {"mong": "hmong", "h mong": "hmong", "khmer": "khmer", "kho me": "khmer", "muong": "muong"}
YES = {squash(v) for v in ("có", "co", "x", "1", "yes", "y", "true", "đoàn viên", "dv", "v")}
TICKS = ("✓", "✔")  # squash() makes them empty, like an empty cell: compared before it
NO = {squash(v) for v in ("không", "khong", "0", "no", "n", "false", "")}

_DATE_PATTERNS = (
    re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$"),  # dd/mm/yyyy (Vietnamese order)
)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")


def text_of(value: object) -> str:
    """A cell as text: numbers without '.0', dates as dd/mm/yyyy, whitespace collapsed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return " ".join(str(value).split())


def parse_date(value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = text_of(value)
    if not text:
        return None
    try:
        match = _ISO.match(text)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        for pattern in _DATE_PATTERNS:
            match = pattern.match(text)
            if match:
                return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        raise ValueError(_("This date does not exist.")) from None
    raise ValueError(_("Write the date as day/month/year, for example 15/03/1995."))


def parse_gender(value: object) -> str:
    text = squash(text_of(value))
    if not text:
        raise ValueError(_("The gender is required (Nam or Nữ)."))
    key = _index("gender").get(text)
    if key is None:
        raise ValueError(_("Unknown gender; write Nam or Nữ."))
    return key


def parse_ethnicity(value: object) -> str:
    text = squash(text_of(value))
    if not text:
        raise ValueError(_("The ethnicity is required."))
    key = _index("ethnicity").get(text)
    if key is None:
        raise ValueError(_("Unknown ethnic group; use one of the 54 official names (for example Kinh, Tày, H'Mông)."))
    return key


def parse_role(value: object) -> str:
    text = squash(text_of(value))
    if not text:
        return "member"
    key = _index("role").get(text)
    if key is None:
        raise ValueError(_("Unknown role; write Tổ trưởng, Tổ phó or Thành viên."))
    return key


def parse_position(value: object) -> str | None:
    text = squash(text_of(value))
    if not text:
        return None
    key = _index("position").get(text)
    if key is None:
        raise ValueError(_("Unknown position; leave it empty or use a position from the template's list."))
    return key


def parse_yes_no(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raw = text_of(value).strip()
    if raw in TICKS:
        return True
    text = squash(raw)
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(_("Write Có or leave the cell empty."))


def parse_full_name(value: object) -> str:
    text = " ".join(clean_text(text_of(value)).split())
    if not text:
        raise ValueError(_("The full name is required."))
    if len(text) > 120:
        raise ValueError(_("The full name is longer than 120 characters."))
    if not any(ch.isalpha() for ch in text):
        raise ValueError(_("This is not a name."))
    return text


def citizen_id_text(value: object) -> str:
    """A citizen ID typed into a number cell lost its leading zeros (001..., 010...): put them back."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        return str(value).zfill(12)
    return text_of(value)


def phone_text(value: object) -> str:
    """A phone typed into a number cell lost its leading 0; the phone library copes without it."""
    return text_of(value)
