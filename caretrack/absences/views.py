"""Absences: the list, recording one (for oneself, or the deputy for a counsellor), and
ending early, extending or cancelling it."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from caretrack.absences import bp
from caretrack.absences.forms import SPLIT, AbsenceForm, CancelForm, EndEarlyForm, ExtendForm
from caretrack.access import (
    counsellor_accounts,
    get_absence_or_404,
    keeps_caseload,
    manages_absence_of,
    records_absences,
    requires,
    visible_absences,
)
from caretrack.extensions import db
from caretrack.models import Absence, User, now_utc
from caretrack.services import absences
from caretrack.services.clock import local_today
from caretrack.services.errors import RuleError
from caretrack.web import client_address, commit_write, show_rule_error, status_of


def _today():
    return local_today(now_utc())


@bp.get("/", endpoint="index")
@requires(records_absences)
def index():
    """List the absences the user may see: their own and those they cover (all, for the
    deputy secretary), latest first."""
    rows = list(db.session.scalars(
        visible_absences(current_user).order_by(Absence.starts_on.desc(), Absence.id.desc())
        .limit(200)
    ))
    counsellors = [] if keeps_caseload(current_user) else list(db.session.scalars(
        select(User).where(counsellor_accounts(current_user)).order_by(User.display_name)))
    return render_template("absences/index.html", absences=rows, today=_today(),
                           counsellors=counsellors, state_of=absences.state_of)


def _counsellor_asked() -> User:
    """The counsellor who is away: the user, or (the deputy) ``?counsellor=<id>``.

    :raise 404: for an account whose absences the user may not record.
    """
    if keeps_caseload(current_user):
        return current_user._get_current_object()
    try:
        counsellor = db.session.get(User, int(request.args.get("counsellor") or 0))
    except ValueError:
        counsellor = None
    if counsellor is None or not manages_absence_of(current_user, counsellor):
        from flask import abort

        abort(404)
    return counsellor


def _covers_posted(form: AbsenceForm, classes: list[str], candidates: dict[int, User]):
    """The covers chosen: ``{None: colleague}`` or ``{class: colleague}`` (unchosen classes
    left out, so the rules name the first)."""
    def pick(value):
        try:
            return candidates.get(int(value or 0))
        except ValueError:
            return None

    if form.cover.data != SPLIT:
        chosen = pick(form.cover.data)
        return {None: chosen} if chosen else {}
    covers = {}
    for index, name in enumerate(classes):
        chosen = pick(request.form.get(f"class_cover-{index}"))
        if chosen:
            covers[name] = chosen
    return covers


@bp.route("/new", methods=["GET", "POST"])
@requires(records_absences)
def new():
    """Record an absence and its covers.

    :raise 404: for a counsellor whose absences the user may not record.
    """
    counsellor = _counsellor_asked()
    classes = absences.caseload_classes(counsellor)
    candidates = {u.id: u for u in absences.cover_candidates(counsellor)}
    form = AbsenceForm()
    form.cover.choices = [("", _("Choose…"))] + [
        (str(u.id), u.display_name) for u in candidates.values()
    ] + [(SPLIT, _("Split by class"))]
    status = 200
    if form.validate_on_submit():
        covers = _covers_posted(form, classes, candidates)
        try:
            absence = commit_write(lambda: absences.record_absence(
                counsellor, current_user, starts_on=form.starts_on.data,
                ends_on=form.ends_on.data, reason=form.reason.data, covers=covers,
                ip=client_address()), show_conflicts=True).result
        except RuleError as error:
            show_rule_error(form, error, default_field="cover")
            if error.field == "covers":
                form.cover.errors = [*form.cover.errors, *form.form_errors]
                form.form_errors.clear()
            status = status_of(error)
        else:
            flash(_("The absence is recorded; the covers see the students from its first day."),
                  "success")
            return redirect(url_for("absences.detail", absence_id=absence.id))
    elif request.method == "POST":
        status = 200
    return render_template("absences/new.html", form=form, counsellor=counsellor,
                           classes=classes, candidates=list(candidates.values()),
                           posted=request.form, split=SPLIT), status


@bp.get("/<int:absence_id>")
@requires(records_absences)
def detail(absence_id: int):
    """Show one absence, its covers and, to who manages it, the changes still possible.

    :raise 404: for an absence the user may not see.
    """
    absence = get_absence_or_404(absence_id, current_user)
    today = _today()
    return _detail(absence, today)


def _detail(absence, today, *, end_form=None, extend_form=None, status=200):
    version = str(absence.version_id)
    return render_template(
        "absences/detail.html", absence=absence, today=today,
        state=absences.state_of(absence, today),
        may_change=manages_absence_of(current_user, absence.counsellor)
        and absences.can_change(absence, today),
        end_form=end_form or EndEarlyForm(version=version),
        extend_form=extend_form or ExtendForm(version=version),
        cancel_form=CancelForm(version=version),
    ), status


def _change(absence_id: int, form, verb, done: str, **values):
    absence = get_absence_or_404(absence_id, current_user)
    if form.validate_on_submit():
        if form.version.data != str(absence.version_id):
            return _stale(absence, form)
        try:
            commit_write(lambda: verb(absence, current_user, ip=client_address(),
                                      **{k: getattr(form, k).data for k in values}),
                         show_conflicts=True)
        except RuleError as error:
            show_rule_error(form, error, default_field=next(iter(values), None))
            return _detail_with(absence, form, status_of(error))
        flash(done, "success")
        return redirect(url_for("absences.detail", absence_id=absence.id))
    return _detail_with(absence, form, 200)


def _stale(absence, form):
    form.form_errors.append(_("Someone changed this absence meanwhile; look at it again."))
    return _detail_with(absence, form, 409)


def _detail_with(absence, form, status):
    today = _today()
    if isinstance(form, EndEarlyForm):
        return _detail(absence, today, end_form=form, status=status)
    if isinstance(form, ExtendForm):
        return _detail(absence, today, extend_form=form, status=status)
    for error in form.form_errors:
        flash(error, "danger")
    return _detail(absence, today, status=status)


@bp.post("/<int:absence_id>/end")
@requires(records_absences)
def end_early(absence_id: int):
    """Bring the last day of an absence forward.

    :raise 404: for an absence the user may not see.
    """
    return _change(absence_id, EndEarlyForm(), absences.end_early,
                   _("The absence now ends earlier."), last_day=True)


@bp.post("/<int:absence_id>/extend")
@requires(records_absences)
def extend(absence_id: int):
    """Move the last day of an absence later.

    :raise 404: for an absence the user may not see.
    """
    return _change(absence_id, ExtendForm(), absences.extend,
                   _("The absence is extended."), ends_on=True)


@bp.post("/<int:absence_id>/cancel")
@requires(records_absences)
def cancel(absence_id: int):
    """Cancel an absence that has not started.

    :raise 404: for an absence the user may not see.
    """
    return _change(absence_id, CancelForm(), absences.cancel, _("The absence is cancelled."))


@bp.record_once
def add_globals(state) -> None:
    """Give every template the absences the signed-in user covers today, and a student's
    "covering for" mark."""
    state.app.jinja_env.globals.update(covering_today=covering_today, covering_for=covering_for)


def covering_today() -> list[absences.Covering]:
    """The absences the signed-in counsellor covers today (one query per request)."""
    from flask import g

    if "covering_today" not in g:
        g.covering_today = (absences.covering_today(current_user, _today())
                            if current_user.is_authenticated and keeps_caseload(current_user)
                            else [])
    return g.covering_today


def covering_for(student) -> User | None:
    """The absent counsellor the signed-in user covers ``student`` for, if any."""
    if not current_user.is_authenticated or student.counsellor_id == current_user.id:
        return None
    for covering in covering_today():
        if covering.counsellor.id == student.counsellor_id and (
            covering.whole_caseload or student.class_name in covering.classes
        ):
            return covering.counsellor
    return None
