"""The registry's clock: today and now in the registry's time zone, never the server's.

The registry works in one time zone: ``CDT_TIMEZONE`` (config key ``BABEL_DEFAULT_TIMEZONE``,
which also formats times on pages), by default Asia/Ho_Chi_Minh. A server usually runs in
UTC, where ``date.today()`` is still yesterday between 00:00 and 07:00 in Vietnam: a
membership ended "today" would be dated the day before the coverage report's today. So
nothing else reads the system clock; everything calls this module:

- ``today() -> date``: the registry's date (default dates in forms, "cannot be in the
  future" rules, the report's as-of date, export file names).
- ``now() -> datetime``: aware, in the registry's zone.
- ``local_now() -> datetime``: naive wall-clock time in the registry's zone, to the second,
  as training sessions store their start and end.
- ``utcnow() -> datetime``: aware UTC, for stored instants (``created_at``, audit events).
- ``day_start(day) -> datetime``: the aware UTC instant at which ``day`` begins in the
  registry's zone (to filter UTC timestamps by local day).
- ``zone()`` / ``zone_name()``: the registry's time zone.

The system clock is read in exactly one place, ``_system_utcnow``; tests freeze the clock by
replacing it (the ``frozen_clock`` fixture in tests/conftest.py), and every function above follows.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


def _system_utcnow() -> datetime:
    """The one read of the system clock (tests replace this function to freeze time)."""
    return datetime.now(UTC)


def zone_name() -> str:
    """The registry's time zone name (the app's CDT_TIMEZONE; the default outside an app)."""
    if has_app_context():
        return current_app.config.get("BABEL_DEFAULT_TIMEZONE") or DEFAULT_ZONE
    return DEFAULT_ZONE


def zone() -> ZoneInfo:
    return ZoneInfo(zone_name())  # ZoneInfo caches its instances


def utcnow() -> datetime:
    """Now, aware, in UTC (stored instants)."""
    return _system_utcnow()


def now() -> datetime:
    """Now, aware, in the registry's time zone."""
    return _system_utcnow().astimezone(zone())


def local_now() -> datetime:
    """Now as naive wall-clock time in the registry's zone, to the second (training sessions' times)."""
    return now().replace(tzinfo=None, microsecond=0)


def today() -> date:
    """Today's date in the registry's time zone, not the server's."""
    return now().date()


def day_start(day: date) -> datetime:
    """The aware UTC instant at which `day` begins in the registry's time zone."""
    return datetime.combine(day, time.min, tzinfo=zone()).astimezone(UTC)
