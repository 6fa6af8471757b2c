"""The report pages' number formats (cdt/core/templating.py) give exactly Babel's output in both
languages, on the fast path (plain ints and one-decimal Decimals) and off it."""
from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale, format_decimal

from cdt.core.templating import decimal1, number, percent

INTS = [0, 1, 9, 10, 999, 1000, 1562, 7363, 12345, 999999, 1000000, 401868, 10 ** 12 + 7]
DECIMALS = [Decimal("0"), Decimal("0.0"), Decimal("4.7"), Decimal("97.4"), Decimal("100.0"), Decimal("1234.5"),
            Decimal("1562"), Decimal("0.05"), Decimal("2.25"), Decimal("-3.5"), 4.75, 12, -7]


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_numbers_are_babels(app, locale):
    with app.test_request_context("/"), force_locale(locale):
        for value in [*INTS, -5, -1234, 2.5, Decimal("1234.6")]:
            assert number(value) == format_decimal(value, format="#,##0"), value
        for value in DECIMALS:
            expected = format_decimal(Decimal(str(value)), format="#,##0.0")
            assert decimal1(value) == expected, value
            assert percent(value) == expected + "%", value
        assert number(None) == percent(None) == decimal1(None) == "–"


def test_vietnamese_groups_with_dots_and_decimals_with_a_comma(app):
    with app.test_request_context("/"), force_locale("vi"):
        assert number(1562) == "1.562"
        assert percent(Decimal("97.4")) == "97,4%"
        assert decimal1(Decimal("1234.5")) == "1.234,5"
    with app.test_request_context("/"), force_locale("en"):
        assert number(7363) == "7,363"
        assert percent(Decimal("97.4")) == "97.4%"
