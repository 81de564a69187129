"""The caseload list, the student page with its timeline, and the forms that add to it."""

from collections.abc import Callable
from datetime import UTC, datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError
from wtforms import SelectChoice

from caretrack.access import (
    can_read_cases,
    can_record_for,
    can_revoke_referral,
    entry_filter,
    get_student_or_404,
)
from caretrack.auth.services import is_safe_next
from caretrack.extensions import db
from caretrack.messages import message
from caretrack.models import (
    CategoryAssignment,
    ConcernChange,
    Referral,
    Role,
    Student,
    now_utc,
)
from caretrack.services import cases, entries, rechecks, referrals
from caretrack.services.audit import record_event
from caretrack.services.clock import college_tz, local_today
from caretrack.services.errors import RuleError
from caretrack.services.students import (
    CaseloadFilters,
    active_assignments_by_student,
    active_categories,
    caseload_query,
    category_counts,
    filter_options,
)
from caretrack.services.timeline import (
    KIND_FILTERS,
    DuplicateSubmission,
    check_not_recorded,
    entries_query,
    find_submission,
    get_entry,
    position_of,
    related_entries,
)
from caretrack.services.users import users_with_role
from caretrack.students.forms import (
    AddCategoryForm,
    ConcernForm,
    CorrectionForm,
    DeliveryForm,
    EndCategoryForm,
    FollowUpForm,
    NoteForm,
    ReferralForm,
    RevokeReferralForm,
)

bp = Blueprint("students", __name__)

#: Entries per page of the timeline.
TIMELINE_PER_PAGE = 25

#: What the user reads when a rule refuses a form (codes of the services' errors).
RULE_MESSAGES = {
    "not-allowed": _l("You may not do this for this student."),
    "in-future": _l("This time is in the future."),
    "negative-interval": _l("The number of days cannot be negative."),
    "interval": _l("Choose between 0 and 365 days."),
    "no-items": _l("List at least one item."),
    "bad-quantity": _l("Quantities are whole numbers from 1."),
    "empty": _l("This field is required."),
    "not-correctable": _l("This kind of entry is not corrected this way."),
    "already-corrected": _l("This entry has a correction already; correct the correction."),
    "not-a-supervisor": _l("Choose an active supervisor."),
    "no-reason": _l("Say why."),
    "already-referred": _l("The student has an open referral to this supervisor already."),
    "not-open": _l("The referral is no longer open."),
    "already-assigned": _l("The student holds this category already."),
    "already-ended": _l("This category has ended already."),
    "ends-before-start": _l("A category cannot end before it started."),
    "unchanged": _l("The student is at this level already."),
}


def rule_message(code: str) -> str:
    return str(RULE_MESSAGES.get(code) or message(code))


@bp.before_request
@login_required
def require_case_reader():
    if not can_read_cases(current_user):
        abort(404)


# -- helpers ----------------------------------------------------------------------------------


def recordable_student(student_id: int) -> Student:
    """Load a student whose timeline the current user records (their counsellor).

    :raise 404: for anyone else, and for a student the user may not see.
    """
    student = get_student_or_404(student_id, current_user)
    if not can_record_for(current_user, student):
        abort(404)
    return student


def local_now() -> datetime:
    """The college's wall-clock time now, to the minute, without a timezone (for inputs)."""
    return now_utc().astimezone(college_tz()).replace(second=0, microsecond=0, tzinfo=None)


def as_utc(local: datetime) -> datetime:
    """The instant of a wall-clock time typed in the college's timezone."""
    return local.replace(tzinfo=college_tz()).astimezone(UTC)


def student_url(student: Student, entry_id: int | None = None) -> str:
    if entry_id is None:
        return url_for("students.detail", student_id=student.id)
    return url_for("students.detail", student_id=student.id, entry=entry_id,
                   _anchor=f"entry-{entry_id}")


def recorded_already(form, *, message: str, to: str):
    """Answer a second post of a form that was recorded already as the first was answered,
    before the form is validated again (its choices may have changed meanwhile)."""
    if request.method == "POST" and find_submission(form.submission_key.data or None):
        flash(message, "success")
        return redirect(to)
    return None


def save(form, record: Callable[[str | None], object], *, message: str, to: str):
    """Record a valid form with ``record(submission_key)``, commit, flash, redirect to ``to``.

    A form that was recorded already (a double submit) records nothing and answers the same.
    Rule errors of the services raise through, with the session rolled back.
    """
    key = form.submission_key.data or None
    try:
        check_not_recorded(key)
        record(key)
        db.session.commit()
    except DuplicateSubmission:
        db.session.rollback()
    except IntegrityError:
        db.session.rollback()
        if find_submission(key) is None:
            raise
    except Exception:
        db.session.rollback()
        raise
    flash(message, "success")
    return redirect(to)


