"""The re-check list, and adding, rescheduling and cancelling a re-check."""

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from caretrack.access import can_read_cases, can_record_for, get_student_or_404
from caretrack.auth.services import is_safe_next
from caretrack.downloads import export_response
from caretrack.extensions import db
from caretrack.labels import label
from caretrack.models import Recheck, Role, now_utc
from caretrack.navigation import BADGE_PROVIDERS
from caretrack.rechecks.forms import CancelForm, NewRecheckForm, RescheduleForm
from caretrack.services import rechecks
from caretrack.services.clock import local_today
from caretrack.services.exports import ExportColumn
from caretrack.services.notifications import mark_seen
from caretrack.services.students import active_assignments_by_student, active_categories
from caretrack.services.timeline import DuplicateSubmission, find_submission
from caretrack.templating import category_name

bp = Blueprint("rechecks", __name__)

#: What a refused change says, by the code the service raises.
ERRORS = {
    "not-open": _l("This re-check is closed already."),
    "in-the-past": _l("Choose today or a later day."),
    "unchanged": _l("That is the day it is due already."),
}
PER_PAGE = 50


def overdue_badge(user) -> dict[str, int]:
    """Show the counsellor's overdue re-checks as a badge on the navigation."""
    if user.role != Role.COUNSELLOR:
        return {}
    return {"rechecks.index": rechecks.overdue_count(user, now_utc())}


if overdue_badge not in BADGE_PROVIDERS:
    BADGE_PROVIDERS.append(overdue_badge)


@bp.app_template_global()
def follow_up_url(student_id: int) -> str:
    """Return the link to log a follow-up for a student, coming back to this page after."""
    here = request.full_path.rstrip("?")
    return url_for("students.follow_up", student_id=student_id, next=here)


@bp.app_template_global()
def college_today():
    """Return the college's calendar day now."""
    return local_today(now_utc())


@bp.before_request
@login_required
def require_case_reader():
    if not can_read_cases(current_user):
        abort(404)


def _next_url(default: str) -> str:
    target = request.values.get("next", "")
    return target if is_safe_next(target) else default


def _recheck_to_change(recheck_id: int) -> Recheck:
    """Load a re-check of a student whose counsellor is the current user.

    :raise 404: if there is none, or the user is not the student's counsellor.
    """
    recheck = db.session.get(Recheck, recheck_id)
    if recheck is None:
        abort(404)
    student = get_student_or_404(recheck.student_id, current_user)
    if not can_record_for(current_user, student):
        abort(404)
    return recheck


def _commit(submission_key: str | None) -> None:
    """Commit a change; a racing second post of the same form is taken as the first.

    :raise DuplicateSubmission: if the same form was recorded meanwhile.
    """
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = find_submission(submission_key)
        if existing is None:
            raise
        raise DuplicateSubmission(existing) from None


def _render_form(form, student, recheck, action: str):
    return render_template(
        "rechecks/form.html", form=form, student=student, recheck=recheck, action=action,
        back=_next_url(url_for("students.detail", student_id=student.id)),
        today_iso=local_today(now_utc()).isoformat(),
    )


@bp.get("/")
def index():
    """List re-checks with filters: a counsellor's own, or every counsellor's for the deputy."""
    if current_user.role not in (Role.COUNSELLOR, Role.DEPUTY_SECRETARY):
        abort(404)
    now = now_utc()
    filters = rechecks.RecheckFilters.from_args(request.args)
    whole_college = current_user.role == Role.DEPUTY_SECRETARY
    if not whole_college:
        filters.counsellor = None
    page = db.paginate(
        rechecks.list_query(current_user, filters, now),
        per_page=PER_PAGE, max_per_page=PER_PAGE, error_out=False,
    )
    items = list(page.items)
    if not whole_college and mark_seen(current_user, kinds=("review.request",)):
        db.session.commit()  # the review requests are seen: their badge clears
    return render_template(
        "rechecks/index.html",
        page=page,
        rechecks=items,
        assignments=active_assignments_by_student(sorted({r.student_id for r in items})),
        filters=filters,
        categories=active_categories(),
        loads=rechecks.counts_by_counsellor(now) if whole_college else [],
        today=local_today(now),
    )


