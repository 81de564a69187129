"""Early-return requests: a student asks to come back to campus early.

    pending ──recommend (the counsellor: approve or decline, with a note)──> recommended
    recommended ──approve (the deputy: arrival date and plan)──> approved ──arrival──> arrived
    recommended ──decline (the deputy: the reason the student reads)──> declined
    pending / recommended ──withdraw (the student)──> withdrawn

Asking sets the "wants to return early" category with the request as its reason, schedules
a re-check for the next day and notifies the counsellor; the category ends when the request
is decided or withdrawn. The arrival puts the student on campus with the "isolated on campus"
category and a re-check on the day the isolation ends. Every step is a timeline entry and an
audit event; a step in the wrong state, or on a request that changed since the page was
shown, is a conflict (409).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select

from caretrack.access import accounts_with_role, can_decide_return, can_recommend_return
from caretrack.extensions import db
from caretrack.models import (
    CareCategory,
    CategoryAssignment,
    EntryKind,
    RecheckOrigin,
    ReturnReason,
    ReturnRequest,
    ReturnState,
    Role,
    Student,
    User,
)
from caretrack.services import rechecks
from caretrack.services.audit import record_event
from caretrack.services.cases import assign_category, end_category
from caretrack.services.clock import local_today
from caretrack.services.errors import RuleError
from caretrack.services.notifications import notify
from caretrack.services.timeline import add_entry

#: The care categories the workflow sets (see the default categories).
RETURN_EARLY = "return_early"
ISOLATED_ON_CAMPUS = "isolated_on_campus"
OPEN_STATES = (ReturnState.PENDING, ReturnState.RECOMMENDED)


class ReturnStep(StrEnum):
    """What a request's timeline entry records (its ``details["action"]``)."""

    ASKED = "asked"
    RECOMMENDED = "recommended"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    ARRIVED = "arrived"


@dataclass(frozen=True)
class ReturnAsk:
    """What the student typed."""

    reason: str = ""
    wanted_on: date | None = None
    travel_from: str = ""
    details: str = ""


def _category(code: str) -> CareCategory | None:
    return db.session.scalars(
        select(CareCategory).where(CareCategory.code == code, CareCategory.active)
    ).one_or_none()


def _entry(request: ReturnRequest, author: User, step: ReturnStep, now: datetime, body: str = "",
           submission_key: str | None = None, **details) -> None:
    add_entry(request.student, EntryKind.RETURN_REQUEST, author, body=body, now=now,
              submission_key=submission_key,
              details={"request_id": request.id, "action": str(step), **details})


def _audit(step: ReturnStep, by: User | None, request: ReturnRequest, now: datetime,
           ip: str) -> None:
    record_event(f"return.{step}", by, request.student_id, detail=f"return:{request.id}",
                 now=now, ip=ip)


def _check_version(request: ReturnRequest, version: int | None) -> None:
    if version is not None and version != request.version_id:
        raise RuleError("return-stale", conflict=True)


def open_request(student: Student) -> ReturnRequest | None:
    """The student's request that waits for a decision, if any."""
    return db.session.scalars(select(ReturnRequest).where(
        ReturnRequest.student_id == student.id, ReturnRequest.state.in_(OPEN_STATES))
    ).first()


def student_requests(student: Student, limit: int = 5) -> list[ReturnRequest]:
    """The student's requests, newest first."""
    return list(db.session.scalars(
        select(ReturnRequest).where(ReturnRequest.student_id == student.id)
        .order_by(ReturnRequest.created_at.desc(), ReturnRequest.id.desc()).limit(limit)))


def ask(student: Student, values: ReturnAsk, *, now: datetime, ip: str = "") -> ReturnRequest:
    """The student asks to return early (from the check-in page).

    :raise RuleError: beside the wrong field; "return-already-open" when a request of the
        student waits for a decision.
    """
    if values.reason not in {r.value for r in ReturnReason}:
        raise RuleError("empty", "reason")
    if values.wanted_on is None:
        raise RuleError("empty", "wanted_on")
    today = local_today(now)
    if values.wanted_on < today:
        raise RuleError("in-the-past", "wanted_on")
    travel_from = values.travel_from.strip()
    if not travel_from:
        raise RuleError("empty", "travel_from")
    if open_request(student) is not None:
        raise RuleError("return-already-open", conflict=True)
    # The student has no account: the counsellor authors the entries made for the student.
    counsellor = student.counsellor
    request = ReturnRequest(
        student_id=student.id, student=student, reason=values.reason,
        wanted_on=values.wanted_on, travel_from=travel_from[:100],
        details=values.details.strip()[:2000], state=ReturnState.PENDING, created_at=now,
    )
    db.session.add(request)
    db.session.flush()
    _entry(request, counsellor, ReturnStep.ASKED, now, body=request.details, by="student",
           reason=request.reason, wanted_on=request.wanted_on.isoformat(),
           travel_from=request.travel_from)
    rechecks.schedule(student, due_on=today + timedelta(days=1), by=counsellor, now=now,
                      reason=f"{request.travel_from} → {request.wanted_on.isoformat()}",
                      origin=RecheckOrigin.RETURN_REQUEST)
    category = _category(RETURN_EARLY)
    if category is not None and not _holds(student, category):
        request.assignment_id = assign_category(
            student, category, counsellor, started_on=today, now=now, ip=ip,
            reason=f"#{request.id} {request.travel_from} {request.wanted_on.isoformat()}",
        ).id
    notify(student.counsellor_id, "return.new", student_id=student.id, now=now)
    _audit(ReturnStep.ASKED, None, request, now, ip)
    db.session.flush()
    return request