# -- the caseload list and the student page ---------------------------------------------------


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
        can_record=current_user.role == Role.COUNSELLOR,
    )


@bp.get("/<int:student_id>")
def detail(student_id: int):
    student = get_student_or_404(student_id, current_user)
    scope = entry_filter(current_user)
    full_case = current_user.role != Role.SUPERVISOR
    kind = request.args.get("kind", "")
    kind = kind if kind in KIND_FILTERS and full_case else ""
    page_number = None
    focus = request.args.get("entry", type=int)
    if focus and "page" not in request.args:
        # A link to one entry (e.g. "see the correction") opens the page that holds it.
        target = get_entry(student, focus, scope)
        if target is not None:
            kind = ""
            page_number = position_of(target, scope) // TIMELINE_PER_PAGE + 1
    record_event("student.view", current_user, student.id)
    page = db.paginate(
        entries_query(student, kind or None, scope), page=page_number,
        per_page=TIMELINE_PER_PAGE, max_per_page=TIMELINE_PER_PAGE, error_out=False,
    )
    timeline = list(page.items)
    assignments = db.session.scalars(
        select(CategoryAssignment)
        .where(CategoryAssignment.student_id == student.id)
        .order_by(CategoryAssignment.ended_on.is_not(None), CategoryAssignment.started_on.desc())
    ).all()
    concern_history = db.session.scalars(
        select(ConcernChange)
        .where(ConcernChange.student_id == student.id)
        .options(joinedload(ConcernChange.set_by))
        .order_by(ConcernChange.created_at.desc(), ConcernChange.id.desc())
        .limit(10)
    ).all()
    student_referrals = [
        r for r in referrals.referrals_of(student)
        if full_case or r.supervisor_id == current_user.id
    ]
    html = render_template(
        "students/detail.html",
        student=student,
        page=page,
        entries=timeline,
        kind=kind,
        kinds=list(KIND_FILTERS) if full_case else [],
        full_case=full_case,
        related=related_entries(timeline),
        referrals=student_referrals,
        referrals_by_id={r.id: r for r in student_referrals},
        categories_by_id={a.category_id: a.category for a in assignments},
        active_assignments=[a for a in assignments if a.ended_on is None],
        ended_assignments=[a for a in assignments if a.ended_on is not None],
        concern_history=concern_history if full_case else [],
        can_record=can_record_for(current_user, student),
        can_revoke=lambda referral: can_revoke_referral(current_user, referral),
        correctable=entries.CORRECTABLE_KINDS,
        open_rechecks=rechecks.open_rechecks(student) if full_case else [],
    )
    # Committed after rendering, so the page's objects are not expired and reloaded.
    db.session.commit()
    return html


# -- entry forms ------------------------------------------------------------------------------


@bp.route("/<int:student_id>/follow-ups/new", methods=["GET", "POST"])
def follow_up(student_id: int):
    student = recordable_student(student_id)
    form = FollowUpForm()
    categories = rechecks.active_categories_of(student)
    suggestion = {
        "reached": rechecks.suggested_interval(categories, reached=True),
        "not_reached": rechecks.suggested_interval(categories, reached=False),
    }
    if request.method == "GET":
        reached = request.args.get("reached") != "0"
        form.reached.data = "1" if reached else "0"
        form.health.data = "normal" if reached else "unknown"
        form.occurred_at.data = local_now()
        form.check_again_in_days.data = suggestion["reached" if reached else "not_reached"]
        form.next.data = request.args.get("next", "")
    back = form.next.data if is_safe_next(form.next.data) else student_url(student)
    message = _("Follow-up with %(name)s saved.", name=student.name)
    if (done := recorded_already(form, message=message, to=back)) is not None:
        return done
    if form.validate_on_submit():
        try:
            return save(
                form,
                lambda key: entries.record_follow_up(
                    student, current_user,
                    channel=form.channel.data, reached=form.reached.data == "1",
                    health=form.health.data, body=form.body.data or "",
                    occurred_at=as_utc(form.occurred_at.data),
                    check_again_in_days=form.check_again_in_days.data,
                    submission_key=key,
                ),
                message=message, to=back,
            )
        except entries.EntryRuleError as error:
            form.occurred_at.errors.append(rule_message(error.code))
        except RuleError as error:
            form.check_again_in_days.errors.append(rule_message(error.code))
    return render_template("students/follow_up_form.html", form=form, student=student,
                           back=back, suggestion=suggestion, categories=categories)


