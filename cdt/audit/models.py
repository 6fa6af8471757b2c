"""AuditEvent rows are only ever inserted; nothing in the app updates or deletes them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from cdt.core.clock import utcnow
from cdt.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_province_at", "province_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column()
    # {"field": [old, new], ...} for updates; other details for other actions.
    details: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))
    # The province the event belongs to, fixed when it is recorded: that of the acting user's
    # area, else (an admin's action on an account, a failed log-in on it) that of the account's
    # area. What province staff may read (one indexed column, not a join per row).
    province_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"))

    @classmethod
    def area_condition_for(cls, unit):
        """Which events a non-admin reader sees (scope.area_condition calls this): those of
        their province, i.e. done by users whose area lies in it, or about those users'
        accounts. Events of nobody (a failed log-in with an unknown name) and admins' events
        on no account are for admins only. Only province staff read the trail today; a
        reader of a smaller area would see the events of the users of that area."""
        from sqlalchemy import and_, false, or_, select

        from cdt.auth.models import User
        from cdt.geo.models import AdminUnit
        from cdt.geo.within import within

        if unit.level == "province":
            return within(cls, unit)
        ids = db.session.scalars(
            select(User.id)
            .join(AdminUnit, User.area_id == AdminUnit.id)
            .where(within(AdminUnit, unit))
        ).all()
        if not ids:
            return false()
        return or_(cls.user_id.in_(ids), and_(cls.object_type == "user_account", cls.object_id.in_(ids)))


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session, flush_context, instances) -> None:
    """The trail is append-only: the ORM refuses to update or delete an AuditEvent."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError("audit events cannot be changed or deleted")
