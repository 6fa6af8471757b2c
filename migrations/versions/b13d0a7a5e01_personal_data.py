"""personal data (issue 13): audit events without personal values

- audit_event.details: a change keeps the names of the fields that changed, never their values;
  a detail named like a personal field (full_name, phone, birth_date, citizen_id, a search text)
  keeps its key with the value withheld, at any depth (the rule of cdt/audit/service.py `record`,
  applied to the rows written before it).

Revision ID: b13d0a7a5e01
Revises: 72e6bda8a33c
"""
import json

import sqlalchemy as sa
from alembic import op

revision = 'b13d0a7a5e01'
down_revision = '72e6bda8a33c'
branch_labels = None
depends_on = None

# A copy of cdt/audit/service.py's rule as it stands at this revision (a migration never imports
# code that may change after it).
PERSONAL_KEYS = frozenset({"full_name", "search_name", "birth_date", "phone", "citizen_id", "email",
                           "q", "search", "address"})
WITHHELD = "[withheld]"
CHUNK = 1000


def _scrub(value):
    if isinstance(value, dict):
        return {key: (WITHHELD if key in PERSONAL_KEYS and item not in (None, "") else _scrub(item))
                for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    return value


def scrub_details(details):
    """The details as `record` writes them today (None when there is nothing to change)."""
    if not isinstance(details, dict):
        return None
    new = dict(details)
    changes = new.pop("changes", None)
    new = _scrub(new)
    if changes is not None:
        new["changes"] = sorted(str(k) for k in changes) if isinstance(changes, (dict, list)) else []
    return new if new != details else None


def _scrub_audit_events(bind):
    events = sa.table("audit_event", sa.column("id", sa.Integer), sa.column("details", sa.JSON))
    last = 0
    while True:
        rows = bind.execute(sa.select(events.c.id, events.c.details).where(
            events.c.id > last, events.c.details.is_not(None)).order_by(events.c.id).limit(CHUNK)).all()
        if not rows:
            break
        for event_id, details in rows:
            if isinstance(details, str):  # a driver that hands JSON back as text
                details = json.loads(details)
            new = scrub_details(details)
            if new is not None:
                bind.execute(events.update().where(events.c.id == event_id).values(details=new))
        last = rows[-1][0]


def upgrade():
    _scrub_audit_events(op.get_bind())


def downgrade():
    # The values scrubbed from the audit trail are gone for good (that is the point).
    pass
