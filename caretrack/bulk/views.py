"""Bulk actions: the list posts its selection here; the page asks for the action's parameters,
previews what would change, and confirms. And the transfer page of a class, a cohort or a
caseload (the deputy's and the admin's)."""

from urllib.parse import parse_qsl, urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from caretrack.access import (
    accounts_with_role,
    can_transfer_students,
    counsellor_accounts,
    requires,
    takes_bulk_actions,
    transfer_filter,
)
from caretrack.auth.services import is_safe_next
from caretrack.bulk import bp
from caretrack.bulk.forms import BulkForm
from caretrack.downloads import export_response
from caretrack.extensions import db
from caretrack.jobs import error_message, submit
from caretrack.labels import label
from caretrack.messages import message
from caretrack.models import JobState, Role, Student, User, now_utc
from caretrack.services import bulk
from caretrack.services.errors import RuleError
from caretrack.services.students import active_categories
from caretrack.students.exports import caseload_columns, categories_by_student
from caretrack.web import client_address, commit_write, show_rule_error

#: The list each source goes back to when the page has no ``next``.
LIST_OF = {"students": "students.index", "rechecks": "rechecks.index",
           "chase": "reports.chase", "roster": "admin.roster"}


def _back(form: BulkForm) -> str:
    target = form.next.data or ""
    return target if is_safe_next(target) else url_for(LIST_OF.get(form.source.data,
                                                                    "main.index"))


def _selection(form: BulkForm, now) -> list[int]:
    """The students the list's post asks for: every one matching its filter, or the ticked
    rows (the service drops any the user may not touch)."""
    if form.all_matching.data:
        return bulk.matching_ids(current_user, form.source.data,
                                 MultiDict(parse_qsl(form.filters.data or "")), now)
    return list(form.selected.data or [])


def _offer(form: BulkForm, action: str) -> None:
    """Fill the choices the action's parameters need."""
    if action == bulk.Action.LOG_FOLLOW_UP:
        form.reason.label.text = _("What was said")
    day_label = {bulk.Action.ADD_CATEGORY: _("Since"), bulk.Action.END_CATEGORY: _("Ended on"),
                 bulk.Action.SCHEDULE_RECHECK: _("Due on")}.get(action)
    if day_label:
        form.day.label.text = day_label
    if action in (bulk.Action.ADD_CATEGORY, bulk.Action.END_CATEGORY):
        locale = str(get_locale())
        form.category_id.choices = [SelectChoice("", _("Choose…"))] + [
            SelectChoice(str(c.id), c.name_for(locale)) for c in active_categories()]
    if action in (bulk.Action.TRANSFER, bulk.Action.ASSIGN_SUPERVISOR):
        form.to_id.label.text = (_("Move to") if action == bulk.Action.TRANSFER
                                 else _("Supervisor"))
        condition = (counsellor_accounts(current_user) if action == bulk.Action.TRANSFER
                     else accounts_with_role(Role.SUPERVISOR, current_user))
        form.to_id.choices = [SelectChoice("", _("Choose…"))] + [
            SelectChoice(str(u.id), u.display_name) for u in db.session.scalars(
                select(User).where(condition).order_by(User.display_name))]


def _export(ids: list[int], now):
    query = select(Student).where(Student.id.in_(ids)).order_by(Student.student_number)
    response = export_response(
        "caseload", "xlsx", caseload_columns(categories_by_student(query)),
        db.session.scalars(query).all(), current_user, title=_("Student list"), now=now)
    db.session.commit()  # the export's audit event
    return response


def _page(form: BulkForm, action: str, ids: list[int], plan=None, status: int = 200):
    return render_template(
        "bulk/preview.html", form=form, action=action, ids=ids, plan=plan,
        students=len(bulk.allowed_ids(current_user, action, ids)), back=_back(form),
        threshold=bulk.JOB_THRESHOLD, message=message,
    ), status


@bp.app_template_global()
def bulk_actions(source: str) -> list[str]:
    """The bulk actions the signed-in user is offered on the list ``source``."""
    return bulk.actions_for(current_user, source)


@bp.before_request
@requires(takes_bulk_actions)
def require_signed_in():
    """Sign-in first; the actions each user may take are checked by each route."""


