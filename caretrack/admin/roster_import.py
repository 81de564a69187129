"""The roster import: upload → preview (a page of its own, for the kept file) → confirm.

The uploaded file waits in the database under a random token between the steps, so any web
worker can confirm it and any job worker import it. Reading and checking the file is a job
(:func:`caretrack.services.roster_preview.preview_roster_job`) whose result the preview page
shows; the import itself is a job too (:func:`caretrack.services.roster_import.import_roster_job`).
Without a queue both run in the request, and the pages answer as if they had not been jobs.
"""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SubmitField

from caretrack.admin import bp
from caretrack.jobs import error_message, submit
from caretrack.models import JobState, now_utc
from caretrack.services.roster_columns import BLANK_CELLS_HELP, COLUMNS
from caretrack.services.roster_preview import (
    current_preview,
    preview_of,
    preview_params,
    refusal_of,
)
from caretrack.services.uploads import load_upload, stage_upload
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


def _submit_preview(token: str, sheet: str | None):
    return submit("roster.preview", current_user._get_current_object(),
                  preview_params(token, sheet, str(get_locale()), client_address()))


@bp.route("/roster/import", methods=["GET", "POST"])
def roster_import():
    """Upload a roster file and check it (a job): a file that can be read goes on to its
    preview, one that cannot is refused beside the field."""
    form = RosterUploadForm()
    expected: list[str] = []
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        user, filename = current_user._get_current_object(), upload.filename or ""
        token = commit_write(lambda: stage_upload(user, filename, upload.read(),
                                                  now_utc())).result
        job = _submit_preview(token, None)
        refused = refusal_of(job)
        if job.state == JobState.FAILED:
            form.file.errors.append(error_message(job))
            status = 500
        elif refused is not None:
            form.file.errors.append(refused["message"])
            expected, status = refused["expected"], refused["status"]
        elif job.state == JobState.DONE:
            return redirect(url_for("admin.roster_import_preview", token=token))
        else:
            return redirect(url_for("jobs.show", job_id=job.id))
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
    """Show what importing the kept file would do, as its check found (checking it first, as
    a job, when no check of it holds); nothing is written."""
    upload = _upload_or_flash(token)
    if upload is None:
        return redirect(url_for("admin.roster_import"))
    sheet = request.args.get("sheet") or None
    job = current_preview(current_user, token, sheet, str(get_locale()))
    if job is None:
        job = _submit_preview(token, sheet)
    if not job.finished:
        return redirect(url_for("jobs.show", job_id=job.id))
    refused = refusal_of(job)
    if job.state == JobState.FAILED or refused is not None:
        flash(error_message(job) if refused is None else refused["message"], "danger")
        if sheet is not None:
            return redirect(url_for("admin.roster_import_preview", token=token))
        return redirect(url_for("admin.roster_import"))
    preview = preview_of(job)
    form = RosterConfirmForm(fingerprint=preview.fingerprint, sheet=preview.sheet)
    return render_template(
        "admin/roster_import_preview.html", preview=preview, form=form, token=token,
        upload_form=RosterUploadForm(formdata=None), limit_mb=_upload_limit_mb(),
    )


@bp.post("/roster/import/<token>")
def roster_import_confirm(token: str):
    """Import the previewed file as a job, all or nothing, if it still does exactly what was
    shown. A job that finished at once (no queue) answers as the import did in the request;
    otherwise the job's page shows its progress."""
    upload = _upload_or_flash(token)
    if upload is None:
        return redirect(url_for("admin.roster_import"))
    form = RosterConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("admin.roster_import_preview", token=token))
    job = submit("roster.import", current_user._get_current_object(), {
        "token": token, "fingerprint": form.fingerprint.data or "",
        "sheet": form.sheet.data or None, "ip": client_address(),
    }, key=f"roster.import:{token}")
    if job.state == JobState.FAILED and job.error == "roster-changed":
        flash(error_message(job), "warning")
        return redirect(url_for("admin.roster_import_preview", token=token,
                                sheet=form.sheet.data or None))
    if job.state == JobState.DONE:
        result = job.result or {}
        flash(_("Roster imported: %(created)d students created, %(updated)d updated, "
                "%(unchanged)d unchanged.", created=result.get("created", 0),
                updated=result.get("updated", 0), unchanged=result.get("unchanged", 0)),
              "success")
        return redirect(url_for("admin.roster"))
    return redirect(url_for("jobs.show", job_id=job.id))
