"""Pages of the outputs feature: the indicator catalogue, the commune's month entry, months
(deadline, locks) and the late and missing list. Units come through the area loaders (404
outside the user's area); the figures through cdt.outputs.queries; writes through services."""
from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from cdt.audit.service import record_alone
from cdt.auth.scope import can, get_in_area_or_404, permission_required, user_commune
from cdt.core.forms import EmptyForm
from cdt.core.inputs import page_arg, to_int
from cdt.core.spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE, Sheet, write_csv, write_workbook_to, write_xlsx
from cdt.extensions import db, limiter
from cdt.geo.models import LEVEL_DEPTH, AdminUnit
from cdt.geo.queries import breadcrumbs, commune_in_area_or_404, unit_in_area_or_404
from cdt.geo.within import valid_on
from cdt.outputs import allowances, importing, links, periods, queries, report_views, services, targets
from cdt.outputs import entry as entry_input
from cdt.outputs import report as outputs_report
from cdt.outputs.forms import AllowanceRateForm, DeadlineForm, IndicatorForm, TargetForm, UploadForm
from cdt.outputs.models import Indicator
from cdt.registry.models import Team

bp = Blueprint("outputs", __name__)

LATE_PAGE = 50


def locale() -> str:
    return str(get_locale() or "vi")


def month_arg(default: str | None = None) -> str:
    """The month of the query string (?month=YYYY-MM); 404 when it names none; else `default`."""
    raw = request.args.get("month")
    if raw:
        period = periods.parse(raw)
        if period is None:
            abort(404)
        return period
    return default or periods.last_month()


# -- the commune's month ----------------------------------------------------------------------

def _entry_commune() -> AdminUnit | None:
    """The commune of the entry page: the officer's own, else ?commune=CODE inside the user's area."""
    code = (request.args.get("commune") or "").strip()
    if code:
        return commune_in_area_or_404(code)
    return user_commune()


@bp.route("/outputs/entry", methods=["GET", "POST"])
@login_required
def entry():
    if request.method == "POST" and not can("outputs.enter"):
        abort(403)
    commune = _entry_commune()
    if commune is None:  # not a commune officer: choose the commune from the outputs report
        return redirect(url_for("outputs.report"))
    period = month_arg()
    indicators = queries.indicators_for(commune.province_id, period)
    rows = queries.commune_month(commune, period)
    locked = queries.is_locked(commune.province_id, period)
    editable = can("outputs.enter") and not locked and not periods.is_future(period)
    form = EmptyForm()
    errors: dict[str, str] = {}
    typed = None
    status = 200
    if request.method == "POST":
        if form.validate():
            entries, errors = entry_input.parse_entries(request.form, [r.team.id for r in rows],
                                                        [i.id for i in indicators])
            if not errors:
                try:
                    changed = services.save_month(commune, period, entries)
                except services.OutputsError as error:
                    flash(str(error.message), "danger")
                    status = 409
                else:
                    flash(_("Saved: %(num)s team reports changed.", num=changed), "success")
                    return redirect(url_for("outputs.entry", commune=commune.code, month=period))
            else:
                status = 400
            typed = request.form
        else:
            status = 400
    return render_template(
        "outputs/entry.html", commune=commune, period=period, indicators=indicators, rows=rows,
        locked=locked, editable=editable, form=form, errors=errors, typed=typed,
        prev_month=periods.shift(period, -1), next_month=periods.shift(period, 1),
        show_next=not periods.is_future(periods.shift(period, 1)), locale=locale(),
        value_name=entry_input.value_name, note_name=entry_input.note_name,
        due=queries.deadline(commune.province_id, period), crumbs=breadcrumbs(commune),
        linked=links.live_team_ids([r.team.id for r in rows]) if can("outputs.enter") else set(),
    ), status


# -- the catalogue ----------------------------------------------------------------------------

def _manager_province() -> AdminUnit | None:
    """The province whose own indicators and months the user manages (None for the admin)."""
    if current_user.role == "admin":
        return None
    area = current_user.area
    if area is None or area.level != "province":
        abort(403)
    return area


