"""Locale choice: explicit choice (session), then the user's setting, then Accept-Language, then vi."""
from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_login import current_user

from cdt.core import clock
from cdt.core.transactions import transactional

LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


def supported() -> list[str]:
    return current_app.config["LANGUAGES"]


def select_locale() -> str:
    if not has_request_context():  # the CLI and other app-context work: the default (or force_locale)
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    choice = session.get("locale")
    if choice in supported():
        return choice
    if getattr(current_user, "is_authenticated", False) and current_user.locale in supported():
        return current_user.locale
    best = request.accept_languages.best_match(supported())
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return clock.zone_name()


@transactional
def remember_locale(user, language: str) -> None:
    """Keep the user's chosen language on their account (used at their next log-in)."""
    user.locale = language