@bp.route("/students/<int:student_id>/new", methods=["GET", "POST"])
def new(student_id: int):
    """Add a re-check by hand for one of the counsellor's students.

    :raise 404: unless the user is the student's counsellor.
    """
    student = get_student_or_404(student_id, current_user)
    if not can_record_for(current_user, student):
        abort(404)
    form = NewRecheckForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            rechecks.add_by_hand(
                student, current_user, due_on=form.due_on.data, reason=form.reason.data.strip(),
                submission_key=form.submission_key.data,
            )
            _commit(form.submission_key.data)
        except rechecks.RecheckError as error:
            form.due_on.errors.append(ERRORS[error.code])
        except DuplicateSubmission:
            return redirect(_next_url(url_for("students.detail", student_id=student.id)))
        else:
            flash(_("Re-check added for %(date)s.", date=form.due_on.data.isoformat()), "success")
            return redirect(_next_url(url_for("students.detail", student_id=student.id)))
    return _render_form(form, student, None, "new")


@bp.route("/<int:recheck_id>/reschedule", methods=["GET", "POST"])
def reschedule(recheck_id: int):
    """Move an open re-check to another day, with a reason.

    :raise 404: unless the user is the student's counsellor.
    """
    recheck = _recheck_to_change(recheck_id)
    back = url_for("students.detail", student_id=recheck.student_id)
    form = RescheduleForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            rechecks.reschedule(
                recheck, current_user, due_on=form.due_on.data, reason=form.reason.data.strip(),
                submission_key=form.submission_key.data,
            )
            _commit(form.submission_key.data)
        except rechecks.RecheckError as error:
            if error.code == "not-open":
                flash(ERRORS["not-open"], "warning")
                return redirect(_next_url(back))
            form.due_on.errors.append(ERRORS[error.code])
        except DuplicateSubmission:
            return redirect(_next_url(back))
        else:
            flash(_("Re-check moved to %(date)s.", date=form.due_on.data.isoformat()), "success")
            return redirect(_next_url(back))
    return _render_form(form, recheck.student, recheck, "reschedule")


@bp.route("/<int:recheck_id>/cancel", methods=["GET", "POST"])
def cancel(recheck_id: int):
    """Cancel an open re-check, with a reason.

    :raise 404: unless the user is the student's counsellor.
    """
    recheck = _recheck_to_change(recheck_id)
    back = url_for("students.detail", student_id=recheck.student_id)
    form = CancelForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            rechecks.cancel(recheck, current_user, reason=form.reason.data.strip(),
                            submission_key=form.submission_key.data)
            _commit(form.submission_key.data)
        except rechecks.RecheckError:
            flash(ERRORS["not-open"], "warning")
        except DuplicateSubmission:
            pass
        else:
            flash(_("Re-check cancelled."), "success")
        return redirect(_next_url(back))
    return _render_form(form, recheck.student, recheck, "cancel")


def _origin(recheck) -> str:
    text = label("recheck_origin", recheck.origin)
    return f"{text} · {category_name(recheck.category)}" if recheck.category else text


EXPORT_COLUMNS = [
    ExportColumn(_l("Due"), lambda r: r.due_on),
    ExportColumn(_l("Student number"), lambda r: r.student.student_number),
    ExportColumn(_l("Name"), lambda r: r.student.name),
    ExportColumn(_l("Class"), lambda r: r.student.class_name),
    ExportColumn(_l("Counsellor"), lambda r: r.owner.display_name),
    ExportColumn(_l("State"), lambda r: label("recheck_state", r.state)),
    ExportColumn(_l("Origin"), _origin),
    ExportColumn(_l("Reason"), lambda r: r.reason or r.cancel_reason or ""),
]


@bp.get("/export/<any(xlsx, csv):fmt>")
def export(fmt: str):
    """Download the re-check list with its current filters (exactly what the user may see)."""
    if current_user.role not in (Role.COUNSELLOR, Role.DEPUTY_SECRETARY):
        abort(404)
    now = now_utc()
    filters = rechecks.RecheckFilters.from_args(request.args)
    if current_user.role != Role.DEPUTY_SECRETARY:
        filters.counsellor = None
    rows = db.session.scalars(
        rechecks.list_query(current_user, filters, now).options(
            joinedload(Recheck.owner), joinedload(Recheck.category)
        )
    ).unique().all()
    response = export_response("rechecks", fmt, EXPORT_COLUMNS, rows, current_user,
                               title=_("Re-checks"), now=now)
    db.session.commit()
    return response
