"""Village changes of a commune (admin and province staff): /units/<commune code>/villages/...

Thin views: the form is parsed, cdt/geo/villages.py checks and writes (RuleError shown next to
its field, nothing changed), the user goes back to the commune's history of village changes."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from cdt.auth.scope import permission_required
from cdt.core.forms import EmptyForm
from cdt.core.rules import RuleError, apply_rule_error
from cdt.geo import villages as service
from cdt.geo.blueprint import bp
from cdt.geo.forms import MergeForm, MoveForm, RenameForm, SplitForm
from cdt.geo.queries import breadcrumbs, ended, unit_in_area_or_404


class _Ended(Exception):
    def __init__(self, unit):
        self.unit = unit


def _commune_or_404(code: str):
    """A commune of today's map in the user's area (404 otherwise; an ended commune: its own page,
    which links to its successors, through _Ended)."""
    commune = unit_in_area_or_404(code)
    if commune.level != "commune":
        abort(404)
    if ended(commune):
        raise _Ended(commune)
    return commune


@bp.errorhandler(_Ended)
def _to_unit_page(error: _Ended):
    return redirect(url_for("units.unit", code=error.unit.code, on=error.unit.valid_to.isoformat()))


def _village_choices(commune) -> list[tuple[int, str]]:
    return [(v.id, f"{v.name} ({v.code})") for v in service.villages_today(commune)]


def _page(template: str, commune, form, **context):
    return render_template(f"geo/villages/{template}", commune=commune, form=form, crumbs=breadcrumbs(commune),
                           crumbs_link_last=True, **context)


def _done(commune, message: str):
    flash(message, "success")
    return redirect(url_for("geo.village_changes", code=commune.code))


@bp.get("/units/<code>/villages")
@login_required
@permission_required("villages.manage")
def village_changes(code: str):
    """The commune's villages today, the actions, and the history of its village changes."""
    commune = _commune_or_404(code)
    return render_template("geo/villages/changes.html", commune=commune, villages=service.villages_today(commune),
                           changes=service.changes_of(commune), undo_form=EmptyForm(), crumbs=breadcrumbs(commune),
                           crumbs_link_last=True)


@bp.route("/units/<code>/villages/merge", methods=["GET", "POST"])
@login_required
@permission_required("villages.manage")
def village_merge(code: str):
    """Merge villages: a preview first, then the merge (the `confirm` button)."""
    commune = _commune_or_404(code)
    form = MergeForm()
    choices = _village_choices(commune)
    form.target.choices = [("", _("Choose…")), *choices]
    form.others.choices = choices
    plan = None
    if form.validate_on_submit():
        args = {"commune": commune, "target_id": form.target.data,
                "other_ids": [i for i in (form.others.data or []) if i is not None], "on": form.on.data,
                "name": form.name.data, "move_members": form.move_members.data}
        try:
            if request.form.get("confirm") == "1":
                service.merge(args)
                return _done(commune, _("The villages were merged."))
            plan = service.plan_merge(**args)
        except RuleError as error:
            apply_rule_error(form, error)
    return _page("merge.html", commune, form, plan=plan)


def _village_change(code: str, form_class, template: str, apply, done: str, prepare=None):
    """A change of one village chosen from the commune's (split, rename, move): the form, the
    service call `apply(commune, form)`, its rule errors next to the fields, then the changes page."""
    commune = _commune_or_404(code)
    form = form_class()
    form.village.choices = [("", _("Choose…")), *_village_choices(commune)]
    if prepare is not None:
        prepare(form, commune)
    if form.validate_on_submit():
        try:
            apply(commune, form)
            return _done(commune, done)
        except RuleError as error:
            apply_rule_error(form, error)
    return _page(template, commune, form)


@bp.route("/units/<code>/villages/split", methods=["GET", "POST"])
@login_required
@permission_required("villages.manage")
def village_split(code: str):
    return _village_change(
        code, SplitForm, "split.html",
        lambda commune, form: service.split(commune, form.village.data, form.on.data,
                                            service.parse_names(form.names.data), form.name.data),
        _("The village was split."))


@bp.route("/units/<code>/villages/rename", methods=["GET", "POST"])
@login_required
@permission_required("villages.manage")
def village_rename(code: str):
    return _village_change(
        code, RenameForm, "rename.html",
        lambda commune, form: service.rename(commune, form.village.data, form.on.data, form.name.data),
        _("The village was renamed."))


@bp.route("/units/<code>/villages/move", methods=["GET", "POST"])
@login_required
@permission_required("villages.manage")
def village_move(code: str):
    def targets(form, commune):
        form.target.choices = [("", _("Choose…")),
                               *[(c.id, f"{c.name} ({c.code})") for c in service.communes_today(commune)]]

    return _village_change(
        code, MoveForm, "move.html",
        lambda commune, form: service.move(commune, form.village.data, form.on.data, form.target.data),
        _("The village was moved."), prepare=targets)


@bp.post("/units/<code>/villages/changes/<int:change_id>/undo")
@login_required
@permission_required("villages.manage")
def village_undo(code: str, change_id: int):
    commune = _commune_or_404(code)
    change = service.change_in_area_or_404(change_id)
    if commune.id not in (change.commune_id, change.other_commune_id):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        service.undo(change_id)
    except RuleError as error:
        flash(error.message, "danger")
        return redirect(url_for("geo.village_changes", code=commune.code))
    return _done(commune, _("The change was undone."))