@bp.route("/<int:student_id>/deliveries/new", methods=["GET", "POST"])
def delivery(student_id: int):
    student = recordable_student(student_id)
    form = DeliveryForm()
    if request.method == "GET":
        form.occurred_at.data = local_now()
        form.delivered_by.data = current_user.display_name
    if (done := recorded_already(form, message=_("Supply delivery saved."),
                                 to=student_url(student))) is not None:
        return done
    if form.validate_on_submit():
        try:
            return save(
                form,
                lambda key: entries.record_delivery(
                    student, current_user, items=form.lines(), place=form.place.data,
                    place_detail=form.place_detail.data or "",
                    received=form.received.data == "1", delivered_by=form.delivered_by.data,
                    body=form.body.data or "", occurred_at=as_utc(form.occurred_at.data),
                    submission_key=key,
                ),
                message=_("Supply delivery saved."), to=student_url(student),
            )
        except entries.EntryRuleError as error:
            form.occurred_at.errors.append(rule_message(error.code))
    return render_template("students/delivery_form.html", form=form, student=student)


@bp.route("/<int:student_id>/referrals/new", methods=["GET", "POST"])
def referral(student_id: int):
    student = recordable_student(student_id)
    form = ReferralForm()
    supervisors = users_with_role(Role.SUPERVISOR)
    form.supervisor_id.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(str(s.id), s.display_name
                     + (" · " + _("the student's supervisor") if s.id == student.supervisor_id
                        else ""))
        for s in supervisors
    ]
    if request.method == "GET" and student.supervisor_id:
        form.supervisor_id.data = student.supervisor_id
    if (done := recorded_already(form, message=_("Referral saved."),
                                 to=student_url(student))) is not None:
        return done
    if form.validate_on_submit():
        supervisor = next((s for s in supervisors if s.id == form.supervisor_id.data), None)
        try:
            return save(
                form,
                lambda key: referrals.refer(
                    student, supervisor, current_user, reason=form.reason.data,
                    urgency=form.urgency.data, submission_key=key,
                ),
                message=_("Referred to %(name)s.", name=supervisor.display_name if supervisor
                          else ""),
                to=student_url(student),
            )
        except RuleError as error:
            field = form.reason if error.code == "no-reason" else form.supervisor_id
            field.errors.append(rule_message(error.code))
    return render_template("students/referral_form.html", form=form, student=student)


@bp.route("/<int:student_id>/notes/new", methods=["GET", "POST"])
def note(student_id: int):
    student = recordable_student(student_id)
    form = NoteForm()
    if (done := recorded_already(form, message=_("Note saved."),
                                 to=student_url(student))) is not None:
        return done
    if form.validate_on_submit():
        try:
            return save(
                form,
                lambda key: entries.record_note(student, current_user, body=form.body.data,
                                                submission_key=key),
                message=_("Note saved."), to=student_url(student),
            )
        except entries.EntryRuleError as error:
            form.body.errors.append(rule_message(error.code))
    return render_template("students/note_form.html", form=form, student=student)


@bp.route("/<int:student_id>/entries/<int:entry_id>/correct", methods=["GET", "POST"])
def correction(student_id: int, entry_id: int):
    student = recordable_student(student_id)
    entry = get_entry(student, entry_id)
    if entry is None or entry.kind not in entries.CORRECTABLE_KINDS:
        abort(404)
    form = CorrectionForm()
    existing = entries.correction_of(entry)
    if (done := recorded_already(form, message=_("Correction saved."),
                                 to=student_url(student, entry.id))) is not None:
        return done
    if form.validate_on_submit():
        try:
            return save(
                form,
                lambda key: entries.record_correction(entry, current_user, body=form.body.data,
                                                      submission_key=key),
                message=_("Correction saved."), to=student_url(student, entry.id),
            )
        except entries.EntryRuleError as error:
            form.body.errors.append(rule_message(error.code))
    related = related_entries([entry])
    return render_template(
        "students/correction_form.html", form=form, student=student, entry=entry,
        existing=existing, related=related, referrals_by_id={}, categories_by_id={},
        can_record=False, correctable=(), can_revoke=lambda referral: False,
    )


