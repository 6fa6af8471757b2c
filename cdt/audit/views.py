"""The audit trail page: read-only, filterable, paginated, scoped to the reader's area."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from flask import Blueprint, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import distinct, func, select
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional
from zoneinfo import ZoneInfo

from cdt.audit.models import AuditEvent
from cdt.auth.scope import permission_required, scoped
from cdt.extensions import db

bp = Blueprint("audit", __name__)

ACTION_LABELS = {
    "login.success": _l("Logged in"),
    "login.failure": _l("Failed log-in"),
    "logout": _l("Logged out"),
    "password.change": _l("Changed own password"),
    "user.create": _l("Created a user"),
    "user.update": _l("Changed a user"),
    "user.deactivate": _l("Deactivated a user"),
    "user.reactivate": _l("Reactivated a user"),
    "user.password_reset": _l("Reset a user's password"),
    "export": _l("Exported data"),
}
PER_PAGE = 50


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    user = StringField(_l("User"), validators=[Optional()])
    action = SelectField(_l("Action"), choices=[], validate_choice=False, validators=[Optional()])
    object_type = StringField(_l("Object type"), validators=[Optional()])
    object_id = IntegerField(_l("Object number"), validators=[Optional(), NumberRange(min=1)])
    date_from = DateField(_l("Date from"), validators=[Optional()])
    date_to = DateField(_l("Date to"), validators=[Optional()])


def _local_day_start(day) -> datetime:
    tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh"))
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(timezone.utc)


@bp.get("/audit")
@login_required
@permission_required("audit.read")
def events():
    form = AuditFilterForm(request.args)
    actions = db.session.scalars(select(distinct(AuditEvent.action)).order_by(AuditEvent.action)).all()
    form.action.choices = [("", str(_l("All actions")))] + [(a, action_label(a)) for a in actions]
    stmt = scoped(select(AuditEvent), AuditEvent)
    valid = form.validate()
    if valid:
        if form.user.data:
            stmt = stmt.where(func.lower(AuditEvent.username) == form.user.data.strip().lower())
        if form.action.data:
            stmt = stmt.where(AuditEvent.action == form.action.data)
        if form.object_type.data:
            stmt = stmt.where(AuditEvent.object_type == form.object_type.data.strip())
        if form.object_id.data:
            stmt = stmt.where(AuditEvent.object_id == form.object_id.data)
        if form.date_from.data:
            stmt = stmt.where(AuditEvent.at >= _local_day_start(form.date_from.data))
        if form.date_to.data:
            stmt = stmt.where(AuditEvent.at < _local_day_start(form.date_to.data + timedelta(days=1)))
    else:
        stmt = stmt.where(False)
    stmt = stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False, count=True)
    return render_template("audit/events.html", form=form, page=page, action_label=action_label)
