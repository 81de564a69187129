"""The roster import: upload → preview (a page of its own, for the kept file) → confirm.

The uploaded file waits in the instance folder under a random name between the steps, so any
worker can confirm it.
"""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SubmitField

from caretrack.admin import bp
from caretrack.models import now_utc
from caretrack.services.roster_columns import (
    BLANK_CELLS_HELP,
    COLUMNS,
    RosterFileError,
    read_roster,
)
from caretrack.services.roster_import import PreviewChanged, import_roster, preview_import
from caretrack.services.statistics import ROSTER_TABLES, refresh_statistics
from caretrack.services.uploads import (
    discard_upload,
    load_upload,
    record_refused_upload,
    stage_upload,
)
from caretrack.web import client_address, commit_write


class RosterUploadForm(FlaskForm):
    file = FileField(
        _l("Roster file (XLSX or CSV)"),
        validators=[FileRequired(message=_l("Choose the file to import."))],
    )
    submit = SubmitField(_l("Check the file"))


class RosterConfirmForm(FlaskForm):
    fingerprint = HiddenField()
    sheet = HiddenField()
    submit = SubmitField(_l("Import"))


def _upload_limit_mb() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return f"{limit / (1024 * 1024):.0f}"


@bp.route("/roster/import", methods=["GET", "POST"])
def roster_import():
    """Upload a roster file; a file that can be read goes on to its preview."""
    form = RosterUploadForm()
    expected: list[str] = []
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        user, filename = current_user._get_current_object(), upload.filename or ""
        try:
            token = commit_write(lambda: stage_upload(user, filename, upload.read(), now_utc(),
                                                      check=read_roster)).result
        except RosterFileError as exc:
            form.file.errors.append(exc.message)
            expected = exc.expected
            status, reason = exc.status, f"{exc.status} {exc.message}"
            commit_write(lambda: record_refused_upload(user, "roster", filename, reason,
                                                       now=now_utc(), ip=client_address()))
        else:
            return redirect(url_for("admin.roster_import_preview", token=token))
    return render_template(
        "admin/roster_import.html", form=form, columns=COLUMNS, expected=expected,
        blank_cells_help=BLANK_CELLS_HELP,
        limit_mb=_upload_limit_mb(),
    ), status


def _upload_or_flash(token: str):
    upload = load_upload(current_user, token)
    if upload is None:
        flash(_("This upload has expired or was imported already. Upload the file again."),
              "warning")
    return upload


@bp.get("/roster/import/<token>")
def roster_import_preview(token: str):
    """Show what importing the kept file would do; nothing is written."""
    upload = _upload_or_flash(token)
    if upload is None:
        return redirect(url_for("admin.roster_import"))
    sheet = request.args.get("sheet")
    try:
        preview = preview_import(upload.filename, upload.data, sheet=sheet)
    except RosterFileError as exc:
        flash(exc.message, "danger")
        if sheet is not None:
            return redirect(url_for("admin.roster_import_preview", token=token))
        return redirect(url_for("admin.roster_import"))
    form = RosterConfirmForm(fingerprint=preview.fingerprint, sheet=preview.sheet)
    return render_template(
        "admin/roster_import_preview.html", preview=preview, form=form, token=token,
        upload_form=RosterUploadForm(formdata=None), limit_mb=_upload_limit_mb(),
    )


@bp.post("/roster/import/<token>")
def roster_import_confirm(token: str):
    """Apply the previewed file, all or nothing, if it still does exactly what was shown."""
    upload = _upload_or_flash(token)
    if upload is None:
        return redirect(url_for("admin.roster_import"))
    form = RosterConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("admin.roster_import_preview", token=token))
    try:
        result = commit_write(lambda: import_roster(
            upload.filename, upload.data, form.fingerprint.data or "", current_user, now_utc(),
            ip=client_address(), sheet=form.sheet.data or None,
        )).result
    except (PreviewChanged, RosterFileError):
        flash(_("The roster changed since this preview. Check the new preview and confirm "
                "again."), "warning")
        return redirect(url_for("admin.roster_import_preview", token=token,
                                sheet=form.sheet.data or None))
    refresh_statistics(*ROSTER_TABLES)
    discard_upload(current_user, token)
    flash(_("Roster imported: %(created)d students created, %(updated)d updated, "
            "%(unchanged)d unchanged.", created=result.created, updated=result.updated,
            unchanged=result.unchanged), "success")
    return redirect(url_for("admin.roster"))
