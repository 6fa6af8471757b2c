"""Locale choice: explicit choice (session), then the user's setting, then Accept-Language, then vi."""
from __future__ import annotations

from flask import current_app, request, session
from flask_login import current_user

from cdt.core import clock

LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


def supported() -> list[str]:
    return current_app.config["LANGUAGES"]


def select_locale() -> str:
    choice = session.get("locale")
    if choice in supported():
        return choice
    if getattr(current_user, "is_authenticated", False) and current_user.locale in supported():
        return current_user.locale
    best = request.accept_languages.best_match(supported())
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return clock.zone_name()
