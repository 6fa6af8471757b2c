"""Log in, log out."""
from __future__ import annotations

import time

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from cdt.auth.forms import LoginForm
from cdt.auth.models import User
from cdt.core.forms import EmptyForm
from cdt.db import utcnow
from cdt.extensions import db

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only a local path is followed after log-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("core.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        if user is None or not user.active or not user.check_password(form.password.data):
            flash(_("Wrong username or password."), "danger")
            return render_template("auth/login.html", form=form), 200
        locale = session.get("locale")
        session.clear()
        if locale:
            session["locale"] = locale
        login_user(user)
        now = time.time()
        session["login_at"] = now
        session["seen_at"] = now
        session.permanent = True
        user.last_login_at = utcnow()
        db.session.commit()
        return redirect(safe_next(form.next.data))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("core.index"))
    current_user.rotate_session_token()
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))
