"""Pages of the training feature: sessions, invitations, attendance, calendar feed, topics."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from cdt.auth.scope import permission_required
from cdt.core import clock
from cdt.core.forms import EmptyForm
from cdt.core.inputs import int_arg, page_arg, to_int
from cdt.core.rules import ConflictError, RuleError, apply_rule_error
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.ops.caching import conditional
from cdt.registry.models import Person
from cdt.training import calendar as feed_module
from cdt.training import queries, services
from cdt.training.forms import AttendanceForm, IdsForm, InviteTeamsForm, SessionForm, TopicForm
from cdt.training.models import SESSION_STATUS_LABELS, TrainingSession, TrainingTopic

bp = Blueprint("training", __name__)


@bp.app_template_global("person_training")
def _person_training_global(person_id: int):
    return queries.person_training(person_id)


@bp.app_template_global("team_trained_share")
def _team_trained_share_global(team_id: int):
    return queries.team_trained_share(team_id)


def _ids(name: str) -> list[int] | None:
    """Repeated integer values of a POSTed field; None when one of them is not an id."""
    ids = [to_int(value, minimum=0) for value in request.form.getlist(name)]
    if None in ids:
        return None
    return sorted(set(ids))


def _filters(area_choices) -> queries.Filters:
    filters = queries.Filters()
    topic_id = int_arg("topic")
    if topic_id:
        filters.topic_id = topic_id
    area_id = int_arg("area")
    if area_id and area_id in {value for value, _label in area_choices}:
        filters.area = db.session.get(AdminUnit, area_id)
    status = request.args.get("status")
    if status in SESSION_STATUS_LABELS:
        filters.status = status
    return filters


def _month_arg() -> tuple[int, int]:
    value = request.args.get("month", "")
    try:
        year, month = (int(part) for part in value.split("-"))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    today = clock.today()
    return today.year, today.month


# --- sessions ------------------------------------------------------------------------------

@bp.get("/training")
@login_required
def sessions():
    area_choices = queries.area_choices()
    filters = _filters(area_choices)
    view = "month" if request.args.get("view") == "month" else "list"
    context = dict(
        filters=filters, area_choices=area_choices, topic_choices=queries.topic_choices(),
        statuses=SESSION_STATUS_LABELS, view=view, renew_form=EmptyForm(),
        feed_url=(url_for("training.calendar_feed", token=current_user.calendar_token, _external=True)
                  if current_user.calendar_token else None),
    )
    if view == "month":
        year, month = _month_arg()
        first = date(year, month, 1)
        prev_month = date(year - 1, 12, 1) if month == 1 else date(year, month - 1, 1)
        next_month = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        context.update(weeks=queries.month_grid(year, month, filters), first=first, prev_month=prev_month,
                       next_month=next_month, today=clock.today())
    else:
        page = page_arg()
        past, page, pages, total = queries.past_sessions(filters, page)
        context.update(upcoming=queries.upcoming_sessions(filters), past=past, page=page, pages=pages,
                       past_total=total)
    return render_template("training/sessions.html", **context)


def _session_form(ts: TrainingSession | None = None) -> SessionForm:
    choices = queries.area_choices()
    # Only units of the map of the user's area are offered; a unit of an earlier map in the area
    # (the session's own when edited, or one a submitted form names) is still accepted.
    offered = {value for value, _label in choices}
    wanted = {ts.area_id if ts is not None else None,
              to_int(request.form.get("area_id")) if request.method == "POST" else None} - {None} - offered
    if wanted:
        choices = [*queries.extra_area_choices(wanted), *choices]
    return SessionForm(
        obj=ts,
        topic_choices=queries.topic_choices(ts.topic_id if ts else None),
        area_choices=choices,
    )


@bp.route("/training/new", methods=["GET", "POST"])
@login_required
@permission_required("training.write")
def new():
    form = _session_form()
    if request.method == "GET":
        if current_user.area is not None and current_user.area_id in {c.value for c in form.area_id.choices}:
            form.area_id.data = current_user.area_id
    if form.validate_on_submit():
        area = db.session.get(AdminUnit, form.area_id.data)
        ts = services.create_session(form.data_for_service(), area, current_user)
        flash(_("The session has been scheduled."), "success")
        return redirect(url_for("training.session", session_id=ts.id))
    return render_template("training/form.html", form=form, ts=None)


@bp.get("/training/<int:session_id>")
@login_required
def session(session_id: int):
    ts = queries.session_or_404(session_id)
    people = queries.session_people(ts)
    invited = sum(1 for p in people if p.invited)
    attended = sum(1 for p in people if p.attended)
    return render_template(
        "training/session.html", ts=ts, people=people, invited=invited, attended=attended,
        warnings=queries.session_warnings(ts), editable=queries.can_change(ts), action_form=EmptyForm(),
        locale=str(get_locale() or "vi"),
    )


@bp.route("/training/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
@permission_required("training.write")
def edit(session_id: int):
    ts = queries.editable_session_or_404(session_id)
    form = _session_form(ts)
    attendance = queries.attendance_count(ts)
    need_confirm = False
    if form.validate_on_submit():
        area = db.session.get(AdminUnit, form.area_id.data)
        try:
            services.update_session(ts, form.data_for_service(), area, opened_version=form.version_id.data,
                                    confirm_cancel=bool(form.confirm_cancel.data))
        except services.CancelNeedsConfirmation:
            need_confirm = True
        except ConflictError:
            form.form_errors.append(_("Someone else changed this session meanwhile; your changes were not saved. "
                                      "Reload the page and try again."))
        else:
            flash(_("The session has been saved."), "success")
            return redirect(url_for("training.session", session_id=ts.id))
    if request.method == "GET":
        form.version_id.data = str(ts.version_id)
    return render_template("training/form.html", form=form, ts=ts, attendance=attendance, need_confirm=need_confirm)


@bp.post("/training/<int:session_id>/delete")
@login_required
@permission_required("training.write")
def delete(session_id: int):
    ts = queries.editable_session_or_404(session_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.delete_session(ts)
    except RuleError as error:
        flash(error.message, "danger")
        return redirect(url_for("training.session", session_id=ts.id))
    flash(_("The session has been deleted."), "success")
    return redirect(url_for("training.sessions"))


# --- invitations ---------------------------------------------------------------------------

@bp.route("/training/<int:session_id>/invite/teams", methods=["GET", "POST"])
@login_required
@permission_required("training.write")
def invite_teams(session_id: int):
    ts = queries.editable_session_or_404(session_id)
    communes = queries.invite_communes(ts)
    commune_ids = {c.id for c in communes}
    commune_id = int_arg("commune") or to_int(request.form.get("commune"))
    if commune_id not in commune_ids:
        commune_id = communes[0].id if len(communes) == 1 else None
    form = InviteTeamsForm()
    if form.validate_on_submit():
        team_ids = _ids("team")
        if request.form.get("all") and commune_id:
            team_ids = [t.id for t in queries.invite_teams(ts, commune_id)]
        allowed = queries.allowed_teams(ts, team_ids or [])
        if team_ids is None or len(allowed) != len(team_ids):
            form.form_errors.append(_("Some of the chosen teams are not in your area or the session's area; "
                                      "nothing was saved."))
        elif not team_ids:
            form.form_errors.append(_("Tick at least one team."))
        else:
            people = queries.team_members_to_invite(team_ids, form.who.data == "leaders")
            added = services.invite(ts, people, teams=team_ids)
            flash(_("%(count)s people invited from %(teams)s teams.", count=added, teams=len(team_ids)), "success")
            return redirect(url_for("training.session", session_id=ts.id))
    teams = queries.invite_teams(ts, commune_id) if commune_id else []
    return render_template("training/invite_teams.html", ts=ts, form=form, communes=communes,
                           commune_id=commune_id, teams=teams)


@bp.route("/training/<int:session_id>/invite/people", methods=["GET", "POST"])
@login_required
@permission_required("training.write")
def invite_people(session_id: int):
    ts = queries.editable_session_or_404(session_id)
    form = IdsForm()
    q = (request.values.get("q") or "").strip()[:120]
    if form.validate_on_submit():
        person_ids = _ids("person")
        allowed = queries.allowed_people(ts, person_ids or [])
        if person_ids is None or len(allowed) != len(person_ids):
            form.form_errors.append(_("Some of the chosen people are not in your area or the session's area; "
                                      "nothing was saved."))
        elif not person_ids:
            form.form_errors.append(_("Tick at least one person."))
        else:
            teams = queries.people_teams(ts, person_ids)
            added = services.invite(ts, [(pid, teams[pid]) for pid in person_ids])
            flash(_("%(count)s people invited.", count=added), "success")
            return redirect(url_for("training.session", session_id=ts.id))
    results = queries.search_people(ts, q) if q else []
    return render_template("training/invite_people.html", ts=ts, form=form, q=q, results=results)


@bp.post("/training/<int:session_id>/invitations/<int:person_id>/delete")
@login_required
@permission_required("training.write")
def uninvite(session_id: int, person_id: int):
    ts = queries.editable_session_or_404(session_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if services.uninvite(ts, person_id):
        flash(_("The invitation has been removed."), "success")
    return redirect(url_for("training.session", session_id=ts.id))


# --- attendance ----------------------------------------------------------------------------

@bp.route("/training/<int:session_id>/attendance", methods=["GET", "POST"])
@login_required
@permission_required("training.write")
def attendance(session_id: int):
    ts = queries.editable_session_or_404(session_id)
    people = queries.session_people(ts)
    known = {p.person_id for p in people}
    invited = {p.person_id for p in people if p.invited}
    form = AttendanceForm()
    if request.method == "GET":
        recorded = {p.hours for p in people if p.attended}
        form.hours.data = recorded.pop() if len(recorded) == 1 else ts.hours
        form.q.data = request.args.get("q", "")[:120]
    checked = {p.person_id for p in people if p.attended}
    extra = []
    if request.method == "POST" and form.validate_on_submit():
        present = _ids("present")
        others = sorted(set(present or []) - known)
        allowed_others = queries.allowed_people(ts, others)
        if present is None or len(allowed_others) != len(others):
            form.form_errors.append(_("Some of the ticked people are not in your area or the session's area; "
                                      "nothing was saved."))
        else:
            checked = set(present)
            if others:
                extra = db.session.execute(
                    select(Person.id, Person.full_name).where(Person.id.in_(others)).order_by(Person.sort_name, Person.id)
                ).all()
            if request.form.get("action") == "save":
                try:
                    result = services.record_attendance(ts, checked, invited, Decimal(form.hours.data), current_user)
                except RuleError as error:
                    apply_rule_error(form, error)
                else:
                    flash(_("Attendance saved: %(count)s people came; the session is marked as held.",
                            count=len(checked)), "success")
                    if result["removed"]:
                        flash(_("%(count)s people were unticked and removed from the attendance.",
                                count=len(result["removed"])), "info")
                    return redirect(url_for("training.session", session_id=ts.id))
    elif request.method == "POST":
        checked = set(_ids("present") or []) & known
    # People already on the checklist are found too, marked as such (never silently hidden).
    results = queries.search_people(ts, form.q.data, exclude_session_people=False) if form.q.data else []
    return render_template("training/attendance.html", ts=ts, form=form, people=people, checked=checked,
                           extra=extra, results=results, listed=known | {e.id for e in extra})


@bp.get("/training/<int:session_id>/sign-in-sheet")
@login_required
def sign_in_sheet(session_id: int):
    ts = queries.session_or_404(session_id)
    people = queries.session_people(ts, exportable_only=True)  # a printed list: not those who withdrew consent
    return render_template("training/sign_in_sheet.html", ts=ts, people=people,
                           locale=str(get_locale() or "vi"))


# --- calendar feed -------------------------------------------------------------------------

@bp.get("/training/calendar.ics")
def calendar_feed():
    user = feed_module.user_for_token(request.args.get("token"))
    if user is None:
        abort(404)
    response = Response(feed_module.feed(user), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="training.ics"'
    return conditional(response)  # calendar apps poll: 304 while nothing changed


@bp.post("/training/calendar/renew")
@login_required
def renew_calendar():
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.renew_calendar_token(current_user)
    flash(_("Your calendar link has been renewed; the old link no longer works."), "success")
    return redirect(url_for("training.sessions"))


# --- topic catalogue -----------------------------------------------------------------------

@bp.get("/training/topics")
@login_required
@permission_required("topics.manage")
def topics():
    counts = (
        select(TrainingSession.topic_id, func.count().label("sessions"))
        .group_by(TrainingSession.topic_id).subquery()
    )
    rows = db.session.execute(
        select(TrainingTopic, func.coalesce(counts.c.sessions, 0))
        .outerjoin(counts, counts.c.topic_id == TrainingTopic.id)
        .order_by(TrainingTopic.active.desc(), TrainingTopic.id)
    ).all()
    return render_template("training/topics.html", rows=rows, action_form=EmptyForm())


def _save_topic(form: TopicForm, topic: TrainingTopic | None) -> bool:
    """Validate and save the topic form; False (errors on the form) when nothing was saved."""
    if not form.validate_on_submit():
        return False
    try:
        services.save_topic(topic, form.code.data, form.name_vi.data, form.name_en.data, form.active.data)
    except RuleError as error:
        apply_rule_error(form, error)
        return False
    return True


@bp.route("/training/topics/new", methods=["GET", "POST"])
@login_required
@permission_required("topics.manage")
def topic_new():
    form = TopicForm()
    if _save_topic(form, None):
        flash(_("The topic has been added."), "success")
        return redirect(url_for("training.topics"))
    return render_template("training/topic_form.html", form=form, topic=None)


@bp.route("/training/topics/<int:topic_id>/edit", methods=["GET", "POST"])
@login_required
@permission_required("topics.manage")
def topic_edit(topic_id: int):
    topic = db.get_or_404(TrainingTopic, topic_id)
    form = TopicForm(obj=topic)
    if _save_topic(form, topic):
        flash(_("The topic has been saved."), "success")
        return redirect(url_for("training.topics"))
    return render_template("training/topic_form.html", form=form, topic=topic)


@bp.post("/training/topics/<int:topic_id>/toggle")
@login_required
@permission_required("topics.manage")
def topic_toggle(topic_id: int):
    topic = db.get_or_404(TrainingTopic, topic_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    active = services.toggle_topic(topic)
    flash(_("The topic has been reactivated.") if active else _("The topic has been deactivated."),
          "success")
    return redirect(url_for("training.topics"))
