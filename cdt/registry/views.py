"""Pages of the registry feature: teams, members and their memberships.

Views stay thin: load through cdt.auth.scope, parse with a form, call cdt.registry.services,
render. Lists take a fixed number of SQL statements whatever the number of rows.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from cdt.audit.service import record_alone
from cdt.auth.scope import (
    can,
    get_in_area,
    get_in_area_or_404,
    permission_required,
    user_commune,
)
from cdt.core.forms import options
from cdt.core.inputs import int_arg, page_arg
from cdt.core.rules import apply_rule_error
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.queries import commune_in_area
from cdt.privacy import services as privacy_services
from cdt.registry import queries, services
from cdt.registry.blueprint import bp
from cdt.registry.ethnicity import ETHNIC_GROUPS
from cdt.registry.forms import (
    AddToTeamForm,
    EndMembershipForm,
    MoveForm,
    NewPersonForm,
    PersonForm,
    RoleForm,
    TeamForm,
)
from cdt.registry.identifiers import display_phone
from cdt.registry.models import ROLE_LABELS, TEAM_STATUS_LABELS, Membership, Person, Team


@bp.app_template_filter("phone")
def _phone_filter(value):
    return display_phone(value)


@bp.app_template_filter("ethnicity")
def _ethnicity_filter(value):
    return ETHNIC_GROUPS.get(value, value or "")


def _page_args():
    per_page = int_arg("per_page", queries.PER_PAGE, minimum=1, maximum=queries.MAX_PER_PAGE)
    return {"page": page_arg(), "per_page": per_page, "max_per_page": queries.MAX_PER_PAGE, "error_out": False}


def _conflict(form) -> None:
    form.form_errors.append(_("Someone else changed this record after you opened it. Your changes were not "
                              "saved: reload the page to see the current data, then make your change again."))


def _save(form, save) -> int | None:
    """Run `save()`; on a broken rule or an edit conflict put the message on the form and return
    the status to render it with (422, 409). None when saved."""
    try:
        save()
    except services.RuleError as error:
        apply_rule_error(form, error)
        return 422
    except services.ConflictError:
        _conflict(form)
        return 409
    return None


# --------------------------------------------------------------------------- teams


@bp.get("/teams")
@login_required
def teams():
    filters = queries.TeamFilters.from_args(request.args)
    options = queries.area_options(request.args)
    queries.drop_stale_choices(filters, options)
    page = db.paginate(queries.team_ids_select(filters), **_page_args())
    rows = queries.team_rows(list(page.items))
    return render_template("registry/teams.html", filters=filters, page=page, rows=rows,
                           options=options, statuses=TEAM_STATUS_LABELS)


@bp.get("/teams/<int:team_id>")
@login_required
def team(team_id: int):
    team = get_in_area_or_404(Team, team_id)
    summary = queries.team_summary(team.id)
    memberships = queries.team_memberships(team)
    current = [m for m in memberships if m.left_on is None]
    role_forms = {}
    if can("registry.write") and team.status == "active":
        # Role changes start from "— choose —", never from a current holder; the leader chosen as
        # deputy comes back here (?confirm=deputy&member=ID) to be confirmed explicitly.
        confirming = request.args.get("confirm")
        for role in ("leader", "deputy"):
            form = RoleForm(prefix=role, formdata=None)
            form.membership_id.label.text = _("New leader") if role == "leader" else _("New deputy leader")
            form.membership_id.choices = options(
                [("", _("— choose —"))]
                + [(m.id, f"{m.person.shown_name} ({ROLE_LABELS[m.role]})" if m.role != "member" else m.person.shown_name)
                   for m in current if m.role != role])
            if confirming == role:
                form.membership_id.data = int_arg("member")
            role_forms[role] = form
    return render_template(
        "registry/team.html", team=team, summary=summary, memberships=memberships, current=current,
        trainings=queries.team_trainings(team), decisions=queries.team_decisions(team), role_forms=role_forms,
        confirming=request.args.get("confirm"),
    )


def _team_form_choices(form: TeamForm, commune_id: int | None, team: Team | None = None) -> None:
    villages = queries.villages_in_commune(commune_id, team.village_id if team else None) if commune_id else []
    form.village_id.choices = options([("", "—")] + [(v.id, f"{v.name} ({v.code})") for v in villages])


def _working_commune(team: Team | None = None) -> AdminUnit | None:
    """The commune whose villages the team form offers: the officer's own commune, the team's,
    or (for an administrator) the one named by ?commune=CODE."""
    commune = user_commune()
    if commune is not None:
        return commune
    if team is not None:
        return db.session.get(AdminUnit, team.commune_id)
    return commune_in_area(request.args.get("commune", "").strip())


@bp.route("/teams/new", methods=["GET", "POST"])
@login_required
@permission_required("registry.write")
def team_new():
    commune = _working_commune()
    form = TeamForm()
    _team_form_choices(form, commune.id if commune else None)
    if request.method == "GET" and request.args.get("village"):
        form.village_id.data = int_arg("village")
    status = 200
    if form.validate_on_submit():
        try:
            team = services.create_team(form.data_dict())
        except services.RuleError as error:
            apply_rule_error(form, error)
        else:
            flash(_("Team %(name)s created.", name=team.name), "success")
            return redirect(url_for("registry.team", team_id=team.id))
    if request.method == "POST":
        status = 422
    return render_template("registry/team_form.html", form=form, team=None, commune=commune), status


@bp.route("/teams/<int:team_id>/edit", methods=["GET", "POST"])
@login_required
@permission_required("registry.write")
def team_edit(team_id: int):
    team = get_in_area_or_404(Team, team_id)
    commune = _working_commune(team)
    form = TeamForm(obj=team)
    _team_form_choices(form, commune.id if commune else None, team)
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        status = _save(form, lambda: services.update_team(team, form.data_dict(), form.version_id.data))
        if status is None:
            flash(_("Team %(name)s saved.", name=team.name), "success")
            return redirect(url_for("registry.team", team_id=team.id))
    return render_template("registry/team_form.html", form=form, team=team, commune=commune), status


@bp.post("/teams/<int:team_id>/<any(leader, deputy):role>")
@login_required
@permission_required("registry.write")
def team_set_role(team_id: int, role: str):
    team = get_in_area_or_404(Team, team_id)
    form = RoleForm(prefix=role)
    current = db.session.scalars(select(Membership).where(
        Membership.team_id == team.id, Membership.left_on.is_(None))).all()
    form.membership_id.choices = options([(m.id, str(m.id)) for m in current])
    if form.validate_on_submit():
        membership = next(m for m in current if m.id == form.membership_id.data)
        try:
            changes = services.set_role(team, membership, role, form.leave_without_leader.data)
        except services.RuleError as error:
            flash(error.message, "danger")
            if error.field == "leave_without_leader":
                return redirect(url_for("registry.team", team_id=team.id, confirm=role, member=membership.id,
                                        _anchor=f"role-{role}"))
        else:
            flash(_role_message(team, changes), "success")
    else:
        flash(_("Choose a current member of this team."), "danger")
    return redirect(url_for("registry.team", team_id=team.id))


def _role_message(team: Team, changes: list) -> str:
    """What happened to everyone a role change touched, and a role it left empty."""
    if not changes:
        return _("Nothing changed: that member already has this role.")
    parts = [_("%(name)s: %(old)s → %(new)s", name=m.person.full_name, old=ROLE_LABELS[old], new=ROLE_LABELS[new])
             for m, old, new in changes]
    message = _("Roles changed. %(changes)s.", changes="; ".join(parts))
    left = {old for _m, old, _new in changes if old in ("leader", "deputy")} - {new for _m, _old, new in changes}
    for role in sorted(left):
        message += " " + (_("The team now has no leader.") if role == "leader" else _("The team now has no deputy leader."))
    return message


# --------------------------------------------------------------------------- members


@bp.get("/members")
@login_required
def members():
    filters = queries.MemberFilters.from_args(request.args)
    options = queries.area_options(request.args)
    queries.drop_stale_choices(filters, options)
    page = db.paginate(queries.member_select(filters), **_page_args())
    people = list(page.items)
    teams_of = queries.current_memberships_of([p.id for p in people])
    return render_template("registry/members.html", filters=filters, page=page, people=people, teams_of=teams_of,
                           options=options, roles=ROLE_LABELS)


def _person_actions(person: Person, memberships: list[Membership]) -> dict:
    """The forms of the person page's actions (add to a team, end, move), for writers."""
    if not can("registry.write"):
        return {}
    teams = queries.teams_in_commune(person.commune_id)
    current_team_ids = {m.team_id for m in memberships if m.left_on is None}
    add = AddToTeamForm(prefix="add")
    add.team_id.choices = options([("", "—")] + [(t.id, t.name) for t in teams if t.id not in current_team_ids])
    move = {}
    end = {}
    for m in memberships:
        if m.left_on is None:
            form = MoveForm(prefix=f"move{m.id}")
            form.team_id.choices = options([("", "—")] + [(t.id, t.name) for t in teams if t.id not in current_team_ids])
            move[m.id] = form
            end[m.id] = EndMembershipForm(prefix=f"end{m.id}")
    return {"add": add, "move": move, "end": end}


