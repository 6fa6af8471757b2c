"""Template globals and filters: locale-aware numbers, navigation by role."""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import Flask, current_app, g, request
from flask_babel import format_date, format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from cdt.auth.scope import can
from cdt.core.i18n import LANGUAGE_NAMES

# (endpoint, label, permission or None): the navigation, filtered by role at render time.
NAVIGATION = [
    ("core.index", _l("Home"), None),
    ("reports.coverage", _l("Coverage"), None),
    ("registry.teams", _l("Teams"), None),
    ("registry.members", _l("Members"), None),
    ("training.sessions", _l("Training"), None),
    ("outputs.entry", _l("Monthly reports"), "outputs.enter"),
    ("outputs.report", _l("Outputs"), None),
    ("privacy.requests", _l("Data requests"), "privacy.manage"),
    ("audit.events", _l("Audit trail"), "audit.read"),
    ("auth.users", _l("Users"), "users.manage"),
    ("training.topics", _l("Topics"), "topics.manage"),
]


@lru_cache(maxsize=16)
def _symbols(locale: str) -> dict[int, str]:
    """str.translate table from Python's ',' and '.' to the locale's group and decimal symbols."""
    return str.maketrans({",": get_group_symbol(locale), ".": get_decimal_symbol(locale)})


def _plain(value, places: int) -> str | None:
    """Babel's '#,##0' / '#,##0.0' for what needs no rounding (a report page formats a few hundred
    numbers, and Babel's formatter costs ~30 µs each): a non-negative int, or a Decimal with at
    most `places` decimals. None: let Babel format it. tests/test_number_format.py proves they agree."""
    if type(value) is int and value >= 0:
        text = f"{value:,}" if places == 0 else f"{value:,.{places}f}"
    elif isinstance(value, Decimal) and value.is_finite() and value >= 0 and value.as_tuple().exponent >= -places:
        text = f"{value:,.{places}f}"
    else:
        return None
    table = g.get("number_symbols")  # once a request: get_locale() is not free (~5 µs)
    if table is None:
        table = g.number_symbols = _symbols(str(get_locale()))
    return text.translate(table)


def number(value) -> str:
    """1562 -> '1.562' in Vietnamese, '1,562' in English."""
    if value is None:
        return "–"
    return _plain(value, 0) or format_decimal(value, format="#,##0")


def decimal1(value) -> str:
    if value is None:
        return "–"
    value = Decimal(str(value)) if not isinstance(value, Decimal) else value
    return _plain(value, 1) or format_decimal(value, format="#,##0.0")


def percent(value) -> str:
    """97.4 (a percentage already multiplied by 100) -> '97,4%' in Vietnamese."""
    return "–" if value is None else decimal1(value) + "%"


def short_date(value) -> str:
    """dd/mm/yyyy in both languages."""
    if value is None:
        return ""
    return format_date(value, "dd/MM/yyyy")


# Pages of a blueprint without a navigation entry of its own belong to this entry.
SECTION_OF_BLUEPRINT = {"geo": "core.index", "units": "core.index"}
# Pages whose entry is not the first of their blueprint's: a person's pages, the member import
# and export belong to "Members", not to "Teams".
SECTION_OF_PREFIX = (("registry.member", "registry.members"), ("registry.import", "registry.members"),
                     ("registry.export_members", "registry.members"), ("privacy.consent", "registry.members"))


def _section(endpoints: list[str]) -> str | None:
    """The navigation entry of the current page: the exact endpoint, else the first entry
    of the same blueprint (training.session_detail -> training.sessions)."""
    current = request.endpoint or ""
    if current in endpoints:
        return current
    for prefix, section in SECTION_OF_PREFIX:
        if current.startswith(prefix) and section in endpoints:
            return section
    blueprint = current.split(".")[0]
    if blueprint in SECTION_OF_BLUEPRINT:
        return SECTION_OF_BLUEPRINT[blueprint]
    return next((e for e in endpoints if e.split(".")[0] == blueprint), None)


def navigation() -> list[tuple[str, str, bool]]:
    """(endpoint, label, active) for the entries the current user may open."""
    if not getattr(current_user, "is_authenticated", False):
        return []
    visible = [
        (endpoint, label)
        for endpoint, label, permission in NAVIGATION
        if endpoint in current_app.view_functions and (not permission or can(permission))
    ]
    section = _section([endpoint for endpoint, _label in visible])
    return [(endpoint, str(label), endpoint == section) for endpoint, label in visible]


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        number=number, decimal1=decimal1, percent=percent, short_date=short_date
    )
    app.jinja_env.globals.update(
        navigation=navigation,
        can=can,
        current_locale=lambda: str(get_locale() or "vi"),
        language_names=LANGUAGE_NAMES,
        has_endpoint=lambda endpoint: endpoint in current_app.view_functions,
    )
