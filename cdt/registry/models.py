"""Teams, people, memberships.

Teams and people carry the ancestor ids of their place (province, district, commune)
so that scoping and roll-ups never need to walk the unit tree.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.ext.hybrid import Comparator, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from cdt.core.clock import utcnow
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.within import place
from cdt.registry.identifiers import normalize_citizen_id, normalize_phone

TEAM_STATUS_LABELS = {
    "active": _l("Active"),
    "dissolved": _l("Dissolved"),
}

ROLE_LABELS = {
    "leader": _l("Leader"),
    "deputy": _l("Deputy leader"),
    "member": _l("Member"),
}

_E164 = re.compile(r"\+[0-9]{8,15}")

GENDER_LABELS = {
    "male": _l("Male"),
    "female": _l("Female"),
}

POSITION_LABELS = {
    "village_head": _l("Village head"),
    "party_cell_secretary": _l("Party cell secretary"),
    "youth_union_secretary": _l("Youth union secretary"),
    "womens_union": _l("Women's union officer"),
    "commune_police": _l("Commune police"),
    "teacher": _l("Teacher"),
    "health_worker": _l("Village health worker"),
    "commune_officer": _l("Commune officer"),
    "student": _l("Student"),
    "other": _l("Other"),
}


class AreaColumns:
    """Ancestor ids of the place a row belongs to; what area scoping filters on."""

    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)

    def place_in(self, unit: AdminUnit) -> None:
        """Copy the ancestors of `unit` (a commune or a village) onto this row."""
        place(self, unit)


class Team(AreaColumns, db.Model):
    __tablename__ = "team"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'dissolved')", name="status"),
        # One active team per village: the real-world rule, enforced by the database.
        Index(
            "uq_team_active_village",
            "village_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        # The outputs report counts the team-months expected per province from the teams' dates
        # (cdt/outputs/report.py): this index answers it in order, without reading the table.
        Index("ix_team_province_dates", "province_id", "established_on", "dissolved_on", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    established_on: Mapped[date | None] = mapped_column(Date)
    decision_number: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(12), default="active", server_default="active")
    dissolved_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    # Team and village names folded ("to cns cong dong thon nam na thon nam na"): what team search
    # matches without diacritics. Written by the registry services and by rebuild_name_keys().
    search_name: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    version_id: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    village: Mapped[AdminUnit] = relationship(foreign_keys=[village_id])
    memberships: Mapped[list[Membership]] = relationship(back_populates="team")

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def status_label(self) -> str:
        return str(TEAM_STATUS_LABELS.get(self.status, self.status))


def _citizen_id_hash_of(value):
    """A compared value (a citizen ID, a list of them, None) as the keyed hash it is stored as."""
    from cdt.privacy.crypto import blind_index

    if value is None:
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_citizen_id_hash_of(item) for item in value]
    if isinstance(value, str):
        return blind_index(normalize_citizen_id(value))
    return value


class _CitizenIdComparator(Comparator):
    """`Person.citizen_id == x`, `.in_([...])`, `.is_(None)` in SQL compare the keyed hash."""

    def operate(self, op, *other, **kwargs):
        return op(self.expression, *[_citizen_id_hash_of(item) for item in other], **kwargs)


class Person(AreaColumns, db.Model):
    """A volunteer, recorded once whatever the number of teams.

    The area columns are the commune that registered the person (their home commune).
    """

    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint("gender IN ('male', 'female')", name="gender"),
        # The duplicate rules, enforced by the database so that two officers submitting the
        # same person at the same moment still end with one record (see registry/matching.py).
        # A phone is not a person (a family shares one): its index only finds the hints.
        Index(
            "ix_person_province_phone",
            "province_id",
            "phone",
            sqlite_where=text("phone IS NOT NULL"),
            postgresql_where=text("phone IS NOT NULL"),
        ),
        Index(
            "uq_person_province_name_birth",
            "province_id",
            "search_name",
            "birth_date",
            unique=True,
            sqlite_where=text("birth_date IS NOT NULL"),
            postgresql_where=text("birth_date IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(120))
    # Lower-case, diacritics removed ("nguyen van an"): what name search matches on.
    search_name: Mapped[str] = mapped_column(String(120), index=True)
    # The order of people lists: the Vietnamese alphabet, tones after letters (core.text.vi_sort_key).
    sort_name: Mapped[str] = mapped_column(String(400), index=True, default="", server_default="")
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(6))
    ethnicity: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    # The citizen ID is never stored in plain text (Law 91/2025/QH15; cdt/privacy/crypto.py):
    # `citizen_id_enc` holds it encrypted (Fernet), `citizen_id_hash` its keyed hash (HMAC-SHA256),
    # which search and the duplicate rule compare (unique: one person per citizen ID). Read and
    # write `person.citizen_id`; in a query `Person.citizen_id == value` compares the hash.
    citizen_id_enc: Mapped[str | None] = mapped_column(Text)
    citizen_id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    youth_union: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    position: Mapped[str | None] = mapped_column(String(30))
    # Restriction of processing (a person's request): shown only to the admin and the officer
    # handling it (`restricted_by_id`), left out of lists, search and exports (cdt/privacy/rules.py).
    restricted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    restricted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Erased (anonymised for good, cdt/privacy/erasure.py): no personal value is left on the row.
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Date of the first held training session attended; NULL = never trained.
    # Maintained by the training feature whenever attendance or a session's status changes.
    first_trained_on: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    version_id: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    memberships: Mapped[list[Membership]] = relationship(back_populates="person")

    __mapper_args__ = {"version_id_col": version_id}

    @validates("phone")
    def _ascii_identifier(self, key: str, value: str | None) -> str | None:
        """Whatever path writes a person (forms, import, CLI, code to come), the identifiers are
        stored normalised, in ASCII digits, so the duplicate rules and unique indexes see them;
        ValueError otherwise. The rules of registry/identifiers.py, run again (cheap when already done).
        The citizen ID is normalised by its setter below."""
        if value is None or (value.isascii() and _E164.fullmatch(value)):
            return value
        return normalize_phone(value)

    @hybrid_property
    def citizen_id(self) -> str | None:
        """The plain citizen ID (decrypted); show it only to who may read it (`citizen_id_shown`)."""
        from cdt.privacy.crypto import decrypt

        return decrypt(self.citizen_id_enc)

    @citizen_id.inplace.setter
    def _citizen_id_setter(self, value: str | None) -> None:
        from cdt.privacy.crypto import blind_index, encrypt

        value = normalize_citizen_id(value)
        self.citizen_id_enc = encrypt(value)
        self.citizen_id_hash = blind_index(value)

    @citizen_id.inplace.comparator
    @classmethod
    def _citizen_id_comparator(cls) -> _CitizenIdComparator:
        return _CitizenIdComparator(cls.citizen_id_hash)

    @property
    def citizen_id_masked(self) -> str:
        """'••••••••4005': the last 4 digits, for who may not read the whole ID."""
        from cdt.privacy.crypto import mask

        return mask(self.citizen_id)

    def citizen_id_shown(self, user=None) -> str:
        """The citizen ID as `user` (default: the current user) may see it: whole or masked."""
        from cdt.auth.scope import can

        return (self.citizen_id or "") if can("citizen_id.read", user) else self.citizen_id_masked

    @classmethod
    def shown_to(cls, user):
        """Which people `user` may see at all (cdt/auth/scope.py applies it to every people query)."""
        from cdt.privacy.rules import shown_to

        return shown_to(user)

    @classmethod
    def exportable(cls):
        """Which people may leave the registry in an export (cdt/auth/scope.py `export_condition`)."""
        from cdt.privacy.rules import exportable

        return exportable()

    @property
    def shown(self) -> bool:
        """Whether the current user may see this person (cdt/privacy/rules.py); a page listing a
        team's members shows the others without name or phone."""
        from cdt.privacy.rules import is_shown_to

        return is_shown_to(self)

    @property
    def shown_name(self) -> str:
        from flask_babel import gettext

        return self.full_name if self.shown else gettext("(not shown: personal data restricted or erased)")

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def is_restricted(self) -> bool:
        return self.restricted_at is not None

    @property
    def gender_label(self) -> str:
        return str(GENDER_LABELS.get(self.gender, self.gender))

    @property
    def position_label(self) -> str:
        return str(POSITION_LABELS.get(self.position, self.position or ""))


