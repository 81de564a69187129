"""Daily status, the counsellor's daily report and the deputy secretary's board."""

from datetime import date, timedelta
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from caretrack.access import can_record_for, get_student_or_404
from caretrack.auth.services import is_safe_next
from caretrack.downloads import xlsx_response
from caretrack.extensions import db
from caretrack.labels import HEALTH
from caretrack.models import DailyReport, Health, Role, Student, User, now_utc
from caretrack.reports.forms import (
    ActionForm,
    ConfirmUploadForm,
    ReviewForm,
    StatusForm,
    SubmitReportForm,
    UploadForm,
)
from caretrack.services import daily
from caretrack.services.audit import record_event
from caretrack.services.checkin import latest_checkins
from caretrack.services.clock import local_today

bp = Blueprint("reports", __name__)

#: What each refusal of the daily-report rules says to the user.
RULE_MESSAGES = {
    "report-locked": _l("This day's report has been submitted, so its statuses can no longer "
                        "change; a change now belongs in tomorrow's report, unless the deputy "
                        "secretary returns the report."),
    "upload-expired": _l("This preview has expired or belongs to another day. Upload the sheet "
                         "again."),
    "not-zero": _l("There are %(detail)s changes since yesterday: submit them as the report "
                   "instead of a zero report."),
    "already-submitted": _l("This report has been submitted already."),
    "locked": _l("This report is approved and locked."),
    "future-day": _l("A day that has not begun cannot be reported."),
    "not-submitted": _l("Only a submitted report can be approved or returned."),
    "comment-required": _l("Say why you return the report."),
    "not-ready": _l("The college report can be exported once every counsellor's report of the "
                    "day is approved."),
    "not-your-student": _l("Only your own students' statuses can be recorded."),
    "duplicate-rows": _l("A student appears twice."),
    "invalid-health": _l("Unknown health value “%(detail)s”."),
    "missing-location": _l("Enter the province, or tick “On campus”."),
}

#: What each problem of a check-in sheet says; %(value)s etc. come from the problem.
SHEET_MESSAGES = {
    "empty": _l("The file is empty."),
    "not-a-spreadsheet": _l("This file is not a CSV or XLSX spreadsheet."),
    "encoding": _l("The CSV file is neither UTF-8 nor GBK. Save it as UTF-8 and try again."),
    "missing-columns": _l("Columns missing: %(value)s."),
    "duplicate-columns": _l("The column “%(value)s” appears twice."),
    "no-rows": _l("The sheet has a header row but no students."),
    "too-many-rows": _l("The sheet has more than %(value)s rows."),
    "report-locked": RULE_MESSAGES["report-locked"],
    "missing-student-number": _l("The student number is empty."),
    "not-your-student": _l("Student number %(value)s is not one of your students."),
    "duplicate-row": _l("Student number %(number)s appears again (first on row %(first)s)."),
    "name-mismatch": _l("“%(name)s” is not the name of student %(number)s."),
    "invalid-health": _l("Unknown health value “%(value)s”; use one of: %(names)s."),
    "invalid-on-campus": _l("“%(value)s” is neither yes nor no."),
    "missing-location": _l("The location is empty."),
}
RECORDED_MEANWHILE = _l("A status was recorded meanwhile by another window; nothing was saved. "
                        "Look at the page again.")
COLUMN_NAMES = {
    "student_number": _l("Student number"),
    "health": _l("Health"),
    "location": _l("Location (or province and city)"),
}


def rule_message(error: daily.DailyRuleError) -> str:
    return str(RULE_MESSAGES.get(error.code, error.code)) % {"detail": error.detail}


def sheet_message(problem: daily.SheetProblem) -> str:
    """The user's sentence for one problem of a check-in sheet."""
    values = {"value": problem.value, "names": _(", ").join(str(v) for v in HEALTH.values())}
    if problem.code == "missing-columns":
        values["value"] = _(", ").join(
            str(COLUMN_NAMES.get(name.strip(), name)) for name in problem.value.split(",")
        )
    if problem.code in ("duplicate-row", "name-mismatch"):
        first, _sep, second = problem.value.partition(":")
        values.update(number=first, first=second, name=second)
    return str(SHEET_MESSAGES.get(problem.code, problem.code)) % values


def _role_required(role: str):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role != role:
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorator


counsellor_required = _role_required(Role.COUNSELLOR)
deputy_required = _role_required(Role.DEPUTY_SECRETARY)


@bp.context_processor
def reports_globals():
    return {
        "one_day": timedelta(days=1),
        "health_values": [h.value for h in Health],
        "health_options": _health_options,
    }


def _health_options() -> list[tuple[str, str]]:
    """(value, label) of each health state, translated once per page."""
    options = getattr(g, "health_options", None)
    if options is None:
        options = g.health_options = [(h.value, str(HEALTH[h])) for h in Health]
    return options


@bp.before_request
@login_required
def require_reporting_role():
    if current_user.role not in (Role.COUNSELLOR, Role.DEPUTY_SECRETARY):
        abort(404)


