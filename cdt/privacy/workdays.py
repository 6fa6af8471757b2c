"""Working days: Monday to Friday, except public holidays, plus make-up Saturdays/Sundays.

The calendar is the shipped CSV files (cdt/privacy/data/holidays-YYYY.csv, with their source in the
README beside them) overlaid with the days added by `flask cdt holidays add` (table
public_holiday), which win on the same date.

- `add_working_days(start, n)`: the n-th working day after `start` (the day a request is received
  is day 0, whatever it is; a request received on a Saturday is acknowledged by Tuesday with n=2).
- `working_days_between(start, end)`: working days after `start` up to and including `end`
  (negative when `end` is before `start`): how many working days are left before a deadline.
"""
from __future__ import annotations

import csv
import functools
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from cdt.extensions import db

DATA = Path(__file__).resolve().parent / "data"
KINDS = ("off", "work")


@functools.cache
def shipped() -> dict[date, tuple[str, str]]:
    """{day: (kind, name)} from every holidays-*.csv shipped with the application."""
    days: dict[date, tuple[str, str]] = {}
    for path in sorted(DATA.glob("holidays-*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                kind = row["kind"].strip()
                if kind not in KINDS:
                    raise ValueError(f"{path.name}: kind must be off or work, not {kind!r}")
                days[date.fromisoformat(row["date"].strip())] = (kind, row["name"].strip())
    return days


def calendar(first: date | None = None, last: date | None = None) -> dict[date, tuple[str, str, str]]:
    """{day: (kind, name, source)} of the configured days (between `first` and `last` when given);
    source is 'shipped' or 'added'. One statement."""
    from cdt.privacy.models import PublicHoliday

    days = {d: (kind, name, "shipped") for d, (kind, name) in shipped().items()
            if (first is None or d >= first) and (last is None or d <= last)}
    stmt = select(PublicHoliday.day, PublicHoliday.kind, PublicHoliday.name)
    if first is not None:
        stmt = stmt.where(PublicHoliday.day >= first)
    if last is not None:
        stmt = stmt.where(PublicHoliday.day <= last)
    for day, kind, name in db.session.execute(stmt):
        days[day] = (kind, name, "added")
    return days


class Calendar:
    """Working-day arithmetic over the configured days of a window (loaded once)."""

    def __init__(self, first: date, last: date):
        self.days = {d: kind for d, (kind, _name, _source) in calendar(first, last).items()}

    def is_working_day(self, day: date) -> bool:
        kind = self.days.get(day)
        if kind is not None:
            return kind == "work"
        return day.weekday() < 5

    def add(self, start: date, n: int) -> date:
        day = start
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def between(self, start: date, end: date) -> int:
        if end < start:
            return -self.between(end, start)
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def _window(start: date, n: int) -> Calendar:
    # n working days never take more than n weeks plus a month of holidays.
    return Calendar(start, start + timedelta(days=7 * max(n, 1) + 40))


def add_working_days(start: date, n: int) -> date:
    return _window(start, n).add(start, n)


def is_working_day(day: date) -> bool:
    return Calendar(day, day).is_working_day(day)


def working_days_between(start: date, end: date) -> int:
    return Calendar(min(start, end), max(start, end)).between(start, end)
