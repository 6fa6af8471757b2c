"""The SQL the privacy pages need, narrowed to the user's area by cdt.auth.scope."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_login import current_user
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from cdt.auth.scope import scoped
from cdt.core import clock
from cdt.extensions import db
from cdt.privacy import workdays
from cdt.privacy.models import OPEN_STATUSES, REQUEST_KIND_LABELS, REQUEST_STATUS_LABELS, PrivacyRequest

# A request is "due soon" when its next deadline is this many working days away or fewer.
DUE_SOON_WORKING_DAYS = 3
DASHBOARD_LIMIT = 20


@dataclass
class RequestFilters:
    status: str | None = None  # a status, or "open"
    kind: str | None = None
    person: int | None = None

    @classmethod
    def from_args(cls, args) -> RequestFilters:
        from cdt.core.inputs import to_int

        status = args.get("status") or None
        kind = args.get("kind") or None
        return cls(status=status if status in (*REQUEST_STATUS_LABELS, "open") else None,
                   kind=kind if kind in REQUEST_KIND_LABELS else None,
                   person=to_int(args.get("person")))


def request_select(filters: RequestFilters, user: Any = None) -> Select:
    stmt = scoped(select(PrivacyRequest).options(joinedload(PrivacyRequest.person)), PrivacyRequest, user)
    if filters.status == "open":
        stmt = stmt.where(PrivacyRequest.status.in_(OPEN_STATUSES))
    elif filters.status:
        stmt = stmt.where(PrivacyRequest.status == filters.status)
    if filters.kind:
        stmt = stmt.where(PrivacyRequest.kind == filters.kind)
    if filters.person:
        stmt = stmt.where(PrivacyRequest.person_id == filters.person)
    # Open requests first, nearest deadline first; then closed ones, latest first.
    return stmt.order_by(PrivacyRequest.status.not_in(OPEN_STATUSES), PrivacyRequest.due_on,
                         PrivacyRequest.received_on.desc(), PrivacyRequest.id.desc())


def next_deadline(req: PrivacyRequest) -> date:
    """The deadline that binds now: acknowledgement until it is done, then completion."""
    if req.acknowledged_on is None and req.acknowledge_by < req.due_on:
        return req.acknowledge_by
    return req.due_on


def urgency(req: PrivacyRequest, today: date | None = None, calendar: workdays.Calendar | None = None) -> str | None:
    """'overdue', 'soon' or None for an open request."""
    if not req.is_open:
        return None
    today = today or clock.today()
    deadline = next_deadline(req)
    if deadline < today:
        return "overdue"
    cal = calendar or workdays.Calendar(today, deadline)
    return "soon" if cal.between(today, deadline) <= DUE_SOON_WORKING_DAYS else None


def with_urgency(requests: list[PrivacyRequest]) -> list[tuple[PrivacyRequest, str | None]]:
    """(request, urgency) for a page of requests: one calendar (one statement) for them all."""
    today = clock.today()
    last = max([next_deadline(r) for r in requests if r.is_open] + [today])
    cal = workdays.Calendar(today, last)
    return [(r, urgency(r, today, cal)) for r in requests]


def due_requests(user: Any = None) -> list[tuple[PrivacyRequest, str]]:
    """Open requests near or past their deadline that the user must act on, most urgent first.

    Commune officers (the person's commune): due soon or overdue. Above them (district and province
    staff, the admin): overdue only, the commune having missed it. One statement for the rows."""
    user = user if user is not None else current_user
    if not getattr(user, "is_authenticated", False):
        return []
    today = clock.today()
    horizon = workdays.add_working_days(today, DUE_SOON_WORKING_DAYS)
    commune_level = user.role == "commune_officer"
    limit = horizon if commune_level else today
    stmt = scoped(select(PrivacyRequest).options(joinedload(PrivacyRequest.person)), PrivacyRequest, user).where(
        PrivacyRequest.status.in_(OPEN_STATUSES),
        or_(PrivacyRequest.due_on <= limit,
            (PrivacyRequest.acknowledged_on.is_(None)) & (PrivacyRequest.acknowledge_by <= limit)),
    )
    if not commune_level:
        stmt = stmt.where(or_(PrivacyRequest.due_on < today,
                              PrivacyRequest.acknowledged_on.is_(None) & (PrivacyRequest.acknowledge_by < today)))
    rows = list(db.session.scalars(stmt.order_by(PrivacyRequest.acknowledge_by, PrivacyRequest.due_on,
                                                 PrivacyRequest.id).limit(DASHBOARD_LIMIT * 2)))
    cal = workdays.Calendar(today, horizon)
    found = [(r, urgency(r, today, cal)) for r in rows]
    found = [(r, u) for r, u in found if u is not None]
    found.sort(key=lambda item: (item[1] != "overdue", next_deadline(item[0]), item[0].id))
    return found[:DASHBOARD_LIMIT]