def _day(value: str | None, today: date) -> date:
    """The day named by ``?date=`` (YYYY-MM-DD); today when absent, invalid or in the future."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return today
    return min(day, today)


def _show(totals: daily.Totals) -> str:
    show = request.args.get("show", "")
    if show in daily.SHOW_CHOICES:
        return show
    return "missing" if totals.missing else "changes"


def _back(default: str) -> str:
    target = request.form.get("next") or request.args.get("next") or ""
    return target if is_safe_next(target) else default


def _daily_url(day: date, today: date, **args) -> str:
    if day != today:
        args["date"] = day.isoformat()
    return url_for("reports.daily", **args)


def _student_page(condition, day: date, show: str):
    page = db.paginate(
        daily.students_query(condition, day, show),
        per_page=current_app.config["STUDENTS_PER_PAGE"],
        max_per_page=current_app.config["STUDENTS_PER_PAGE"],
        error_out=False,
    )
    return page, daily.statuses_for([s.id for s in page.items], day)


# -- the counsellor ---------------------------------------------------------------------------


@bp.get("/daily/", endpoint="daily")
@counsellor_required
def daily_page():
    now = now_utc()
    today = local_today(now)
    day = _day(request.args.get("date"), today)
    report = daily.get_report(current_user.id, day)
    totals = daily.caseload_totals(current_user, day)
    show = _show(totals)
    page, statuses = _student_page(Student.counsellor_id == current_user.id, day, show)
    return render_template(
        "reports/daily.html",
        day=day, today=today, report=report, totals=totals, show=show, page=page,
        statuses=statuses, deadline=daily.deadline(day),
        past_deadline=daily.is_past_deadline(day, now),
        can_change=day == today and daily.changes_allowed(report),
        can_submit=report is None or report.state == "returned",
        submit_form=SubmitReportForm(day=day.isoformat()),
        upload_form=UploadForm(), action_form=ActionForm(),
        follow_up="students.follow_up" in current_app.view_functions,
        self_reports=latest_checkins([s.id for s in page.items], day),
    )


@bp.route("/daily/students/<int:student_id>/status", methods=["GET", "POST"])
@counsellor_required
def record_status(student_id: int):
    student = get_student_or_404(student_id, current_user)
    if not can_record_for(current_user, student):
        abort(404)
    now = now_utc()
    status = daily.statuses_for([student.id], local_today(now))[student.id]
    values = status.values
    form = StatusForm(data={
        "province": values.province, "city": values.city, "on_campus": values.on_campus,
        "health": values.health, "note": status.note, "next": request.args.get("next", ""),
    })
    if form.validate_on_submit():
        try:
            result = daily.record_status(
                student, current_user,
                daily.StatusValues(form.province.data or "", form.city.data or "",
                                   form.on_campus.data, form.health.data),
                now, note=form.note.data or "",
            )
        except daily.DailyRuleError as exc:
            db.session.rollback()
            flash(rule_message(exc), "danger")
        except IntegrityError:
            db.session.rollback()
            flash(RECORDED_MEANWHILE, "warning")
            return redirect(_back(url_for("reports.daily")))
        else:
            db.session.commit()
            if result.changed:
                flash(_("%(name)s's change is recorded.", name=student.name), "success")
            else:
                flash(_("%(name)s's status is confirmed for today.", name=student.name),
                      "success")
            return redirect(_back(url_for("reports.daily")))
    elif request.method == "GET":
        record_event("daily_status.view", current_user, student.id)
        db.session.commit()
    return render_template("reports/status_form.html", form=form, student=student,
                           status=status)


@bp.post("/daily/students/<int:student_id>/confirm")
@counsellor_required
def confirm_status(student_id: int):
    student = get_student_or_404(student_id, current_user)
    if not can_record_for(current_user, student):
        abort(404)
    if ActionForm().validate_on_submit():
        try:
            daily.confirm_unchanged(student, current_user, now_utc())
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            flash(RECORDED_MEANWHILE, "warning")
        else:
            flash(_("%(name)s's status is confirmed for today.", name=student.name), "success")
    return redirect(_back(url_for("reports.daily")))


@bp.route("/daily/upload", methods=["GET", "POST"])
@counsellor_required
def upload():
    form = UploadForm()
    preview = token = None
    if form.validate_on_submit():
        sheet = form.sheet.data
        preview = daily.preview_upload(current_user, sheet.filename or "", sheet.read(), now_utc())
        if preview.ok:
            token = daily.upload_token(current_user, preview)
    return render_template(
        "reports/upload.html", form=form, preview=preview,
        confirm_form=ConfirmUploadForm(token=token) if token else None,
        sheet_message=sheet_message,
    )


@bp.post("/daily/upload/confirm")
@counsellor_required
def apply_upload():
    form = ConfirmUploadForm()
    if not form.validate_on_submit():
        return redirect(url_for("reports.upload"))
    try:
        result = daily.apply_upload(current_user, form.token.data, now_utc())
        db.session.commit()
    except daily.DailyRuleError as exc:
        db.session.rollback()
        flash(rule_message(exc), "danger")
        return redirect(url_for("reports.upload"))
    except IntegrityError:
        db.session.rollback()
        flash(RECORDED_MEANWHILE, "warning")
        return redirect(url_for("reports.upload"))
    flash(_("Check-in sheet applied: %(confirmed)d students confirmed, %(changed)d of them "
            "changed.", confirmed=result.confirmed, changed=result.changed), "success")
    return redirect(url_for("reports.daily"))


@bp.get("/daily/check-in-sheet.xlsx")
@counsellor_required
def checkin_sheet():
    day = local_today(now_utc())
    headers, rows = daily.checkin_sheet_rows(current_user, day)
    return xlsx_response(f"check-in-{day.isoformat()}.xlsx", [(_("Check-in"), headers, rows)])


def _submit(zero: bool):
    form = SubmitReportForm()
    now = now_utc()
    today = local_today(now)
    day = _day(form.day.data, today)
    if form.validate_on_submit():
        try:
            report = daily.submit_report(current_user, day, now, note=form.note.data or "",
                                         zero=zero)
            db.session.commit()
        except daily.DailyRuleError as exc:
            db.session.rollback()
            flash(rule_message(exc), "danger")
        except (IntegrityError, StaleDataError):
            db.session.rollback()
            flash(RULE_MESSAGES["already-submitted"], "warning")
        else:
            if report.is_zero:
                flash(_("Zero report submitted: nothing changed."), "success")
            else:
                flash(_("Report submitted with %(num)d changes.", num=report.changes_count),
                      "success")
    return redirect(_daily_url(day, today))


@bp.post("/daily/submit")
@counsellor_required
def submit():
    return _submit(zero=False)


@bp.post("/daily/zero")
@counsellor_required
def zero_report():
    return _submit(zero=True)


# -- the deputy secretary ---------------------------------------------------------------------


@bp.get("/board/")
@deputy_required
def board():
    now = now_utc()
    today = local_today(now)
    day = _day(request.args.get("date"), today)
    return render_template(
        "reports/board.html", board=daily.board(day, now), day=day, today=today,
        review_form=ReviewForm(),
    )


@bp.get("/board/counsellors/<int:counsellor_id>/")
@deputy_required
def counsellor_day(counsellor_id: int):
    counsellor = db.session.get(User, counsellor_id)
    if counsellor is None or counsellor.role != Role.COUNSELLOR:
        abort(404)
    now = now_utc()
    today = local_today(now)
    day = _day(request.args.get("date"), today)
    totals = daily.caseload_totals(counsellor, day)
    show = _show(totals)
    page, statuses = _student_page(Student.counsellor_id == counsellor.id, day, show)
    return render_template(
        "reports/counsellor_day.html", counsellor=counsellor, day=day, today=today,
        report=daily.get_report(counsellor.id, day), totals=totals, show=show, page=page,
        statuses=statuses, past_deadline=daily.is_past_deadline(day, now),
        deadline=daily.deadline(day), review_form=ReviewForm(),
        self_reports=latest_checkins([s.id for s in page.items], day),
    )


def _review(report_id: int, approve: bool):
    report = db.get_or_404(DailyReport, report_id)
    form = ReviewForm()
    back = _back(url_for("reports.board", date=report.day.isoformat()))
    if form.validate_on_submit():
        try:
            daily.review_report(report, current_user, now_utc(), approve=approve,
                                comment=form.comment.data or "")
            db.session.commit()
        except daily.DailyRuleError as exc:
            db.session.rollback()
            flash(rule_message(exc), "danger")
        except StaleDataError:
            db.session.rollback()
            flash(_("The report changed meanwhile; look at it again."), "warning")
        else:
            name = report.counsellor.display_name
            if approve:
                flash(_("%(name)s's report is approved.", name=name), "success")
            else:
                flash(_("%(name)s's report is returned.", name=name), "success")
    return redirect(back)


@bp.post("/<int:report_id>/approve")
@deputy_required
def approve(report_id: int):
    return _review(report_id, approve=True)


@bp.post("/<int:report_id>/return")
@deputy_required
def return_report(report_id: int):
    return _review(report_id, approve=False)


def _export(build):
    now = now_utc()
    day = _day(request.args.get("date"), local_today(now))
    try:
        return build(day, now)
    except daily.DailyRuleError as exc:
        flash(rule_message(exc), "warning")
        return redirect(url_for("reports.board", date=day.isoformat()))


@bp.get("/board/college-report.xlsx")
@deputy_required
def export_xlsx():
    def build(day, now):
        sheets = daily.college_report_sheets(day, now)
        response = xlsx_response(f"college-report-{day.isoformat()}.xlsx", sheets)
        record_event("daily_report.export", current_user, detail=f"day:{day.isoformat()}")
        db.session.commit()
        return response

    return _export(build)


@bp.get("/board/college-report.txt")
@deputy_required
def export_text():
    def build(day, now):
        return Response(daily.college_report_text(day, now), mimetype="text/plain")

    return _export(build)
