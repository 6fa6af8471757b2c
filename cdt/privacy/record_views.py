"""Personal-data pages of a person: the complete record (page, JSON, CSV), restriction, erasure
(routes on the privacy blueprint of cdt/privacy/views.py).

Every person is loaded through cdt.auth.scope (404 outside the user's area, or when the person is
restricted and the user is neither the admin nor the officer handling it). Restricting and erasing
need `privacy.erase` (the admin, the commune officer of the person's commune: their area)."""
from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cdt.audit.labels import action_label
from cdt.audit.service import record_alone
from cdt.auth.scope import get_in_area_or_404, permission_required
from cdt.core import clock
from cdt.core.forms import EmptyForm
from cdt.core.spreadsheets import CSV_MIMETYPE, write_csv
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.privacy import erasure, restriction
from cdt.privacy.blueprint import bp
from cdt.privacy.forms import EraseForm
from cdt.privacy.record import CSV_COLUMNS, as_json, csv_rows, person_record
from cdt.registry.models import ROLE_LABELS, Person


def _download(data: bytes, person: Person, ext: str, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    name = f"person-{person.id}-record-{clock.today().isoformat()}.{ext}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/members/<int:person_id>/record")
@login_required
def person_record_page(person_id: int):
    person = get_in_area_or_404(Person, person_id)
    data = person_record(person)
    record_alone("person.record.view", person)
    return render_template("privacy/record.html", person=person, record=data, today=clock.today(),
                           action_label=action_label,
                           roles={k: str(v) for k, v in ROLE_LABELS.items()})


@bp.get("/members/<int:person_id>/record.json")
@login_required
def person_record_json(person_id: int):
    person = get_in_area_or_404(Person, person_id)
    data = json.dumps(as_json(person_record(person)), ensure_ascii=False, indent=2).encode()
    record_alone("person.record.export", person, details={"format": "json"})
    return _download(data, person, "json", "application/json")


@bp.get("/members/<int:person_id>/record.csv")
@login_required
def person_record_csv(person_id: int):
    person = get_in_area_or_404(Person, person_id)
    data = write_csv(CSV_COLUMNS, csv_rows(person_record(person)))
    record_alone("person.record.export", person, details={"format": "csv"})
    return _download(data, person, "csv", CSV_MIMETYPE)


@bp.post("/members/<int:person_id>/restrict")
@login_required
@permission_required("privacy.erase")
def person_restrict(person_id: int):
    person = get_in_area_or_404(Person, person_id)
    if EmptyForm().validate_on_submit():
        if person.restricted_at is None:
            restriction.restrict(person, current_user)
            flash(_("Processing of %(name)s's data is restricted: only you and the administrator see them now.",
                    name=person.full_name), "success")
        else:
            restriction.lift_restriction(person, current_user)
            flash(_("The restriction of %(name)s's data is lifted.", name=person.full_name), "success")
    else:
        flash(_("The request could not be understood. Please go back and try again."), "danger")
    return redirect(url_for("privacy.person_record_page", person_id=person.id))


@bp.route("/members/<int:person_id>/erase", methods=["GET", "POST"])
@login_required
@permission_required("privacy.erase")
def person_erase(person_id: int):
    person = get_in_area_or_404(Person, person_id)
    form = EraseForm()
    if form.validate_on_submit():
        erasure.erase_person(person)
        flash(_("The person's personal data is erased. Their place in past figures is kept, without any "
                "personal value."), "success")
        return redirect(url_for("registry.members"))
    status = 422 if form.is_submitted() else 200
    return render_template("privacy/erase.html", person=person, form=form,
                           commune=db.session.get(AdminUnit, person.commune_id)), status