def _render_member(person: Person, actions: dict | None = None, status: int = 200):
    memberships = queries.person_memberships(person)
    merged = _person_actions(person, memberships)
    if actions:
        for key, value in actions.items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            else:
                merged[key] = value
    # A refused action is said at the top too: its form may be far below the fold on a phone.
    problems = []
    for value in (actions or {}).values():
        for form in (value.values() if isinstance(value, dict) else [value]):
            problems += list(form.form_errors) + [e for f in form for e in (f.errors or [])]
    record_alone("person.view", person)
    return render_template("registry/member.html", person=person, memberships=memberships,
                           actions=merged, problems=problems,
                           show_citizen_id=can("citizen_id.read"),
                           commune=db.session.get(AdminUnit, person.commune_id)), status


@bp.get("/members/<int:person_id>")
@login_required
def member(person_id: int):
    person = get_in_area_or_404(Person, person_id)
    return _render_member(person)


def _new_person_team_choices(form: NewPersonForm) -> AdminUnit | None:
    """Teams offered on the new-person form: the active teams of the officer's commune (or, for an
    administrator, of the commune of the team named by ?team=)."""
    commune = user_commune()
    if commune is None:
        team = get_in_area(Team, request.values.get("team") or request.form.get("team_id"))
        if team is not None:
            commune = db.session.get(AdminUnit, team.commune_id)
    teams = queries.teams_in_commune(commune.id) if commune is not None else []
    form.team_id.choices = options([("", _("No team yet"))] + [(t.id, t.name) for t in teams])
    return commune


