"""Pages of the privacy feature: the notice, a person's consent, the requests register.

Views stay thin: load through cdt.auth.scope (404 outside the user's area), parse a form, call
cdt.privacy.services, render.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from cdt.auth.scope import can, get_in_area_or_404, permission_required
from cdt.core import clock
from cdt.core.inputs import page_arg
from cdt.core.rules import RuleError, apply_rule_error
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.privacy import queries, services
from cdt.privacy.blueprint import bp
from cdt.privacy.forms import AcknowledgeForm, CloseForm, ConsentForm, ExtendForm, RequestForm, WithdrawForm
from cdt.privacy.models import REQUEST_KIND_LABELS, REQUEST_STATUS_LABELS, PrivacyRequest
from cdt.privacy.notice import NOTICE_DATE, NOTICE_VERSION, contact, notice_version
from cdt.registry.models import Person

PER_PAGE = 25


@bp.app_context_processor
def _globals():
    return {"consent_panel": consent_panel, "privacy_due": privacy_due}


def consent_panel(person: Person) -> dict:
    """What the person page shows of consent (one short statement): status, the current record,
    and the forms for those who may record or withdraw it."""
    history = services.consent_history(person.id)
    current = next((r for r in history if r.withdrawn_on is None), None)
    status = "pending" if not history else ("given" if current else "withdrawn")
    manage = can("privacy.manage")
    return {"status": status, "current": current, "last": history[0] if history else None, "manage": manage,
            "consent_form": ConsentForm(prefix="consent", formdata=None) if manage and current is None else None,
            "withdraw_form": WithdrawForm(prefix="withdraw", formdata=None) if manage and current else None}


def privacy_due() -> list:
    """The requests near or past their deadline the current user must act on (the home page)."""
    if not can("privacy.manage"):
        return []
    return queries.due_requests()


# --------------------------------------------------------------------------- notice


@bp.get("/privacy")
def notice():
    return render_template("privacy/notice.html", version=NOTICE_VERSION, notice_date=NOTICE_DATE,
                           contact=contact())


# --------------------------------------------------------------------------- consent


def _consent_page(person: Person, consent_form=None, withdraw_form=None, status: int = 200):
    panel = consent_panel(person)
    if consent_form is not None:
        panel["consent_form"] = consent_form
    if withdraw_form is not None:
        panel["withdraw_form"] = withdraw_form
    return render_template("privacy/consent.html", person=person, panel=panel,
                           history=services.consent_history(person.id)), status


@bp.get("/members/<int:person_id>/consent")
@login_required
@permission_required("privacy.manage")
def consent(person_id: int):
    person = get_in_area_or_404(Person, person_id)
    return _consent_page(person)


@bp.post("/members/<int:person_id>/consent")
@login_required
@permission_required("privacy.manage")
def consent_record(person_id: int):
    person = get_in_area_or_404(Person, person_id)
    form = ConsentForm(prefix="consent")
    if form.validate_on_submit():
        try:
            services.record_consent(person, form.method.data, form.given_on.data)
        except RuleError as error:
            apply_rule_error(form, error)
        else:
            flash(_("Consent of %(name)s recorded.", name=person.full_name), "success")
            return redirect(url_for("registry.member", person_id=person.id, _anchor="consent"))
    return _consent_page(person, consent_form=form, status=422)


@bp.post("/members/<int:person_id>/consent/withdraw")
@login_required
@permission_required("privacy.manage")
def consent_withdraw(person_id: int):
    person = get_in_area_or_404(Person, person_id)
    form = WithdrawForm(prefix="withdraw")
    if form.validate_on_submit():
        try:
            services.withdraw_consent(person, form.withdrawn_on.data)
        except RuleError as error:
            apply_rule_error(form, error)
        else:
            flash(_("Withdrawal of consent of %(name)s recorded: %(name)s is left out of exports from now on.",
                    name=person.full_name), "success")
            return redirect(url_for("registry.member", person_id=person.id, _anchor="consent"))
    return _consent_page(person, withdraw_form=form, status=422)


@bp.get("/members/<int:person_id>/consent-form")
@login_required
@permission_required("privacy.manage")
def consent_form(person_id: int):
    """One printable page with the person's name, for their signature."""
    person = get_in_area_or_404(Person, person_id)
    commune = db.session.get(AdminUnit, person.commune_id)
    return render_template("privacy/consent_form.html", person=person, commune=commune, version=notice_version(),
                           contact=contact(), today=clock.today())


