"""User accounts with one role and one area."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from cdt.auth.passwords import normalize_password
from cdt.core.clock import utcnow
from cdt.extensions import db
from cdt.geo.models import AdminUnit

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "province_staff": _l("Province staff"),
    "district_staff": _l("District staff"),
    "commune_officer": _l("Commune officer"),
    "youth_coordinator": _l("Youth union coordinator"),
}
ROLES = tuple(ROLE_LABELS)

# The level of area each role may be given.
ROLE_AREA_LEVELS = {
    "admin": (),
    "province_staff": ("province",),
    "district_staff": ("district",),
    "commune_officer": ("commune",),
    "youth_coordinator": ("province", "district", "commune"),
}


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'province_staff', 'district_staff', 'commune_officer', "
            "'youth_coordinator')",
            name="role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Rotated at log-out, password change and deactivation: old cookies stop working.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    locale: Mapped[str | None] = mapped_column(String(5))
    # Secret for the personal calendar feed; NULL until the user asks for a link.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # No version counter (no optimistic locking): the row is written by the account's own requests
    # (log-in time, language, log-out), often several at once (a double tap on "Đăng nhập", two
    # tabs), and each write sets only its own columns; no form is edited against a version.

    area: Mapped[AdminUnit | None] = relationship()

    # Flask-Login: the cookie stores the session token, not the id (alternative ids).
    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def set_password(self, password: str) -> None:
        """Hash the password as normalised (NFKC): typed on another system it still matches."""
        self.password_hash = generate_password_hash(normalize_password(password))

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, normalize_password(password))

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS.get(self.role, self.role))

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
