"""The caseload list, the student page with its timeline, and the forms that add to it."""

from flask import abort, current_app, flash, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from caretrack.access import (
    get_recordable_student_or_404,
    get_student_or_404,
    keeps_caseload,
    may_revoke_referrals_of,
)
from caretrack.auth.services import is_safe_next
from caretrack.extensions import db
from caretrack.messages import message
from caretrack.models import Role, now_utc
from caretrack.services import cases, entries, rechecks, referrals, status_rules, student_page
from caretrack.services.errors import RuleError
from caretrack.services.notifications import mark_seen
from caretrack.services.students import (
    CaseloadFilters,
    active_assignments_by_student,
    active_categories,
    caseload_query,
    category_counts,
    filter_options,
    get_assignment,
    get_referral_of,
)
from caretrack.services.timeline import get_entry, related_entries
from caretrack.services.users import users_with_role
from caretrack.students import bp
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
    SuggestionForm,
)
from caretrack.students.recording import (
    as_utc,
    entry_form,
    local_now,
    local_today_now,
    student_url,
)
from caretrack.web import client_address, commit_write

# -- the caseload list and the student page ---------------------------------------------------


@bp.get("/")
def index():
    """List the students the user may see, filtered, a page at a time."""
    filters = CaseloadFilters.from_args(request.args)
    if keeps_caseload(current_user):  # students moved in or out are seen: their badge clears
        commit_write(lambda: mark_seen(current_user, kinds=("transfer.in", "transfer.out")))
    per_page = current_app.config["STUDENTS_PER_PAGE"]
    page = db.paginate(caseload_query(current_user, filters), per_page=per_page,
                       max_per_page=per_page, error_out=False)
    students = list(page.items)
    return render_template(
        "students/index.html", page=page, students=students, filters=filters,
        assignments=active_assignments_by_student([s.id for s in students]),
        counts=category_counts(current_user), options=filter_options(current_user),
        can_record=keeps_caseload(current_user),
    )


@bp.get("/<int:student_id>")
def detail(student_id: int):
    """Show one student's case and a page of their timeline; the view is audited first.

    :raise 404: if the user may not see the student.
    """
    student = get_student_or_404(student_id, current_user)
    # Committed before the page is read, so no write lock is held while it renders.
    commit_write(lambda: student_page.record_view(student, current_user, ip=client_address()))
    shown = student_page.student_page(
        student, current_user, kind=request.args.get("kind", ""),
        page_number=request.args.get("page", type=int),
        entry_id=request.args.get("entry", type=int),
    )
    return render_template("students/detail.html", **shown.context())


# -- entry forms: each loads its student, then answers through entry_form ----------------------


@bp.route("/<int:student_id>/follow-ups/new", methods=["GET", "POST"])
def follow_up(student_id: int):
    student = get_recordable_student_or_404(student_id, current_user)
    form = FollowUpForm()
    categories = rechecks.active_categories_of(student)
    suggestion = {"reached": rechecks.suggested_interval(categories, reached=True),
                  "not_reached": rechecks.suggested_interval(categories, reached=False)}
    next_url = request.args.get("next", "") if request.method == "GET" else form.next.data
    back = next_url if is_safe_next(next_url) else student_url(student)
    return entry_form(
        form, "students/follow_up_form.html", student,
        lambda key: entries.record_follow_up(
            student, current_user, channel=form.channel.data, reached=form.reached.data == "1",
            health=form.health.data, body=form.body.data or "",
            occurred_at=as_utc(form.occurred_at.data),
            check_again_in_days=form.check_again_in_days.data,
            ip=client_address(), submission_key=key),
        saved=_("Follow-up with %(name)s saved.", name=student.name), to=back,
        defaults=form.defaults(reached=request.args.get("reached") != "0", now=local_now(),
                               suggestion=suggestion, next_url=next_url),
        fields={"interval": "check_again_in_days"}, default_field="occurred_at",
        back=back, suggestion=suggestion, categories=categories,
    )


@bp.route("/<int:student_id>/deliveries/new", methods=["GET", "POST"])
def delivery(student_id: int):
    student = get_recordable_student_or_404(student_id, current_user)
    form = DeliveryForm()
    return entry_form(
        form, "students/delivery_form.html", student,
        lambda key: entries.record_delivery(
            student, current_user, items=form.lines(), place=form.place.data,
            place_detail=form.place_detail.data or "", received=form.received.data == "1",
            delivered_by=form.delivered_by.data, body=form.body.data or "",
            occurred_at=as_utc(form.occurred_at.data), ip=client_address(),
            submission_key=key),
        saved=_("Supply delivery saved."), to=student_url(student),
        defaults={"occurred_at": local_now(), "delivered_by": current_user.display_name},
        default_field="occurred_at",
    )


@bp.route("/<int:student_id>/referrals/new", methods=["GET", "POST"])
def referral(student_id: int):
    student = get_recordable_student_or_404(student_id, current_user)
    form = ReferralForm()
    supervisors = users_with_role(Role.SUPERVISOR, current_user)
    form.offer(supervisors, student.supervisor_id)
    supervisor = next((s for s in supervisors if s.id == form.supervisor_id.data), None)
    return entry_form(
        form, "students/referral_form.html", student,
        lambda key: referrals.refer(
            student, supervisor, current_user, reason=form.reason.data,
            urgency=form.urgency.data, ip=client_address(), submission_key=key),
        saved=_("Referred to %(name)s.", name=supervisor.display_name if supervisor else ""),
        to=student_url(student),
        defaults={"supervisor_id": student.supervisor_id} if student.supervisor_id else {},
        fields={"no-reason": "reason"}, default_field="supervisor_id",
        active=referrals.active_referrals(student),
    )