def _holds(student: Student, category: CareCategory) -> bool:
    return db.session.scalar(select(CategoryAssignment.id).where(
        CategoryAssignment.student_id == student.id,
        CategoryAssignment.category_id == category.id,
        CategoryAssignment.ended_on.is_(None))) is not None


def _end_category(request: ReturnRequest, by: User, now: datetime, ip: str) -> None:
    if request.assignment_id is None:
        return
    assignment = db.session.get(CategoryAssignment, request.assignment_id)
    if assignment is not None and assignment.ended_on is None:
        end_category(assignment, by, ended_on=max(local_today(now), assignment.started_on),
                     reason=f"#{request.id}", now=now, ip=ip)


def recommend(request: ReturnRequest, by: User, *, approve: bool, note: str, now: datetime,
              version: int | None = None, ip: str = "") -> ReturnRequest:
    """The counsellor, having talked to the student, recommends approving or declining.

    :raise RuleError: "not-allowed" for anyone but the student's counsellor; a conflict when
        the request is no longer pending or changed since; "empty" without a note.
    """
    if not can_recommend_return(by, request):
        raise RuleError("not-allowed")
    _check_version(request, version)
    if request.state != ReturnState.PENDING:
        raise RuleError("return-not-pending", conflict=True)
    if not note.strip():
        raise RuleError("empty", "note")
    request.recommendation = "approve" if approve else "decline"
    request.recommendation_note = note.strip()
    request.recommended_by_id = by.id
    request.recommended_at = now
    request.state = ReturnState.RECOMMENDED
    db.session.flush()
    _entry(request, by, ReturnStep.RECOMMENDED, now, body=request.recommendation_note,
           recommendation=request.recommendation)
    for deputy_id in db.session.scalars(
            select(User.id).where(accounts_with_role(Role.DEPUTY_SECRETARY, request.student))):
        notify(deputy_id, "return.recommended", student_id=request.student_id, now=now)
    _audit(ReturnStep.RECOMMENDED, by, request, now, ip)
    return request


def approve(request: ReturnRequest, by: User, *, arrival_on: date | None, plan: str,
            isolation_days: int | None, now: datetime, version: int | None = None,
            ip: str = "") -> ReturnRequest:
    """The deputy approves, with the first allowed arrival day and the arrival plan.

    :raise RuleError: "not-allowed" for anyone but the deputy; a conflict when the request is
        not waiting for the decision or changed since; beside the date or the plan.
    """
    _check_decision(request, by, version)
    if arrival_on is None:
        raise RuleError("empty", "arrival_on")
    if arrival_on < local_today(now):
        raise RuleError("in-the-past", "arrival_on")
    if not plan.strip():
        raise RuleError("empty", "plan")
    if isolation_days is not None and not 0 <= isolation_days <= 60:
        raise RuleError("return-isolation-days", "isolation_days")
    request.arrival_on = arrival_on
    request.arrival_plan = plan.strip()
    request.isolation_days = isolation_days or None
    return _decide(request, by, ReturnState.APPROVED, ReturnStep.APPROVED, now, ip,
                   request.arrival_plan, arrival_on=arrival_on.isoformat(),
                   isolation_days=request.isolation_days)


def decline(request: ReturnRequest, by: User, *, reason: str, now: datetime,
            version: int | None = None, ip: str = "") -> ReturnRequest:
    """The deputy declines, with the reason the student reads.

    :raise RuleError: as :func:`approve`; "no-reason" without a reason.
    """
    _check_decision(request, by, version)
    if not reason.strip():
        raise RuleError("no-reason", "reason")
    request.decline_reason = reason.strip()
    return _decide(request, by, ReturnState.DECLINED, ReturnStep.DECLINED, now, ip,
                   request.decline_reason)


def _check_decision(request: ReturnRequest, by: User, version: int | None) -> None:
    if not can_decide_return(by):
        raise RuleError("not-allowed")
    _check_version(request, version)
    if request.state != ReturnState.RECOMMENDED:
        raise RuleError("return-not-recommended", conflict=True)