@bp.route("/members/new", methods=["GET", "POST"])
@login_required
@permission_required("registry.write")
def member_new():
    form = NewPersonForm(show_citizen_id=can("citizen_id.read"))
    commune = _new_person_team_choices(form)
    if request.method == "GET" and request.args.get("team"):
        form.team_id.data = int_arg("team")
    status = 200
    if form.validate_on_submit():
        team = get_in_area(Team, form.team_id.data)
        if commune is None:
            form.team_id.errors = list(form.team_id.errors) + [_("Choose a team: it decides the commune.")]
        else:
            try:
                person = services.create_person(form.data_dict(), commune, team, form.role.data, form.joined_on.data,
                                                different_person=request.form.get("different_person") == "1")
            except services.DuplicateError as duplicate:
                return _duplicate_page(form, duplicate, team)
            except services.RuleError as error:
                apply_rule_error(form, error)
            else:
                _record_consent_at_registration(person, form)
                flash(_("%(name)s registered.", name=person.full_name), "success")
                if team is not None and request.form.get("again"):
                    return redirect(url_for("registry.member_new", team=team.id))
                return redirect(url_for("registry.member", person_id=person.id))
    if request.method == "POST":
        status = 422
    return render_template("registry/member_form.html", form=form, person=None, commune=commune), status


def _record_consent_at_registration(person: Person, form: NewPersonForm) -> None:
    """The consent answered on the form (issue 13): recorded with today's date, or left pending."""
    method = form.consent_method()
    if method is None:
        flash(_("Consent of %(name)s is pending: print the consent form from their page.", name=person.full_name),
              "warning")
        return
    try:
        privacy_services.record_consent(person, method)
    except services.RuleError as error:
        flash(error.message, "danger")


def _duplicate_page(form: NewPersonForm, duplicate: services.DuplicateError, team: Team | None):
    """The person is already recorded: show who (only people the user may see, which the service
    has sorted out), and offer to add them to the team instead when it is a team of their commune.
    Of a match outside the user's area the page says only that it exists, and whom to ask."""
    people = duplicate.people
    communes = {}
    if people:
        communes = dict(db.session.execute(select(AdminUnit.id, AdminUnit.name).where(
            AdminUnit.id.in_({p.commune_id for p in people}))).all())
    memberships = queries.current_memberships_of([p.id for p in people])
    offers, members_already = {}, set()
    for person in people:
        if team is not None and any(m.team_id == team.id for m in memberships.get(person.id, [])):
            members_already.add(person.id)
        elif team is not None and person.commune_id == team.commune_id:
            offer = AddToTeamForm(prefix="add", formdata=None)
            offer.team_id.choices = options([(team.id, team.name)])
            offer.team_id.data = team.id
            offer.role.data = form.role.data
            offer.joined_on.data = form.joined_on.data
            offers[person.id] = offer
    return render_template("registry/duplicate.html", form=form, people=people, elsewhere=duplicate.elsewhere,
                           team=team, offers=offers, communes=communes, memberships=memberships, roles=ROLE_LABELS,
                           members_already=members_already, reasons=duplicate.reasons,
                           undecided=duplicate.undecided, show_citizen_id=can("citizen_id.read")), 409


