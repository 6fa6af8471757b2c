"""Loading administrative units of both maps, and the succession between them.

The old map: version 0.6.0 of the `vietnam-provinces` package holds the 63-province structure
with districts (GSO codes and names), valid until 30 June 2025. The new map (34 provinces,
communes only, valid from 1 July 2025) and the succession come from the official conversion
table (cdt/geo/reform2025.py, cdt/geo/data/). A unit is identified by its code within its map
(code, valid_from): units already there are kept, so loading twice changes nothing.
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from datetime import date

import click
import vietnam_provinces
from sqlalchemy import select

from cdt.extensions import db
from cdt.geo.models import AdminUnit

# The 63-province structure ended with the 2025 reform (Resolution 202/2025/QH15).
STRUCTURE_VALID_TO = date(2025, 6, 30)


def _province_kind(name: str) -> str:
    return "municipality" if name.startswith("Thành phố") else "province"


def _district_kind(name: str) -> str:
    for prefix, kind in (
        ("Quận", "urban_district"),
        ("Huyện", "rural_district"),
        ("Thị xã", "town"),
        ("Thành phố", "provincial_city"),
    ):
        # The package spells two of them "Thành Phố" (Bắc Kạn, Đồng Hới).
        if name.lower().startswith(prefix.lower()):
            return kind
    raise ValueError(f"unknown district kind: {name}")


def commune_kind(name: str) -> str:
    """The package labels every commune 'xã'; the name says what it really is."""
    for prefix, kind in (("Phường", "ward"), ("Thị trấn", "township"), ("Xã", "commune")):
        if name.startswith(prefix):
            return kind
    raise ValueError(f"unknown commune kind: {name}")


def province_tree() -> list[dict]:
    with open(vietnam_provinces.NESTED_DIVISIONS_JSON_PATH, encoding="utf-8") as fh:
        return json.load(fh)


def province_codes() -> list[str]:
    return [f"{p['code']:02d}" for p in province_tree()]


def _rows(provinces: Iterable[dict]):
    """(code, name, level, kind, parent_code) in top-down order."""
    for p in provinces:
        pcode = f"{p['code']:02d}"
        yield pcode, p["name"], "province", _province_kind(p["name"]), None
        for d in p["districts"]:
            dcode = f"{d['code']:03d}"
            yield dcode, d["name"], "district", _district_kind(d["name"]), pcode
            for w in d["wards"]:
                yield f"{w['code']:05d}", w["name"], "commune", commune_kind(w["name"]), dcode


def _progress(items: list, label: str, progress: bool):
    return click.progressbar(items, label=label) if progress else contextlib.nullcontext(items)


def _finish_ancestors(unit: AdminUnit, parent: tuple | None) -> tuple:
    """Set the ancestor columns of a freshly flushed unit from its parent's (id, level, p, d, c)."""
    if unit.level == "province":
        unit.province_id = unit.id
    elif unit.level == "district":
        unit.province_id, unit.district_id = parent[2], unit.id
    else:
        unit.province_id, unit.district_id, unit.commune_id = parent[2], parent[3], unit.id
    return (unit.id, unit.level, unit.province_id, unit.district_id, unit.commune_id)


def _insert_levels(rows: list[tuple], existing: dict, valid_from: date | None, valid_to: date | None,
                   created: dict[str, int], progress: bool, levels=("province", "district", "commune")) -> None:
    """Insert the rows (code, name, level, kind, parent_code) missing from `existing` (code -> ids of
    the units of this map), level by level so that each level can point to the ids above."""
    for level in levels:
        new = [r for r in rows if r[2] == level and r[0] not in existing]
        if not new:
            continue
        with _progress(new, f"{level}s", progress) as bar:
            objects = []
            for code, name, lvl, kind, parent_code in bar:
                parent = existing[parent_code] if parent_code else None
                unit = AdminUnit(code=code, name=name, level=lvl, kind=kind, parent_id=parent[0] if parent else None,
                                 valid_from=valid_from, valid_to=valid_to)
                objects.append((unit, parent))
            db.session.add_all([u for u, _ in objects])
            db.session.flush()
            for unit, parent in objects:
                existing[unit.code] = _finish_ancestors(unit, parent)
            db.session.flush()
        created[level] += len(new)


