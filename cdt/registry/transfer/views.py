"""Routes of the member import and of the member/team exports (on the registry blueprint).

The uploaded file is kept server-side between the preview and the confirmation, under a
random token in the instance folder; the user's session holds the token (and the user id,
commune, name and SHA-256 of the file). Confirming re-reads that stored file, never a
re-posted one, checks it again against the database, and writes all rows or none.
"""
from __future__ import annotations

import hashlib
import io
import re
import secrets
import tempfile
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from cdt.audit.service import record_alone
from cdt.auth.scope import permission_required, user_commune
from cdt.core import clock
from cdt.core.spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE, iter_csv, stream_xlsx_to
from cdt.core.text import ascii_digits
from cdt.geo.queries import commune_in_area, commune_in_area_or_404, villages_of
from cdt.registry.blueprint import bp
from cdt.registry.matching import read_decisions
from cdt.registry.models import ROLE_LABELS
from cdt.registry.transfer import exporting, uploads
from cdt.registry.transfer.columns import IMPORT_COLUMNS
from cdt.registry.transfer.forms import ImportConfirmForm, ImportUploadForm
from cdt.registry.transfer.importing import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    ImportConflict,
    ImportFileError,
    commit,
    describe_conflict,
    file_extension,
    prepare,
    read_rows,
)
from cdt.registry.transfer.template import write_template

SESSION_KEY = "registry_import"
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


# --------------------------------------------------------------------------- stored uploads
# (the folder, file modes, claiming and cleaning: cdt/registry/transfer/uploads.py)

def _stored_path(token: str, ext: str) -> Path:
    if not _TOKEN.match(token or "") or ext not in ("xlsx", "csv"):
        abort(400)
    return uploads.folder() / f"{token}.{ext}"


def _pending() -> dict | None:
    """The current user's pending upload, when its file still exists."""
    pending = session.get(SESSION_KEY)
    if not isinstance(pending, dict) or pending.get("user_id") != current_user.id:
        return None
    path = _stored_path(pending.get("token", ""), pending.get("ext", ""))
    if not path.exists():
        session.pop(SESSION_KEY, None)
        return None
    return pending


def _discard(pending: dict | None) -> None:
    if pending:
        _stored_path(pending["token"], pending["ext"]).unlink(missing_ok=True)
    session.pop(SESSION_KEY, None)


