"""The supervisor's referral inbox and each referral's thread; the counsellor's and the deputy
secretary's view of the same referrals."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from caretrack.access import can_read_cases, get_referral_or_404, requires
from caretrack.downloads import export_response
from caretrack.extensions import db
from caretrack.labels import REFERRAL_STATE_BADGE, label
from caretrack.models import EntryKind, ReferralState, Urgency, now_utc
from caretrack.referrals import bp
from caretrack.referrals.forms import DeclineForm, RespondForm, RevokeForm, StepForm
from caretrack.services import referrals as lifecycle
from caretrack.services.errors import RuleError
from caretrack.services.exports import ExportColumn
from caretrack.services.referral_inbox import (
    STATE_FILTERS,
    age_in_days,
    inbox_query,
    thread,
    unseen_referral_ids,
)
from caretrack.services.referrals import ReferralStep
from caretrack.web import client_address, commit_write, show_rule_error, status_of

STEP_LABELS = {
    "accepted": _l("accepted the referral"),
    "declined": _l("declined the referral"),
    "responded": _l("responded"),
    "done": _l("marked the referral done"),
    "revoked": _l("revoked the referral"),
}


@bp.before_request
@requires(can_read_cases)
def require_case_reader():
    """Every referral page is for the roles that read cases."""


def _filters() -> tuple[str, str]:
    state = request.args.get("state", "")
    return (state if state in STATE_FILTERS else ""), request.args.get("age", "")


@bp.get("/")
def index():
    state, age = _filters()
    now = now_utc()
    page = db.paginate(inbox_query(current_user, state=state, age=age, now=now),
                       per_page=50, error_out=False)
    referrals = list(page.items)
    return render_template(
        "referrals/index.html", page=page, referrals=referrals, state=state, age=age,
        states=STATE_FILTERS, ages={r.id: age_in_days(r, now) for r in referrals},
        unseen=unseen_referral_ids(current_user, [r.id for r in referrals]),
        state_badge=REFERRAL_STATE_BADGE, Urgency=Urgency,
    )


#: Each step's form, by the step it takes.
STEP_FORMS = {
    ReferralStep.ACCEPTED: ("accept_form", lambda: StepForm(prefix="accept")),
    ReferralStep.DECLINED: ("decline_form", lambda: DeclineForm(prefix="decline")),
    ReferralStep.RESPONDED: ("respond_form", lambda: RespondForm(prefix="respond")),
    ReferralStep.DONE: ("done_form", lambda: StepForm(prefix="done")),
    ReferralStep.REVOKED: ("revoke_form", lambda: RevokeForm(prefix="revoke")),
}


def _render(referral, forms, status=200):
    return render_template(
        "referrals/detail.html", referral=referral, thread=thread(referral),
        step_labels=STEP_LABELS, state_badge=REFERRAL_STATE_BADGE,
        EntryKind=EntryKind, ReferralState=ReferralState, Urgency=Urgency, **forms,
    ), status


@bp.get("/<int:referral_id>")
def detail(referral_id: int):
    referral = get_referral_or_404(referral_id, current_user)
    commit_write(lambda: lifecycle.record_view(referral, current_user, now=now_utc(),
                                               ip=client_address()))
    return _render(referral, {name: make() for name, make in STEP_FORMS.values()})


def _step(referral_id: int, step: ReferralStep, text_field: str):
    """Validate one step's form, take the step, commit; re-render with the errors.

    :raise 404: if the user does not take this step of the referral.
    :raise 409: if the referral's state no longer allows it (someone acted meanwhile).
    """
    referral = get_referral_or_404(referral_id, current_user)
    if not lifecycle.may_take_step(current_user, referral, step):
        abort(404)
    forms = {name: make() for name, make in STEP_FORMS.values()}
    form = forms[STEP_FORMS[step][0]]
    if form.validate_on_submit():
        key = form.submission_key.data or None
        try:
            written = commit_write(lambda: lifecycle.take_step(
                referral, current_user, step, text=form[text_field].data or "",
                now=now_utc(), ip=client_address(), submission_key=key,
            ), submission_key=key, show_conflicts=True)
        except RuleError as error:
            show_rule_error(form, error, default_field=text_field)
            # someone acted meanwhile: 409, the page as it is now, the typed text kept
            return _render(referral, forms, status=status_of(error) if error.conflict else 400)
        else:
            if not written.duplicate:
                flash(_("Saved."), "success")
            return redirect(url_for("referrals.detail", referral_id=referral.id))
    return _render(referral, forms, status=400)


@bp.post("/<int:referral_id>/accept")
def accept(referral_id: int):
    return _step(referral_id, ReferralStep.ACCEPTED, "note")


@bp.post("/<int:referral_id>/decline")
def decline(referral_id: int):
    return _step(referral_id, ReferralStep.DECLINED, "reason")


@bp.post("/<int:referral_id>/respond")
def respond(referral_id: int):
    return _step(referral_id, ReferralStep.RESPONDED, "body")


@bp.post("/<int:referral_id>/done")
def done(referral_id: int):
    return _step(referral_id, ReferralStep.DONE, "note")


@bp.post("/<int:referral_id>/revoke")
def revoke(referral_id: int):
    return _step(referral_id, ReferralStep.REVOKED, "reason")


EXPORT_COLUMNS = [
    ExportColumn(_l("Referred"), lambda r: r.created_at),
    ExportColumn(_l("Student number"), lambda r: r.student.student_number),
    ExportColumn(_l("Name"), lambda r: r.student.name),
    ExportColumn(_l("Programme"), lambda r: label("programme", r.student.programme)),
    ExportColumn(_l("Counsellor"), lambda r: r.referred_by.display_name),
    ExportColumn(_l("Supervisor"), lambda r: r.supervisor.display_name),
    ExportColumn(_l("Urgency"), lambda r: label("urgency", r.urgency)),
    ExportColumn(_l("State"), lambda r: label("referral_state", r.state)),
    ExportColumn(_l("Reason"), lambda r: r.reason),
    ExportColumn(_l("Closed"), lambda r: r.closed_at),
]


@bp.get("/export/<any(xlsx, csv):fmt>")
def export(fmt: str):
    """Download the referral list with its current filters (exactly what the user may see)."""
    state, age = _filters()
    now = now_utc()
    rows = db.session.scalars(inbox_query(current_user, state=state, age=age, now=now)).unique()
    response = export_response("referrals", fmt, EXPORT_COLUMNS, rows.all(), current_user,
                               title=_("Referrals"), now=now)
    db.session.commit()
    return response
