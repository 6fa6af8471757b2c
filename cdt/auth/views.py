"""Log in, log out, change one's password; the admin pages for user accounts."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from functools import lru_cache

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from cdt.auth import service
from cdt.auth.forms import ChangePasswordForm, LoginForm, NewUserForm, UserForm, role_choices
from cdt.auth.models import ROLE_LABELS, User
from cdt.auth.scope import permission_required
from cdt.core import clock
from cdt.core.forms import EmptyForm
from cdt.core.inputs import page_arg
from cdt.core.redirects import safe_next
from cdt.core.rules import apply_rule_error
from cdt.extensions import db, limiter
from cdt.geo.models import AdminUnit
from cdt.geo.within import valid_on

bp = Blueprint("auth", __name__)

# At most 5 failed log-ins a minute per account, whatever the address (only failures are
# counted). Per client address the limit is LOGIN_LIMIT_PER_ADDRESS (config), set so that a
# commune office whose staff share one public address does not trip it in normal use.
LOGIN_LIMIT = "5 per minute"


def _address_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked against when the username is unknown, so both failures take the same time."""
    return generate_password_hash(secrets.token_hex(16))


def _address_key() -> str:
    """Rate-limit key for the client address (request.remote_addr, after ProxyFix when
    PROXY_FIX_X_FOR trusts proxies). An IPv6 client counts by its /64 network, which one
    household or office gets whole, so that it cannot step around the limit."""
    address = request.remote_addr or ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"address:{address or '-'}"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return f"address:{ip.ipv4_mapped}"
        return f"address:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"address:{ip}"


def _account_key() -> str:
    """Rate-limit key for the account named in the log-in form: a keyed hash of the name, so
    that what was typed (often a password in the wrong box) is never kept in the limiter's
    storage nor in its log line."""
    name = service.normal_username(request.form.get("username", ""))
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(secret, b"login-account:" + name.encode("utf-8", "replace"), hashlib.sha256)
    return f"account:{digest.hexdigest()[:32]}"


def _failed(response) -> bool:
    return bool(g.get("login_failed"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_address_limit, key_func=_address_key, methods=["POST"], deduct_when=_failed,
               scope="login-address")
@limiter.limit(LOGIN_LIMIT, key_func=_account_key, methods=["POST"], deduct_when=_failed,
               scope="login-account")
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), fallback="")
    if form.validate_on_submit():
        username = service.normal_username(form.username.data)
        user = db.session.scalar(select(User).where(func.lower(User.username) == username))
        if user is None:
            check_password_hash(_dummy_hash(), form.password.data)
            reason = "unknown_account"
        elif not user.check_password(form.password.data):
            reason = "wrong_password"
        else:
            reason = None if user.active else "inactive_account"
        if reason:
            # What was typed is never kept (it is often a password typed in the wrong box):
            # the event names the account when one has that name, else nothing.
            g.login_failed = True
            service.record_failed_login(user, reason)
            current_app.logger.warning("Failed log-in (%s) for %s from %s", reason,
                                       user.username if user else "an unknown username",
                                       request.remote_addr)
            flash(_("Wrong username or password."), "danger")
            return render_template("auth/login.html", form=form), 200
        service.record_login(user)
        locale = session.get("locale")
        session.clear()
        if locale:
            session["locale"] = locale
        login_user(user)
        now = time.time()
        session["login_at"] = now
        session["seen_at"] = now
        session.permanent = True
        if user.locale and not locale:
            session["locale"] = user.locale
        current_app.logger.info("Log-in of %s from %s", user.username, request.remote_addr)
        if user.must_change_password:
            return redirect(url_for("auth.change_password"))
        return redirect(safe_next(form.next.data))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    service.log_out(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm(username=user.username, full_name=user.full_name)
    if form.validate_on_submit():
        try:
            service.change_password(user, form.current_password.data, form.new_password.data)
        except service.AccountError as error:
            apply_rule_error(form, error)
        else:
            login_user(user)  # this session renewed; the others have ended
            flash(_("Your password has been changed. Other sessions have been logged out."), "success")
            return redirect(url_for("core.index"))
    return render_template("auth/password.html", form=form, forced=user.must_change_password)


# --- Admin: user accounts -------------------------------------------------------------

def _area_choices() -> list[tuple[str, str]]:
    """Provinces and districts of today's map for the select (since the 2025 reform a reformed
    province has no district). Communes are found by name in the code field's list."""
    rows = db.session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.level)
        .where(AdminUnit.level.in_(("province", "district")), valid_on(AdminUnit, clock.today()))
        .order_by(AdminUnit.code)
    ).all()
    choices = [("", _("— choose —"))]
    for code, name, level in rows:
        prefix = "" if level == "province" else "\u00a0\u00a0"
        choices.append((code, f"{prefix}{code} · {name}"))
    return choices


