"""The deputy secretary's review queue of high-concern students."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from caretrack.access import (
    can_review,
    get_recordable_student_or_404,
    get_student_or_404,
    reads_review_queue,
    requires,
)
from caretrack.extensions import db
from caretrack.messages import message
from caretrack.models import now_utc
from caretrack.review import bp
from caretrack.review.forms import FlagForm, ReviewForm
from caretrack.services.errors import RuleError
from caretrack.services.review import (
    concern_reasons,
    flag_for_review,
    latest_entries,
    overdue_rechecks,
    queue_query,
    record_review_view,
    review_student,
    statuses_today,
)
from caretrack.services.students import active_assignments_by_student
from caretrack.web import client_address, commit_write, show_rule_error


@bp.get("/")
@requires(reads_review_queue)
def index():
    page = db.paginate(queue_query(current_user), per_page=20, error_out=False)
    students = list(page.items)
    ids = [s.id for s in students]
    now = now_utc()
    return render_template(
        "review/index.html",
        page=page,
        students=students,
        assignments=active_assignments_by_student(ids),
        entries=latest_entries(ids),
        overdue=overdue_rechecks(ids, now),
        reasons=concern_reasons(ids),
        statuses=statuses_today(ids, now),
    )


@bp.route("/<int:student_id>", methods=["GET", "POST"])
@requires(can_review)
def review(student_id: int):
    student = get_student_or_404(student_id, current_user)
    form = ReviewForm()
    if form.validate_on_submit():
        key = form.submission_key.data or None
        try:
            written = commit_write(lambda: review_student(
                student, current_user, note=form.note.data, decision=form.decision.data,
                act_by=form.act_by.data, now=now_utc(), ip=client_address(), submission_key=key,
            ), submission_key=key)
        except RuleError as error:
            show_rule_error(form, error, default_field="act_by")
        else:
            if not written.duplicate:
                flash(_("Review of %(name)s recorded.", name=student.name), "success")
            return redirect(url_for("review.index"))
    commit_write(lambda: record_review_view(student, current_user, now=now_utc(),
                                            ip=client_address()))
    return render_template(
        "review/review.html",
        student=student,
        form=form,
        assignments=active_assignments_by_student([student.id]).get(student.id, []),
        entries=latest_entries([student.id], per_student=10).get(student.id, []),
        overdue=overdue_rechecks([student.id], now_utc()).get(student.id, []),
    )


@bp.post("/flag/<int:student_id>")
@login_required
def flag(student_id: int):
    """A counsellor puts one of their students in the review queue.

    :raise 404: unless the user is the student's counsellor.
    """
    student = get_recordable_student_or_404(student_id, current_user)
    back = url_for("students.detail", student_id=student.id)
    form = FlagForm()
    if not form.validate_on_submit():
        flash(_("Say why the student should be reviewed."), "danger")
        return redirect(back)
    try:
        commit_write(lambda: flag_for_review(student, current_user, reason=form.reason.data,
                                             now=now_utc(), ip=client_address()))
    except RuleError as error:
        flash(message(error.code), "info")
        return redirect(back)
    flash(_("%(name)s is in the deputy secretary's review queue.", name=student.name), "success")
    return redirect(back)
