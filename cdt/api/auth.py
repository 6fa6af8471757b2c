"""Who calls the API, and how it answers when it refuses.

- Only `Authorization: Bearer <token>` authenticates /api/v1 (cdt/api/tokens.py); the session
  cookie is ignored there (a page open in the browser never lends its user to the API), so CSRF
  does not apply either. The token's owner becomes `current_user` for the request: every query
  is then scoped by cdt.auth.scope exactly like the pages.
- Every answer under /api/ is JSON, errors too: {"httpStatusCode", "httpStatus", "status":
  "ERROR", "code", "message"} with a translated message (DHIS2's web API is the model).
- A per-token rate limit (CDT_API_RATE_LIMIT, default 120 a minute): 429 with Retry-After.
"""
from __future__ import annotations

import hashlib
import json
import math
import time

from flask import Response, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from cdt.extensions import limiter

API_PREFIX = "/api/"
PUBLIC_ENDPOINTS = {"api.openapi"}

ERRORS = {
    400: ("bad_request", _l("The request is not valid: check the parameters.")),
    401: ("unauthorized", _l("A valid API token is needed: send it as \"Authorization: Bearer <token>\".")),
    403: ("forbidden", _l("Your role may not read this.")),
    404: ("not_found", _l("There is nothing at this address, or it is outside your area.")),
    405: ("method_not_allowed", _l("This address does not accept that kind of request.")),
    429: ("rate_limited", _l("Too many requests with this token: wait and try again.")),
    500: ("server_error", _l("An unexpected error occurred. It has been logged; please try again later.")),
    503: ("busy", _l("The registry is busy: try again in a moment.")),
}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(code: int, message: str | None = None, *, errors: dict | None = None):
    """The JSON answer for an error status (a translated message, never a traceback)."""
    key, default = ERRORS.get(code, ERRORS[500] if code >= 500 else ERRORS[400])
    body = {"httpStatusCode": code, "httpStatus": HTTP_STATUS_CODES.get(code, "Error"), "status": "ERROR",
            "code": key, "message": message or str(default)}
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=code,
                        content_type="application/json; charset=utf-8")
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="cdt"'
    if code == 429:
        response.headers["Retry-After"] = str(_retry_after())
    return response


def _retry_after() -> int:
    try:
        limit = limiter.current_limit
        if limit is not None:
            return max(1, math.ceil(limit.reset_at - time.time()))
    except Exception:  # the storage is down: a minute is a safe answer
        pass
    return 60


def http_error(error: HTTPException):
    """The API's answer to an HTTP error raised anywhere under /api/ (cdt/core/security.py asks)."""
    code = error.code or 500
    errors = getattr(error, "api_errors", None)
    message = getattr(error, "api_message", None)
    if errors is None and message and getattr(error, "param", None):
        errors = {error.param: [message]}
    response = error_response(code, message, errors=errors)
    if code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def bearer_secret() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def rate_limit_key() -> str:
    """The limiter's key: the token (hashed), else the client address."""
    secret = bearer_secret()
    if secret:
        return "api-token:" + hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return "api-address:" + (request.remote_addr or "-")


def rate_limit() -> str:
    return current_app.config.get("CDT_API_RATE_LIMIT") or "120/minute"


def authenticate():
    """Before every /api/v1 request: the token's owner, or 401 (public endpoints: nobody)."""
    from cdt.api import tokens

    g._login_user = AnonymousUserMixin()  # the cookie's user is never looked at
    g.api_token = None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = tokens.find(bearer_secret())
    if token is None:
        return error_response(401)
    g.api_token = token
    g._login_user = token.user
    return None
