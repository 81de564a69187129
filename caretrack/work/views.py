"""A job's page (a progress bar fed by :func:`status`), the list of the user's jobs, and the
download of a finished job's file. Only the job's owner reaches any of them."""

from flask import abort, jsonify, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from caretrack.access import get_job_or_404, requires, runs_jobs
from caretrack.auth.services import is_safe_next
from caretrack.downloads import download_response
from caretrack.jobs import error_message
from caretrack.labels import label
from caretrack.models import Job, JobState, now_utc
from caretrack.services.jobs import recent_jobs
from caretrack.work import bp

#: What each kind of job is called in the pages.
KIND_LABELS = {
    "roster.preview": _l("Roster file check"),
    "roster.import": _l("Roster import"),
    "messages.send": _l("Messages to class groups"),
    "students.bulk": _l("Bulk action"),
    "exports.list": _l("Export"),
    "notices.email": _l("Notice e-mails"),
}
STAGE_LABELS = {
    "reading": _l("Reading the file"),
    "checking": _l("Checking rows"),
    "writing": _l("Writing"),
    "publishing": _l("Updating the roster"),
    "sending": _l("Sending"),
}
STATE_LABELS = {
    JobState.QUEUED: _l("Waiting"),
    JobState.RUNNING: _l("Running"),
    JobState.DONE: _l("Done"),
    JobState.FAILED: _l("Failed"),
}
#: The state a finished check shows when the roster file cannot be imported.
REFUSED_LABEL = _l("Refused")


def outcome(job: Job) -> tuple[str, str | None]:
    """Return what came of ``job`` in a sentence, and where to go on from it."""
    if job.state == JobState.FAILED:
        token = (job.result or {}).get("token")
        if job.kind == "roster.import" and token:
            return error_message(job), url_for("admin.roster_import_preview", token=token)
        return error_message(job), None
    if job.state != JobState.DONE:
        return "", None
    if job.kind == "roster.preview":
        return _preview_outcome(job)
    if job.kind == "roster.import":
        result = job.result or {}
        return _("Roster imported: %(created)d students created, %(updated)d updated, "
                 "%(unchanged)d unchanged.", created=result.get("created", 0),
                 updated=result.get("updated", 0), unchanged=result.get("unchanged", 0)), \
            url_for("admin.roster")
    if job.kind == "exports.list":
        result = job.result or {}
        if job.file is None or job.file.expires_at <= now_utc():
            return _("The file is no longer kept: export the list again."), None
        return ngettext("%(filename)s is ready: %(num)d row.", "%(filename)s is ready: "
                        "%(num)d rows.", result.get("rows", 0),
                        filename=result.get("filename", "")), None
    if job.kind == "notices.email":
        sent = (job.result or {}).get("sent", 0)
        return ngettext("The notice was e-mailed to %(num)d student.",
                        "The notice was e-mailed to %(num)d students.", sent), None
    if job.kind == "students.bulk":
        result, back = job.result or {}, (job.params or {}).get("back", "")
        return _("%(action)s: %(changed)d of %(students)d students changed.",
                 action=label("bulk_action", result.get("action", "")),
                 changed=result.get("changed", 0), students=result.get("students", 0)), \
            back if is_safe_next(back) else None
    return _("Done."), None


def _preview_outcome(job: Job) -> tuple[str, str | None]:
    """What the check of a roster file found: the preview to go on to, or why the file
    cannot be imported (and the upload page again, or the preview of the first sheet)."""
    result, params = job.result or {}, job.params or {}
    refused = result.get("refused")
    if refused is not None:
        if refused.get("sheet"):
            return refused["message"], url_for("admin.roster_import_preview",
                                               token=params.get("token"))
        return refused["message"], url_for("admin.roster_import")
    preview = result.get("preview") or {}
    return _("File checked: %(created)d students to create, %(updated)d to update, "
             "%(errors)d errors.", created=preview.get("create_count", 0),
             updated=preview.get("update_count", 0), errors=preview.get("error_count", 0)), \
        url_for("admin.roster_import_preview", token=params.get("token"),
                sheet=params.get("sheet"))


def describe(job: Job) -> dict:
    """Return what the page shows of ``job`` (also its JSON status)."""
    sentence, next_url = outcome(job)
    refused = (job.result or {}).get("refused") if job.kind == "roster.preview" else None
    return {
        "id": job.id,
        "kind": str(KIND_LABELS.get(job.kind, job.kind)),
        "state": job.state,
        "state_label": str(REFUSED_LABEL if refused is not None
                           else STATE_LABELS.get(job.state, job.state)),
        #: The badge's colour: the state's, or "refused".
        "tone": "refused" if refused is not None else job.state,
        "stage": str(STAGE_LABELS.get(job.stage, job.stage)),
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "finished": job.finished,
        "message": sentence,
        "next_url": next_url,
        #: The page goes on to ``next_url`` by itself once the job is done.
        "follow": refused is None and job.kind == "roster.preview"
        and job.state == JobState.DONE,
        #: The job is done, but what it found is a refusal (a roster file that cannot be
        #: imported).
        "refused": refused is not None,
        "download_url": url_for("jobs.download", job_id=job.id)
        if job.file is not None and job.file.expires_at > now_utc() else None,
    }


def landing_jobs(user) -> list[tuple[Job, dict]]:
    """The user's latest jobs for their landing page: (job, what the page shows of it)."""
    return [(job, describe(job)) for job in recent_jobs(user, now_utc(), limit=3)]


@bp.get("/")
@requires(runs_jobs)
def index():
    """List the user's imports and exports of the last days."""
    jobs = recent_jobs(current_user, now_utc())
    return render_template("jobs/index.html", jobs=[(job, describe(job)) for job in jobs])


@bp.get("/<int:job_id>")
@requires(runs_jobs)
def show(job_id: int):
    """Show one of the user's jobs: its progress while it runs, what came of it after."""
    job = get_job_or_404(job_id, current_user)
    return render_template("jobs/show.html", job=job, info=describe(job))


@bp.get("/<int:job_id>/status")
@requires(runs_jobs)
def status(job_id: int):
    """Answer how far the job got (polled by the job's page)."""
    job = get_job_or_404(job_id, current_user)
    response = jsonify(describe(job))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:job_id>/download")
@requires(runs_jobs)
def download(job_id: int):
    """Download the file the job made, while it is kept.

    :raise 404: no file, or its day is over.
    """
    job = get_job_or_404(job_id, current_user)
    kept = job.file
    if kept is None or kept.expires_at <= now_utc() or kept.owner_id != current_user.id:
        abort(404)
    return download_response(kept.data, kept.filename, kept.content_type)
