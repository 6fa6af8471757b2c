"""Consent records, rights requests and configured public holidays (issue 13).

- `ConsentRecord`: one consent a person gave (when, how, under which notice version, who recorded
  it) and, once withdrawn, when and who recorded the withdrawal. History is kept: consent given
  again after a withdrawal is a new record; at most one record per person is open (not withdrawn).
  A person's consent is *pending* without any record, *given* with an open record, *withdrawn*
  when every record is withdrawn (cdt/privacy/rules.py says it in SQL).
- `PrivacyRequest`: a request of a person about their data (access, correction, erasure,
  restriction, objection, withdrawal), with its deadlines in working days (cdt/privacy/workdays.py).
- `PublicHoliday`: a day off (or a make-up working day) added with `flask cdt holidays add`, on top
  of the holidays shipped in cdt/privacy/data/.

Consent records and requests lie where their person lies: `area_condition_for` makes
cdt.auth.scope scope them through the person (404 outside the user's area).
"""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, String, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cdt.core.clock import utcnow
from cdt.extensions import db
from cdt.geo.within import within
from cdt.registry.models import Person

CONSENT_METHOD_LABELS = {
    "paper": _l("Signed paper form"),
    "in_person": _l("In person (spoken, witnessed by the officer)"),
    "digital": _l("Digital (message or online form)"),
}

REQUEST_KIND_LABELS = {
    "access": _l("Access to their data"),
    "correction": _l("Correction"),
    "erasure": _l("Erasure"),
    "restriction": _l("Restriction of processing"),
    "objection": _l("Objection to processing"),
    "withdrawal": _l("Withdrawal of consent"),
}

REQUESTER_LABELS = {
    "self": _l("The person themself"),
    "representative": _l("A representative with authorisation"),
    "guardian": _l("A parent or guardian"),
}

CHANNEL_LABELS = {
    "in_person": _l("In person"),
    "paper": _l("Letter or paper form"),
    "phone": _l("Phone"),
    "digital": _l("Email or online"),
}

REQUEST_STATUS_LABELS = {
    "received": _l("Received"),
    "acknowledged": _l("Acknowledged"),
    "completed": _l("Completed"),
    "refused": _l("Refused"),
}
OPEN_STATUSES = ("received", "acknowledged")


def _through_person(model):
    """`model.person_id` lies inside `unit`: the person's place decides (one rule: within)."""

    def condition(unit):
        return model.person_id.in_(select(Person.id).where(within(Person, unit)))

    return condition


class ConsentRecord(db.Model):
    __tablename__ = "consent_record"
    __table_args__ = (
        CheckConstraint("method IN ('paper', 'in_person', 'digital')", name="method"),
        CheckConstraint("withdrawn_on IS NULL OR withdrawn_on >= given_on", name="dates"),
        # At most one open (not withdrawn) consent per person.
        Index("uq_consent_record_open", "person_id", unique=True,
              sqlite_where=text("withdrawn_on IS NULL"), postgresql_where=text("withdrawn_on IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    given_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(12))
    notice_version: Mapped[str] = mapped_column(String(40))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdrawal_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    withdrawal_recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    withdrawal_recorded_by = relationship("User", foreign_keys=[withdrawal_recorded_by_id])

    @property
    def method_label(self) -> str:
        return str(CONSENT_METHOD_LABELS.get(self.method, self.method))

    @classmethod
    def area_condition_for(cls, unit):
        return _through_person(cls)(unit)


class PrivacyRequest(db.Model):
    __tablename__ = "privacy_request"
    __table_args__ = (
        CheckConstraint("kind IN ('access', 'correction', 'erasure', 'restriction', 'objection', 'withdrawal')",
                        name="kind"),
        CheckConstraint("requester IN ('self', 'representative', 'guardian')", name="requester"),
        CheckConstraint("channel IN ('in_person', 'paper', 'phone', 'digital')", name="channel"),
        CheckConstraint("status IN ('received', 'acknowledged', 'completed', 'refused')", name="status"),
        # The dashboard's question: open requests by deadline.
        Index("ix_privacy_request_open_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    received_on: Mapped[date] = mapped_column(Date)
    requester: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(12))
    details: Mapped[str | None] = mapped_column(Text)
    acknowledge_by: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    extended_on: Mapped[date | None] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="received", server_default="received")
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(Text)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    person: Mapped[Person] = relationship()
    handled_by = relationship("User", foreign_keys=[handled_by_id])
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])

    @classmethod
    def area_condition_for(cls, unit):
        return _through_person(cls)(unit)

    @property
    def kind_label(self) -> str:
        return str(REQUEST_KIND_LABELS.get(self.kind, self.kind))

    @property
    def status_label(self) -> str:
        return str(REQUEST_STATUS_LABELS.get(self.status, self.status))

    @property
    def requester_label(self) -> str:
        return str(REQUESTER_LABELS.get(self.requester, self.requester))

    @property
    def channel_label(self) -> str:
        return str(CHANNEL_LABELS.get(self.channel, self.channel))

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class PublicHoliday(db.Model):
    """A day configured with `flask cdt holidays add`: a day off (`off`) or a make-up working day
    on a weekend (`work`), on top of the shipped CSV files."""

    __tablename__ = "public_holiday"
    __table_args__ = (CheckConstraint("kind IN ('off', 'work')", name="kind"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(4), default="off", server_default="off")
    name: Mapped[str] = mapped_column(String(160))