@bp.route("/members/<int:person_id>/edit", methods=["GET", "POST"])
@login_required
@permission_required("registry.write")
def member_edit(person_id: int):
    person = get_in_area_or_404(Person, person_id)
    form = PersonForm(obj=person, show_citizen_id=can("citizen_id.read"))
    if request.method == "GET" and person.phone:
        form.phone.data = display_phone(person.phone)
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        status = _save(form, lambda: services.update_person(person, form.data_dict(), form.version_id.data))
        if status is None:
            flash(_("%(name)s saved.", name=person.full_name), "success")
            return redirect(url_for("registry.member", person_id=person.id))
    return render_template("registry/member_form.html", form=form, person=person,
                           commune=db.session.get(AdminUnit, person.commune_id)), status


@bp.post("/members/<int:person_id>/teams")
@login_required
@permission_required("registry.write")
def member_add_team(person_id: int):
    person = get_in_area_or_404(Person, person_id)
    form = AddToTeamForm(prefix="add")
    memberships = queries.person_memberships(person)
    current_team_ids = {m.team_id for m in memberships if m.left_on is None}
    form.team_id.choices = options([(t.id, t.name) for t in queries.teams_in_commune(person.commune_id)])
    if form.validate_on_submit():
        team = queries.team_for_person(person, form.team_id.data)
        try:
            if team is None:
                raise services.RuleError("team_id", _("Choose a team in your area."))
            if team.id in current_team_ids:
                raise services.RuleError("team_id", _("This person is already a member of that team."))
            services.add_membership(person, team, form.role.data, form.joined_on.data)
        except services.RuleError as error:
            apply_rule_error(form, error)
        else:
            flash(_("%(name)s added to %(team)s.", name=person.full_name, team=team.name), "success")
            return redirect(url_for("registry.member", person_id=person.id))
    return _render_member(person, {"add": form}, status=422)


def _membership_of(person: Person, membership_id: int) -> Membership:
    membership = db.session.scalar(select(Membership).where(
        Membership.id == membership_id, Membership.person_id == person.id))
    if membership is None:
        abort(404)
    return membership


@bp.post("/members/<int:person_id>/memberships/<int:membership_id>/end")
@login_required
@permission_required("registry.write")
def membership_end(person_id: int, membership_id: int):
    person = get_in_area_or_404(Person, person_id)
    membership = _membership_of(person, membership_id)
    get_in_area_or_404(Team, membership.team_id)
    form = EndMembershipForm(prefix=f"end{membership.id}")
    if form.validate_on_submit():
        try:
            services.end_membership(membership, form.left_on.data)
        except services.RuleError as error:
            apply_rule_error(form, error)
        else:
            flash(_("%(name)s has left %(team)s.", name=person.full_name, team=membership.team.name), "success")
            return redirect(url_for("registry.member", person_id=person.id))
    return _render_member(person, {"end": {membership.id: form}}, status=422)


@bp.post("/members/<int:person_id>/memberships/<int:membership_id>/move")
@login_required
@permission_required("registry.write")
def membership_move(person_id: int, membership_id: int):
    person = get_in_area_or_404(Person, person_id)
    membership = _membership_of(person, membership_id)
    get_in_area_or_404(Team, membership.team_id)
    form = MoveForm(prefix=f"move{membership.id}")
    form.team_id.choices = options([(t.id, t.name) for t in queries.teams_in_commune(person.commune_id)])
    if form.validate_on_submit():
        team = queries.team_for_person(person, form.team_id.data)
        try:
            if team is None:
                raise services.RuleError("team_id", _("Choose a team in your area."))
            moved = services.move_membership(membership, team, form.moved_on.data)
        except services.RuleError as error:
            apply_rule_error(form, error)
        else:
            flash(_("%(name)s moved to %(team)s.", name=person.full_name, team=moved.team.name), "success")
            return redirect(url_for("registry.member", person_id=person.id))
    return _render_member(person, {"move": {membership.id: form}}, status=422)

