"""Roster import and export (routes on the admin blueprint).

Upload → preview (a page of its own, for the kept file) → confirm. The uploaded file waits in
the instance folder under a random name between the steps, so any worker can confirm it.
"""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import or_
from wtforms import HiddenField, SubmitField

from caretrack.access import roster_students
from caretrack.admin.views import bp
from caretrack.downloads import download_response, export_response
from caretrack.extensions import db
from caretrack.models import Student, now_utc
from caretrack.services.exports import MIMETYPES
from caretrack.services.roster_import import (
    COLUMNS,
    PreviewChanged,
    RosterFileError,
    discard_upload,
    export_columns,
    import_roster,
    load_upload,
    preview_import,
    roster_rows_query,
    stage_upload,
    template_file,
)


class RosterUploadForm(FlaskForm):
    file = FileField(
        _l("Roster file (XLSX or CSV)"),
        validators=[FileRequired(message=_l("Choose the file to import."))],
    )
    submit = SubmitField(_l("Check the file"))


class RosterConfirmForm(FlaskForm):
    fingerprint = HiddenField()
    submit = SubmitField(_l("Import"))


def _upload_limit_mb() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return f"{limit / (1024 * 1024):.0f}"


@bp.route("/roster/import", methods=["GET", "POST"])
def roster_import():
    """Upload a roster file; a file that can be read goes on to its preview."""
    form = RosterUploadForm()
    expected: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            token = stage_upload(current_user, upload.filename or "", upload.read(), now_utc())
        except RosterFileError as exc:
            form.file.errors.append(exc.message)
            expected = exc.expected
        else:
            return redirect(url_for("admin.roster_import_preview", token=token))
    return render_template(
        "admin/roster_import.html", form=form, columns=COLUMNS, expected=expected,
        limit_mb=_upload_limit_mb(),
    )


def _upload_or_redirect(token: str):
    upload = load_upload(current_user, token)
    if upload is None:
        flash(_("This upload has expired or was imported already. Upload the file again."),
              "warning")
    return upload


@bp.get("/roster/import/<token>")
def roster_import_preview(token: str):
    """Show what importing the kept file would do; nothing is written."""
    upload = _upload_or_redirect(token)
    if upload is None:
        return redirect(url_for("admin.roster_import"))
    try:
        preview = preview_import(upload.filename, upload.data)
    except RosterFileError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("admin.roster_import"))
    form = RosterConfirmForm(fingerprint=preview.fingerprint)
    return render_template(
        "admin/roster_import_preview.html", preview=preview, form=form, token=token,
        upload_form=RosterUploadForm(formdata=None), limit_mb=_upload_limit_mb(),
    )


@bp.post("/roster/import/<token>")
def roster_import_confirm(token: str):
    """Apply the previewed file, all or nothing, if it still does exactly what was shown."""
    upload = _upload_or_redirect(token)
    if upload is None:
        return redirect(url_for("admin.roster_import"))
    form = RosterConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("admin.roster_import_preview", token=token))
    try:
        result = import_roster(
            upload.filename, upload.data, form.fingerprint.data or "", current_user, now_utc()
        )
    except (PreviewChanged, RosterFileError):
        db.session.rollback()
        flash(_("The roster changed since this preview. Check the new preview and confirm "
                "again."), "warning")
        return redirect(url_for("admin.roster_import_preview", token=token))
    db.session.commit()
    discard_upload(current_user, token)
    flash(_("Roster imported: %(created)d students created, %(updated)d updated, "
            "%(unchanged)d unchanged.", created=result.created, updated=result.updated,
            unchanged=result.unchanged), "success")
    return redirect(url_for("admin.roster"))


@bp.get("/roster/template.<any(xlsx, csv):fmt>")
def roster_template(fmt: str):
    """Download an empty roster file with the column headers."""
    name = _("roster-template")
    return download_response(template_file(fmt), f"{name}.{fmt}", MIMETYPES[fmt],
                             ascii_name=f"roster-template.{fmt}")


@bp.get("/roster/export/<any(xlsx, csv):fmt>")
def roster_export(fmt: str):
    """Download the roster (with the roster page's search) in the import's columns."""
    q = request.args.get("q", "").strip()[:100]
    query = roster_students(current_user)
    if q:
        pattern = f"%{q}%"
        query = query.where(or_(Student.name.ilike(pattern), Student.student_number.ilike(pattern)))
    rows = db.session.execute(roster_rows_query(query)).all()
    response = export_response("roster", fmt, export_columns(), rows, current_user,
                               title=_("Roster"), now=now_utc())
    db.session.commit()
    return response
