"""Pages about the API for people: /account/tokens (personal tokens) and /api/v1/docs (the docs).

These are ordinary pages (the session cookie, CSRF on every form); the API itself is in views.py."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cdt.api import spec, tokens
from cdt.api.forms import RevokeForm, TokenForm
from cdt.audit.service import record
from cdt.core import clock
from cdt.core.transactions import commit_or_retry

bp = Blueprint("api_pages", __name__)


def _render(form: TokenForm, secret: str | None = None, status: int = 200):
    return render_template("api/tokens.html", form=form, tokens=tokens.of_user(current_user), secret=secret,
                           revoke_form=RevokeForm(), is_live=tokens.is_live), status


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def account_tokens():
    """The user's API tokens; a new one is shown once, on the page answering its creation."""
    form = TokenForm()
    if form.is_submitted() and form.validate():
        def work():
            token, secret = tokens.create(current_user, form.name.data, form.expires_on.data)
            record("api_token.create", token, details={"expires": form.expires_on.data.isoformat()})
            return secret

        secret = commit_or_retry(work)
        return _render(TokenForm(formdata=None), secret)
    if form.is_submitted():
        return _render(form, status=400)
    if form.expires_on.data is None:
        form.expires_on.data = clock.today() + timedelta(days=tokens.DEFAULT_DAYS)
    return _render(form)


@bp.post("/account/tokens/revoke")
@login_required
def revoke_token():
    """Revoke one of the user's own tokens (another user's: 404)."""
    form = RevokeForm()
    if not form.validate():
        return _render(TokenForm(formdata=None), status=400)
    token = tokens.own_token(current_user, form.token_id.data)
    if token is None:
        return _render(TokenForm(formdata=None), status=404)

    def work():
        tokens.revoke(token)
        record("api_token.revoke", token)

    commit_or_retry(work)
    flash(_("The token was revoked: it no longer works."), "success")
    return redirect(url_for("api_pages.account_tokens"))


@bp.get("/api/v1/docs")
def docs():
    """The API's documentation, rendered from the same declarations as the OpenAPI document."""
    return render_template("api/docs.html", document=spec.document(url_for("core.index", _external=True)),
                           operations=sorted(spec.OPERATIONS, key=lambda o: o.path))
