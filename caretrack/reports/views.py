"""The counsellor's daily page: record or confirm statuses, upload the check-in sheet, submit
the day's report."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_

from caretrack.access import (
    caseload_filter,
    files_daily_report,
    get_covered_counsellor_or_404,
    get_recordable_student_or_404,
    requires,
    student_filter,
)
from caretrack.downloads import xlsx_response
from caretrack.messages import message
from caretrack.models import User
from caretrack.reports import bp
from caretrack.reports.forms import (
    ActionForm,
    ConfirmUploadForm,
    StatusForm,
    SubmitReportForm,
    UploadForm,
)
from caretrack.reports.pages import (
    back_to,
    current_time,
    daily_url,
    day_asked,
    day_named,
    flash_refusal,
    show_asked,
    student_page,
)
from caretrack.services import return_requests
from caretrack.services.checkin import latest_checkins
from caretrack.services.clock import local_today
from caretrack.services.daily import carried, reports, sheet, statuses
from caretrack.services.errors import RuleError
from caretrack.services.notifications import mark_seen
from caretrack.services.spreadsheets import refusal_status
from caretrack.services.uploads import record_refused_upload
from caretrack.web import client_address, commit_write, show_rule_error


def caseload_named(value) -> User:
    """The counsellor whose daily report is asked for: the user's own, or (``caseload=<id>``)
    a colleague's whose absence the user covers today.

    :raise 404: for any other counsellor.
    """
    try:
        counsellor_id = int(value or 0)
    except ValueError:
        counsellor_id = -1
    if not counsellor_id or counsellor_id == current_user.id:
        return current_user._get_current_object()
    return get_covered_counsellor_or_404(counsellor_id, current_user)


@bp.get("/daily/", endpoint="daily")
@requires(files_daily_report)
def daily_page():
    """Show the counsellor's day (or, covering, an absent colleague's): the totals, the
    report, and the students to look at."""
    now = current_time()
    today = local_today(now)
    day = day_asked(today)
    counsellor = caseload_named(request.args.get("caseload"))
    covering = counsellor.id != current_user.id
    report = reports.get_report(counsellor.id, day)
    totals = carried.caseload_totals(counsellor, day)
    show = show_asked(totals)
    condition = caseload_filter(counsellor)
    if covering:  # of a caseload split by class, only the classes the user covers
        condition = and_(condition, student_filter(current_user))
    page, day_statuses = student_page(condition, day, show)
    past_deadline = reports.is_past_deadline(day, now)
    page_html = render_template(
        "reports/daily.html", counsellor=counsellor, covering=covering,
        day=day, today=today, report=report, totals=totals, show=show, page=page,
        statuses=day_statuses, deadline=reports.deadline(day), past_deadline=past_deadline,
        can_change=day == today,
        can_submit=reports.can_submit(report),
        chase=day == today and past_deadline and show == "missing" and bool(totals.missing),
        submit_form=SubmitReportForm(day=day.isoformat(),
                                     caseload=counsellor.id if covering else ""),
        upload_form=UploadForm(), action_form=ActionForm(),
        self_reports=latest_checkins([s.id for s in page.items], day),
    )
    # the schedule's reminders of the day lead here: seen once the page is shown
    commit_write(lambda: mark_seen(current_user, kinds=("checkin.missing", "report.due"),
                                   now=now))
    return page_html


@bp.route("/daily/students/<int:student_id>/status", methods=["GET", "POST"])
@requires(files_daily_report)
def record_status(student_id: int):
    """Record one student's status for today.

    :raise 404: for a student who is not the counsellor's.
    """
    student = get_recordable_student_or_404(student_id, current_user)
    now = current_time()
    status = _status_today(student, now)
    form = StatusForm.for_status(status, next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            return_requests.check_campus_move(student, on_campus=bool(form.on_campus.data),
                                              confirmed=bool(form.campus_confirmed.data))
            written = commit_write(lambda: statuses.record_status(
                student, current_user, form.values(), now, note=form.note.data or "",
                ip=client_address()))
        except RuleError as error:
            if error.code != "recorded-meanwhile":
                show_rule_error(form, error)
                return render_template("reports/status_form.html", form=form,
                                       student=student, status=status)
            flash_refusal(error)
        else:
            flash(_("%(name)s's change is recorded.", name=student.name) if written.result.changed
                  else _("%(name)s's status is confirmed for today.", name=student.name),
                  "success")
        return redirect(back_to(url_for("reports.daily")))
    return render_template("reports/status_form.html", form=form, student=student,
                           status=status)


def _status_today(student, now):
    """The student's status today; opening the form (not saving it) is audited as a view."""
    if request.method == "GET":
        return commit_write(lambda: statuses.view_status(
            student, current_user, now, ip=client_address())).result
    return carried.statuses_for([student.id], local_today(now))[student.id]