# --------------------------------------------------------------------------- requests


@bp.get("/privacy/requests")
@login_required
@permission_required("privacy.manage")
def requests():
    filters = queries.RequestFilters.from_args(request.args)
    page = db.paginate(queries.request_select(filters), page=page_arg(), per_page=PER_PAGE, error_out=False)
    rows = queries.with_urgency(list(page.items))
    return render_template("privacy/requests.html", page=page, rows=rows, filters=filters,
                           kinds=REQUEST_KIND_LABELS, statuses=REQUEST_STATUS_LABELS)


@bp.route("/privacy/requests/new", methods=["GET", "POST"])
@login_required
@permission_required("privacy.manage")
def request_new():
    if not request.values.get("person"):
        flash(_("Open the page of the person the request is about, then choose “Record a request”."), "info")
        return redirect(url_for("registry.members"))
    person = get_in_area_or_404(Person, request.values.get("person"))
    form = RequestForm()
    if request.method == "GET" and request.args.get("kind") in REQUEST_KIND_LABELS:
        form.kind.data = request.args["kind"]
    status = 200
    if form.validate_on_submit():
        try:
            req = services.create_request(person, form.data_dict())
        except RuleError as error:
            apply_rule_error(form, error)
        else:
            flash(_("Request recorded. Acknowledge it by %(ack)s; complete it by %(due)s.",
                    ack=req.acknowledge_by.strftime("%d/%m/%Y"), due=req.due_on.strftime("%d/%m/%Y")), "success")
            return redirect(url_for("privacy.request_detail", request_id=req.id))
    if request.method == "POST":
        status = 422
    return render_template("privacy/request_form.html", form=form, person=person,
                           due_days=services.completion_working_days()), status


def _detail(req: PrivacyRequest, forms: dict | None = None, status: int = 200):
    actions = {}
    if req.is_open:
        actions = {"acknowledge": AcknowledgeForm(prefix="ack", formdata=None) if req.acknowledged_on is None else None,
                   "extend": ExtendForm(prefix="ext", formdata=None) if req.extended_on is None else None,
                   "close": CloseForm(prefix="close", formdata=None)}
        actions.update(forms or {})
    return render_template("privacy/request.html", req=req, actions=actions, urgency=queries.urgency(req),
                           next_deadline=queries.next_deadline(req),
                           extension_days=services.extension_working_days()), status


@bp.get("/privacy/requests/<int:request_id>")
@login_required
@permission_required("privacy.manage")
def request_detail(request_id: int):
    return _detail(get_in_area_or_404(PrivacyRequest, request_id))


def _act(request_id: int, key: str, form, run, message: str):
    req = get_in_area_or_404(PrivacyRequest, request_id)
    if form.validate_on_submit():
        try:
            run(req, form)
        except RuleError as error:
            apply_rule_error(form, error)
        else:
            flash(message, "success")
            return redirect(url_for("privacy.request_detail", request_id=req.id))
    return _detail(req, {key: form}, status=422)


@bp.post("/privacy/requests/<int:request_id>/acknowledge")
@login_required
@permission_required("privacy.manage")
def request_acknowledge(request_id: int):
    return _act(request_id, "acknowledge", AcknowledgeForm(prefix="ack"),
                lambda req, form: services.acknowledge(req, form.acknowledged_on.data), _("Acknowledgement recorded."))


@bp.post("/privacy/requests/<int:request_id>/extend")
@login_required
@permission_required("privacy.manage")
def request_extend(request_id: int):
    return _act(request_id, "extend", ExtendForm(prefix="ext"),
                lambda req, form: services.extend(req, form.reason.data), _("Deadline extended."))


@bp.post("/privacy/requests/<int:request_id>/close")
@login_required
@permission_required("privacy.manage")
def request_close(request_id: int):
    return _act(request_id, "close", CloseForm(prefix="close"),
                lambda req, form: services.close(req, form.status.data, form.outcome.data, form.closed_on.data),
                _("Request closed."))


from cdt.privacy import record_views  # noqa: E402,F401  (the complete record, restriction, erasure)
