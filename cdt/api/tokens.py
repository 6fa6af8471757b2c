"""Personal API tokens: the one place that makes, finds and revokes them.

A token is `cdt_` + 43 URL-safe characters (256 random bits). Only its SHA-256 is stored; the
secret is shown once, when it is made. A token acts with its owner's role and area (the owner's
current ones: a user moved to another commune takes their tokens along, a deactivated user's
tokens stop working)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update

from cdt.api.models import ApiToken
from cdt.auth.models import User
from cdt.core import clock
from cdt.core.transactions import transactional
from cdt.extensions import db

PREFIX = "cdt_"
MAX_DAYS = 366  # a token lives at most a year; a new one is made on the account page
DEFAULT_DAYS = 90


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def expiry_of(day: date) -> datetime:
    """A token made to expire on `day` works until the end of that day in the registry's zone."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=clock.zone()).astimezone(UTC)


def create(user: User, name: str, expires_on: date) -> tuple[ApiToken, str]:
    """A new token for `user` (added to the session, not committed) and its secret, to show once."""
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=digest(secret), prefix=secret[:10],
                     expires_at=expiry_of(expires_on))
    db.session.add(token)
    return token, secret


def find(secret: str) -> ApiToken | None:
    """The live token with this secret (not revoked, not expired, its owner active); else None."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    return db.session.scalar(
        select(ApiToken).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest(secret), ApiToken.revoked_at.is_(None),
               ApiToken.expires_at > clock.utcnow(), User.active.is_(True))
    )


def of_user(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones too: the list says so)."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def own_token(user: User, token_id: int | None) -> ApiToken | None:
    """One of the user's own tokens by id; None for another user's (nobody revokes another's token here)."""
    if token_id is None:
        return None
    return db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))


def revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = clock.utcnow()


def touch(token_id: int) -> None:
    """Note the token's last use (in the caller's transaction)."""
    db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=clock.utcnow()))


@transactional
def record_use(token_id: int, endpoint: str | None, status: int, rows: int | None) -> None:
    """One call made with a token: its last use noted and an audit event (token, endpoint, status,
    items; never a value), as one unit of work of its own."""
    from cdt.audit.service import record

    touch(token_id)
    record("export", details={"what": f"api:{endpoint}", "token": token_id, "status": status, "rows": rows})


def is_live(token: ApiToken) -> bool:
    expires = token.expires_at if token.expires_at.tzinfo else token.expires_at.replace(tzinfo=UTC)
    return token.revoked_at is None and expires > clock.utcnow()
