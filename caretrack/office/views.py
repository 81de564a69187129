"""The university office's board, its lists and the university report."""

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from caretrack.downloads import file_response
from caretrack.extensions import db
from caretrack.messages import message
from caretrack.models import College
from caretrack.office import bp
from caretrack.reports.board import board_list_title
from caretrack.reports.pages import current_time, day_asked
from caretrack.services.clock import local_today
from caretrack.services.daily import university
from caretrack.services.daily.carried import statuses_for
from caretrack.services.errors import RuleError
from caretrack.services.exports import MIMETYPES, ExportFile


@bp.get("/")
def board():
    """Each college's sign-off of the day (stage, on time or late) and its numbers."""
    now = current_time()
    today = local_today(now)
    day = day_asked(today)
    return render_template("office/board.html", board=university.office_board(day, now),
                           day=day, today=today, now=now, one_day=timedelta(days=1))


@bp.get("/students")
def students():
    """The students behind one of the board's numbers: name, college, class, status.

    :raise 404: for an unknown list or college.
    """
    what = request.args.get("what", "")
    college_id = request.args.get("college", type=int)
    college = db.get_or_404(College, college_id) if college_id else None
    day = day_asked(local_today(current_time()))
    try:
        query = university.office_students(day, what, college_id)
    except KeyError:
        abort(404)
    per_page = current_app.config["STUDENTS_PER_PAGE"]
    page = db.paginate(query, per_page=per_page, max_per_page=per_page, error_out=False)
    names = {c.id: c for c in db.session.scalars(db.select(College))}
    return render_template("office/students.html", page=page, what=what, college=college,
                           title=board_list_title(what), day=day, colleges=names,
                           statuses=statuses_for([s.id for s in page.items], day))


@bp.get("/university-report.xlsx")
def report():
    """Download the university report of the day, once every college's last stage approved."""
    now = current_time()
    day = day_asked(local_today(now))
    try:
        body = university.university_report_xlsx(day, now)
    except RuleError as error:
        flash(message(error.code, **error.values), "warning")
        return redirect(url_for("office.board", date=day.isoformat()))
    name = f"university-report-{day.isoformat()}.xlsx"
    return file_response(ExportFile(body, name, name, MIMETYPES["xlsx"]))
