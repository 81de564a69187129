"""The deputy secretary's review queue of high-concern students."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from caretrack.access import can_record_for, get_student_or_404
from caretrack.extensions import db
from caretrack.models import Role, now_utc
from caretrack.review.forms import FlagForm, ReviewForm
from caretrack.services.audit import record_event
from caretrack.services.review import (
    ReviewError,
    flag_for_review,
    latest_entries,
    overdue_rechecks,
    queue_query,
    review_student,
)
from caretrack.services.students import active_assignments_by_student
from caretrack.services.timeline import DuplicateSubmission

bp = Blueprint("review", __name__)

REVIEW_ERRORS = {
    "act-by-required": _l("Give the date by which the counsellor should act."),
    "act-by-past": _l("The date cannot be in the past."),
}


def require_deputy() -> None:
    if current_user.role != Role.DEPUTY_SECRETARY:
        abort(404)


@bp.get("/")
@login_required
def index():
    require_deputy()
    page = db.paginate(queue_query(current_user), per_page=20, error_out=False)
    students = list(page.items)
    ids = [s.id for s in students]
    return render_template(
        "review/index.html",
        page=page,
        students=students,
        assignments=active_assignments_by_student(ids),
        entries=latest_entries(ids),
        overdue=overdue_rechecks(ids, now_utc()),
    )


@bp.route("/<int:student_id>", methods=["GET", "POST"])
@login_required
def review(student_id: int):
    require_deputy()
    student = get_student_or_404(student_id, current_user)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            review_student(
                student, current_user, note=form.note.data, decision=form.decision.data,
                act_by=form.act_by.data, submission_key=form.submission_key.data,
            )
        except DuplicateSubmission:
            return redirect(url_for("review.index"))
        except ReviewError as exc:
            db.session.rollback()
            form.act_by.errors.append(str(REVIEW_ERRORS[str(exc)]))
        else:
            record_event("review.create", current_user, student.id)
            db.session.commit()
            flash(_("Review of %(name)s recorded.", name=student.name), "success")
            return redirect(url_for("review.index"))
    record_event("student.view", current_user, student.id, detail="review")
    db.session.commit()
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
    student = get_student_or_404(student_id, current_user)
    if not can_record_for(current_user, student):
        abort(404)
    form = FlagForm()
    if not form.validate_on_submit():
        flash(_("Say why the student should be reviewed."), "danger")
        return redirect(url_for("students.detail", student_id=student.id))
    try:
        flag_for_review(student, current_user, reason=form.reason.data)
    except ReviewError:
        flash(_("This student is already in the review queue."), "info")
        return redirect(url_for("students.detail", student_id=student.id))
    record_event("review.flag", current_user, student.id)
    db.session.commit()
    flash(_("%(name)s is in the deputy secretary's review queue.", name=student.name), "success")
    return redirect(url_for("students.detail", student_id=student.id))