@bp.post("/")
def start():
    """Take one action over the students a list selected: ask for the parameters, preview what
    would change, confirm (409 when the students matched changed since the preview).

    :raise 404: for an action the user may not take, and for a selection of students none
        of whom the user may touch (any such student among others is left out).
    """
    form = BulkForm()
    action = form.action.data or ""
    if not bulk.may_use(current_user, action) or form.source.data not in bulk.SOURCES:
        abort(404)
    _offer(form, action)
    if not form.validate_on_submit():
        flash(_("Nothing was done; try again."), "danger")
        return redirect(_back(form))
    now = now_utc()
    ids = _selection(form, now)
    allowed = bulk.allowed_ids(current_user, action, ids)
    if not allowed:
        if ids and not form.all_matching.data:
            abort(404)  # only students the user may not touch: as if they did not exist
        flash(_("Select at least one student."), "warning")
        return redirect(_back(form))
    if action == bulk.Action.EXPORT:
        return _export(allowed, now)
    stage = form.stage.data or ""
    if stage == "":
        return _page(form, action, ids)
    if stage == "confirm":
        return _confirm(form, action, ids, allowed, now)
    try:
        shown = bulk.plan(action, current_user, ids, form.params(), now=now)
    except RuleError as error:
        show_rule_error(form, error, "reason")
        return _page(form, action, ids)
    return _page(form, action, ids, shown)


def _stale(form: BulkForm, action: str, ids: list[int], now):
    """The preview again, answering 409: the students matched changed since it was shown."""
    shown = bulk.plan(action, current_user, ids, form.params(), now=now)
    form.form_errors.append(message("bulk-stale"))
    return _page(form, action, ids, shown, 409)


def _confirm_as_job(form: BulkForm, action: str, ids: list[int], allowed: list[int], now):
    """More than :data:`~caretrack.services.bulk.JOB_THRESHOLD` students: the action runs as
    a job and its page shows the progress (in-process without a queue: the page waits)."""
    if not bulk.still_matches(allowed, form.fingerprint.data or ""):
        return _stale(form, action, ids, now)
    key = form.submission_key.data or None
    params = form.params()
    params["day"] = params["day"].isoformat() if params["day"] else None
    job = submit("students.bulk", current_user._get_current_object(), {
        "action": action, "ids": allowed, "params": params,
        "fingerprint": form.fingerprint.data or "", "ip": client_address(),
        "submission_key": key, "now": now.isoformat(), "back": _back(form),
    }, key=f"bulk:{key}" if key else None)
    if job.state == JobState.FAILED and job.error == "bulk-stale":
        return _stale(form, action, ids, now)
    if job.state == JobState.FAILED:
        form.form_errors.append(error_message(job))
        return _page(form, action, ids, bulk.plan(action, current_user, ids, form.params(),
                                                  now=now))
    return redirect(url_for("jobs.show", job_id=job.id))


def _confirm(form: BulkForm, action: str, ids: list[int], allowed: list[int], now):
    if len(allowed) > bulk.JOB_THRESHOLD:
        return _confirm_as_job(form, action, ids, allowed, now)
    key = form.submission_key.data or None
    try:
        written = commit_write(lambda: bulk.run(
            action, ids, current_user.id, form.params(), fingerprint=form.fingerprint.data or "",
            now=now, ip=client_address(), submission_key=key), submission_key=key,
            show_conflicts=True)
    except RuleError as error:
        if error.conflict:
            return _stale(form, action, ids, now)
        show_rule_error(form, error, "reason")
        return _page(form, action, ids)
    if written.duplicate:
        flash(_("This was saved already."), "info")
    else:
        result = written.result
        flash(_("%(action)s: %(changed)d of %(students)d students changed.",
                action=label("bulk_action", action), changed=result["changed"],
                students=result["students"]), "success")
    return redirect(_back(form))


@bp.get("/transfer")
@requires(can_transfer_students)
def transfer():
    """Choose a class, a cohort or a counsellor's caseload to move to another counsellor;
    the move itself is previewed and confirmed as a bulk transfer."""
    args = request.args
    base = select(Student).where(transfer_filter(current_user))
    classes = db.session.scalars(base.with_only_columns(Student.class_name).distinct()
                                 .order_by(Student.class_name)).all()
    cohorts = db.session.scalars(base.with_only_columns(Student.cohort).distinct()
                                 .order_by(Student.cohort)).all()
    counsellors = db.session.scalars(
        select(User).where(counsellor_accounts(current_user)).order_by(User.display_name)).all()
    scope = {name: args.get(name, "").strip()[:100]
             for name in ("class_name", "cohort", "programme", "counsellor")}
    chosen = {name: value for name, value in scope.items() if value}
    count = len(bulk.matching_ids(current_user, "roster", chosen)) if chosen else 0
    form = BulkForm(formdata=None, source="roster", action=bulk.Action.TRANSFER,
                    filters=urlencode(chosen),
                    next=url_for("bulk.transfer", **chosen))
    return render_template("bulk/transfer.html", classes=classes, cohorts=cohorts,
                           counsellors=counsellors, scope=scope, chosen=chosen, count=count,
                           form=form)