@bp.get("/outputs/indicators")
@login_required
@permission_required("outputs.manage")
def indicators():
    province = _manager_province()
    rows = queries.indicator_list(province.id if province else None, everything=province is None)
    names = dict(db.session.execute(select(AdminUnit.id, AdminUnit.name).where(
        AdminUnit.id.in_({i.province_id for i in rows if i.province_id}))).all())
    return render_template("outputs/indicators.html", rows=rows, province=province, names=names,
                           locale=locale())


def _editable_indicator(indicator_id: int) -> Indicator:
    """An indicator the user may change: any for the admin, their province's own for province staff."""
    indicator = db.session.get(Indicator, indicator_id)
    province = _manager_province()
    if indicator is None or (province is not None and indicator.province_id != province.id):
        abort(404)
    return indicator


def _indicator_page(form: IndicatorForm, indicator: Indicator | None, province: AdminUnit | None):
    status = 200
    if form.validate_on_submit():
        data = {name: getattr(form, name).data for name in services.INDICATOR_FIELDS}
        try:
            services.save_indicator(indicator, data, indicator.province_id if indicator else
                                    (province.id if province else None))
        except services.OutputsError as error:
            getattr(form, error.field).errors.append(str(error.message))
        else:
            flash(_("The indicator has been saved."), "success")
            return redirect(url_for("outputs.indicators"))
    if form.errors or request.method == "POST":
        status = 400
    return render_template("outputs/indicator_form.html", form=form, indicator=indicator, province=province), status


@bp.route("/outputs/indicators/new", methods=["GET", "POST"])
@login_required
@permission_required("outputs.manage")
def indicator_new():
    province = _manager_province()
    return _indicator_page(IndicatorForm(), None, province)


@bp.route("/outputs/indicators/<int:indicator_id>/edit", methods=["GET", "POST"])
@login_required
@permission_required("outputs.manage")
def indicator_edit(indicator_id: int):
    indicator = _editable_indicator(indicator_id)
    return _indicator_page(IndicatorForm(obj=indicator), indicator, _manager_province())


# -- months: deadline, locks, late and missing ------------------------------------------------

def _province_arg() -> AdminUnit:
    """The province of ?unit=CODE (inside the user's area), else the user's own province."""
    code = (request.args.get("unit") or "").strip()
    if code:
        unit = unit_in_area_or_404(code)
    else:
        unit = current_user.area
        if unit is None:  # the admin names the province
            abort(400)
    if unit.level != "province":
        abort(404)
    return unit


def _provinces_page(endpoint: str = "outputs.months"):
    """The admin's choice of a province (valid today) for a province's page."""
    provinces = db.session.scalars(select(AdminUnit).where(
        AdminUnit.level == "province", valid_on(AdminUnit, periods.clock.today())).order_by(AdminUnit.code))
    return render_template("outputs/provinces.html", provinces=list(provinces), endpoint=endpoint)


@bp.get("/outputs/months")
@login_required
@permission_required("outputs.manage")
def months():
    if current_user.role == "admin" and not request.args.get("unit"):
        return _provinces_page()
    province = _province_arg()
    last = periods.current()
    shown = list(reversed(periods.months(periods.shift(last, -23), last)))
    locked = queries.locked_periods(province.id)
    form = DeadlineForm(data={"day": queries.deadline_day(province.id)})
    return render_template("outputs/months.html", province=province, months=shown, locked=locked,
                           form=form, deadline=lambda p: queries.deadline(province.id, p))


@bp.post("/outputs/months/deadline")
@login_required
@permission_required("outputs.manage")
def deadline():
    province = _province_arg()
    form = DeadlineForm()
    if form.validate():
        services.set_deadline(province, form.day.data)
        flash(_("The deadline has been saved."), "success")
        return redirect(url_for("outputs.months", unit=province.code))
    last = periods.current()
    shown = list(reversed(periods.months(periods.shift(last, -23), last)))
    return render_template("outputs/months.html", province=province, months=shown,
                           locked=queries.locked_periods(province.id), form=form,
                           deadline=lambda p: queries.deadline(province.id, p)), 400


def _period_or_404(period: str) -> str:
    parsed = periods.parse(period)
    if parsed is None:
        abort(404)
    return parsed


