"""Months as the reports name them: 'YYYY-MM' text, their first and last days, the months of a range.

A month is reported on the map of units valid on its last day (`month_end`): before July 2025 the
old map (province > district > commune), from July 2025 the new one (province > commune).
"""
from __future__ import annotations

import calendar
import re
from datetime import date

from cdt.core import clock

_PERIOD = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
FIRST_YEAR = 2000


def parse(text: str | None) -> str | None:
    """'2025-03' when `text` names a month from 2000 to next year; None otherwise."""
    if not isinstance(text, str):
        return None
    match = _PERIOD.fullmatch(text.strip())
    if match is None or not FIRST_YEAR <= int(match.group(1)) <= clock.today().year + 1:
        return None
    return text.strip()


def of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def current() -> str:
    return of(clock.today())


def last_month() -> str:
    return shift(current(), -1)


def year_month(period: str) -> tuple[int, int]:
    return int(period[:4]), int(period[5:7])


def month_start(period: str) -> date:
    year, month = year_month(period)
    return date(year, month, 1)


def month_end(period: str) -> date:
    year, month = year_month(period)
    return date(year, month, calendar.monthrange(year, month)[1])


def days_in(period: str) -> int:
    return month_end(period).day


def shift(period: str, months: int) -> str:
    year, month = year_month(period)
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months(first: str, last: str) -> list[str]:
    """The months from `first` to `last`, both included (empty when last < first)."""
    out = []
    period = first
    while period <= last:
        out.append(period)
        period = shift(period, 1)
    return out


def is_future(period: str) -> bool:
    return period > current()