def _commune_options() -> list[tuple[str, str]]:
    """Today's communes as (code, "name, province") for the area field's searchable list: an
    administrator types part of a name and picks the commune (one query; ~3,300 rows nationally)."""
    province = aliased(AdminUnit)
    today = clock.today()
    return [(code, f"{name}, {province_name}") for code, name, province_name in db.session.execute(
        select(AdminUnit.code, AdminUnit.name, province.name)
        .join(province, province.id == AdminUnit.province_id)
        .where(AdminUnit.level == "commune", valid_on(AdminUnit, today))
        .order_by(province.name, AdminUnit.name)
    ).tuples()]


def _prepare(form: UserForm) -> None:
    form.role.choices = role_choices()
    form.area_select.choices = _area_choices()
    form.commune_options = _commune_options()


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/admin/users")
@login_required
@permission_required("users.manage")
def users():
    q = (request.args.get("q") or "").strip().lower()
    role = request.args.get("role") or ""
    stmt = select(User).outerjoin(AdminUnit, User.area_id == AdminUnit.id).order_by(User.username)
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(func.lower(User.username).like(like), func.lower(User.full_name).like(like),
                              AdminUnit.code == q))
    if role in ROLE_LABELS:
        stmt = stmt.where(User.role == role)
    page = db.paginate(stmt.options(joinedload(User.area)), page=page_arg(), per_page=50, error_out=False)
    return render_template("auth/users.html", page=page, q=q, role=role, roles=ROLE_LABELS, form=EmptyForm())


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
@permission_required("users.manage")
def user_new():
    form = NewUserForm()
    _prepare(form)
    if form.validate_on_submit():
        try:
            user, password = service.create_user(form.username.data, form.role.data, form.area(),
                                                 form.full_name.data)
        except service.AccountError as error:
            apply_rule_error(form, error)
        else:
            current_app.logger.info("User %s created by %s", user.username, current_user.username)
            return render_template("auth/password_once.html", user=user, password=password, created=True)
    return render_template("auth/user_form.html", form=form, user=None)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@login_required
@permission_required("users.manage")
def user_edit(user_id: int):
    user = _user_or_404(user_id)
    form = UserForm(obj=user)
    _prepare(form)
    if request.method == "GET":
        form.area_code.data = user.area.code if user.area else ""
    if form.validate_on_submit():
        try:
            changes = service.update_user(user, form.role.data, form.area(), form.full_name.data,
                                          actor=current_user)
        except service.AccountError as error:
            apply_rule_error(form, error)
        else:
            flash(_("Saved.") if changes else _("Nothing changed."), "success" if changes else "info")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=user, actions=EmptyForm())


def _action(user_id: int):
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    return _user_or_404(user_id)


@bp.post("/admin/users/<int:user_id>/deactivate")
@login_required
@permission_required("users.manage")
def user_deactivate(user_id: int):
    user = _action(user_id)
    try:
        service.set_active(user, False, actor=current_user)
    except service.AccountError as error:
        flash(str(error), "danger")
        return redirect(url_for("auth.user_edit", user_id=user.id))
    flash(_("The account %(name)s is deactivated; its sessions have ended.", name=user.username), "success")
    return redirect(url_for("auth.user_edit", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/reactivate")
@login_required
@permission_required("users.manage")
def user_reactivate(user_id: int):
    user = _action(user_id)
    service.set_active(user, True, actor=current_user)
    flash(_("The account %(name)s is active again.", name=user.username), "success")
    return redirect(url_for("auth.user_edit", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/reset-password")
@login_required
@permission_required("users.manage")
def user_reset_password(user_id: int):
    user = _action(user_id)
    password = service.reset_password(user)
    return render_template("auth/password_once.html", user=user, password=password, created=False)
