"""Early-return requests: the list with counts by state and reason, each request's page and
its steps."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from caretrack.access import (
    can_decide_return,
    can_recommend_return,
    get_return_request_or_404,
    handles_return_requests,
    requires,
    student_filter,
    visible_return_requests,
)
from caretrack.extensions import db
from caretrack.labels import RETURN_STATE_BADGE
from caretrack.models import (
    EntryKind,
    ReturnReason,
    ReturnRequest,
    ReturnState,
    TimelineEntry,
    now_utc,
)
from caretrack.returns import bp
from caretrack.returns.forms import ApproveForm, ArrivalForm, DeclineForm, RecommendForm
from caretrack.services import return_requests as service
from caretrack.services.clock import local_today
from caretrack.services.errors import RuleError
from caretrack.services.notifications import mark_seen
from caretrack.web import client_address, commit_write, show_rule_error, status_of


@bp.before_request
@requires(handles_return_requests)
def require_handler():
    """Every page here is for the counsellors and the deputy secretary."""


@bp.get("/")
def index():
    """The requests of the user's students, by state and reason; the counts link to their
    lists."""
    state = request.args.get("state", "")
    reason = request.args.get("reason", "")
    query = visible_return_requests(current_user)
    if state in {s.value for s in ReturnState}:
        query = query.where(ReturnRequest.state == state)
    else:
        state = ""
    if reason in {r.value for r in ReturnReason}:
        query = query.where(ReturnRequest.reason == reason)
    else:
        reason = ""
    page = db.paginate(query.order_by(ReturnRequest.created_at.desc(), ReturnRequest.id.desc()),
                       per_page=50, error_out=False)
    commit_write(lambda: mark_seen(current_user, kinds=(
        "return.new", "return.recommended", "return.decided"), now=now_utc()))
    return render_template(
        "returns/index.html", page=page, requests=list(page.items), state=state, reason=reason,
        counts=service.counts_by_state_and_reason(student_filter(current_user)),
        states=list(ReturnState), reasons=list(ReturnReason), badge=RETURN_STATE_BADGE,
    )


def _forms():
    today = local_today(now_utc())
    forms = {"recommend_form": RecommendForm(prefix="recommend"),
             "approve_form": ApproveForm(prefix="approve"),
             "decline_form": DeclineForm(prefix="decline"),
             "arrival_form": ArrivalForm(prefix="arrival")}
    if request.method == "GET":
        forms["arrival_form"].arrived_on.data = today
    return forms


def _render(found: ReturnRequest, forms, status=200):
    if forms["approve_form"].arrival_on.data is None and request.method == "GET":
        forms["approve_form"].arrival_on.data = found.wanted_on
    for form in forms.values():
        if not form.version.data or status == 409:
            form.version.data = str(found.version_id)
    steps = list(db.session.scalars(
        select(TimelineEntry).where(TimelineEntry.student_id == found.student_id,
                                    TimelineEntry.kind == EntryKind.RETURN_REQUEST)
        .order_by(TimelineEntry.occurred_at, TimelineEntry.id)))
    steps = [e for e in steps if e.details.get("request_id") == found.id]
    return render_template("returns/detail.html", r=found, steps=steps, badge=RETURN_STATE_BADGE,
                           ReturnState=ReturnState, **forms), status


@bp.get("/<int:request_id>")
def detail(request_id: int):
    found = get_return_request_or_404(request_id, current_user)
    return _render(found, _forms())


def _step(request_id: int, form_name: str, allowed, take):
    """Validate one step's form, take it, commit; the page again with the errors (409 when
    someone acted meanwhile).

    :raise 404: for a request the user may not see or whose step is not theirs.
    """
    found = get_return_request_or_404(request_id, current_user)
    if not allowed(found):
        abort(404)
    forms = _forms()
    form = forms[form_name]
    if form.validate_on_submit():
        try:
            commit_write(lambda: take(found, form), show_conflicts=True)
        except RuleError as error:
            show_rule_error(form, error)
            if error.conflict:
                db.session.refresh(found)
            return _render(found, forms, status_of(error) if error.conflict else 400)
        flash(_("Saved."), "success")
        return redirect(url_for("returns.detail", request_id=found.id))
    return _render(found, forms, 400)


@bp.post("/<int:request_id>/recommend")
def recommend(request_id: int):
    """The counsellor recommends approving or declining."""
    return _step(request_id, "recommend_form",
                 lambda r: can_recommend_return(current_user, r),
                 lambda r, f: service.recommend(
                     r, current_user, approve=f.recommendation.data == "approve",
                     note=f.note.data or "", now=now_utc(), version=f.version_number(),
                     ip=client_address()))


@bp.post("/<int:request_id>/approve")
def approve(request_id: int):
    """The deputy approves, with the arrival day and plan."""
    return _step(request_id, "approve_form", lambda r: can_decide_return(current_user),
                 lambda r, f: service.approve(
                     r, current_user, arrival_on=f.arrival_on.data, plan=f.plan.data or "",
                     isolation_days=f.isolation_days.data, now=now_utc(),
                     version=f.version_number(), ip=client_address()))


@bp.post("/<int:request_id>/decline")
def decline(request_id: int):
    """The deputy declines, with the reason the student reads."""
    return _step(request_id, "decline_form", lambda r: can_decide_return(current_user),
                 lambda r, f: service.decline(
                     r, current_user, reason=f.reason.data or "", now=now_utc(),
                     version=f.version_number(), ip=client_address()))


@bp.post("/<int:request_id>/arrival")
def arrival(request_id: int):
    """The counsellor records the approved student's arrival."""
    return _step(request_id, "arrival_form", lambda r: can_recommend_return(current_user, r),
                 lambda r, f: service.record_arrival(
                     r, current_user, arrived_on=f.arrived_on.data, now=now_utc(),
                     version=f.version_number(), ip=client_address()))
