"""Training topics, sessions, invitations and attendance."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cdt.core.clock import utcnow
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.within import containing, place, within

SESSION_STATUS_LABELS = {
    "planned": _l("Planned"),
    "held": _l("Held"),
    "cancelled": _l("Cancelled"),
}

MODE_LABELS = {
    "in_person": _l("In person"),
    "online": _l("Online"),
}


class TrainingTopic(db.Model):
    __tablename__ = "training_topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_vi: Mapped[str] = mapped_column(String(160))
    name_en: Mapped[str] = mapped_column(String(160))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")

    def name_for(self, locale: str | None) -> str:
        return self.name_en if locale == "en" else self.name_vi


class TrainingSession(db.Model):
    """A session serves an area (province, district or commune): `area_id` and its ancestors."""

    __tablename__ = "training_session"
    __table_args__ = (
        CheckConstraint("status IN ('planned', 'held', 'cancelled')", name="status"),
        CheckConstraint("mode IN ('in_person', 'online')", name="mode"),
        CheckConstraint("ends_at > starts_at", name="times"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    topic_id: Mapped[int] = mapped_column(ForeignKey("training_topic.id"), index=True)
    mode: Mapped[str] = mapped_column(String(10), default="in_person")
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # local time, Asia/Ho_Chi_Minh
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    venue: Mapped[str | None] = mapped_column(String(200))
    trainer: Mapped[str | None] = mapped_column(String(120))
    capacity: Mapped[int | None] = mapped_column(Integer)
    area_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="planned", index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    version_id: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    topic: Mapped[TrainingTopic] = relationship()
    area: Mapped[AdminUnit] = relationship(foreign_keys=[area_id])

    __mapper_args__ = {"version_id_col": version_id}

    @classmethod
    def area_condition_for(cls, unit: AdminUnit):
        """Sessions seen from `unit`: serving a unit inside it, or a unit that contains it
        (a district-wide session is seen by the officer of each of its communes)."""
        return or_(within(cls, unit), containing(cls, unit))

    @property
    def status_label(self) -> str:
        return str(SESSION_STATUS_LABELS.get(self.status, self.status))

    @property
    def mode_label(self) -> str:
        return str(MODE_LABELS.get(self.mode, self.mode))

    def place_in(self, unit: AdminUnit) -> None:
        """The session serves `unit`: its area and the area's ancestors."""
        self.area_id = unit.id
        place(self, unit)


class Invitation(db.Model):
    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("session_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Attendance(db.Model):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("session_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
