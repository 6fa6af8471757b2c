"""The audit trail page: read-only, filterable, paginated, scoped to the reader's area."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import distinct, func, select
from wtforms import SelectField, StringField
from wtforms.validators import NumberRange, Optional

from cdt.audit.labels import ObjectLinks, action_label, describe, object_label
from cdt.audit.models import AuditEvent
from cdt.auth.models import User
from cdt.auth.scope import permission_required, scoped
from cdt.core import clock
from cdt.core.forms import AppForm
from cdt.core.inputs import BoundedIntegerField, DayField, page_arg
from cdt.extensions import db

bp = Blueprint("audit", __name__)

PER_PAGE = 50


class AuditFilterForm(AppForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    user = StringField(_l("User"), validators=[Optional()])
    action = SelectField(_l("Action"), choices=[], validate_choice=False, validators=[Optional()])
    object_type = SelectField(_l("Object type"), choices=[], validate_choice=False, validators=[Optional()])
    object_id = BoundedIntegerField(_l("Object number"), validators=[Optional(), NumberRange(min=1)])
    date_from = DayField(_l("Date from"), validators=[Optional()])
    date_to = DayField(_l("Date to"), validators=[Optional()])


@bp.get("/audit")
@login_required
@permission_required("audit.read")
def events():
    form = AuditFilterForm(request.args)
    actions = db.session.scalars(select(distinct(AuditEvent.action)).order_by(AuditEvent.action)).all()
    form.action.choices = [("", str(_l("All actions")))] + [(a, action_label(a)) for a in actions]
    types = db.session.scalars(select(distinct(AuditEvent.object_type)).where(AuditEvent.object_type.is_not(None))
                               .order_by(AuditEvent.object_type)).all()
    form.object_type.choices = [("", str(_l("All objects")))] + [(t, object_label(t)) for t in types]
    stmt = scoped(select(AuditEvent), AuditEvent)
    valid = form.validate()
    if valid:
        if form.user.data:
            # By the acting user's id (indexed); the name is matched case-insensitively.
            user_ids = select(User.id).where(func.lower(User.username) == form.user.data.strip().lower())
            stmt = stmt.where(AuditEvent.user_id.in_(db.session.scalars(user_ids).all() or [-1]))
        if form.action.data:
            stmt = stmt.where(AuditEvent.action == form.action.data)
        if form.object_type.data:
            stmt = stmt.where(AuditEvent.object_type == form.object_type.data.strip())
        if form.object_id.data:
            stmt = stmt.where(AuditEvent.object_id == form.object_id.data)
        if form.date_from.data:
            stmt = stmt.where(AuditEvent.at >= clock.day_start(form.date_from.data))
        if form.date_to.data:
            stmt = stmt.where(AuditEvent.at < clock.day_start(form.date_to.data + timedelta(days=1)))
    else:
        stmt = stmt.where(False)
    stmt = stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    page = db.paginate(stmt, page=page_arg(), per_page=PER_PAGE, error_out=False, count=True)
    return render_template("audit/events.html", form=form, page=page, action_label=action_label,
                           describe=describe, object_link=ObjectLinks(page.items))
