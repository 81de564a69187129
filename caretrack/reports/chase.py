"""The chase list: the counsellor's students without a status today, to call one by one at
the students' cut-off, confirm several at once, remind, and export."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from caretrack.access import (
    files_daily_report,
    get_recordable_student_or_404,
    get_recordable_students_or_404,
    requires,
)
from caretrack.downloads import export_response
from caretrack.extensions import db
from caretrack.labels import HEALTH
from caretrack.reports import bp
from caretrack.reports.forms import ChaseConfirmForm, ChaseContactForm
from caretrack.reports.pages import back_to, current_time, flash_refusal
from caretrack.services.clock import local_today
from caretrack.services.daily import chase
from caretrack.services.daily.carried import chunks
from caretrack.services.errors import RuleError
from caretrack.services.exports import ExportColumn
from caretrack.students.forms import new_submission_key
from caretrack.web import client_address, commit_write


def _class_asked() -> str:
    return (request.args.get("class") or "").strip()[:100]


def chase_url(**args) -> str:
    """The chase list, keeping the class chosen."""
    return url_for("reports.chase", **args)


@bp.get("/daily/chase", endpoint="chase")
@requires(files_daily_report)
def chase_page():
    """Show today's students without a status: phone, last known status, days unconfirmed."""
    now = current_time()
    day = local_today(now)
    class_name = _class_asked()
    per_page = current_app.config["STUDENTS_PER_PAGE"]
    page = db.paginate(chase.chase_query(current_user, day, class_name), per_page=per_page,
                       max_per_page=per_page, error_out=False)
    students = list(page.items)
    return render_template(
        "reports/chase.html", day=day, page=page, rows=chase.chase_rows(students, day),
        class_name=class_name, classes=chase.classes_to_chase(current_user, day),
        reminders=chase.reminders(current_user, day, students, class_name),
        past_cutoff=chase.past_cutoff(now), cutoff=current_app.config["CHECKIN_DEADLINE"],
        channels=ChaseContactForm().channel.choices, outcomes=chase.Outcome,
        submission_key=new_submission_key(), bulk_form=ChaseConfirmForm(),
    )


@bp.post("/daily/chase/<int:student_id>")
@requires(files_daily_report)
def chase_contact(student_id: int):
    """Record one contact from the chase list; "changed" goes on to the status form.

    :raise 404: for a student who is not the counsellor's.
    """
    student = get_recordable_student_or_404(student_id, current_user)
    form = ChaseContactForm()
    back = back_to(chase_url())
    if not form.validate_on_submit():
        flash(_("The contact was not saved; try again."), "danger")
        return redirect(back)
    try:
        written = commit_write(lambda: chase.record_contact(
            student, current_user, channel=form.channel.data, outcome=form.outcome.data,
            note=form.note.data or "", now=current_time(), ip=client_address(),
            submission_key=form.submission_key.data or None,
        ), submission_key=form.submission_key.data or None)
    except RuleError as error:
        flash_refusal(error)
        return redirect(back)
    if form.outcome.data == chase.Outcome.CHANGED:
        return redirect(url_for("reports.record_status", student_id=student.id, next=back))
    flash(_contact_message(student, form.outcome.data, written), "success")
    return redirect(back)


def _contact_message(student, outcome, written) -> str:
    if written.duplicate or outcome == chase.Outcome.NOT_REACHED:
        return _("Follow-up with %(name)s saved.", name=student.name)
    if written.result.already:
        return _("Follow-up with %(name)s saved; their status had arrived meanwhile and is "
                 "kept.", name=student.name)
    return _("%(name)s's status is confirmed for today.", name=student.name)


@bp.post("/daily/chase/confirm")
@requires(files_daily_report)
def chase_confirm():
    """Confirm several students reached by one channel, in one transaction.

    :raise 404: when any student posted is not the counsellor's (nothing is written).
    """
    form = ChaseConfirmForm()
    back = back_to(chase_url())
    if not form.validate_on_submit():
        flash(_("Nothing was saved; try again."), "danger")
        return redirect(back)
    students = get_recordable_students_or_404(form.selected.data or [], current_user)
    key = form.submission_key.data or None
    try:
        written = commit_write(lambda: chase.confirm_contacted(
            current_user, students, channel=form.channel.data, note=form.note.data or "",
            now=current_time(), ip=client_address(), submission_key=key))
    except RuleError as error:
        flash_refusal(error)
        return redirect(back)
    result = written.result or chase.BulkResult()
    flash(_("%(num)d students confirmed for today after contact.", num=result.confirmed)
          + (" " + _("%(num)d had a status meanwhile; it is kept.", num=result.already)
             if result.already else ""), "success")
    return redirect(back)


#: The chase list's export.
EXPORT_COLUMNS = [
    ExportColumn(_l("Student number"), lambda r: r.student.student_number),
    ExportColumn(_l("Name"), lambda r: r.student.name),
    ExportColumn(_l("Class"), lambda r: r.student.class_name),
    ExportColumn(_l("Phone"), lambda r: r.student.phone),
    ExportColumn(_l("Province"), lambda r: r.status.values.province),
    ExportColumn(_l("City"), lambda r: r.status.values.city),
    ExportColumn(_l("On campus"), lambda r: r.status.values.on_campus),
    ExportColumn(_l("Health"), lambda r: _health_label(r.status.values.health)),
    ExportColumn(_l("Last confirmed"), lambda r: r.last_confirmed),
    ExportColumn(_l("Days unconfirmed"), lambda r: r.days_unconfirmed),
]


def _health_label(value: str) -> str:
    return str(HEALTH.get(value, value))


@bp.get("/daily/chase/export.xlsx")
@requires(files_daily_report)
def chase_export():
    """Download the chase list (of the class chosen) as XLSX; audited."""
    now = current_time()
    day = local_today(now)
    students = list(db.session.scalars(chase.chase_query(current_user, day, _class_asked())))
    rows = [row for part in chunks(students) for row in chase.chase_rows(part, day)]
    response = export_response("chase", "xlsx", EXPORT_COLUMNS, rows, current_user,
                               title=_("Chase list"), now=now)
    db.session.commit()  # the audit event
    return response


@bp.record_once
def add_chase_globals(state) -> None:
    """Let the daily page and the landing card emphasise their link to the chase list once
    the students' cut-off has passed."""
    state.app.jinja_env.globals["chase_urgent"] = lambda: chase.past_cutoff(current_time())
