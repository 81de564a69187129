"""The deputy secretary's board: every counsellor's report of the day, signing them off, and
the college report."""

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import and_

from caretrack.access import (
    can_sign_off_reports,
    caseload_filter,
    get_report_or_404,
    reads_college_board,
    report_student_filter,
    requires,
)
from caretrack.downloads import file_response
from caretrack.extensions import db
from caretrack.labels import label
from caretrack.messages import message
from caretrack.models import Health
from caretrack.reports import bp
from caretrack.reports.forms import ApproveAllForm, ReviewForm
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
@requires(reads_college_board)
def board():
    """Show every counsellor's report of the day and the college's totals."""
    now = current_time()
    today = local_today(now)
    day = day_asked(today)
    return render_template(
        "reports/board.html", board=reports.board(day, now, current_user), day=day, today=today,
        review_form=ReviewForm(),
    )


@bp.get("/board/counsellors/<int:counsellor_id>/")
@requires(reads_college_board)
def counsellor_day(counsellor_id: int):
    """Show one counsellor's day as they see it, read-only, with the report to sign off.

    :raise 404: for a user who is not a counsellor.
    """
    counsellor = reports.get_counsellor(counsellor_id, current_user)
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


def board_list_title(what: str) -> str:
    """The heading of one of the board's lists (a :data:`carried.BOARD_LISTS` key)."""
    titles = {
        "students": _("All students"), "confirmed": _("Status confirmed"),
        "missing": _("No status yet"), "changes": _("Changed since yesterday"),
        "after_submission": _("Changed after the report was submitted"),
        "after_approval": _("Changed after the report was approved"),
        "hubei": _("In Hubei"), "beijing": _("In Beijing"), "elsewhere": _("Elsewhere"),
        "on_campus": _("On campus"),
        "of_concern": _("Abnormal health, in Hubei or a risk area"),
        "risk_area": _("In a risk area"), "abnormal": _("Abnormal health"),
        "isolated": _("Isolated"),
        **{h.value: label("health", h) for h in Health},
        "source_self": _("Self-reported"), "source_counsellor": _("Recorded by the counsellor"),
        "source_upload": _("Uploaded"),
    }
    return titles[what]


@bp.get("/board/students")
@requires(reads_college_board)
def board_students():
    """List the students behind one of the board's numbers for the day (``what``), for the
    college or one counsellor, within the students the user may see.

    :raise 404: for an unknown list or a user who is not a counsellor.
    """
    what = request.args.get("what", "")
    if what not in carried.BOARD_LISTS:
        abort(404)
    condition, counsellor = report_student_filter(current_user), None
    if "counsellor" in request.args:
        counsellor = reports.get_counsellor(request.args.get("counsellor", 0, type=int),
                                            current_user)
        if counsellor is None:
            abort(404)
        condition = and_(condition, caseload_filter(counsellor))
    now = current_time()
    today = local_today(now)
    day = day_asked(today)
    per_page = current_app.config["STUDENTS_PER_PAGE"]
    page = db.paginate(carried.board_query(condition, day, what), per_page=per_page,
                       max_per_page=per_page, error_out=False)
    return render_template(
        "reports/board_students.html", page=page, what=what, title=board_list_title(what),
        counsellor=counsellor, day=day, today=today,
        statuses=carried.statuses_for([s.id for s in page.items], day),
    )


def _review(report_id: int, approve: bool):
    report = get_report_or_404(report_id, current_user)
    form = ReviewForm()
    back = back_to(url_for("reports.board", date=report.day.isoformat()))
    if form.validate_on_submit():
        try:
            commit_write(lambda: reports.review_report(
                report, current_user, current_time(), approve=approve,
                comment=form.comment.data or "", ask_unconfirmed=form.confirm.data != "1",
                ip=client_address()))
        except RuleError as error:
            if error.code == "approve-unconfirmed":
                form.next.data = back
                return render_template(
                    "reports/confirm.html", form=form, question=message(error.code, **error.values),
                    action=request.path, answer=_("Approve anyway"), back=url_for(
                        "reports.board_students", date=report.day.isoformat(), what="missing",
                        counsellor=report.counsellor_id),
                    back_text=_("See the unconfirmed students"),
                    title=_("Approve %(name)s's report", name=report.counsellor.display_name))
            flash_refusal(error)
        else:
            name = report.counsellor.display_name
            if approve:
                flash(_("%(name)s's report is approved.", name=name), "success")
            else:
                flash(_("%(name)s's report is returned.", name=name), "success")
    return redirect(back)


def _approve_all_page(form: ApproveAllForm, day, status: int = 200, refusal: str = ""):
    board = reports.board(day, current_time(), current_user)
    return render_template("reports/approve_all.html", board=board, day=day, form=form,
                           refusal=refusal), status


@bp.get("/board/approve-all")
@requires(can_sign_off_reports)
def approve_all_form():
    """List the day's submitted reports that "approve all" would approve, to confirm once."""
    return _approve_all_page(ApproveAllForm(), day_asked(local_today(current_time())))


@bp.post("/board/approve-all")
@requires(can_sign_off_reports)
def approve_all():
    """Approve every report listed on the confirmation, each on its own; if the list changed
    meanwhile, nothing is approved and the new list is shown (409)."""
    form = ApproveAllForm()
    day = form.day_value() or local_today(current_time())
    if not form.validate_on_submit():
        return _approve_all_page(form, day, 400)
    try:
        listed = form.listed(request.form.getlist("report"))
        written = commit_write(lambda: reports.approve_listed(
            listed, day, current_user, current_time(), ip=client_address()), show_conflicts=True)
    except RuleError as error:
        return _approve_all_page(ApproveAllForm(formdata=None), day, 409,
                                 message(error.code, **error.values))
    names = "、".join(r.counsellor.display_name for r in written.result)
    flash(ngettext("%(num)d report approved: %(names)s.", "%(num)d reports approved: %(names)s.",
                   len(written.result), names=names), "success")
    return redirect(url_for("reports.board", date=day.isoformat()))


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
@requires(reads_college_board)
def export_xlsx():
    """Download the college's report of the day as a workbook, once every report is approved."""
    return _export("xlsx", file_response)


@bp.get("/board/college-report.txt")
@requires(reads_college_board)
def export_text():
    """Show the college's report of the day as text for the email, once every report is
    approved."""
    return _export("text", lambda file: Response(file.body, mimetype=file.mimetype))