class Membership(db.Model):
    __tablename__ = "membership"
    __table_args__ = (
        CheckConstraint("role IN ('leader', 'deputy', 'member')", name="role"),
        CheckConstraint("left_on IS NULL OR left_on >= joined_on", name="dates"),
        # At most one current leader and one current deputy per team.
        Index(
            "uq_membership_current_leader",
            "team_id",
            unique=True,
            sqlite_where=text("role = 'leader' AND left_on IS NULL"),
            postgresql_where=text("role = 'leader' AND left_on IS NULL"),
        ),
        Index(
            "uq_membership_current_deputy",
            "team_id",
            unique=True,
            sqlite_where=text("role = 'deputy' AND left_on IS NULL"),
            postgresql_where=text("role = 'deputy' AND left_on IS NULL"),
        ),
        # A person is in a team once at a time.
        Index(
            "uq_membership_current_person_team",
            "person_id",
            "team_id",
            unique=True,
            sqlite_where=text("left_on IS NULL"),
            postgresql_where=text("left_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    role: Mapped[str] = mapped_column(String(8), default="member")
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    person: Mapped[Person] = relationship(back_populates="memberships")
    team: Mapped[Team] = relationship(back_populates="memberships")

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS.get(self.role, self.role))


DECISION_KIND_LABELS = {
    "established": _l("Established"),
    "amended": _l("Decision amended"),
    "dissolved": _l("Dissolved"),
    "re_established": _l("Re-established"),
}


class TeamDecision(db.Model):
    """The history of a team's decisions: established, amended, dissolved, re-established.

    The team row holds the current state; this table keeps every decision, so re-establishing a
    dissolved team with a new decision keeps the old ones (and the team's memberships).
    """

    __tablename__ = "team_decision"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('established', 'amended', 'dissolved', 're_established')", name="kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    decision_number: Mapped[str | None] = mapped_column(String(60))
    effective_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    team: Mapped[Team] = relationship()

    @property
    def kind_label(self) -> str:
        return str(DECISION_KIND_LABELS.get(self.kind, self.kind))


class PersonNameKey(db.Model):
    """Every word-start suffix of a person's folded name ("nguyen van an", "van an", "an"), so that a
    search for any part of a name that starts at a word is an index range, not a scan of every
    person (see cdt/registry/names.py). Maintained on every ORM insert/update of a Person."""

    __tablename__ = "person_name_key"
    __table_args__ = (
        # PostgreSQL answers `key LIKE 'text%'` from an index only with the pattern operator class.
        Index("ix_person_name_key_pattern", "key", postgresql_ops={"key": "text_pattern_ops"}).ddl_if(
            dialect="postgresql"
        ),
    )

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)

