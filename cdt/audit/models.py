"""AuditEvent rows are only ever inserted; nothing in the app updates or deletes them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from cdt.db import utcnow
from cdt.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

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

    @classmethod
    def area_condition_for(cls, unit):
        """Who sees which events outside admin (scope.area_condition calls this): the events
        of users whose area lies in `unit` (what they did), and the events about those
        users' accounts (failed log-ins on them, an admin's changes to them). Events of
        nobody (a failed log-in with an unknown name) and of admins are for admins only."""
        from sqlalchemy import and_, or_, select

        from cdt.auth.models import User
        from cdt.geo.models import AdminUnit

        users_in_area = (
            select(User.id)
            .join(AdminUnit, User.area_id == AdminUnit.id)
            .where(getattr(AdminUnit, f"{unit.level}_id") == unit.id)
        )
        return or_(
            cls.user_id.in_(users_in_area),
            and_(cls.object_type == "user_account", cls.object_id.in_(users_in_area)),
        )


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session, flush_context, instances) -> None:
    """The trail is append-only: the ORM refuses to update or delete an AuditEvent."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError("audit events cannot be changed or deleted")
