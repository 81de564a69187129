"""The landing page of each role."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from caretrack.models import Role, now_utc
from caretrack.services import rechecks
from caretrack.services.students import active_assignments_by_student, category_counts

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def index():
    """Show the user's day: a counsellor's re-checks, and everyone's caseload by category."""
    if current_user.role == Role.ADMIN:
        return redirect(url_for("admin.users"))
    worklist = assignments = None
    if current_user.role == Role.COUNSELLOR:
        worklist = rechecks.worklist(current_user, now_utc())
        assignments = active_assignments_by_student(worklist.student_ids)
    return render_template(
        "main/index.html",
        counts=category_counts(current_user),
        worklist=worklist,
        assignments=assignments,
    )
