"""Coverage report pages and exports: /reports/coverage(.csv|.xlsx) and /reports/gaps.

Views stay thin: parse the filter, resolve the unit inside the user's area (404 outside),
call cdt.reports.queries (the one definition of the figures), render or export.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from cdt.audit.service import record_alone
from cdt.core import clock
from cdt.core.data_version import cached
from cdt.core.inputs import page_arg
from cdt.core.spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE, write_csv, write_xlsx
from cdt.extensions import db
from cdt.geo.models import LEVEL_DEPTH, LEVEL_LABELS, LEVELS, AdminUnit
from cdt.geo.queries import breadcrumbs, successors, unit_in_area_or_404
from cdt.ops.caching import conditional
from cdt.reports import queries
from cdt.reports.params import Report, default_unit, parse_report

bp = Blueprint("reports", __name__, url_prefix="/reports")

PAGE_ROWS = 250  # rows of the table per page (a national village list has ~80,000)
GAP_PAGE = 50

# Sort keys of the table: query argument -> (label, value of a row). "-key" sorts descending.
SORTS = {
    "name": lambda r: r.name,
    "code": lambda r: r.code,
    "villages": lambda r: r.villages,
    "teams": lambda r: r.teams,
    "coverage": lambda r: r.coverage_pct,
    "members": lambda r: r.members,
    "memberships": lambda r: r.memberships,
    "per_team": lambda r: r.members_per_team,
    "youth": lambda r: r.youth_union_members,
    "youth_pct": lambda r: r.youth_union_pct,
    "leaders": lambda r: r.leaders,
    "leaders_pct": lambda r: r.leaders_pct,
    "trained": lambda r: r.trained_members,
    "trained_pct": lambda r: r.trained_pct,
    "sessions": lambda r: r.sessions_held,
}

# The XLSX columns: CSV key (or a derived figure) and the header in the user's language.
XLSX_COLUMNS = [
    ("level", _l("Level")), ("code", _l("Unit code")), ("name", _l("Unit name")),
    ("parent_code", _l("Parent unit code")), ("villages", _l("Number of villages")),
    ("teams", _l("Villages with a team")), ("coverage_pct", _l("Coverage (%)")),
    ("members", _l("Members")), ("memberships", _l("Memberships")), ("members_per_team", _l("Members per team")),
    ("youth_union_members", _l("Youth-union members")), ("youth_union_pct", _l("Youth-union share (%)")),
    ("leaders", _l("Teams with a leader")), ("leaders_pct", _l("Teams with a leader (%)")),
    ("trained_members", _l("Trained members")), ("trained_pct", _l("Trained (%)")),
    ("sessions_held", _l("Sessions held")),
]

GAP_TITLES = {
    "villages": _l("Villages without an active team"),
    "small_teams": _l("Teams with fewer than 3 members"),
    "no_leader": _l("Teams without a leader"),
    "untrained": _l("Members never trained"),
}


def _sorted(rows: list, sort: str) -> tuple[list, str]:
    """Rows sorted by a key of SORTS ("-key" descending) or "worst" (weakest first)."""
    if sort == "worst":
        def worst(r):
            return (r.coverage_pct is not None, r.coverage_pct or 0, r.trained_pct is not None,
                    r.trained_pct or 0, r.leaders_pct or 0, r.code)
        return sorted(rows, key=worst), sort
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTS:
        return rows, "code"
    getter = SORTS[key]

    def value(r):
        v = getter(r)
        return (v is not None, v if v is not None else 0, r.code)

    return sorted(rows, key=value, reverse=descending), sort


def _levels_below(unit: AdminUnit | None) -> list[SelectChoice]:
    depth = unit.depth if unit is not None else -1
    return [SelectChoice(level, str(LEVEL_LABELS[level])) for level in LEVELS if LEVEL_DEPTH[level] > depth]


@bp.get("/coverage")
@login_required
def coverage():
    report = parse_report()
    if report.ended:
        # An ended unit asked for a later date: its successors, each a link to its report.
        return render_template("reports/ended.html", unit=report.unit, successors=successors(report.unit),
                               report=report, args=report.args(unit=None, map=None)), 404
    status = 200 if report.valid else 400
    if report.valid:
        # Everything below the breadcrumbs depends only on the unit, the arguments, the data, the
        # language and the date: kept per data version (cdt/core/data_version.py), like its figures.
        # The unit is in the key: without `unit=` each user's report is of their own area.
        key = (str(get_locale()), report.as_of, report.unit.id if report.unit is not None else None, report.level,
               tuple(sorted(request.args.items(multi=True))))
        content = cached("coverage_page", key, lambda: _coverage_content(report))
    else:
        content = _coverage_content(report)
    return render_template(
        "reports/coverage.html", report=report, content=content,
        unit_crumbs=breadcrumbs(report.unit) if report.unit is not None else [],
        report_crumb_args=_crumb_args(report),
    ), status


def _coverage_content(report: Report) -> Markup:
    form = report.form
    form.by.choices = _levels_below(report.unit) or [SelectChoice(report.unit.level, report.unit.level_label)]
    totals = None
    if not report.valid:
        pass
    elif report.unit is not None:
        totals = queries.summary(report.unit, report.as_of, report.period_from, report.period_to, report.map_day)
    else:
        totals = queries.country_summary(report.as_of, report.period_from, report.period_to)
    rows = []
    if report.valid and report.level is not None:
        rows = queries.coverage(report.unit, report.level, report.as_of, report.period_from, report.period_to,
                                report.map_day)
    sort = request.args.get("sort") or "code"
    rows, sort = _sorted(rows, sort)
    page = page_arg()
    pages = max(1, -(-len(rows) // PAGE_ROWS))
    page = min(max(page, 1), pages)
    shown = rows[(page - 1) * PAGE_ROWS: page * PAGE_ROWS]
    village_team = None
    if report.unit is not None and report.unit.level == "village":
        village_team = queries.village_team(report.unit, report.as_of)
    return Markup(render_template(
        "reports/_coverage_body.html", report=report, form=form, totals=totals, rows=shown, row_count=len(rows),
        sort=sort, page=page, pages=pages, village_team=village_team,
        level_label=str(LEVEL_LABELS[report.level]) if report.level else "",
        gap_kinds=queries.GAP_KINDS, gap_titles=GAP_TITLES,
    ))


def _crumb_args(report: Report) -> dict:
    args = report.args(unit=None, by=None, sort=None)
    args.pop("unit", None)
    return args


def _export_rows(report: Report) -> list:
    if report.ended:
        abort(404)
    if not report.valid or report.level is None:
        abort(400)
    return queries.coverage(report.unit, report.level, report.as_of, report.period_from, report.period_to,
                            report.map_day)


def _filename(report: Report, extension: str) -> str:
    unit = report.unit.code if report.unit is not None else "all"
    return f"coverage-{unit}-{report.level}-{report.as_of.isoformat()}.{extension}"


def _audit(report: Report, what: str, count: int) -> None:
    record_alone("export", details={
        "what": what, "unit": report.unit.code if report.unit is not None else "all", "by": report.level,
        "as_of": report.as_of.isoformat(),
        "from": report.period_from.isoformat() if report.period_from else None,
        "to": report.period_to.isoformat() if report.period_to else None, "rows": count,
    })


def _attachment(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/coverage.csv")
@login_required
def coverage_csv():
    """Exactly the columns of `flask cdt report coverage --format csv`."""
    report = parse_report()
    rows = _export_rows(report)
    values = [[row.csv_values()[key] for key in queries.CSV_COLUMNS] for row in rows]
    data = write_csv(queries.CSV_COLUMNS, values)
    _audit(report, "coverage.csv", len(rows))
    # Revalidated, never stored blindly: 304 while the figures are the same bytes.
    return conditional(_attachment(data, CSV_MIMETYPE, _filename(report, "csv")))


@bp.get("/coverage.xlsx")
@login_required
def coverage_xlsx():
    """The page's columns, headers in the user's language, formula-safe."""
    report = parse_report()
    rows = _export_rows(report)
    level_names = {level: str(label) for level, label in LEVEL_LABELS.items()}
    values = []
    for row in rows:
        line = []
        for key, _label in XLSX_COLUMNS:
            value = level_names[row.level] if key == "level" else getattr(row, key)
            line.append(value)
        values.append(line)
    # A report sent upward has a total row: the unit's own figures (a person in two rows counts
    # once), as on the page; the CSV keeps the CLI's rows only.
    if report.unit is not None:
        totals = queries.summary(report.unit, report.as_of, report.period_from, report.period_to, report.map_day)
    else:
        totals = queries.country_summary(report.as_of, report.period_from, report.period_to)
    values.append(["", "", _("Total"), ""] + [getattr(totals, key) for key, _label in XLSX_COLUMNS[4:]])
    title = _("Coverage") + " " + (report.unit.name if report.unit is not None else _("All provinces"))
    data = write_xlsx([str(label) for _key, label in XLSX_COLUMNS], values, title,
                      column_widths=[10, 10, 32, 10] + [12] * (len(XLSX_COLUMNS) - 4))
    _audit(report, "coverage.xlsx", len(rows))
    return _attachment(data, XLSX_MIMETYPE, _filename(report, "xlsx"))


# -- gaps -------------------------------------------------------------------------------------

@bp.get("/gaps")
@login_required
def gaps():
    code = (request.args.get("unit") or "").strip()
    unit = unit_in_area_or_404(code) if code else default_unit()
    kind = request.args.get("kind")
    if kind is not None and kind not in queries.GAP_KINDS:
        abort(404)
    as_of = clock.today()
    counts = {
        k: db.session.scalar(select(func.count()).select_from(queries.gap_statement(k, unit, as_of).order_by(None).subquery()))
        for k in queries.GAP_KINDS
    }
    if kind is None:  # open on the first list that has something in it
        kind = next((k for k in queries.GAP_KINDS if counts[k]), queries.GAP_KINDS[0])
    page = page_arg()
    pagination = Page(page, GAP_PAGE, counts[kind])
    stmt = queries.gap_statement(kind, unit, as_of).limit(GAP_PAGE).offset((pagination.page - 1) * GAP_PAGE)
    if kind in ("small_teams", "no_leader"):
        items = db.session.execute(stmt).all()  # (team, members) pairs
    else:
        items = db.session.scalars(stmt).all()
    places = _places(kind, items)
    return render_template(
        "reports/gaps.html", unit=unit, kind=kind, counts=counts, items=items, pagination=pagination,
        places=places, gap_titles=GAP_TITLES, gap_kinds=queries.GAP_KINDS, as_of=as_of,
        unit_crumbs=breadcrumbs(unit) if unit is not None else [],
    )


def _places(kind: str, items: list) -> dict[int, AdminUnit]:
    """The units named beside each record (village of a team, commune of a village), one query."""
    if kind == "villages":
        ids = {v.commune_id for v in items}
    elif kind == "untrained":
        ids = {p.commune_id for p in items}
    else:
        ids = {t.village_id for t, _n in items} | {t.commune_id for t, _n in items}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(AdminUnit).where(AdminUnit.id.in_(ids)))}


@bp.app_template_global()
def record_path(kind: str, record_id: int) -> str:
    """Link to a team or member page (those pages belong to the registry feature)."""
    endpoint, argument = ("registry.team", "team_id") if kind == "team" else ("registry.member", "person_id")
    if endpoint in current_app.view_functions:
        return url_for(endpoint, **{argument: record_id})
    return f"{request.script_root}/{'teams' if kind == 'team' else 'members'}/{record_id}"


class Page:
    """What the shared `pager` macro needs, for a count already known."""

    def __init__(self, page: int, per_page: int, total: int):
        self.total = total
        self.pages = max(1, -(-total // per_page))
        self.page = min(max(page, 1), self.pages)
        self.has_prev = self.page > 1
        self.has_next = self.page < self.pages
        self.prev_num = self.page - 1
        self.next_num = self.page + 1
