"""The 2025 map (34 provinces, 3,321 communes, no districts) and its succession from the old one.

Read from the official conversion table shipped in cdt/geo/data/ (its README records the
source): one row per (new commune, old commune) pair. The new map is valid from 2025-07-01;
the old one (cdt/geo/units.py, the `vietnam-provinces` package) until 2025-06-30.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from cdt.geo.models import MAP_2025_FROM

NEW_MAP_FROM = MAP_2025_FROM
OLD_MAP_TO = date(2025, 6, 30)
DATA = Path(__file__).parent / "data" / "dvhc-2025-conversion.csv"

_NAME_CODE = re.compile(r"^(.*?)\s*\((\d+)\)\s*$")
_KEPT_NOTES = ("giữ nguyên", "đổi tên", "đổi loại hình")


def _clean(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).split())


def _name_code(value: str) -> tuple[str, str]:
    match = _NAME_CODE.match(_clean(value))
    if match is None:
        raise ValueError(f"not 'Name (code)': {value!r}")
    return match.group(1), match.group(2)


def new_commune_kind(name: str) -> str:
    lowered = name.lower()
    for prefix, kind in (("phường", "ward"), ("đặc khu", "special_zone"), ("xã", "commune"), ("xa ", "commune")):
        if lowered.startswith(prefix):
            return kind
    raise ValueError(f"unknown commune kind: {name}")


def province_kind(name: str) -> str:
    return "municipality" if name.startswith("Thành phố") else "province"


@dataclass
class NewProvince:
    code: str
    name: str
    kind: str
    communes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (name, kind)


@dataclass(frozen=True)
class Pair:
    """One row of the table: new commune <- old commune (old code None: no old commune)."""

    new_province: str
    new_code: str
    old_code: str | None
    old_province: str
    note: str


@dataclass
class ConversionTable:
    provinces: dict[str, NewProvince]
    pairs: list[Pair]
    successors_of_old: dict[str, set[str]] = field(default_factory=dict)  # old code -> new codes

    def __post_init__(self) -> None:
        for pair in self.pairs:
            if pair.old_code:
                self.successors_of_old.setdefault(pair.old_code, set()).add(pair.new_code)

    def kind_of(self, pair: Pair) -> str:
        """whole / part / kept for a pair with an old commune (see data/README.md)."""
        if len(self.successors_of_old[pair.old_code]) > 1:
            return "part"
        if pair.note.lower().startswith(_KEPT_NOTES):
            return "kept"
        return "whole"


@lru_cache(maxsize=1)
def conversion_table() -> ConversionTable:
    """The shipped table, parsed (names NFC, spaces collapsed, codes as published)."""
    provinces: dict[str, NewProvince] = {}
    pairs: list[Pair] = []
    with open(DATA, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    for row in rows[2:]:
        if len(row) < 8 or not row[1].strip():
            continue  # a province's title row
        pname, pcode = _name_code(row[0])
        province = provinces.setdefault(pcode, NewProvince(pcode, pname, province_kind(pname)))
        name, code = _clean(row[1]), row[2].strip()
        province.communes.setdefault(code, (name, new_commune_kind(name)))
        old_code = row[4].strip() or None
        _old_name, old_province = _name_code(row[7])
        pairs.append(Pair(pcode, code, old_code, old_province.zfill(2), _clean(row[5])))
    return ConversionTable(provinces, pairs)


def new_provinces_for(old_codes: set[str] | None) -> set[str]:
    """The new provinces that old provinces' communes went to, and new provinces with those codes
    (None: all)."""
    table = conversion_table()
    if old_codes is None:
        return set(table.provinces)
    wanted = {p.new_province for p in table.pairs if p.old_province in old_codes}
    return wanted | (old_codes & set(table.provinces))
