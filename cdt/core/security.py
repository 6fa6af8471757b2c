"""Security baseline applied to every response: user loading, session timeouts,
headers, and translated error pages (never a traceback)."""
from __future__ import annotations

import logging
import time

from flask import Flask, current_app, redirect, render_template, request, session, url_for
from flask.logging import default_handler
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from werkzeug.exceptions import HTTPException

from cdt.api import auth as api_auth
from cdt.core.inputs import to_int
from cdt.core.logprivacy import SAFE_LOG_FILTER, install_record_factory
from cdt.core.transactions import is_transient
from cdt.extensions import db, login_manager
from cdt.ops.caching import is_static, revalidated
from cdt.ops.health import SESSIONLESS

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    413: _l("File too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
    503: _l("Too busy to save"),
}
ERROR_MESSAGES = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("You do not have permission to do this."),
    404: _l("There is nothing at this address, or it is outside your area."),
    405: _l("This address does not accept that kind of request."),
    413: _l("The file is larger than allowed."),
    429: _l("Too many attempts. Please wait a minute and try again."),
    500: _l("An unexpected error occurred. It has been logged; please try again later."),
    503: _l("Other changes to the same records were being saved at the same moment, and this one "
            "could not be. Nothing was changed: please go back and try again."),
}


@login_manager.user_loader
def load_user(alternative_id: str):
    from cdt.auth.models import User

    user_id, _, token = alternative_id.partition(":")
    user_id = to_int(user_id, minimum=1)
    if user_id is None or not token:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_token != token:
        return None
    return user


# Public assets and the health checks: no user is loaded for them (no database query per
# stylesheet or script; /readyz answers with the database down, whatever cookie comes along).
PUBLIC_ASSET_ENDPOINTS = {"static", "bootstrap.static", *SESSIONLESS}


def _enforce_session_limits():
    if request.endpoint in PUBLIC_ASSET_ENDPOINTS or request.blueprint == "api":
        return None  # the API ignores the session cookie: a token names the user (cdt/api/auth.py)
    if not current_user.is_authenticated:
        return None
    now = time.time()
    idle = current_app.config["CDT_IDLE_TIMEOUT"].total_seconds()
    absolute = current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    started = session.get("login_at", 0)
    seen = session.get("seen_at", 0)
    if now - seen > idle or now - started > absolute:
        logout_user()
        session.clear()
        return None
    session["seen_at"] = now
    if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ALLOWED:
        return redirect(url_for("auth.change_password"))
    return None


# What a user who must change a first or reset password may still reach.
PASSWORD_CHANGE_ALLOWED = {
    None, "static", "bootstrap.static", "auth.change_password", "auth.logout", "auth.login",
    "core.set_language", *SESSIONLESS,
}

def _install_log_filter(app: Flask) -> None:
    """No personal value and no forged line in the log (cdt/core/logprivacy.py): every record
    of the process is cleaned when it is created, and again by the filter on these loggers
    and handlers."""
    install_record_factory()
    loggers = [app.logger, logging.getLogger("flask-limiter"), logging.getLogger("cdt")]
    for logger in loggers:
        # Alembic's env.py (logging.config.fileConfig) disables existing loggers when
        # migrations run in the same process (tests, `flask db`); the app's log must not go silent.
        logger.disabled = False
    handlers = [default_handler, *logging.getLogger().handlers]
    for item in [*loggers, *handlers]:
        if SAFE_LOG_FILTER not in item.filters:
            item.addFilter(SAFE_LOG_FILTER)


def _headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("CDT_HTTPS"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Pages and downloads are never stored, except the feeds tagged for revalidation; static
    # assets keep their own lifetime (cdt/ops/caching.py).
    if not is_static(request.endpoint) and not revalidated(response):
        headers["Cache-Control"] = "no-store"
    return response


def render_error(code: int):
    title = ERROR_TITLES.get(code, ERROR_TITLES[500])
    message = ERROR_MESSAGES.get(code, ERROR_MESSAGES[500])
    try:
        return render_template("errors/error.html", code=code, title=title, message=message), code
    except Exception:  # the page itself failed (database down...): a bare page, still no traceback
        current_app.logger.exception("The error page for %s could not be rendered", code)
        db.session.rollback()
        body = f"<!doctype html><title>{code}</title><h1>{code}</h1><p>{message}</p>"
        return body, code, {"Content-Type": "text/html; charset=utf-8"}


def _handle_http_error(error: HTTPException):
    code = error.code or 500
    if api_auth.is_api_request():  # /api/: JSON, never an HTML page
        return api_auth.http_error(error)
    if code not in ERROR_TITLES:
        return error
    body, status, *rest = render_error(code)
    headers = dict(rest[0]) if rest else {}
    if code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if code == 429:
        headers["Retry-After"] = "60"
    return body, status, headers


def _handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _handle_http_error(error)
    db.session.rollback()
    if is_transient(error):  # still refused after cdt.core.transactions' retries
        current_app.logger.warning("Gave up on %r after concurrent transactions: %s", request.path,
                                   type(error.orig).__name__)
        if api_auth.is_api_request():
            response = api_auth.error_response(503)
            response.headers["Retry-After"] = "1"
            return response
        body, status = render_error(503)[:2]
        return body, status, {"Retry-After": "1"}
    current_app.logger.exception("Unhandled error on %r", request.path)
    if api_auth.is_api_request():
        return api_auth.error_response(500)
    return render_error(500)


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = None  # the session token does this job, exactly
    app.before_request(_enforce_session_limits)
    app.after_request(_headers)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(Exception, _handle_unexpected)
    _install_log_filter(app)