def _existing(valid_from: date | None) -> dict[str, tuple]:
    """code -> (id, level, province_id, district_id, commune_id) of the units (not villages) of one map."""
    day_condition = AdminUnit.valid_from.is_(None) if valid_from is None else AdminUnit.valid_from == valid_from
    return {
        code: (uid, level, pid, did, cid)
        for code, uid, level, pid, did, cid in db.session.execute(
            select(AdminUnit.code, AdminUnit.id, AdminUnit.level, AdminUnit.province_id, AdminUnit.district_id,
                   AdminUnit.commune_id).where(AdminUnit.level != "village", day_condition)
        )
    }


def load_units(codes: list[str] | None, progress: bool = False) -> dict[str, int]:
    """Load the provinces with the given codes (None: all) on both maps, and the succession.

    For each code: the old province with that code (valid until 2025-06-30, with its districts
    and communes), the new province(s) its communes went to and the new province with that
    code (valid from 2025-07-01, with their communes), then the succession (old -> new) of every
    loaded old commune and province. Returns counts of new units (and successions)."""
    from cdt.geo.reform2025 import NEW_MAP_FROM, conversion_table, new_provinces_for

    tree = province_tree()
    table = conversion_table()
    old_known = {f"{p['code']:02d}" for p in tree}
    if codes is not None:
        wanted = {c.zfill(2) for c in codes}
        unknown = sorted(wanted - old_known - set(table.provinces))
        if unknown:
            raise click.ClickException(f"unknown province code: {', '.join(unknown)}")
        tree = [p for p in tree if f"{p['code']:02d}" in wanted]
        new_codes = new_provinces_for(wanted)
    else:
        new_codes = new_provinces_for(None)

    created = {"province": 0, "district": 0, "commune": 0, "succession": 0}
    old = _existing(None)
    _insert_levels(list(_rows(tree)), old, None, STRUCTURE_VALID_TO, created, progress)

    new_rows = []
    for pcode in sorted(new_codes):
        province = table.provinces[pcode]
        new_rows.append((pcode, province.name, "province", province.kind, None))
        for ccode, (cname, ckind) in sorted(province.communes.items()):
            new_rows.append((ccode, cname, "commune", ckind, pcode))
    new = _existing(NEW_MAP_FROM)
    _insert_levels(new_rows, new, NEW_MAP_FROM, None, created, progress, levels=("province", "commune"))
    created["succession"] = _load_succession(table, old, new, NEW_MAP_FROM)
    db.session.commit()
    return created


def _load_succession(table, old: dict, new: dict, on: date) -> int:
    """Succession rows for the loaded old communes and provinces (missing ones only)."""
    from cdt.geo.models import UnitSuccession

    have = set(db.session.execute(select(UnitSuccession.predecessor_id, UnitSuccession.successor_id)).all())
    rows: dict[tuple[int, int], str] = {}
    province_pairs: dict[int, set[int]] = {}
    for pair in table.pairs:
        before, after = old.get(pair.old_code or ""), new.get(pair.new_code)
        if before is None or after is None or before[1] != "commune":
            continue
        rows[(before[0], after[0])] = table.kind_of(pair)
        province_pairs.setdefault(before[2], set()).add(after[2])
    predecessors: dict[int, set[int]] = {}
    for old_id, new_ids in province_pairs.items():
        for new_id in new_ids:
            predecessors.setdefault(new_id, set()).add(old_id)
    for old_id, new_ids in province_pairs.items():
        for new_id in new_ids:
            if len(new_ids) > 1:
                kind = "part"
            elif predecessors[new_id] == {old_id}:
                kind = "kept"
            else:
                kind = "whole"
            rows[(old_id, new_id)] = kind
    fresh = [UnitSuccession(predecessor_id=a, successor_id=b, kind=kind, on=on)
             for (a, b), kind in rows.items() if (a, b) not in have]
    db.session.add_all(fresh)
    db.session.flush()
    return len(fresh)
