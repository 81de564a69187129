"""The deputy secretary's board: every counsellor's report of the day, signing them off, and
the college report."""

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caretrack.access import can_sign_off_reports, caseload_filter, requires
from caretrack.downloads import file_response
from caretrack.extensions import db
from caretrack.models import DailyReport
from caretrack.reports import bp
from caretrack.reports.forms import ReviewForm
from caretrack.reports.pages import (
    back_to,
    current_time,
    day_asked,
    flash_refusal,
    show_asked,
    student_page,
)
from caretrack.services.checkin import latest_checkins
from caretrack.services.clock import local_today
from caretrack.services.daily import carried, college, reports
from caretrack.services.errors import RuleError
from caretrack.web import client_address, commit_write


@bp.get("/board/")
@requires(can_sign_off_reports)
def board():
    """Show every counsellor's report of the day and the college's totals."""
    now = current_time()
    today = local_today(now)
    day = day_asked(today)
    return render_template(
        "reports/board.html", board=reports.board(day, now), day=day, today=today,
        review_form=ReviewForm(),
    )


@bp.get("/board/counsellors/<int:counsellor_id>/")
@requires(can_sign_off_reports)
def counsellor_day(counsellor_id: int):
    """Show one counsellor's day as they see it, read-only, with the report to sign off.

    :raise 404: for a user who is not a counsellor.
    """
    counsellor = reports.get_counsellor(counsellor_id)
    if counsellor is None:
        abort(404)
    now = current_time()
    today = local_today(now)
    day = day_asked(today)
    totals = carried.caseload_totals(counsellor, day)
    show = show_asked(totals)
    page, statuses = student_page(caseload_filter(counsellor), day, show)
    return render_template(
        "reports/counsellor_day.html", counsellor=counsellor, day=day, today=today,
        report=reports.get_report(counsellor.id, day), totals=totals, show=show, page=page,
        statuses=statuses, past_deadline=reports.is_past_deadline(day, now),
        deadline=reports.deadline(day), review_form=ReviewForm(),
        self_reports=latest_checkins([s.id for s in page.items], day),
    )


def _review(report_id: int, approve: bool):
    report = db.get_or_404(DailyReport, report_id)
    form = ReviewForm()
    back = back_to(url_for("reports.board", date=report.day.isoformat()))
    if form.validate_on_submit():
        try:
            commit_write(lambda: reports.review_report(
                report, current_user, current_time(), approve=approve,
                comment=form.comment.data or "", ip=client_address()))
        except RuleError as error:
            flash_refusal(error)
        else:
            name = report.counsellor.display_name
            if approve:
                flash(_("%(name)s's report is approved.", name=name), "success")
            else:
                flash(_("%(name)s's report is returned.", name=name), "success")
    return redirect(back)


@bp.post("/<int:report_id>/approve")
@requires(can_sign_off_reports)
def approve(report_id: int):
    """Approve a submitted report, which locks it."""
    return _review(report_id, approve=True)


@bp.post("/<int:report_id>/return")
@requires(can_sign_off_reports)
def return_report(report_id: int):
    """Return a submitted report to its counsellor, saying why."""
    return _review(report_id, approve=False)


def _export(fmt: str, respond):
    now = current_time()
    day = day_asked(local_today(now))
    try:
        file = commit_write(lambda: college.export_college_report(
            day, current_user, now, fmt=fmt, ip=client_address())).result
    except RuleError as error:
        flash_refusal(error)
        return redirect(url_for("reports.board", date=day.isoformat()))
    return respond(file)


@bp.get("/board/college-report.xlsx")
@requires(can_sign_off_reports)
def export_xlsx():
    """Download the college's report of the day as a workbook, once every report is approved."""
    return _export("xlsx", file_response)


@bp.get("/board/college-report.txt")
@requires(can_sign_off_reports)
def export_text():
    """Show the college's report of the day as text for the email, once every report is
    approved."""
    return _export("text", lambda file: Response(file.body, mimetype=file.mimetype))
