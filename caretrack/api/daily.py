"""Daily statuses and reports: a day's statuses (the caseload's, or the college's), the bulk
upsert of today's statuses with the sheet upload's parsing and the same status rules, and the
state of a day's reports."""

from datetime import date

from flask import abort, request, url_for
from flask.views import MethodView
from flask_login import current_user
from sqlalchemy import func, select, true

from caretrack.access import (
    keeps_caseload,
    reads_daily_statuses,
    requires,
    working_caseload_filter,
)
from caretrack.api import bp
from caretrack.api.pages import READ_ERRORS, WRITE_ERRORS, documented
from caretrack.api.problems import TYPE_PREFIX
from caretrack.api.schemas import (
    DayStatusArgs,
    DayStatusPageSchema,
    ReportDaySchema,
    StatusBulkInput,
    StatusBulkResultSchema,
)
from caretrack.extensions import db
from caretrack.models import DailyReport, StatusSource, Student, now_utc
from caretrack.services.absences import covering_today
from caretrack.services.clock import local_today
from caretrack.services.daily.carried import Carried
from caretrack.services.daily.reports import board, deadline, report_status
from caretrack.services.daily.sheet import (
    SHEET_COLUMNS,
    SheetProblem,
    UploadPreview,
    problem_message,
    read_rows,
)
from caretrack.services.daily.statuses import StatusInput, apply_statuses
from caretrack.services.errors import RuleError
from caretrack.web import client_address, commit_write

#: The bulk upsert's row fields, in the order of the sheet columns they fill.
ROW_FIELDS = tuple(SHEET_COLUMNS)


def day_or_404(text: str) -> date:
    """The day of the URL, not after today.

    :raise 404: for a malformed date; :raise RuleError: "future-day" for a day to come.
    """
    try:
        day = date.fromisoformat(text)
    except ValueError:
        abort(404)
    if len(text) != 10:
        abort(404)
    if day > local_today(now_utc()):
        raise RuleError("future-day", "day")
    return day


def scope_of(user, day):
    """SQL condition on ``Student``: the students whose daily status the user reads (a
    counsellor's own and those they cover that day; the deputy's whole college)."""
    return working_caseload_filter(user, day) if keeps_caseload(user) else true()


@bp.route("/daily/<day>/statuses")
class DayStatuses(MethodView):
    @bp.arguments(DayStatusArgs, location="query")
    @bp.response(200, DayStatusPageSchema)
    @documented(*READ_ERRORS)
    @requires(reads_daily_statuses)
    def get(self, args, day: str):
        """Every status of the day (``day`` as YYYY-MM-DD): recorded (confirmed) or carried
        forward (unconfirmed), in class order, a page at a time."""
        the_day = day_or_404(day)
        carried = Carried(the_day)
        condition = scope_of(current_user, the_day)
        query = carried.join(select(
            *carried.columns(), Student.student_number, Student.name, Student.class_name,
            carried.changed,
        )).where(condition)
        show = args["show"]
        if show == "missing":
            query = query.where(carried.missing)
        elif show == "changes":
            query = query.where(carried.changed)
        elif show != "all":
            query = query.where(carried.on_day.source == show)
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        page, per_page = args["page"], args["per_page"]
        rows = db.session.execute(
            query.order_by(Student.class_name, Student.student_number)
            .limit(per_page).offset((page - 1) * per_page)
        ).all()
        items = []
        for row in rows:
            status = carried.status_of(row)
            number, name, class_name, changed = row[17:]
            confirmed = status.row_id is not None
            items.append({
                "student_id": status.student_id, "student_number": number, "name": name,
                "class_name": class_name, "province": status.values.province,
                "city": status.values.city, "on_campus": status.values.on_campus,
                "health": status.values.health, "note": status.note, "confirmed": confirmed,
                "changed": bool(changed), "source": status.source if confirmed else None,
                "recorded_at": status.recorded_at if confirmed else None,
            })
        following = None
        if page * per_page < total:
            following = url_for("api.DayStatuses", day=day, **{
                **request.args.to_dict(), "page": page + 1, "per_page": per_page})
        return {"day": the_day, "total": total, "page": page, "per_page": per_page,
                "next": following, "items": items}

    @bp.arguments(StatusBulkInput)
    @bp.response(200, StatusBulkResultSchema)
    @documented(*WRITE_ERRORS)
    @requires(keeps_caseload)
    def post(self, data, day: str):
        """Record today's statuses of the caller's students (up to 5,000 rows), parsed and
        checked as the rows of the check-in sheet upload. Each row is applied or refused with
        its 0-based index and its reason; a bad row does not stop the good ones."""
        now = now_utc()
        the_day = day_or_404(day)
        if the_day != local_today(now):
            raise RuleError("api-not-today", "day", today=local_today(now).isoformat())
        return apply_rows(data["statuses"], now)


