"""The caseload list and the student page."""

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from caretrack.access import can_read_cases, can_record_for, get_student_or_404
from caretrack.extensions import db
from caretrack.models import CategoryAssignment, ConcernChange
from caretrack.services.audit import record_event
from caretrack.services.students import (
    CaseloadFilters,
    active_assignments_by_student,
    caseload_query,
    category_counts,
    filter_options,
)

bp = Blueprint("students", __name__)


@bp.before_request
@login_required
def require_case_reader():
    if not can_read_cases(current_user):
        abort(404)


@bp.get("/")
def index():
    filters = CaseloadFilters.from_args(request.args)
    page = db.paginate(
        caseload_query(current_user, filters),
        per_page=current_app.config["STUDENTS_PER_PAGE"],
        max_per_page=current_app.config["STUDENTS_PER_PAGE"],
        error_out=False,
    )
    students = list(page.items)
    assignments = active_assignments_by_student([s.id for s in students])
    return render_template(
        "students/index.html",
        page=page,
        students=students,
        assignments=assignments,
        filters=filters,
        counts=category_counts(current_user),
        options=filter_options(current_user),
    )


@bp.get("/<int:student_id>")
def detail(student_id: int):
    student = get_student_or_404(student_id, current_user)
    record_event("student.view", current_user, student.id)
    db.session.commit()
    assignments = db.session.scalars(
        select(CategoryAssignment)
        .where(CategoryAssignment.student_id == student.id)
        .order_by(CategoryAssignment.ended_on.is_not(None), CategoryAssignment.started_on.desc())
    ).all()
    concern_history = db.session.scalars(
        select(ConcernChange)
        .where(ConcernChange.student_id == student.id)
        .order_by(ConcernChange.created_at.desc())
        .limit(10)
    ).all()
    return render_template(
        "students/detail.html",
        student=student,
        active_assignments=[a for a in assignments if a.ended_on is None],
        ended_assignments=[a for a in assignments if a.ended_on is not None],
        concern_history=concern_history,
        can_record=can_record_for(current_user, student),
    )
