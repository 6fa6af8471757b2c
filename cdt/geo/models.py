"""AdminUnit: one tree for provinces, districts, communes and villages.

Every row carries its ancestors (province_id, district_id, commune_id; its own id at
its own level) so that any roll-up is a single GROUP BY and any area filter a single
comparison.
"""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Date, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cdt.core.clock import utcnow
from cdt.extensions import db

LEVELS = ("province", "district", "commune", "village")
LEVEL_DEPTH = {level: depth for depth, level in enumerate(LEVELS)}
# The 2025 map (from 1 July 2025) has no districts: province > commune > village.
MAP_2025_FROM = date(2025, 7, 1)

LEVEL_LABELS = {
    "province": _l("Province"),
    "district": _l("District"),
    "commune": _l("Commune"),
    "village": _l("Village"),
}

# Kinds as the law names them; keys are stable ASCII, labels are translated.
KIND_LABELS = {
    "province": _l("Province"),  # tỉnh
    "municipality": _l("Municipality"),  # thành phố trực thuộc trung ương
    "rural_district": _l("Rural district"),  # huyện
    "urban_district": _l("Urban district"),  # quận
    "provincial_city": _l("City"),  # thành phố thuộc tỉnh
    "town": _l("Town"),  # thị xã
    "commune": _l("Commune"),  # xã
    "ward": _l("Ward"),  # phường
    "special_zone": _l("Special zone"),  # đặc khu (2025 map)
    "township": _l("Township"),  # thị trấn
    "village": _l("Village"),  # thôn
    "hamlet": _l("Hamlet"),  # bản
    "residential_group": _l("Residential group"),  # tổ dân phố
}


class AdminUnit(db.Model):
    __tablename__ = "admin_unit"
    __table_args__ = (
        CheckConstraint("level IN ('province', 'district', 'commune', 'village')", name="level"),
        Index("ix_admin_unit_parent_level", "parent_id", "level"),
        # A code is unique on a date, not forever (new province 15 is Lào Cai, old 15 was Yên Bái):
        # the key is the id; (code, valid_from) is unique, and the loaders and services never give
        # two units valid on one day the same code.
        UniqueConstraint("code", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(10), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"))
    province_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    parent: Mapped[AdminUnit | None] = relationship(remote_side=[id], foreign_keys=[parent_id])

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or self.valid_to >= day)

    @property
    def depth(self) -> int:
        return LEVEL_DEPTH[self.level]

    @property
    def child_level(self) -> str | None:
        """The level of the units directly below on this unit's map (no district on the 2025 map)."""
        if self.level == "province" and self.valid_from is not None and self.valid_from >= MAP_2025_FROM:
            return "commune"
        depth = self.depth + 1
        return LEVELS[depth] if depth < len(LEVELS) else None

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    @property
    def level_label(self) -> str:
        return str(LEVEL_LABELS[self.level])

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<AdminUnit {self.code} {self.name}>"


SUCCESSION_KINDS = ("whole", "part", "kept")
SUCCESSION_LABELS = {
    "whole": _l("merged whole"),
    "part": _l("merged in part"),
    "kept": _l("kept"),
}


class UnitSuccession(db.Model):
    """An ended unit (predecessor) and a unit that took over its area (successor) on `on`.

    whole: all of the predecessor went into the successor (with others, maybe); part: the
    predecessor was split, part of it went here; kept: same area (renamed or retyped maybe)."""

    __tablename__ = "unit_succession"
    __table_args__ = (
        CheckConstraint("kind IN ('whole', 'part', 'kept')", name="kind"),
        UniqueConstraint("predecessor_id", "successor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"))
    successor_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    on: Mapped[date] = mapped_column(Date)  # the successor's first day

    predecessor: Mapped[AdminUnit] = relationship(foreign_keys=[predecessor_id])
    successor: Mapped[AdminUnit] = relationship(foreign_keys=[successor_id])

    @property
    def kind_label(self) -> str:
        return str(SUCCESSION_LABELS[self.kind])


class VillagePlace(db.Model):
    """Where a village lies over time: its commune (and that commune's district and province)
    from valid_from to valid_to (inclusive; None open). A village keeps its identity (its id,
    its team) when its commune changes; the village row's own ancestor columns, and those of
    its teams, hold its latest placement (cdt/geo/within.py reads the dated ones)."""

    __tablename__ = "village_place"
    __table_args__ = (
        Index("ix_village_place_village_from", "village_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"))
    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date, index=True)
    valid_to: Mapped[date | None] = mapped_column(Date)


CHANGE_KINDS = ("merge", "split", "rename", "move", "undo")
CHANGE_LABELS = {
    "merge": _l("Villages merged"),
    "split": _l("Village split"),
    "rename": _l("Village renamed"),
    "move": _l("Village moved to another commune"),
    "undo": _l("Change undone"),
}


class VillageChange(db.Model):
    """A dated change of villages made by the province (cdt/geo/villages.py): a merge, a split, a
    rename, a move to another commune, or the undoing of one of them. `details` holds what the
    change did (ids, codes, the names before and after: place names, never personal values) so
    that an undo can reverse exactly that. The ancestor columns are the commune the change was made
    in (scoping: the province's staff see their province's changes)."""

    __tablename__ = "village_change"
    __table_args__ = (
        CheckConstraint("kind IN ('merge', 'split', 'rename', 'move', 'undo')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    on: Mapped[date] = mapped_column(Date)  # the first day of the new state
    village_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)  # the continuing village
    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"))
    commune_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    other_commune_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)  # a move's target
    details: Mapped[dict] = mapped_column(JSON)
    undoes_id: Mapped[int | None] = mapped_column(ForeignKey("village_change.id"))
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("village_change.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    village: Mapped[AdminUnit] = relationship(foreign_keys=[village_id])

    @property
    def kind_label(self) -> str:
        return str(CHANGE_LABELS.get(self.kind, self.kind))