def _decide(request, by, state, step, now, ip, body, **details) -> ReturnRequest:
    request.state = state
    request.decided_by_id = by.id
    request.decided_at = now
    db.session.flush()
    _entry(request, by, step, now, body=body, **details)
    _end_category(request, by, now, ip)
    notify(request.student.counsellor_id, "return.decided", student_id=request.student_id,
           now=now)
    _audit(step, by, request, now, ip)
    return request


def withdraw(request: ReturnRequest, *, now: datetime, ip: str = "") -> ReturnRequest:
    """The student withdraws their request while it waits for a decision.

    :raise RuleError: a conflict when it was decided or withdrawn already.
    """
    if request.state not in OPEN_STATES:
        raise RuleError("return-closed", conflict=True)
    counsellor = request.student.counsellor
    request.state = ReturnState.WITHDRAWN
    request.withdrawn_at = now
    db.session.flush()
    _entry(request, counsellor, ReturnStep.WITHDRAWN, now, by="student")
    _end_category(request, counsellor, now, ip)
    _audit(ReturnStep.WITHDRAWN, None, request, now, ip)
    return request


def record_arrival(request: ReturnRequest, by: User, *, arrived_on: date | None,
                   now: datetime, version: int | None = None, ip: str = "") -> ReturnRequest:
    """The counsellor records the approved student's arrival: on campus, with the "isolated on
    campus" category and a re-check on the day the isolation ends.

    :raise RuleError: "not-allowed" for anyone but the student's counsellor; a conflict when
        the request is not approved or changed since; beside the date when it is in the
        future or before the allowed day.
    """
    if not can_recommend_return(by, request):
        raise RuleError("not-allowed")
    _check_version(request, version)
    if request.state != ReturnState.APPROVED:
        raise RuleError("return-not-approved", conflict=True)
    today = local_today(now)
    if arrived_on is None:
        raise RuleError("empty", "arrived_on")
    if arrived_on > today:
        raise RuleError("in-future", "arrived_on")
    if request.arrival_on and arrived_on < request.arrival_on:
        raise RuleError("return-before-allowed", "arrived_on",
                        date=request.arrival_on.isoformat())
    student = request.student
    request.state = ReturnState.ARRIVED
    request.arrived_on = arrived_on
    student.on_campus = True
    db.session.flush()
    _entry(request, by, ReturnStep.ARRIVED, now, arrived_on=arrived_on.isoformat())
    category = _category(ISOLATED_ON_CAMPUS)
    if category is not None and not _holds(student, category):
        assign_category(student, category, by, started_on=arrived_on, now=now, ip=ip,
                        reason=request.arrival_plan)
    if request.isolation_days:
        rechecks.schedule(student, due_on=arrived_on + timedelta(days=request.isolation_days),
                          reason=request.arrival_plan, by=by, now=now,
                          origin=RecheckOrigin.ISOLATION, category=category)
    _audit(ReturnStep.ARRIVED, by, request, now, ip)
    return request


def check_campus_move(student: Student, *, on_campus: bool, confirmed: bool) -> None:
    """Refuse to put a student on campus by hand, when they are away and no early-return
    request of theirs is approved, unless the counsellor confirmed it.

    :raise RuleError: "campus-without-approval" beside the confirmation.
    """
    if on_campus and not student.on_campus and not confirmed \
            and not has_approved_request(student):
        raise RuleError("campus-without-approval", "campus_confirmed")


def has_approved_request(student: Student) -> bool:
    """Whether the student has an approved (not yet arrived) early-return request."""
    return db.session.scalar(select(ReturnRequest.id).where(
        ReturnRequest.student_id == student.id,
        ReturnRequest.state == ReturnState.APPROVED)) is not None


def arrivals(day: date, condition) -> list[tuple[ReturnRequest, Student]]:
    """The approved early returns on ``day``: the students who arrived by then and those
    whose arrival is due (approved, not arrived), by allowed arrival day (the college report's
    list; one query) of the students matching ``condition``."""
    return [tuple(r) for r in db.session.execute(
        select(ReturnRequest, Student).join(Student, ReturnRequest.student_id == Student.id)
        .where(condition)
        .where((ReturnRequest.state == ReturnState.APPROVED)
               | ((ReturnRequest.state == ReturnState.ARRIVED) & (ReturnRequest.arrived_on <= day)))
        .order_by(ReturnRequest.arrival_on, Student.student_number))]


def counts_by_state_and_reason(condition) -> dict[tuple[str, str], int]:
    """{(state, reason): requests} of the students matching ``condition`` (one query)."""
    rows = db.session.execute(
        select(ReturnRequest.state, ReturnRequest.reason, func.count(ReturnRequest.id))
        .join(Student, ReturnRequest.student_id == Student.id).where(condition)
        .group_by(ReturnRequest.state, ReturnRequest.reason)
    ).all()
    return {(state, reason): count for state, reason, count in rows}
