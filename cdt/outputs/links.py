"""A team leader's private link: `/t/<secret>` lets whoever holds it report that team's open months
(not locked, already started, the last OPEN_MONTHS months), nothing else. Only the secret's SHA-256 is
stored, so a link is shown once, when it is made; a new link revokes the team's previous one; a
revoked or unknown link answers 404. Making, revoking and every use are audited."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from cdt.audit.service import record
from cdt.core.clock import utcnow
from cdt.core.transactions import commit_or_retry
from cdt.extensions import db
from cdt.outputs import periods, queries
from cdt.outputs.models import TeamLink
from cdt.registry.models import Team

OPEN_MONTHS = 3


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def live_link(team: Team) -> TeamLink | None:
    return db.session.scalar(select(TeamLink).where(TeamLink.team_id == team.id, TeamLink.revoked_at.is_(None)))


def create(team: Team, user) -> str:
    """A new link for the team (the previous one revoked); returns the secret, shown once."""
    secret = secrets.token_urlsafe(24)

    def work() -> None:
        old = live_link(team)
        if old is not None:
            old.revoked_at = utcnow()
            db.session.flush()
        db.session.add(TeamLink(team_id=team.id, token_hash=digest(secret), created_by_id=getattr(user, "id", None)))
        record("outputs.link.create", team)

    commit_or_retry(work)
    return secret


def revoke(team: Team) -> bool:
    def work() -> bool:
        link = live_link(team)
        if link is None:
            return False
        link.revoked_at = utcnow()
        record("outputs.link.revoke", team)
        return True

    return commit_or_retry(work)


def team_for(secret: str) -> Team | None:
    """The team of a live link; None for a revoked or unknown secret."""
    if not secret or len(secret) > 100:
        return None
    link = db.session.scalar(select(TeamLink).where(TeamLink.token_hash == digest(secret),
                                                    TeamLink.revoked_at.is_(None)))
    return db.session.get(Team, link.team_id) if link is not None else None


def open_months(team: Team) -> list[str]:
    """The months the link may report: the last OPEN_MONTHS months (this one included) that have
    started, are not locked by the province, and in which the team was active."""
    current = periods.current()
    locked = queries.locked_periods(team.province_id)
    found = []
    for period in (periods.shift(current, -n) for n in range(OPEN_MONTHS)):
        start, end = periods.month_start(period), periods.month_end(period)
        if period in locked:
            continue
        expected = db.session.scalar(select(Team.id).where(Team.id == team.id, queries.team_expected(start, end)))
        if expected is not None:
            found.append(period)
    return found


def live_team_ids(team_ids: list[int]) -> set[int]:
    """Which of these teams have a live link (one query)."""
    if not team_ids:
        return set()
    return set(db.session.scalars(select(TeamLink.team_id).where(TeamLink.team_id.in_(team_ids),
                                                                 TeamLink.revoked_at.is_(None))))
