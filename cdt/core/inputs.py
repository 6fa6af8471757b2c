"""Values from a request that the database can hold.

Every integer read from a URL, a query string or a form goes through `to_int` (or `int_arg`,
`page_arg`, the `<int:...>` route converter, the number fields below): ASCII digits only, within
the range of the INTEGER columns that hold every id here (PostgreSQL's 32 bits, narrower than
SQLite's 64); anything else is "no value" (a 404 for a URL), never an OverflowError (SQLite) or
a DataError (PostgreSQL) behind a 500. Text with a NUL character (or a lone surrogate)
cannot be stored or searched — PostgreSQL refuses it — so a request carrying one anywhere is
answered 400 (the translated error page) before any view runs.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, abort, request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter
from wtforms import DateField, DecimalField, IntegerField

# The range of an INTEGER column on PostgreSQL (every id and number column of the models).
MAX_INT = 2**31 - 1
MIN_INT = -(2**31)
# No list has this many pages; the offset of the last one still fits in a database integer.
MAX_PAGE = 1_000_000

_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def to_int(value: Any, default: int | None = None, *, minimum: int = MIN_INT,
           maximum: int = MAX_INT) -> int | None:
    """The integer written in `value` (ASCII digits, an optional sign, surrounding spaces allowed)
    when it lies within [minimum, maximum]; otherwise `default`."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return default
    return number if minimum <= number <= maximum else default


def int_arg(name: str, default: int | None = None, **bounds: int) -> int | None:
    """An integer from the query string (see `to_int`)."""
    return to_int(request.args.get(name), default, **bounds)


def date_arg(name: str) -> date | None:
    """A date (YYYY-MM-DD) from the query string; None when absent or not a date."""
    value = request.args.get(name) or ""
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def page_arg(name: str = "page") -> int:
    """The page number of a list: 1 unless the query string names a page from 1 to MAX_PAGE."""
    return to_int(request.args.get(name), 1, minimum=1, maximum=MAX_PAGE)


class BoundedIntegerConverter(IntegerConverter):
    """`<int:...>` in every route: a number beyond the database's integers matches no route (404)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=MIN_INT if min is None else min,
                         max=MAX_INT if max is None else max, signed=signed)


class BoundedIntegerField(IntegerField):
    """An IntegerField whose value fits an INTEGER column (else: "Not a valid integer value.")."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = to_int(valuelist[0])
        if self.data is None:
            raise ValueError(self.gettext("Not a valid integer value."))


class FiniteDecimalField(DecimalField):
    """A DecimalField that refuses NaN, infinities and absurd exponents (which cannot be compared,
    rounded or stored) with "Not a valid decimal value."."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, Decimal) and not _reasonable(self.data):
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))


def _reasonable(number: Decimal) -> bool:
    try:
        return number.is_finite() and abs(number) <= MAX_INT
    except InvalidOperation:
        return False


def _storable(value: Any) -> bool:
    return not (isinstance(value, str) and _UNSTORABLE.search(value))


def reject_unstorable_text():
    """Before every request: 400 for a NUL character or a lone surrogate in the path, the query
    string, the form (names and values) or a file name."""
    values = [request.path]
    for multi in (request.args, request.form):
        for name, items in multi.lists():
            values.append(name)
            values.extend(items)
    for name, upload in request.files.items(multi=True):
        values.extend((name, upload.filename))
    if not all(_storable(value) for value in values):
        abort(400)


def init_app(app: Flask) -> None:
    """Before the blueprints are registered: the bounded `int` converter is used by every route."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(reject_unstorable_text)


# Every date read from a query string or a form: what <input type="date"> sends (YYYY-MM-DD) and
# what people type and see (dd/mm/yyyy, also with - or . between the parts).
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")


def parse_day(value: Any) -> date | None:
    """The date written in `value` in one of DATE_FORMATS; None when it is none of them."""
    text = value.strip() if isinstance(value, str) else ""
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


class DayField(DateField):
    """A date argument: YYYY-MM-DD or dd/mm/yyyy (see `parse_day`); anything else is the
    translated "Enter a date as day/month/year" next to the field."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", list(DATE_FORMATS))
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        self.data = parse_day(valuelist[0])
        if self.data is None:
            raise ValueError(_l("Enter a date as day/month/year, for example 30/06/2023."))
