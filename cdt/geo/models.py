"""AdminUnit: one tree for provinces, districts, communes and villages.

Every row carries its ancestors (province_id, district_id, commune_id; its own id at
its own level) so that any roll-up is a single GROUP BY and any area filter a single
comparison.
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cdt.extensions import db

LEVELS = ("province", "district", "commune", "village")
LEVEL_DEPTH = {level: depth for depth, level in enumerate(LEVELS)}

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
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
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

    @property
    def depth(self) -> int:
        return LEVEL_DEPTH[self.level]

    @property
    def child_level(self) -> str | None:
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
