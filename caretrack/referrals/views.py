"""The supervisor's referral inbox and each referral's thread; the counsellor's and the deputy
secretary's view of the same referrals."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from caretrack.access import can_read_cases, get_referral_or_404
from caretrack.downloads import export_response
from caretrack.extensions import db
from caretrack.labels import label
from caretrack.models import Role, now_utc
from caretrack.referrals.forms import DeclineForm, RespondForm, RevokeForm, StepForm
from caretrack.services import referrals as lifecycle
from caretrack.services.audit import record_event
from caretrack.services.exports import ExportColumn
from caretrack.services.notifications import mark_seen
from caretrack.services.referral_inbox import (
    STATE_FILTERS,
    inbox_query,
    thread,
    unseen_referral_ids,
)
from caretrack.services.timeline import DuplicateSubmission

bp = Blueprint("referrals", __name__)

STEP_LABELS = {
    "accepted": _l("accepted the referral"),
    "declined": _l("declined the referral"),
    "responded": _l("responded"),
    "done": _l("marked the referral done"),
    "revoked": _l("revoked the referral"),
}
ERRORS = {
    "no-reason": _l("Say why."),
    "empty": _l("Write what you did."),
}


@bp.before_request
@login_required
def require_case_reader():
    if not can_read_cases(current_user):
        abort(404)


@bp.get("/")
def index():
    state = request.args.get("state", "")
    state = state if state in STATE_FILTERS else ""
    age = request.args.get("age", "")
    page = db.paginate(
        inbox_query(current_user, state=state, age=age, now=now_utc()),
        per_page=50, error_out=False,
    )
    referrals = list(page.items)
    return render_template(
        "referrals/index.html", page=page, referrals=referrals, state=state, age=age,
        states=STATE_FILTERS, now=now_utc(),
        unseen=unseen_referral_ids(current_user, [r.id for r in referrals]),
    )


def _forms():
    return {
        "accept_form": StepForm(prefix="accept"),
        "decline_form": DeclineForm(prefix="decline"),
        "respond_form": RespondForm(prefix="respond"),
        "done_form": StepForm(prefix="done"),
        "revoke_form": RevokeForm(prefix="revoke"),
    }


def _render(referral, forms, status=200):
    return render_template(
        "referrals/detail.html", referral=referral, thread=thread(referral),
        is_supervisor=current_user.id == referral.supervisor_id,
        can_revoke=lifecycle.can_revoke(referral, current_user), step_labels=STEP_LABELS,
        **forms,
    ), status


@bp.get("/<int:referral_id>")
def detail(referral_id: int):
    referral = get_referral_or_404(referral_id, current_user)
    mark_seen(current_user, referral_id=referral.id)
    record_event("referral.view", current_user, referral.student_id,
                 detail=f"referral:{referral.id}")
    db.session.commit()
    return _render(referral, _forms())


#: Each step's form and the field that carries its text.
TEXT_FIELD = {
    "accept_form": "note",
    "decline_form": "reason",
    "respond_form": "body",
    "done_form": "note",
    "revoke_form": "reason",
}


def _step(referral_id: int, form_name: str, run):
    """Validate one step's form, run the lifecycle step, commit; re-render with errors.

    A step the user's role may not take is a 404; a step the referral's state no longer
    allows (someone acted meanwhile) is a 409.
    """
    referral = get_referral_or_404(referral_id, current_user)
    forms = _forms()
    form = forms[form_name]
    if form.validate_on_submit():
        try:
            run(referral, form)
        except DuplicateSubmission:
            return redirect(url_for("referrals.detail", referral_id=referral.id))
        except lifecycle.ReferralError as exc:
            db.session.rollback()
            if exc.code in ERRORS:
                form[TEXT_FIELD[form_name]].errors.append(str(ERRORS[exc.code]))
            elif exc.code in ("not-the-supervisor", "not-allowed"):
                abort(404)
            else:
                abort(409)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("referrals.detail", referral_id=referral.id))
    return _render(referral, forms, status=400)


@bp.post("/<int:referral_id>/accept")
def accept(referral_id: int):
    return _step(referral_id, "accept_form", lambda r, f: lifecycle.accept(
        r, current_user, note=f.note.data or "", submission_key=f.submission_key.data))


@bp.post("/<int:referral_id>/decline")
def decline(referral_id: int):
    return _step(referral_id, "decline_form", lambda r, f: lifecycle.decline(
        r, current_user, reason=f.reason.data, submission_key=f.submission_key.data))


@bp.post("/<int:referral_id>/respond")
def respond(referral_id: int):
    return _step(referral_id, "respond_form", lambda r, f: lifecycle.respond(
        r, current_user, body=f.body.data, submission_key=f.submission_key.data))


@bp.post("/<int:referral_id>/done")
def done(referral_id: int):
    return _step(referral_id, "done_form", lambda r, f: lifecycle.mark_done(
        r, current_user, note=f.note.data or "", submission_key=f.submission_key.data))


@bp.post("/<int:referral_id>/revoke")
def revoke(referral_id: int):
    if current_user.role == Role.SUPERVISOR:
        abort(404)
    return _step(referral_id, "revoke_form", lambda r, f: lifecycle.revoke(
        r, current_user, reason=f.reason.data or "", submission_key=f.submission_key.data))


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
    state = request.args.get("state", "")
    now = now_utc()
    rows = db.session.scalars(
        inbox_query(current_user, state=state if state in STATE_FILTERS else "",
                    age=request.args.get("age", ""), now=now)
    ).unique().all()
    response = export_response("referrals", fmt, EXPORT_COLUMNS, rows, current_user,
                               title=_("Referrals"), now=now)
    db.session.commit()
    return response