def _load(pending: dict) -> bytes:
    data = _stored_path(pending["token"], pending["ext"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != pending.get("sha256"):
        abort(400)
    return data


def _after_import_url() -> str:
    return url_for("registry.members") if "registry.members" in current_app.view_functions \
        else url_for("registry.import_members")


# --------------------------------------------------------------------------- import pages

@bp.route("/members/import", methods=["GET", "POST"])
@login_required
@permission_required("registry.write")
def import_members():
    form = ImportUploadForm()
    own_commune = user_commune()
    if current_user.role != "admin" and own_commune is None:
        abort(403)
    if own_commune is not None:
        del form.commune
    pending = _pending()
    if form.validate_on_submit():
        commune = own_commune
        if commune is None:
            code = ascii_digits(form.commune.data or "").strip()
            commune = commune_in_area(code)
            if commune is None:
                form.commune.errors.append(_("Enter the code of a commune.") if not code
                                           else _("There is no commune with code %(code)s.", code=code))
        upload = form.file.data
        filename = (upload.filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:120]
        ext = file_extension(filename)
        data = upload.read(MAX_FILE_BYTES + 1)
        if commune is not None:
            try:
                read_rows(data, ext)  # file-level checks before anything is kept
            except ImportFileError as error:
                form.file.errors.append(str(error))
            else:
                _discard(pending)
                uploads.clean()
                token = secrets.token_hex(16)
                uploads.write(_stored_path(token, ext), data)
                session[SESSION_KEY] = {
                    "token": token, "ext": ext, "name": filename, "user_id": current_user.id,
                    "commune_id": commune.id, "sha256": hashlib.sha256(data).hexdigest(),
                }
                return redirect(url_for("registry.import_preview"))
    return render_template("registry/import.html", form=form, commune=own_commune, pending=pending,
                           columns=IMPORT_COLUMNS, max_rows=MAX_ROWS, max_mb=MAX_FILE_BYTES // (1024 * 1024))


def _render_preview(pending: dict, result, conflict: str | None = None, status: int = 200):
    form = ImportConfirmForm(token=pending["token"])
    return render_template("registry/import_preview.html", result=result, pending=pending, form=form,
                           conflict=conflict, shown=200, role_labels=ROLE_LABELS), status


@bp.route("/members/import/preview")
@login_required
@permission_required("registry.write")
def import_preview():
    pending = _pending()
    if pending is None:
        flash(_("There is no file waiting to be imported; upload it again."), "warning")
        return redirect(url_for("registry.import_members"))
    commune = commune_in_area_or_404(commune_id=pending["commune_id"])
    try:
        result = prepare(commune, _load(pending), pending["ext"], user=current_user, decisions={})
    except ImportFileError as error:
        _discard(pending)
        flash(str(error), "danger")
        return redirect(url_for("registry.import_members"))
    return _render_preview(pending, result)


@bp.route("/members/import/confirm", methods=["POST"])
@login_required
@permission_required("registry.write")
def import_confirm():
    form = ImportConfirmForm()
    pending = _pending()
    gone = _("This import is no longer waiting (it was confirmed, cancelled or replaced). Upload the file again.")
    if not form.validate_on_submit() or pending is None or not secrets.compare_digest(
            form.token.data or "", pending["token"]):
        flash(gone, "warning")
        return redirect(url_for("registry.import_members"))
    commune = commune_in_area_or_404(commune_id=pending["commune_id"])
    # Claim the stored file (an atomic rename, under a lock): a double click or a second tab
    # confirming the same upload at the same moment finds it gone and writes nothing.
    try:
        with uploads.Claim(_stored_path(pending["token"], pending["ext"])) as claim:
            data = claim.read()
            if hashlib.sha256(data).hexdigest() != pending.get("sha256"):
                abort(400)
            decisions = read_decisions(request.form)
            try:
                result = prepare(commune, data, pending["ext"], user=current_user, decisions=decisions)
                if result.ok:
                    counts = commit(result, filename=pending["name"])
            except ImportFileError as error:
                claim.done()
                session.pop(SESSION_KEY, None)
                flash(str(error), "danger")
                return redirect(url_for("registry.import_members"))
            except ImportConflict:
                again = prepare(commune, data, pending["ext"], user=current_user, decisions=decisions)
                return _render_preview(pending, again, conflict=describe_conflict(result, again), status=409)
            if not result.ok:
                return _render_preview(pending, result, status=422)
            claim.done()
    except uploads.Gone:
        flash(gone, "warning")
        return redirect(url_for("registry.import_members"))
    session.pop(SESSION_KEY, None)
    flash(_("Import done: %(created)s people registered, %(joined)s registered people added to a team, "
            "%(present)s already in their team.", **counts), "success")
    return redirect(_after_import_url())


@bp.route("/members/import/cancel", methods=["POST"])
@login_required
@permission_required("registry.write")
def import_cancel():
    form = ImportConfirmForm()
    if form.validate_on_submit():
        _discard(_pending())
        flash(_("The import was cancelled; nothing was written."), "info")
    return redirect(url_for("registry.import_members"))


@bp.route("/members/import/template.xlsx")
@login_required
def import_template():
    """The template: Vietnamese headers, one synthetic sample row, and a second sheet of allowed values."""
    commune = user_commune()
    villages = [(v.code, v.name) for v in villages_of(commune, clock.today())] if commune is not None else []
    buffer = io.BytesIO()
    write_template(buffer, villages)
    return _download(buffer.getvalue(), "mau-nhap-thanh-vien.xlsx", XLSX_MIMETYPE)


# --------------------------------------------------------------------------- exports

def _download(data, filename: str, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _filters_for_audit() -> dict:
    return {k: v[:100] for k, v in request.args.items() if k != "page"}


def _audit_export(what: str, rows: int) -> None:
    record_alone("export", details={"what": what, "rows": rows, "filters": _filters_for_audit()})


def _stamp() -> str:
    return clock.today().isoformat()


def _csv_response(what: str, columns, rows) -> Response:
    response = Response(stream_with_context(iter_csv([c.key for c in columns], rows)), mimetype=CSV_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{what}-{_stamp()}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _xlsx_response(what: str, title: str, columns, rows) -> Response:
    """Build the workbook in a temporary file (row by row: constant memory), then stream it."""
    spool = tempfile.TemporaryFile()
    try:
        stream_xlsx_to(spool, [str(c.label) for c in columns], rows, title,
                      column_widths=[max(10, min(30, len(str(c.label)) + 4)) for c in columns])
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise

    def chunks():
        try:
            while True:
                block = spool.read(256 * 1024)
                if not block:
                    break
                yield block
        finally:
            spool.close()

    response = Response(chunks(), mimetype=XLSX_MIMETYPE)
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = f'attachment; filename="{what}-{_stamp()}.xlsx"'
    response.headers["Cache-Control"] = "no-store"
    response.call_on_close(spool.close)
    return response


@bp.route("/members/export.csv")
@login_required
def export_members_csv():
    columns = exporting.member_columns()
    _audit_export("members.csv", exporting.count_members(request.args))
    return _csv_response("members", columns, exporting.member_rows(request.args, columns, human=False))


@bp.route("/members/export.xlsx")
@login_required
def export_members_xlsx():
    columns = exporting.member_columns()
    _audit_export("members.xlsx", exporting.count_members(request.args))
    return _xlsx_response("members", _("Members"), columns, exporting.member_rows(request.args, columns, human=True))


@bp.route("/teams/export.csv")
@login_required
def export_teams_csv():
    columns = list(exporting.TEAM_COLUMNS)
    _audit_export("teams.csv", exporting.count_teams(request.args))
    return _csv_response("teams", columns, exporting.team_rows(request.args, columns, human=False))


@bp.route("/teams/export.xlsx")
@login_required
def export_teams_xlsx():
    columns = list(exporting.TEAM_COLUMNS)
    _audit_export("teams.xlsx", exporting.count_teams(request.args))
    return _xlsx_response("teams", _("Teams"), columns, exporting.team_rows(request.args, columns, human=True))