@bp.route("/<int:student_id>/categories/new", methods=["GET", "POST"])
def add_category(student_id: int):
    student = recordable_student(student_id)
    held = {c.id for c in rechecks.active_categories_of(student)}
    available = [c for c in active_categories() if c.id not in held]
    form = AddCategoryForm()
    form.category_id.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(str(c.id), c.name_for(str(get_locale())) + _isolation_hint(c))
        for c in available
    ]
    if request.method == "GET":
        form.started_on.data = local_today(now_utc())
    if (done := recorded_already(form, message=_("Care category added."),
                                 to=student_url(student))) is not None:
        return done
    if form.validate_on_submit():
        category = next(c for c in available if c.id == form.category_id.data)

        def record(key):
            assignment = cases.assign_category(
                student, category, current_user, started_on=form.started_on.data,
                reason=form.reason.data, submission_key=key,
            )
            record_event("category.add", current_user, student.id,
                         detail=f"assignment:{assignment.id}")

        try:
            return save(form, record, message=_("Care category added."),
                        to=student_url(student))
        except cases.CaseRuleError as error:
            form.category_id.errors.append(rule_message(str(error)))
    return render_template("students/category_form.html", form=form, student=student,
                           available=available)


def _isolation_hint(category) -> str:
    if not category.isolation_days:
        return ""
    return " · " + _("%(days)d-day isolation window", days=category.isolation_days)


@bp.route("/<int:student_id>/categories/<int:assignment_id>/end", methods=["GET", "POST"])
def end_category(student_id: int, assignment_id: int):
    student = recordable_student(student_id)
    assignment = db.session.scalars(
        select(CategoryAssignment).where(
            CategoryAssignment.id == assignment_id, CategoryAssignment.student_id == student.id
        )
    ).first()
    if assignment is None:
        abort(404)
    form = EndCategoryForm()
    if request.method == "GET":
        form.ended_on.data = local_today(now_utc())
    if (done := recorded_already(form, message=_("Care category ended."),
                                 to=student_url(student))) is not None:
        return done
    if form.validate_on_submit():

        def record(key):
            cases.end_category(assignment, current_user, ended_on=form.ended_on.data,
                               reason=form.reason.data, submission_key=key)
            record_event("category.end", current_user, student.id,
                         detail=f"assignment:{assignment.id}")

        try:
            return save(form, record, message=_("Care category ended."),
                        to=student_url(student))
        except cases.CaseRuleError as error:
            form.ended_on.errors.append(rule_message(str(error)))
    return render_template("students/end_category_form.html", form=form, student=student,
                           assignment=assignment)


@bp.route("/<int:student_id>/concern", methods=["GET", "POST"])
def concern(student_id: int):
    student = recordable_student(student_id)
    form = ConcernForm()
    if request.method == "GET":
        form.level.data = student.concern_level
    if (done := recorded_already(form, message=_("Concern level changed."),
                                 to=student_url(student))) is not None:
        return done
    if form.validate_on_submit():

        def record(key):
            change = cases.change_concern_level(student, form.level.data, current_user,
                                                reason=form.reason.data, submission_key=key)
            record_event("concern.change", current_user, student.id,
                         detail=f"concern:{change.id}")

        try:
            return save(form, record, message=_("Concern level changed."),
                        to=student_url(student))
        except cases.CaseRuleError as error:
            form.level.errors.append(rule_message(str(error)))
    return render_template("students/concern_form.html", form=form, student=student)


@bp.route("/<int:student_id>/referrals/<int:referral_id>/revoke", methods=["GET", "POST"])
def revoke_referral(student_id: int, referral_id: int):
    student = get_student_or_404(student_id, current_user)
    if not (can_record_for(current_user, student)
            or current_user.role == Role.DEPUTY_SECRETARY):
        abort(404)
    target = db.session.scalars(
        select(Referral)
        .where(Referral.id == referral_id, Referral.student_id == student.id)
        .options(joinedload(Referral.supervisor), joinedload(Referral.referred_by))
    ).first()
    if target is None:
        abort(404)
    form = RevokeReferralForm()
    if (done := recorded_already(form, message=_("Referral revoked."),
                                 to=student_url(student))) is not None:
        return done
    if form.validate_on_submit():
        try:
            return save(
                form,
                lambda key: referrals.revoke(target, current_user, reason=form.reason.data or "",
                                             submission_key=key),
                message=_("Referral revoked."), to=student_url(student),
            )
        except RuleError as error:
            form.reason.errors.append(rule_message(error.code))
        except StaleDataError:
            form.reason.errors.append(_("The referral changed meanwhile; look again."))
    return render_template("students/revoke_form.html", form=form, student=student,
                           referral=target, supervisor=target.supervisor)

