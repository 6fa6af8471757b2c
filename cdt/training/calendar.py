"""The iCalendar feed of the sessions in a user's area (built with the `icalendar` library)."""
from __future__ import annotations

from datetime import UTC, timedelta

from flask import current_app, url_for
from icalendar import Calendar, Event
from sqlalchemy import select

from cdt.auth.models import User
from cdt.auth.scope import scoped
from cdt.core import clock
from cdt.extensions import db
from cdt.training.models import TrainingSession, TrainingTopic

# Calendar apps need the recent past and the future, not ten years of history.
HISTORY = timedelta(days=366)
STATUS = {"planned": "CONFIRMED", "held": "CONFIRMED", "cancelled": "CANCELLED"}


def user_for_token(token: str | None) -> User | None:
    if not token or len(token) > 64:
        return None
    user = db.session.scalar(select(User).where(User.calendar_token == token))
    if user is None or not user.active:
        return None
    return user


def feed(user: User) -> bytes:
    tz = clock.zone()
    since = clock.local_now() - HISTORY
    rows = db.session.execute(
        scoped(
            select(TrainingSession, TrainingTopic.name_vi)
            .join(TrainingTopic, TrainingTopic.id == TrainingSession.topic_id)
            .where(TrainingSession.starts_at >= since)
            .order_by(TrainingSession.starts_at, TrainingSession.id),
            TrainingSession,
            user,
        )
    ).all()
    host = current_app.config.get("SERVER_NAME") or "cdt-registry"
    cal = Calendar()
    cal.add("prodid", "-//CDT registry//Training sessions//VI")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Tập huấn Tổ CNS cộng đồng")
    cal.add("x-wr-timezone", str(tz))
    for ts, topic in rows:
        event = Event()
        event.add("uid", f"training-session-{ts.id}@{host}")
        event.add("summary", ts.title)
        event.add("dtstart", ts.starts_at.replace(tzinfo=tz))
        event.add("dtend", ts.ends_at.replace(tzinfo=tz))
        stamp = ts.updated_at or ts.created_at or clock.utcnow()
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        event.add("dtstamp", stamp.astimezone(UTC))
        event.add("sequence", ts.version_id or 1)
        event.add("status", STATUS.get(ts.status, "CONFIRMED"))
        if ts.venue:
            event.add("location", ts.venue)
        lines = [topic]
        if ts.trainer:
            lines.append(ts.trainer)
        if ts.notes:
            lines.append(ts.notes)
        event.add("description", "\n".join(lines))
        event.add("url", url_for("training.session", session_id=ts.id, _external=True))
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
