"""Writes of the privacy feature: consent given and withdrawn, requests received and handled.

Each public function is one unit of work (`@transactional`) with its audit event (no personal
value: cdt.audit.service keeps field names only). Refusals are RuleError(field, message).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cdt.audit.service import record
from cdt.core import clock
from cdt.core.rules import RuleError
from cdt.core.transactions import transactional
from cdt.extensions import db
from cdt.privacy import workdays
from cdt.privacy.models import (
    CHANNEL_LABELS,
    CONSENT_METHOD_LABELS,
    REQUEST_KIND_LABELS,
    REQUESTER_LABELS,
    ConsentRecord,
    PrivacyRequest,
)
from cdt.privacy.notice import notice_version
from cdt.registry.models import Person

ACKNOWLEDGE_WORKING_DAYS = 2


def _user_id() -> int | None:
    return current_user.id if getattr(current_user, "is_authenticated", False) else None


def _not_future(day: date | None, field: str) -> date:
    day = day or clock.today()
    if day > clock.today():
        raise RuleError(field, _("The date cannot be in the future."))
    return day


def open_consent(person_id: int) -> ConsentRecord | None:
    return db.session.scalar(select(ConsentRecord).where(ConsentRecord.person_id == person_id,
                                                         ConsentRecord.withdrawn_on.is_(None)))


def consent_history(person_id: int) -> list[ConsentRecord]:
    return list(db.session.scalars(select(ConsentRecord).where(ConsentRecord.person_id == person_id)
                                   .order_by(ConsentRecord.given_on.desc(), ConsentRecord.id.desc())))


def consent_status(person_id: int) -> str:
    """pending, given or withdrawn (the same states as cdt.privacy.rules.consent_state)."""
    history = consent_history(person_id)
    if not history:
        return "pending"
    return "given" if any(r.withdrawn_on is None for r in history) else "withdrawn"


def add_consent(person: Person, method: str, given_on: date | None = None) -> ConsentRecord:
    """Inside a caller's unit of work (registering a person records their consent with it)."""
    if method not in CONSENT_METHOD_LABELS:
        raise RuleError("method", _("Choose how the person gave their consent."))
    given_on = _not_future(given_on, "given_on")
    if open_consent(person.id) is not None:
        raise RuleError("method", _("This person's consent is already recorded."))
    consent = ConsentRecord(person_id=person.id, given_on=given_on, method=method, notice_version=notice_version(),
                            recorded_by_id=_user_id())
    db.session.add(consent)
    db.session.flush()
    record("consent.give", consent, details={"person_id": person.id, "method": method,
                                             "notice_version": consent.notice_version})
    return consent


@transactional
def record_consent(person: Person, method: str, given_on: date | None = None) -> ConsentRecord:
    try:
        return add_consent(person, method, given_on)
    except IntegrityError:  # another officer recorded it at the same moment
        db.session.rollback()
        raise RuleError("method", _("This person's consent is already recorded.")) from None


@transactional
def withdraw_consent(person: Person, withdrawn_on: date | None = None) -> ConsentRecord:
    consent = open_consent(person.id)
    if consent is None:
        raise RuleError("withdrawn_on", _("This person has no consent to withdraw."))
    withdrawn_on = _not_future(withdrawn_on, "withdrawn_on")
    if withdrawn_on < consent.given_on:
        raise RuleError("withdrawn_on", _("Consent cannot be withdrawn before the day it was given (%(day)s).",
                                          day=consent.given_on.strftime("%d/%m/%Y")))
    consent.withdrawn_on = withdrawn_on
    consent.withdrawal_recorded_by_id = _user_id()
    consent.withdrawal_recorded_at = clock.utcnow()
    record("consent.withdraw", consent, details={"person_id": person.id})
    return consent


# --------------------------------------------------------------------------- requests


def completion_working_days() -> int:
    return int(current_app.config.get("CDT_PRIVACY_DUE_WORKING_DAYS") or 15)


def extension_working_days() -> int:
    return int(current_app.config.get("CDT_PRIVACY_EXTENSION_WORKING_DAYS") or completion_working_days())


def deadlines(received_on: date) -> tuple[date, date]:
    """(acknowledge by, complete by) for a request received on that day."""
    return (workdays.add_working_days(received_on, ACKNOWLEDGE_WORKING_DAYS),
            workdays.add_working_days(received_on, completion_working_days()))


@transactional
def create_request(person: Person, data: dict[str, Any]) -> PrivacyRequest:
    for field, labels in (("kind", REQUEST_KIND_LABELS), ("requester", REQUESTER_LABELS),
                          ("channel", CHANNEL_LABELS)):
        if data.get(field) not in labels:
            raise RuleError(field, _("Choose one of the options."))
    received_on = _not_future(data.get("received_on"), "received_on")
    acknowledge_by, due_on = deadlines(received_on)
    req = PrivacyRequest(person_id=person.id, kind=data["kind"], received_on=received_on,
                         requester=data["requester"], channel=data["channel"],
                         details=(data.get("details") or "").strip() or None,
                         acknowledge_by=acknowledge_by, due_on=due_on, status="received",
                         recorded_by_id=_user_id())
    db.session.add(req)
    db.session.flush()
    record("privacy_request.create", req, details={"person_id": person.id, "kind": req.kind})
    return req


def _check_open(req: PrivacyRequest, field: str | None = None) -> None:
    if not req.is_open:
        raise RuleError(field, _("This request is closed."))


@transactional
def acknowledge(req: PrivacyRequest, on: date | None = None) -> PrivacyRequest:
    _check_open(req, "acknowledged_on")
    if req.acknowledged_on is not None:
        raise RuleError("acknowledged_on", _("This request is already acknowledged."))
    on = _not_future(on, "acknowledged_on")
    if on < req.received_on:
        raise RuleError("acknowledged_on", _("The date cannot be before the request was received."))
    req.acknowledged_on = on
    req.status = "acknowledged"
    req.handled_by_id = _user_id()
    record("privacy_request.acknowledge", req, details={"person_id": req.person_id})
    return req


@transactional
def extend(req: PrivacyRequest, reason: str) -> PrivacyRequest:
    _check_open(req, "reason")
    if req.extended_on is not None:
        raise RuleError("reason", _("The deadline can be extended only once."))
    reason = (reason or "").strip()
    if not reason:
        raise RuleError("reason", _("Say why the request needs more time: the person is told."))
    req.extended_on = clock.today()
    req.extension_reason = reason
    req.due_on = workdays.add_working_days(req.due_on, extension_working_days())
    req.handled_by_id = _user_id()
    record("privacy_request.extend", req, details={"person_id": req.person_id, "due_on": req.due_on})
    return req


@transactional
def close(req: PrivacyRequest, status: str, outcome: str, on: date | None = None) -> PrivacyRequest:
    _check_open(req, "outcome")
    if status not in ("completed", "refused"):
        raise RuleError("status", _("Choose one of the options."))
    outcome = (outcome or "").strip()
    if not outcome:
        raise RuleError("outcome", _("Write what was done (or why the request is refused)."))
    on = _not_future(on, "closed_on")
    if on < req.received_on:
        raise RuleError("closed_on", _("The date cannot be before the request was received."))
    req.status = status
    req.closed_on = on
    req.outcome = outcome
    req.handled_by_id = _user_id()
    if req.acknowledged_on is None:
        req.acknowledged_on = on
    record("privacy_request.close", req, details={"person_id": req.person_id, "status": status})
    return req