@bp.post("/outputs/months/<period>/lock")
@login_required
@permission_required("outputs.manage")
def lock(period: str):
    province = _province_arg()
    period = _period_or_404(period)
    if not EmptyForm().validate():
        abort(400)
    if services.lock_month(province, period, current_user):
        flash(_("%(month)s is locked.", month=period), "success")
    return redirect(url_for("outputs.months", unit=province.code))


@bp.post("/outputs/months/<period>/reopen")
@login_required
@permission_required("outputs.manage")
def reopen(period: str):
    province = _province_arg()
    period = _period_or_404(period)
    if not EmptyForm().validate():
        abort(400)
    if services.reopen_month(province, period):
        flash(_("%(month)s is open again.", month=period), "success")
    return redirect(url_for("outputs.months", unit=province.code))


@bp.get("/outputs/late")
@login_required
def late():
    code = (request.args.get("unit") or "").strip()
    if not code and current_user.area is None:
        return _provinces_page("outputs.late")
    unit = unit_in_area_or_404(code) if code else current_user.area
    if unit.level == "village":
        abort(404)
    period = month_arg()
    stmt, due = queries.late_and_missing(unit, period, unit.province_id or unit.id)
    total = queries.count_of(stmt)
    page = min(page_arg(), max(1, -(-total // LATE_PAGE)))
    items = db.session.execute(stmt.limit(LATE_PAGE).offset((page - 1) * LATE_PAGE)).all()
    pages = max(1, -(-total // LATE_PAGE))
    return render_template("outputs/late.html", unit=unit, period=period, due=due, items=items, total=total,
                           page=page, pages=pages, crumbs=breadcrumbs(unit),
                           prev_month=periods.shift(period, -1), next_month=periods.shift(period, 1))


@bp.app_template_global()
def outputs_month_label(period: str) -> str:
    """'03/2025': how a month is written on pages."""
    return f"{period[5:7]}/{period[:4]}"




# -- the outputs report -----------------------------------------------------------------------

@bp.get("/reports/outputs")
@login_required
def report():
    req = report_views.parse()
    rows, total = outputs_report.outputs(req.unit, req.level, req.first, req.last, req.indicators)
    trend = outputs_report.trend(req.unit, req.indicator.id, req.first, req.last) if req.indicator else []
    peak = max([v for _p, v, _e, _r in trend] + [1])
    return render_template(
        "outputs/report.html", req=req, rows=rows, total=total, trend=trend, peak=peak, locale=locale(),
        level_names=report_views.LEVEL_NAMES, levels=_levels_below(req.unit),
        unit_crumbs=breadcrumbs(req.unit) if req.unit is not None else [],
    ), 400 if req.errors else 200


def _levels_below(unit: AdminUnit | None) -> list[str]:
    depth = unit.depth if unit is not None else -1
    return [level for level in outputs_report.ROW_LEVELS
            if level == "team" or LEVEL_DEPTH[level] > depth]


def _export_name(req, extension: str) -> str:
    return f"outputs-{req.unit.code if req.unit else 'all'}-{req.level}-{req.first}-{req.last}.{extension}"


@bp.get("/reports/outputs.csv")
@login_required
def report_csv():
    """Exactly the columns of `flask cdt report outputs`."""
    req = report_views.parse()
    if req.errors:
        abort(400)
    lines = report_views.export_rows(req)
    data = write_csv(outputs_report.CSV_COLUMNS, lines)
    report_views.audit(req, "outputs.csv", len(lines))
    return report_views.attachment(data, CSV_MIMETYPE, _export_name(req, "csv"))


@bp.get("/reports/outputs.xlsx")
@login_required
def report_xlsx():
    """The CSV's rows and numbers, headers in the user's language."""
    req = report_views.parse()
    if req.errors:
        abort(400)
    lines = report_views.export_rows(req)
    names = {str(level): str(label) for level, label in report_views.LEVEL_NAMES.items()}
    for line in lines:
        line[0] = names.get(line[0], line[0])
    title = _("Outputs") + " " + (req.unit.name if req.unit else _("All provinces"))
    data = write_xlsx([str(label) for _key, label in report_views.XLSX_COLUMNS], lines, title,
                      column_widths=[10, 10, 32, 10, 9, 9, 22] + [12] * 6)
    report_views.audit(req, "outputs.xlsx", len(lines))
    return report_views.attachment(data, XLSX_MIMETYPE, _export_name(req, "xlsx"))


@bp.app_template_global()
def team_outputs(team) -> dict:
    """What a team's page shows of its monthly reports: the indicators and its last 12 months
    (the team was loaded through the area loader by the registry's view)."""
    last = periods.last_month()
    return {"indicators": queries.indicators_for(team.province_id, periods.shift(last, -11), last),
            "months": queries.team_history(team, last), "locale": locale()}


# -- targets ----------------------------------------------------------------------------------

def _year_arg() -> int:
    year = to_int(request.args.get("year"), periods.clock.today().year,
                  minimum=periods.FIRST_YEAR, maximum=periods.clock.today().year + 1)
    return year


def _targets_page(province: AdminUnit, year: int, form: TargetForm | None = None,
                  upload: UploadForm | None = None, errors: list[str] | None = None, status: int = 200):
    indicators = targets.year_indicators(province, year)
    communes = targets.communes_of(province, year)
    form = form or TargetForm()
    _target_choices(form, province, communes, indicators)
    return render_template(
        "outputs/targets.html", province=province, year=year, form=form, upload=upload or UploadForm(),
        rows=targets.targets_of(province, year), indicators={i.id: i for i in indicators},
        split=targets.split_totals(province, year), errors=errors or [], locale=locale(),
    ), status


def _target_choices(form: TargetForm, province: AdminUnit, communes, indicators) -> None:
    form.unit.choices = [(province.code, province.name)] + [(c.code, c.name) for c in communes]
    form.indicator.choices = [(i.code, i.name(locale())) for i in indicators]
    form.month.choices = [("", _("Whole year"))] + [(str(m), f"{m:02d}") for m in range(1, 13)]


@bp.get("/outputs/targets")
@login_required
@permission_required("outputs.manage")
def targets_page():
    if current_user.role == "admin" and not request.args.get("unit"):
        return _provinces_page("outputs.targets_page")
    return _targets_page(_province_arg(), _year_arg())


@bp.post("/outputs/targets")
@login_required
@permission_required("outputs.manage")
def target_set():
    province, year = _province_arg(), _year_arg()
    form = TargetForm()
    indicators = {i.code: i for i in targets.year_indicators(province, year)}
    communes = {c.code: c for c in targets.communes_of(province, year)}
    _target_choices(form, province, communes.values(), indicators.values())
    if form.validate():
        unit = province if form.unit.data == province.code else communes.get(form.unit.data)
        indicator = indicators.get(form.indicator.data)
        month = to_int(form.month.data, minimum=1, maximum=12) if form.month.data else None
        value, ok = entry_input.parse_count(form.value.data)
        if unit is None:
            form.unit.errors.append(_("Choose a unit."))
        elif indicator is None:
            form.indicator.errors.append(_("Choose an indicator."))
        elif form.month.data and month is None:
            form.month.errors.append(_("Choose a month from the list."))
        elif not ok:
            form.value.errors.append(str(entry_input.NOT_A_COUNT))
        else:
            targets.set_target(unit, indicator, year, month, value)
            flash(_("The target has been saved."), "success")
            return redirect(url_for("outputs.targets_page", unit=province.code, year=year))
    return _targets_page(province, year, form=form, status=400)


@bp.get("/outputs/targets/template.xlsx")
@login_required
@permission_required("outputs.manage")
def targets_template():
    province, year = _province_arg(), _year_arg()
    return report_views.attachment(targets.template(province, year), XLSX_MIMETYPE,
                                   f"targets-{province.code}-{year}.xlsx")


@bp.post("/outputs/targets/upload")
@login_required
@permission_required("outputs.manage")
def targets_upload():
    province, year = _province_arg(), _year_arg()
    upload = UploadForm()
    if not upload.validate():
        return _targets_page(province, year, upload=upload, status=400)
    result = targets.import_split(province, year, upload.file.data.read())
    if result.errors:
        return _targets_page(province, year, upload=upload, errors=result.errors, status=400)
    flash(_("Targets saved for %(num)s cells.", num=result.written), "success")
    return redirect(url_for("outputs.targets_page", unit=province.code, year=year))


# -- the commune's month from an Excel file -----------------------------------------------------

def _import_commune() -> AdminUnit:
    commune = _entry_commune()
    if commune is None:  # not a commune officer, and no ?commune=CODE
        abort(400)
    return commune


@bp.get("/outputs/import/template.xlsx")
@login_required
@permission_required("outputs.enter")
def import_template():
    commune, period = _import_commune(), month_arg()
    return report_views.attachment(importing.template(commune, period), XLSX_MIMETYPE,
                                   f"monthly-{commune.code}-{period}.xlsx")


@bp.route("/outputs/import", methods=["GET", "POST"])
@login_required
@permission_required("outputs.enter")
def import_month():
    commune, period = _import_commune(), month_arg()
    upload = UploadForm()
    preview = None
    status = 200
    if upload.validate_on_submit():
        preview = importing.read(commune, period, upload.file.data.read())
        try:
            services.check_open(commune.province_id, period)
        except services.OutputsError as error:
            preview.errors.insert(0, str(error.message))
        status = 200 if preview.ok else 400
    elif request.method == "POST":
        status = 400
    return render_template("outputs/import.html", commune=commune, period=period, upload=upload, preview=preview,
                           confirm=EmptyForm(), locale=locale(), value_name=entry_input.value_name,
                           note_name=entry_input.note_name), status


@bp.post("/outputs/import/confirm")
@login_required
@permission_required("outputs.enter")
def import_confirm():
    """Write the previewed rows (sent back as the entry page's inputs, checked again): all or nothing."""
    commune, period = _import_commune(), month_arg()
    if not EmptyForm().validate():
        abort(400)
    indicators = queries.indicators_for(commune.province_id, period)
    rows = queries.commune_month(commune, period)
    entries, errors = entry_input.parse_entries(request.form, [r.team.id for r in rows], [i.id for i in indicators])
    if errors or not entries:
        flash(_("The file could not be imported; nothing was saved. Upload it again."), "danger")
        return redirect(url_for("outputs.import_month", commune=commune.code, month=period))
    try:
        changed = services.save_month(commune, period, entries, source="import")
    except services.OutputsError as error:
        flash(str(error.message), "danger")
        return redirect(url_for("outputs.import_month", commune=commune.code, month=period))
    flash(_("Saved: %(num)s team reports changed.", num=changed), "success")
    return redirect(url_for("outputs.entry", commune=commune.code, month=period))


# -- team leaders' private links ---------------------------------------------------------------

@bp.post("/outputs/teams/<int:team_id>/link")
@login_required
@permission_required("outputs.enter")
def link_create(team_id: int):
    team = get_in_area_or_404(Team, team_id)
    if not EmptyForm().validate():
        abort(400)
    secret = links.create(team, current_user)
    url = url_for("outputs.team_link", secret=secret, _external=True)
    flash(_("The private link of %(team)s (shown only now; send it to the team leader): %(url)s",
            team=team.name, url=url), "success")
    return redirect(url_for("outputs.entry", commune=_code_of(team.commune_id), month=month_arg()))


@bp.post("/outputs/teams/<int:team_id>/link/revoke")
@login_required
@permission_required("outputs.enter")
def link_revoke(team_id: int):
    team = get_in_area_or_404(Team, team_id)
    if not EmptyForm().validate():
        abort(400)
    if links.revoke(team):
        flash(_("The private link of %(team)s no longer works.", team=team.name), "success")
    return redirect(url_for("outputs.entry", commune=_code_of(team.commune_id), month=month_arg()))


def _code_of(unit_id: int) -> str:
    return db.session.get(AdminUnit, unit_id).code


def _link_limit() -> str:
    return current_app.config.get("CDT_TEAM_LINK_LIMIT", "30 per minute")


@bp.route("/t/<secret>", methods=["GET", "POST"])
@limiter.limit(_link_limit)
def team_link(secret: str):
    """A team leader's page: their team's open months only; 404 for a revoked or unknown link."""
    team = links.team_for(secret)
    if team is None:
        abort(404)
    months_open = links.open_months(team)
    period = request.args.get("month") or (months_open[0] if months_open else None)
    if period is not None and period not in months_open:
        abort(404)
    indicators = queries.indicators_for(team.province_id, period) if period else []
    report, values = queries.team_month(team, period) if period else (None, {})
    form = EmptyForm()
    errors: dict[str, str] = {}
    typed = None
    status = 200
    if request.method == "POST" and period is not None:
        if not form.validate():
            abort(400)
        entries, errors = entry_input.parse_entries(request.form, [team.id], [i.id for i in indicators])
        if not errors and team.id in entries:
            try:
                services.save_team_month(team, period, entries[team.id], source="link")
            except services.OutputsError as error:
                flash(str(error.message), "danger")
                status = 409
            else:
                flash(_("Thank you: the month has been saved."), "success")
                return redirect(url_for("outputs.team_link", secret=secret, month=period))
        else:
            status = 400
            typed = request.form
    response = make_response(render_template(
        "outputs/team_link.html", team=team, period=period, months=months_open, indicators=indicators,
        report=report, values=values, form=form, errors=errors, typed=typed, secret=secret, locale=locale(),
        value_name=entry_input.value_name, note_name=entry_input.note_name), status)
    response.headers["Referrer-Policy"] = "no-referrer"  # the secret is in the URL
    response.headers["Cache-Control"] = "no-store"
    return response


# -- allowances -------------------------------------------------------------------------------

@bp.route("/outputs/allowances/rates", methods=["GET", "POST"])
@login_required
@permission_required("outputs.manage")
def allowance_rates():
    if current_user.role == "admin" and not request.args.get("unit"):
        return _provinces_page("outputs.allowance_rates")
    province = _province_arg()
    form = AllowanceRateForm()
    status = 200
    if form.validate_on_submit():
        allowances.add_rate(province, form.per_team.data, form.per_member.data, form.valid_from.data,
                            form.valid_to.data)
        flash(_("The allowance rate has been saved."), "success")
        return redirect(url_for("outputs.allowance_rates", unit=province.code))
    if request.method == "POST":
        status = 400
    return render_template("outputs/allowance_rates.html", province=province, form=form,
                           rates=allowances.rates_of(province.id)), status


def _allowance_request():
    """(unit, month, rate) of an allowance sheet: a province or a unit inside one (404 outside the area)."""
    code = (request.args.get("unit") or "").strip()
    if not code and current_user.area is None:
        return None, None, None
    unit = unit_in_area_or_404(code) if code else current_user.area
    if unit.level == "village":
        abort(404)
    period = month_arg()
    return unit, period, allowances.rate_for(unit.province_id, period)


@bp.get("/reports/allowances")
@login_required
def allowance_sheet():
    unit, period, rate = _allowance_request()
    if unit is None:
        return _provinces_page("outputs.allowance_sheet")
    lines = allowances.sheet(unit, period, rate)
    return render_template(
        "outputs/allowances.html", unit=unit, period=period, rate=rate, lines=lines,
        totals=allowances.commune_totals(lines), total=sum(line.amount for line in lines),
        prev_month=periods.shift(period, -1), next_month=periods.shift(period, 1),
        unit_crumbs=breadcrumbs(unit),
    )


@bp.get("/reports/allowances.xlsx")
@login_required
def allowance_xlsx():
    unit, period, rate = _allowance_request()
    if unit is None:
        abort(400)
    lines = allowances.sheet(unit, period, rate)
    headers = [_("Commune code"), _("Commune"), _("Village"), _("Team"), _("Leader"), _("Members"),
               _("Days active"), _("Days in the month"), _("Amount (VND)")]
    rows = [[x.commune_code, x.commune_name, x.village_name, x.team_name, x.leader or "", x.members, x.days,
             x.month_days, x.amount] for x in lines]
    totals = [[code, name, teams, amount] for code, name, teams, amount in allowances.commune_totals(lines)]
    buffer = io.BytesIO()
    write_workbook_to(buffer, [
        Sheet(_("Teams"), headers, rows, [12, 24, 24, 32, 24, 10, 10, 10, 14]),
        Sheet(_("Communes"), [_("Commune code"), _("Commune"), _("Teams"), _("Amount (VND)")], totals,
              [12, 30, 10, 16]),
    ])
    record_alone("export", details={"what": "allowances.xlsx", "unit": unit.code, "month": period,
                                    "rows": len(rows)})
    return report_views.attachment(buffer.getvalue(), XLSX_MIMETYPE, f"allowances-{unit.code}-{period}.xlsx")