def _cells(row: dict) -> list[str]:
    cells = []
    for name in ROW_FIELDS:
        value = row.get(name)
        if name == "on_campus":
            value = "" if value is None else ("yes" if value else "no")
        cells.append("" if value is None else str(value))
    return cells


def apply_rows(rows: list[dict], now) -> dict:
    """Parse the rows as a sheet's, refuse the bad ones, and apply the rest in one
    :func:`apply_statuses`."""
    preview = UploadPreview(day=local_today(now))
    columns = {name: index for index, name in enumerate(ROW_FIELDS)}
    present = {name for row in rows for name in row}
    if "province" not in present and "location" in present:
        del columns["province"]  # the sheet's "location" column: "湖北省武汉市"
    read_rows(preview, current_user, columns, [(i, _cells(r)) for i, r in enumerate(rows)])
    refused = [_refusal(problem, rows) for problem in preview.problems if problem.row is not None]
    good = preview.rows
    items = [StatusInput(r.student.id, r.values, r.note) for r in good]
    applied = changed = 0
    if items:
        try:
            result = commit_write(lambda: apply_statuses(
                current_user, items, now, source=StatusSource.UPLOAD, ip=client_address()))
        except RuleError as error:
            if error.code == "recorded-meanwhile":
                raise RuleError(error.code, conflict=True) from error
            raise
        applied, changed = result.result.confirmed, result.result.changed
    refused.sort(key=lambda r: r["index"])
    return {"day": preview.day, "applied": applied, "changed": changed, "refused": refused}


def _refusal(problem: SheetProblem, rows: list[dict]) -> dict:
    code = f"sheet-{problem.code}"
    return {"index": problem.row, "student_number": str(rows[problem.row].get(
        "student_number", "")), "code": code, "type": TYPE_PREFIX + code,
        "detail": problem_message(problem)}


@bp.route("/daily/<day>/reports")
class DayReports(MethodView):
    @bp.response(200, ReportDaySchema)
    @documented(*READ_ERRORS)
    @requires(reads_daily_statuses)
    def get(self, day: str):
        """The state of the day's reports: the caller's own and those of the colleagues they
        cover that day (a counsellor), or every counsellor's (the deputy secretary)."""
        the_day = day_or_404(day)
        if keeps_caseload(current_user):
            # Their own, and those of the colleagues they cover that day.
            people = [current_user, *(c.counsellor for c in covering_today(current_user,
                                                                         the_day))]
            reports = {r.counsellor_id: r for r in db.session.scalars(select(DailyReport).where(
                DailyReport.counsellor_id.in_([p.id for p in people]),
                DailyReport.day == the_day))}
            rows = [(person, reports.get(person.id)) for person in people]
        else:
            rows = [(r.counsellor, r.report) for r in board(the_day, now_utc(), current_user).rows]
        return {"day": the_day, "deadline": deadline(the_day), "reports": [
            _report(counsellor, report) for counsellor, report in rows]}


def _report(counsellor, report) -> dict:
    return {
        "counsellor": counsellor, "status": report_status(report),
        "is_zero": report.is_zero if report else None,
        "changes_count": report.changes_count if report else None,
        "late": report.late if report else None,
        "submitted_at": report.submitted_at if report else None,
        "reviewed_at": report.reviewed_at if report else None,
        "review_comment": report.review_comment if report else None,
    }
