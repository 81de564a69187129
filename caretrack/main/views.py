"""The landing page of each role."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from caretrack.models import Role, now_utc
from caretrack.services import rechecks
from caretrack.services.daily import landing_summary
from caretrack.services.students import active_assignments_by_student, category_counts

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def index():
    """Show each role its day: the counsellor's re-checks and daily report, the deputy
    secretary's college dashboard, the supervisor's referral inbox, the admin's accounts."""
    if current_user.role == Role.ADMIN:
        return redirect(url_for("admin.users"))
    if current_user.role == Role.SUPERVISOR:
        return redirect(url_for("referrals.index"))
    now = now_utc()
    if current_user.role == Role.DEPUTY_SECRETARY:
        from caretrack.main.dashboard import render_dashboard

        return render_dashboard(daily_summary=landing_summary(current_user, now))
    worklist = rechecks.worklist(current_user, now)
    return render_template(
        "main/index.html",
        counts=category_counts(current_user),
        worklist=worklist,
        assignments=active_assignments_by_student(worklist.student_ids),
        daily_summary=landing_summary(current_user, now),
    )
