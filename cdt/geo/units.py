"""Loading administrative units from the `vietnam-provinces` package (GSO codes and names).

Version 0.6.0 of the package holds the 63-province structure with districts, valid until
30 June 2025. Units are upserted by code, so loading twice changes nothing.
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


def load_units(codes: list[str] | None, progress: bool = False) -> dict[str, int]:
    """Load the provinces with the given codes (None: all). Returns counts of new units."""
    tree = province_tree()
    if codes is not None:
        wanted = {c.zfill(2) for c in codes}
        known = {f"{p['code']:02d}" for p in tree}
        unknown = sorted(wanted - known)
        if unknown:
            raise click.ClickException(f"unknown province code: {', '.join(unknown)}")
        tree = [p for p in tree if f"{p['code']:02d}" in wanted]

    rows = list(_rows(tree))
    existing = {
        code: (uid, level, pid, did, cid)
        for code, uid, level, pid, did, cid in db.session.execute(
            select(
                AdminUnit.code,
                AdminUnit.id,
                AdminUnit.level,
                AdminUnit.province_id,
                AdminUnit.district_id,
                AdminUnit.commune_id,
            ).where(AdminUnit.level != "village")
        )
    }
    created = {"province": 0, "district": 0, "commune": 0}
    # Insert level by level so that each level can point to the ids of the one above.
    for level in ("province", "district", "commune"):
        new = [r for r in rows if r[2] == level and r[0] not in existing]
        if not new:
            continue
        items = click.progressbar(new, label=f"{level}s") if progress else contextlib.nullcontext(new)
        with items as bar:
            objects = []
            for code, name, lvl, kind, parent_code in bar:
                parent = existing[parent_code] if parent_code else None
                unit = AdminUnit(
                    code=code,
                    name=name,
                    level=lvl,
                    kind=kind,
                    parent_id=parent[0] if parent else None,
                    valid_to=STRUCTURE_VALID_TO,
                )
                objects.append((unit, parent))
            db.session.add_all([u for u, _ in objects])
            db.session.flush()
            for unit, parent in objects:
                if level == "province":
                    unit.province_id = unit.id
                elif level == "district":
                    unit.province_id, unit.district_id = parent[2], unit.id
                else:
                    unit.province_id, unit.district_id, unit.commune_id = parent[2], parent[3], unit.id
                existing[unit.code] = (unit.id, level, unit.province_id, unit.district_id, unit.commune_id)
            db.session.flush()
        created[level] = len(new)
    db.session.commit()
    return created