@bp.post("/daily/students/<int:student_id>/confirm")
@requires(files_daily_report)
def confirm_status(student_id: int):
    """Confirm that one student's status has not changed.

    :raise 404: for a student who is not the counsellor's.
    """
    student = get_recordable_student_or_404(student_id, current_user)
    if ActionForm().validate_on_submit():
        try:
            commit_write(lambda: statuses.confirm_unchanged(
                student, current_user, current_time(), ip=client_address()))
        except RuleError as error:
            flash_refusal(error)
        else:
            flash(_("%(name)s's status is confirmed for today.", name=student.name), "success")
    return redirect(back_to(url_for("reports.daily")))


@bp.route("/daily/upload", methods=["GET", "POST"])
@requires(files_daily_report)
def upload():
    """Preview a check-in sheet: what it would change, or every bad row; writes nothing."""
    form = UploadForm()
    preview = token = None
    status = 200
    if form.validate_on_submit():
        data = form.sheet.data
        preview = sheet.preview_upload(current_user, data.filename or "", data.read(),
                                       current_time(), sheet_name=form.sheet_name.data or None)
        if preview.ok:
            token = sheet.upload_token(current_user, preview)
        elif preview.problems:
            status = refuse_upload(data.filename or "", [p.code for p in preview.problems])
    return render_template(
        "reports/upload.html", form=form, preview=preview,
        confirm_form=ConfirmUploadForm(token=token) if token else None,
        sheet_message=sheet.problem_message,
    ), status


def refuse_upload(filename: str, codes: list[str]) -> int:
    """Audit a refused check-in sheet; its status: 400 unreadable, 422 read but invalid."""
    user = current_user._get_current_object()
    commit_write(lambda: record_refused_upload(user, "sheet", filename, codes[0],
                                               now=current_time(), ip=client_address()))
    return refusal_status(codes)


@bp.post("/daily/upload/confirm")
@requires(files_daily_report)
def apply_upload():
    """Record the statuses of the previewed sheet."""
    form = ConfirmUploadForm()
    if not form.validate_on_submit():
        return redirect(url_for("reports.upload"))
    try:
        result = commit_write(lambda: sheet.apply_upload(
            current_user, form.token.data, current_time(), ip=client_address())).result
    except RuleError as error:
        flash_refusal(error)
        return redirect(url_for("reports.upload"))
    flash(_("Check-in sheet applied: %(confirmed)d students confirmed, %(changed)d of them "
            "changed.", confirmed=result.confirmed, changed=result.changed), "success")
    return redirect(url_for("reports.daily"))


@bp.get("/daily/check-in-sheet.xlsx")
@requires(files_daily_report)
def checkin_sheet():
    """Download a check-in sheet filled with the caseload's status of today."""
    day = local_today(current_time())
    headers, rows = sheet.checkin_sheet_rows(current_user, day)
    return xlsx_response(f"check-in-{day.isoformat()}.xlsx", [(_("Check-in"), headers, rows)])


def _submit(zero: bool):
    form = SubmitReportForm()
    now = current_time()
    today = local_today(now)
    day = day_named(form.day.data, today)
    counsellor = caseload_named(form.caseload.data)
    back = {"caseload": counsellor.id} if counsellor.id != current_user.id else {}
    if form.validate_on_submit():
        try:
            report = commit_write(lambda: reports.submit_report(
                counsellor, day, now, note=form.note.data or "", zero=zero,
                ask_unconfirmed=form.confirm.data != "1", ip=client_address(),
                by=current_user._get_current_object())).result
        except RuleError as error:
            if error.code == "unconfirmed-students":
                return render_template(
                    "reports/confirm.html", form=form, question=message(error.code, **error.values),
                    action=request.path, answer=_("Submit anyway"),
                    back=daily_url(day, today, show="missing", **back),
                    back_text=_("See the unconfirmed students"))
            flash_refusal(error)
        else:
            if report.is_zero:
                flash(_("Zero report submitted: nothing changed."), "success")
            else:
                flash(_("Report submitted with %(num)d changes.", num=report.changes_count),
                      "success")
    return redirect(daily_url(day, today, **back))


@bp.post("/daily/submit")
@requires(files_daily_report)
def submit():
    """Submit (or resubmit) the day's report of changes."""
    return _submit(zero=False)


@bp.post("/daily/zero")
@requires(files_daily_report)
def zero_report():
    """Submit the day's report as a zero report: nothing changed."""
    return _submit(zero=True)
