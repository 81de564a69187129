"""Who looked at a student (the access log) and the export of the student's whole record:
the deputy secretary's, for the college's answers under PIPL (routes on the students
blueprint)."""

from flask import render_template, request
from flask_login import current_user

from caretrack.access import (
    exports_student_record,
    get_student_or_404,
    requires,
    sees_access_log,
)
from caretrack.admin.audit import ACTION_LABELS
from caretrack.downloads import file_response
from caretrack.extensions import db
from caretrack.models import now_utc
from caretrack.services import student_record
from caretrack.students import bp
from caretrack.web import client_address, commit_write

#: Events per page of the access log.
ACCESS_LOG_PER_PAGE = 50


@bp.get("/<int:student_id>/access-log")
@requires(sees_access_log)
def access_log(student_id: int):
    """Who opened the student's page, what they exported or changed, and when; reading it is
    audited first.

    :raise 404: for anyone but the deputy secretary, or a student they may not see.
    """
    student = get_student_or_404(student_id, current_user)
    commit_write(lambda: student_record.record_access_log_view(
        student, current_user, now=now_utc(), ip=client_address()))
    page = db.paginate(student_record.access_log_query(student),
                       page=request.args.get("page", 1, type=int),
                       per_page=ACCESS_LOG_PER_PAGE, max_per_page=ACCESS_LOG_PER_PAGE,
                       error_out=False)
    return render_template("students/access_log.html", student=student, page=page,
                           action_labels=ACTION_LABELS,
                           view_actions=student_record.VIEW_ACTIONS)


@bp.get("/<int:student_id>/record.xlsx")
@requires(exports_student_record)
def record_export(student_id: int):
    """The student's whole record as XLSX (the answer to a request under PIPL art. 45).

    :raise 404: for anyone but the deputy secretary, or a student they may not see.
    """
    student = get_student_or_404(student_id, current_user)
    file = commit_write(lambda: student_record.export_record(
        student, current_user, now=now_utc(), ip=client_address())).result
    return file_response(file)