@bp.route("/<int:student_id>/notes/new", methods=["GET", "POST"])
def note(student_id: int):
    student = get_recordable_student_or_404(student_id, current_user)
    form = NoteForm()
    return entry_form(
        form, "students/note_form.html", student,
        lambda key: entries.record_note(student, current_user, body=form.body.data,
                                        ip=client_address(), submission_key=key),
        saved=_("Note saved."), to=student_url(student), default_field="body",
    )


@bp.route("/<int:student_id>/entries/<int:entry_id>/correct", methods=["GET", "POST"])
def correction(student_id: int, entry_id: int):
    student = get_recordable_student_or_404(student_id, current_user)
    entry = get_entry(student, entry_id)
    if entry is None or entry.kind not in entries.CORRECTABLE_KINDS:
        abort(404)
    form = CorrectionForm()
    return entry_form(
        form, "students/correction_form.html", student,
        lambda key: entries.record_correction(entry, current_user, body=form.body.data,
                                              ip=client_address(), submission_key=key),
        saved=_("Correction saved."), to=student_url(student, entry.id), default_field="body",
        entry=entry, existing=entries.correction_of(entry), related=related_entries([entry]),
        referrals_by_id={}, categories_by_id={}, can_record=False, correctable=(),
        can_revoke=lambda referral: False,
    )


@bp.route("/<int:student_id>/categories/new", methods=["GET", "POST"])
def add_category(student_id: int):
    student = get_recordable_student_or_404(student_id, current_user)
    held = {c.id for c in rechecks.active_categories_of(student)}
    available = [c for c in active_categories() if c.id not in held]
    form = AddCategoryForm()
    form.offer(available, str(get_locale()))
    return entry_form(
        form, "students/category_form.html", student,
        lambda key: cases.assign_category(
            student, next(c for c in available if c.id == form.category_id.data), current_user,
            started_on=form.started_on.data, reason=form.reason.data, ip=client_address(),
            submission_key=key),
        saved=_("Care category added."), to=student_url(student),
        defaults={"started_on": local_today_now()}, default_field="category_id",
        available=available,
    )


@bp.route("/<int:student_id>/categories/<int:assignment_id>/end", methods=["GET", "POST"])
def end_category(student_id: int, assignment_id: int):
    student = get_recordable_student_or_404(student_id, current_user)
    assignment = get_assignment(student, assignment_id)
    if assignment is None:
        abort(404)
    form = EndCategoryForm()
    return entry_form(
        form, "students/end_category_form.html", student,
        lambda key: cases.end_category(assignment, current_user, ended_on=form.ended_on.data,
                                       reason=form.reason.data, ip=client_address(),
                                       submission_key=key),
        saved=_("Care category ended."), to=student_url(student),
        defaults={"ended_on": local_today_now()}, default_field="ended_on",
        assignment=assignment,
    )


@bp.route("/<int:student_id>/concern", methods=["GET", "POST"])
def concern(student_id: int):
    student = get_recordable_student_or_404(student_id, current_user)
    form = ConcernForm()
    return entry_form(
        form, "students/concern_form.html", student,
        lambda key: cases.change_concern_level(student, form.level.data, current_user,
                                               reason=form.reason.data, ip=client_address(),
                                               submission_key=key),
        saved=_("Concern level changed."), to=student_url(student),
        defaults={"level": student.concern_level}, default_field="level",
    )


@bp.route("/<int:student_id>/referrals/<int:referral_id>/revoke", methods=["GET", "POST"])
def revoke_referral(student_id: int, referral_id: int):
    student = get_student_or_404(student_id, current_user)
    if not may_revoke_referrals_of(current_user, student):
        abort(404)
    target = get_referral_of(student, referral_id)
    if target is None:
        abort(404)
    form = RevokeReferralForm()
    return entry_form(
        form, "students/revoke_form.html", student,
        lambda key: referrals.revoke(target, current_user, reason=form.reason.data or "",
                                     ip=client_address(), submission_key=key),
        saved=_("Referral revoked."), to=student_url(student), default_field="reason",
        referral=target, supervisor=target.supervisor,
    )


@bp.post("/<int:student_id>/suggestions/<int:suggestion_id>/<any(apply, dismiss):action>")
def close_suggestion(student_id: int, suggestion_id: int, action: str):
    """Apply or dismiss one of the status rules' suggestions.

    :raise 404: for a student the user may not record for.
    """
    student = get_recordable_student_or_404(student_id, current_user)
    if SuggestionForm().validate_on_submit():
        try:
            commit_write(lambda: status_rules.close_suggestion(
                student, suggestion_id, current_user, apply=action == "apply", now=now_utc(),
                ip=client_address()))
        except RuleError as error:
            flash(message(error.code), "warning")
        else:
            flash(_("Suggestion applied.") if action == "apply" else _("Suggestion dismissed."),
                  "success")
    return redirect(student_url(student))
