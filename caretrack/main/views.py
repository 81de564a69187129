"""The landing page of each role."""

from datetime import timedelta

from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from caretrack.access import (
    can_manage_roster,
    has_referral_inbox,
    keeps_caseload,
    manages_colleges,
    reads_college_board,
    reads_university_reports,
    sees_whole_college,
)
from caretrack.main import bp
from caretrack.main.dashboard import render_dashboard
from caretrack.models import now_utc
from caretrack.services.absences import away_summary
from caretrack.services.channels import failed_messages
from caretrack.services.clock import local_today
from caretrack.services.daily import landing_summary
from caretrack.services.notices import open_coverage
from caretrack.services.recheck_lists import worklist
from caretrack.services.retention import upcoming_warning
from caretrack.services.students import active_assignments_by_student, category_counts
from caretrack.work.views import landing_jobs


@bp.get("/")
@login_required
def index():
    """Show each role its day: the counsellor's re-checks and daily report, the deputy
    secretary's and secretary's college dashboard, the league secretary's board of reports,
    the supervisor's referral inbox, the admin's accounts, the office's board."""
    if can_manage_roster(current_user):
        return redirect(url_for("admin.users"))
    if manages_colleges(current_user):
        return redirect(url_for("colleges.index"))
    if reads_university_reports(current_user):
        return redirect(url_for("office.board"))
    if has_referral_inbox(current_user):
        return redirect(url_for("referrals.index"))
    now = now_utc()
    if sees_whole_college(current_user):
        return render_dashboard(daily_summary=landing_summary(current_user, now),
                                retention_warning=upcoming_warning(current_user, now))
    if reads_college_board(current_user) and not keeps_caseload(current_user):
        # The league secretary keeps no caseload: their day is the counsellors' reports.
        return redirect(url_for("reports.board"))
    rechecks = worklist(current_user, now, upcoming_rows=False)
    return render_template(
        "main/index.html",
        away_summary=away_summary(current_user, local_today(now)),
        counts=category_counts(current_user),
        worklist=rechecks,
        assignments=active_assignments_by_student(rechecks.student_ids),
        daily_summary=landing_summary(current_user, now),
        open_notices=open_coverage(current_user),
        recent_jobs=landing_jobs(current_user),
        failed_messages=failed_messages(current_user, now - timedelta(days=7)),
    )
