"""The re-check list, and adding, rescheduling and cancelling a re-check."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload

from caretrack.access import (
    can_read_cases,
    get_recordable_student_or_404,
    keeps_caseload,
    requires,
    sees_whole_college,
    works_rechecks,
)
from caretrack.auth.services import is_safe_next
from caretrack.downloads import export_response
from caretrack.extensions import db
from caretrack.labels import label
from caretrack.messages import message
from caretrack.models import Recheck, RecheckState, now_utc
from caretrack.rechecks import bp
from caretrack.rechecks.forms import CancelForm, NewRecheckForm, RescheduleForm
from caretrack.services import rechecks
from caretrack.services.clock import local_today
from caretrack.services.errors import RuleError
from caretrack.services.exports import ExportColumn
from caretrack.services.notifications import mark_seen
from caretrack.services.recheck_lists import RecheckFilters, counts_by_counsellor, list_query
from caretrack.services.students import active_assignments_by_student, active_categories
from caretrack.templating import category_name, row_url
from caretrack.web import commit_write, show_rule_error

PER_PAGE = 50


@bp.app_template_global()
def follow_up_url(student_id: int) -> str:
    """Return the link to log a follow-up for a student, coming back to this page after."""
    here = request.full_path.rstrip("?")
    return row_url("students.follow_up", "student_id", student_id, next=here)


@bp.app_template_global()
def college_today():
    """Return the college's calendar day now."""
    return local_today(now_utc())


@bp.app_template_global()
def is_overdue(recheck: Recheck) -> bool:
    """Whether the re-check is open and due before the college's today."""
    return rechecks.is_overdue(recheck, now_utc())


@bp.app_template_global()
def is_due_today(recheck: Recheck) -> bool:
    """Whether the re-check is open and due on the college's today."""
    return rechecks.is_due_today(recheck, now_utc())


@bp.app_template_global()
def days_overdue(recheck: Recheck) -> int:
    """How many days ago an overdue re-check was due."""
    return rechecks.days_overdue(recheck, now_utc())


bp.add_app_template_global(RecheckState, "RecheckState")


@bp.before_request
@requires(can_read_cases)
def require_case_reader():
    """Every re-check page is for the roles that read cases."""


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
    get_recordable_student_or_404(recheck.student_id, current_user)
    return recheck


def _render_form(form, student, recheck, action: str):
    return render_template(
        "rechecks/form.html", form=form, student=student, recheck=recheck, action=action,
        back=_next_url(url_for("students.detail", student_id=student.id)),
        today_iso=local_today(now_utc()).isoformat(),
    )


def _filters() -> RecheckFilters:
    """The list's filters; a counsellor's "whose students" picks among their own and those
    they cover (the list is of the students they may see whatever id is asked)."""
    filters = RecheckFilters.from_args(request.args)
    if not (sees_whole_college(current_user) or keeps_caseload(current_user)):
        filters.counsellor = None
    return filters


@bp.get("/")
@requires(works_rechecks)
def index():
    """List re-checks with filters: a counsellor's own, or every counsellor's for the deputy."""
    now = now_utc()
    filters = _filters()
    whole_college = sees_whole_college(current_user)
    if not whole_college:  # the review requests are seen: their badge clears
        commit_write(lambda: mark_seen(current_user, kinds=("review.request", "status.alert"),
                                       now=now))
    page = db.paginate(list_query(current_user, filters, now),
                       per_page=PER_PAGE, max_per_page=PER_PAGE, error_out=False)
    items = list(page.items)
    return render_template(
        "rechecks/index.html", page=page, rechecks=items, filters=filters,
        assignments=active_assignments_by_student(sorted({r.student_id for r in items})),
        categories=active_categories(),
        loads=counts_by_counsellor(current_user, now) if whole_college else [],
        today=local_today(now),
    )


def _write(form, change, default_field: str | None = "due_on") -> str | None:
    """Commit ``change`` for a valid form: "saved", "duplicate" (saved before), "closed" (the
    re-check was closed meanwhile, said in a flash), or None (refused beside its field)."""
    key = form.submission_key.data or None
    try:
        written = commit_write(lambda: change(key), submission_key=key)
    except RuleError as error:
        if error.code == "recheck-not-open":
            flash(message(error.code), "warning")
            return "closed"
        show_rule_error(form, error, default_field)
        return None
    return "duplicate" if written.duplicate else "saved"


@bp.route("/students/<int:student_id>/new", methods=["GET", "POST"])
def new(student_id: int):
    """Add a re-check by hand for one of the counsellor's students.

    :raise 404: unless the user is the student's counsellor.
    """
    student = get_recordable_student_or_404(student_id, current_user)
    form = NewRecheckForm(next=request.args.get("next", ""))
    if form.validate_on_submit() and (saved := _write(form, lambda key: rechecks.add_by_hand(
            student, current_user, due_on=form.due_on.data, reason=form.reason.data.strip(),
            submission_key=key))):
        if saved == "saved":
            flash(_("Re-check added for %(date)s.", date=form.due_on.data.isoformat()), "success")
        return redirect(_next_url(url_for("students.detail", student_id=student.id)))
    return _render_form(form, student, None, "new")


@bp.route("/<int:recheck_id>/reschedule", methods=["GET", "POST"])
def reschedule(recheck_id: int):
    """Move an open re-check to another day, with a reason.

    :raise 404: unless the user is the student's counsellor.
    """
    recheck = _recheck_to_change(recheck_id)
    form = RescheduleForm(next=request.args.get("next", ""))
    if form.validate_on_submit() and (saved := _write(form, lambda key: rechecks.reschedule(
            recheck, current_user, due_on=form.due_on.data, reason=form.reason.data.strip(),
            submission_key=key))):
        if saved == "saved":
            flash(_("Re-check moved to %(date)s.", date=form.due_on.data.isoformat()), "success")
        return redirect(_next_url(url_for("students.detail", student_id=recheck.student_id)))
    return _render_form(form, recheck.student, recheck, "reschedule")


@bp.route("/<int:recheck_id>/cancel", methods=["GET", "POST"])
def cancel(recheck_id: int):
    """Cancel an open re-check, with a reason.

    :raise 404: unless the user is the student's counsellor.
    """
    recheck = _recheck_to_change(recheck_id)
    form = CancelForm(next=request.args.get("next", ""))
    if form.validate_on_submit() and (saved := _write(form, lambda key: rechecks.cancel(
            recheck, current_user, reason=form.reason.data.strip(), submission_key=key),
            default_field="reason")):
        if saved == "saved":
            flash(_("Re-check cancelled."), "success")
        return redirect(_next_url(url_for("students.detail", student_id=recheck.student_id)))
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
@requires(works_rechecks)
def export(fmt: str):
    """Download the re-check list with its current filters (exactly what the user may see)."""
    now = now_utc()
    rows = db.session.scalars(
        list_query(current_user, _filters(), now).options(
            joinedload(Recheck.owner), joinedload(Recheck.category)
        )
    ).unique().all()
    response = export_response("rechecks", fmt, EXPORT_COLUMNS, rows, current_user,
                               title=_("Re-checks"), now=now)
    db.session.commit()
    return response
