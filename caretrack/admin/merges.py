"""Merging two records of one student: choose them, see what moves, merge; undo while
nothing new was written."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from caretrack.access import get_merge_or_404, in_college
from caretrack.admin import bp
from caretrack.messages import message
from caretrack.models import now_utc
from caretrack.services import merges
from caretrack.services.errors import RuleError
from caretrack.web import client_address, commit_write

#: What the merge page calls each kind of row that moves.
MOVED_LABELS = {
    "timeline_entries": _l("Timeline entries"),
    "category_assignments": _l("Care categories (with their history)"),
    "concern_changes": _l("Concern level changes"),
    "rechecks": _l("Re-checks"),
    "referrals": _l("Supervisor referrals"),
    "daily_statuses": _l("Daily statuses"),
    "checkins": _l("Check-ins"),
    "status_suggestions": _l("Status suggestions"),
    "checkin_links": _l("Personal check-in link"),
}


class ChooseForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that only shows what a merge would do

    keep = StringField(_l("Record that stays (student number)"),
                       validators=[DataRequired(_l("Enter a student number.")), Length(max=32)])
    merge = StringField(_l("Duplicate to merge into it (student number)"),
                        validators=[DataRequired(_l("Enter a student number.")),
                                    Length(max=32)])


class MergeForm(FlaskForm):
    survivor_id = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,18}$")])
    merged_id = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,18}$")])


class UndoForm(FlaskForm):
    pass


def _plan(form: ChooseForm):
    """The plan of the chosen records, or None with the reasons beside the fields."""
    found = {}
    for name in ("keep", "merge"):
        record = merges.find_record(getattr(form, name).data or "",
                                    in_college(current_user))
        if record is None:
            getattr(form, name).errors.append(_(
                "No current record has the student number %(number)s.",
                number=getattr(form, name).data))
        found[name] = record
    if None in found.values():
        return None
    try:
        return merges.plan_merge(found["keep"].id, found["merge"].id,
                                 in_college(current_user))
    except RuleError as error:
        form.merge.errors.append(message(error.code, **error.values))
        return None


@bp.get("/roster/merge")
def roster_merge():
    """Choose two records of one student and see what merging them would move."""
    form = ChooseForm(request.args)
    plan = _plan(form) if request.args and form.validate() else None
    return render_template(
        "admin/roster_merge.html", form=form, plan=plan, labels=MOVED_LABELS,
        merge_form=MergeForm(survivor_id=plan.survivor.id, merged_id=plan.merged.id)
        if plan else None, recent=merges.recent_merges(current_user),
    ), 200 if plan or not form.errors else 422


@bp.post("/roster/merge")
def roster_merge_confirm():
    """Merge the two records shown, in one transaction."""
    form = MergeForm()
    if not form.validate_on_submit():
        return redirect(url_for("admin.roster_merge"))
    try:
        merge = commit_write(lambda: merges.merge_students(
            int(form.survivor_id.data), int(form.merged_id.data), current_user, now_utc(),
            ip=client_address())).result
    except (RuleError, ValueError):
        flash(_("These records cannot be merged any more: one of them was merged meanwhile."),
              "warning")
        return redirect(url_for("admin.roster_merge"))
    flash(_("Merged: %(merged)s now points to %(survivor)s.",
            merged=merge.merged.student_number, survivor=merge.survivor.student_number),
          "success")
    return redirect(url_for("admin.roster_merge_done", merge_id=merge.id))


@bp.get("/roster/merges/<int:merge_id>")
def roster_merge_done(merge_id: int):
    """One merge: what moved, and its undo while nothing new was written."""
    merge = get_merge_or_404(merge_id, current_user)
    return render_template("admin/roster_merge_done.html", merge=merge,
                           reversible=merges.can_undo(merge), form=UndoForm())


@bp.post("/roster/merges/<int:merge_id>/undo")
def roster_merge_undo(merge_id: int):
    """Undo a merge: the merged record is a record again, with what it had."""
    get_merge_or_404(merge_id, current_user)
    if UndoForm().validate_on_submit():
        try:
            commit_write(lambda: merges.undo_merge(merge_id, current_user, now_utc(),
                                                   ip=client_address()))
        except RuleError as error:
            flash(message(error.code, **error.values), "danger")
        else:
            flash(_("The merge is undone: both records are as they were."), "success")
    return redirect(url_for("admin.roster_merge_done", merge_id=merge_id))
