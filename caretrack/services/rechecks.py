"""Re-checks: the scheduling rules, as functions of ``now``, and the changes and lists they make.

Rules:
- adding a category with a cadence schedules a re-check, unless one is open on or before that day;
- a category with an isolation window schedules a re-check on the day the window ends;
- logging a follow-up completes the open re-checks due on or before its day and schedules the
  next one "in N days" (N pre-filled by :func:`suggested_interval`); the new one replaces the
  open rhythm re-checks (a cadence's or an earlier follow-up's) due later;
- a re-check can be rescheduled or cancelled, with a reason; both land on the timeline.

"Today" and "overdue" are the college's (``CARETRACK_TIMEZONE``): see :mod:`clock`.
"""

from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import contains_eager, joinedload
from sqlalchemy.sql.elements import ColumnElement

from caretrack.access import keeps_caseload, student_filter
from caretrack.extensions import db
from caretrack.models import (
    CareCategory,
    CategoryAssignment,
    EntryKind,
    Recheck,
    RecheckOrigin,
    RecheckState,
    Student,
    TimelineEntry,
    User,
    now_utc,
)
from caretrack.services.clock import local_today
from caretrack.services.errors import RuleError
from caretrack.services.timeline import add_entry, refusal

#: Origins of the regular rhythm: a follow-up's next re-check replaces open ones due later.
RHYTHM_ORIGINS = (RecheckOrigin.CADENCE, RecheckOrigin.FOLLOW_UP)
#: Longest "check again in N days" a follow-up or a re-check may ask for.
MAX_INTERVAL_DAYS = 365


# -- pure rules -------------------------------------------------------------------------------


def shortest_cadence(categories: list[CareCategory]) -> int | None:
    """Return the shortest positive re-check cadence among ``categories``, or None."""
    cadences = [c.cadence_days for c in categories if c.cadence_days and c.cadence_days > 0]
    return min(cadences) if cadences else None


def suggested_interval(categories: list[CareCategory], *, reached: bool = True) -> int | None:
    """Return the "check again in N days" a follow-up form starts with.

    Not reached: tomorrow (1). Reached: the shortest cadence of the student's active
    categories, or None (no re-check) when none has a cadence.
    """
    if not reached:
        return 1
    return shortest_cadence(categories)


def is_overdue(recheck: Recheck, now: datetime) -> bool:
    """Return whether the re-check is open and due before the college's today."""
    return recheck.state == RecheckState.OPEN and recheck.due_on < local_today(now)


def is_due_today(recheck: Recheck, now: datetime) -> bool:
    """Return whether the re-check is open and due on the college's today."""
    return recheck.state == RecheckState.OPEN and recheck.due_on == local_today(now)


def days_overdue(recheck: Recheck, now: datetime) -> int:
    """Return how many days before the college's today an overdue re-check was due (else 0)."""
    return (local_today(now) - recheck.due_on).days if is_overdue(recheck, now) else 0


def needs_cadence_recheck(open_due_dates: list[date], due_on: date) -> bool:
    """Return whether a cadence re-check due ``due_on`` is needed, given the open ones' days."""
    return not any(d <= due_on for d in open_due_dates)


def cadence_due_on(assignment: CategoryAssignment, today: date) -> date | None:
    """Return the day a new category's cadence re-check falls on, or None without a cadence.

    Counted from the assignment's start, or from today when it started earlier.
    """
    cadence = assignment.category.cadence_days
    if not cadence or cadence <= 0:
        return None
    return max(assignment.started_on, today) + timedelta(days=cadence)


# -- queries ----------------------------------------------------------------------------------


def open_rechecks(student: Student, *, with_category: bool = True) -> list[Recheck]:
    """Return the student's open re-checks, soonest first (with their care category loaded,
    for showing them)."""
    query = (
        select(Recheck)
        .where(Recheck.student_id == student.id, Recheck.state == RecheckState.OPEN)
        .order_by(Recheck.due_on, Recheck.id)
    )
    if with_category:
        query = query.options(joinedload(Recheck.category))
    return list(db.session.scalars(query))


def active_categories_of(student: Student) -> list[CareCategory]:
    """Return the care categories the student holds now."""
    return list(
        db.session.scalars(
            select(CareCategory)
            .join(CategoryAssignment, CategoryAssignment.category_id == CareCategory.id)
            .where(
                CategoryAssignment.student_id == student.id,
                CategoryAssignment.ended_on.is_(None),
            )
            .order_by(CareCategory.sort_order)
        )
    )


def on_own_list(user: User) -> ColumnElement[bool]:
    """SQL condition on ``Recheck`` joined to ``Student``: the re-checks on the user's own list.

    A counsellor's are those of the students in their caseload (whoever scheduled them);
    anyone else's are the ones they own among the students they may see.
    """
    if keeps_caseload(user):
        return student_filter(user)
    return and_(student_filter(user), Recheck.owner_id == user.id)


def with_student() -> Select[tuple[Recheck]]:
    """Return a query of re-checks joined to their students, both loaded with the category."""
    return (
        select(Recheck)
        .join(Student, Student.id == Recheck.student_id)
        .options(contains_eager(Recheck.student), joinedload(Recheck.category))
    )


def overdue_count(user: User, now: datetime) -> int:
    """Return the number of the user's own open re-checks due before today."""
    return db.session.scalar(
        select(func.count(Recheck.id))
        .join(Student, Student.id == Recheck.student_id)
        .where(
            on_own_list(user),
            Recheck.state == RecheckState.OPEN,
            Recheck.due_on < local_today(now),
        )
    )


def has_overdue_recheck(today: date) -> ColumnElement[bool]:
    """SQL condition on ``Student``: the student has an open re-check due before ``today``."""
    return (
        select(Recheck.id)
        .where(
            Recheck.student_id == Student.id,
            Recheck.state == RecheckState.OPEN,
            Recheck.due_on < today,
        )
        .exists()
    )


# -- changes ----------------------------------------------------------------------------------


def schedule(
    student: Student,
    *,
    due_on: date,
    reason: str,
    origin: str,
    by: User,
    owner: User | None = None,
    category: CareCategory | None = None,
    now: datetime | None = None,
    timeline: bool = True,
    submission_key: str | None = None,
) -> Recheck:
    """Add an open re-check for the student, owned by their counsellor unless ``owner`` is
    given; recorded on the timeline unless ``timeline`` is false.

    :raise DuplicateSubmission: if ``submission_key`` was recorded already.
    """
    now = now or now_utc()
    recheck = Recheck(
        student_id=student.id,
        student=student,
        owner_id=(owner.id if owner else student.counsellor_id),
        due_on=due_on,
        reason=reason,
        origin=RecheckOrigin(origin),
        state=RecheckState.OPEN,
        category_id=category.id if category else None,
        category=category,
        created_by_id=by.id,
        created_at=now,
    )
    db.session.add(recheck)
    db.session.flush()
    if timeline:
        add_entry(
            student, EntryKind.RECHECK_CHANGE, by, body=reason, occurred_at=now, now=now,
            submission_key=submission_key,
            details={"action": "scheduled", "recheck_id": recheck.id,
                     "due_on": due_on.isoformat(), "origin": str(origin),
                     "category_id": category.id if category else None},
        )
    return recheck


def add_by_hand(
    student: Student,
    by: User,
    *,
    due_on: date,
    reason: str,
    now: datetime | None = None,
    submission_key: str | None = None,
) -> Recheck:
    """Schedule a re-check that the counsellor adds themselves, owned by the student's
    counsellor.

    :raise RuleError: "in-the-past" (on ``due_on``) if ``due_on`` is before today.
    :raise DuplicateSubmission: if the same form was posted before.
    """
    now = now or now_utc()
    if due_on < local_today(now):
        raise RuleError("in-the-past", "due_on")
    return schedule(
        student, due_on=due_on, reason=reason, origin=RecheckOrigin.MANUAL, by=by, now=now,
        submission_key=submission_key,
    )


def on_category_assigned(
    assignment: CategoryAssignment, by: User, now: datetime | None = None
) -> list[Recheck]:
    """Schedule what a new category asks for: its cadence re-check (unless one is open on or
    before that day) and, with an isolation window, a re-check on the day the window ends."""
    now = now or now_utc()
    category = assignment.category
    student = assignment.student
    made = []
    due = cadence_due_on(assignment, local_today(now))
    if due is not None:
        open_dates = [r.due_on for r in open_rechecks(student)]
        if needs_cadence_recheck(open_dates, due):
            made.append(
                schedule(student, due_on=due, reason="", by=by, now=now,
                         origin=RecheckOrigin.CADENCE, category=category)
            )
    if assignment.isolation_ends_on is not None:
        made.append(
            schedule(student, due_on=assignment.isolation_ends_on, reason="", by=by, now=now,
                     origin=RecheckOrigin.ISOLATION, category=category)
        )
    return made


def on_category_ended(
    assignment: CategoryAssignment, by: User, now: datetime | None = None
) -> list[Recheck]:
    """Cancel the open re-check at the end of the ended category's isolation window: ending
    the category was the decision it was there for. Recorded on the timeline."""
    now = now or now_utc()
    ended = [
        r for r in open_rechecks(assignment.student)
        if r.origin == RecheckOrigin.ISOLATION and r.category_id == assignment.category_id
    ]
    for recheck in ended:
        recheck.state = RecheckState.CANCELLED
        recheck.closed_at = now
        add_entry(
            assignment.student, EntryKind.RECHECK_CHANGE, by, occurred_at=now, now=now,
            details={"action": "cancelled", "recheck_id": recheck.id,
                     "due_on": recheck.due_on.isoformat(), "category_ended": True},
        )
    db.session.flush()
    return ended


def on_follow_up(
    student: Student,
    entry: TimelineEntry,
    by: User,
    *,
    check_again_in_days: int | None,
    now: datetime | None = None,
) -> tuple[list[Recheck], Recheck | None]:
    """Complete the student's open re-checks due on or before the follow-up's day, then
    schedule the next one in ``check_again_in_days`` (None or 0: none), which replaces the
    open rhythm re-checks due later. One timeline entry says what happened.

    :raise RuleError: "interval" (on ``check_again_in_days``) if the days are negative or too
        many.
    :return: the re-checks completed, and the one scheduled (or None).
    """
    now = now or now_utc()
    days = check_again_in_days or 0
    if days < 0 or days > MAX_INTERVAL_DAYS:
        raise RuleError("interval", "check_again_in_days")
    day = local_today(entry.occurred_at or now)
    completed = []
    for recheck in open_rechecks(student, with_category=False):
        replaced = days and recheck.origin in RHYTHM_ORIGINS and recheck.due_on > day
        if recheck.due_on <= day or replaced:
            recheck.state = RecheckState.DONE
            recheck.completed_entry_id = entry.id
            recheck.closed_at = now
            completed.append(recheck)
    following = None
    if days:
        following = schedule(
            student, due_on=day + timedelta(days=days), reason="",
            origin=RecheckOrigin.FOLLOW_UP, by=by, now=now, timeline=not completed,
        )
    if completed:
        add_entry(
            student, EntryKind.RECHECK_CHANGE, by, occurred_at=entry.occurred_at or now,
            now=now,
            details={
                "action": "completed",
                "entry_id": entry.id,
                "recheck_ids": [r.id for r in completed],
                "due_on": [r.due_on.isoformat() for r in completed],
                "next_recheck_id": following.id if following else None,
                "next_due_on": following.due_on.isoformat() if following else None,
            },
        )
    return completed, following


def reschedule(
    recheck: Recheck,
    by: User,
    *,
    due_on: date,
    reason: str,
    now: datetime | None = None,
    submission_key: str | None = None,
) -> Recheck:
    """Move an open re-check to another day, keeping the day it was due; on the timeline.

    :raise RuleError: "recheck-not-open", or on ``due_on`` "in-the-past" (before today) or
        "recheck-unchanged".
    :raise DuplicateSubmission: if the same form was posted before.
    """
    now = now or now_utc()
    if recheck.state != RecheckState.OPEN:
        raise refusal("recheck-not-open", submission_key=submission_key)
    if due_on < local_today(now):
        raise refusal("in-the-past", "due_on", submission_key=submission_key)
    if due_on == recheck.due_on:
        raise refusal("recheck-unchanged", "due_on", submission_key=submission_key)
    previous = recheck.due_on
    recheck.previous_due_on = previous
    recheck.due_on = due_on
    db.session.flush()
    add_entry(
        recheck.student, EntryKind.RECHECK_CHANGE, by, body=reason, occurred_at=now, now=now,
        submission_key=submission_key,
        details={"action": "rescheduled", "recheck_id": recheck.id,
                 "from": previous.isoformat(), "due_on": due_on.isoformat()},
    )
    return recheck


def cancel(
    recheck: Recheck,
    by: User,
    *,
    reason: str,
    now: datetime | None = None,
    submission_key: str | None = None,
) -> Recheck:
    """Cancel an open re-check with a reason; recorded on the timeline.

    :raise RuleError: "recheck-not-open" if it is done or cancelled already.
    :raise DuplicateSubmission: if the same form was posted before.
    """
    now = now or now_utc()
    if recheck.state != RecheckState.OPEN:
        raise refusal("recheck-not-open", submission_key=submission_key)
    recheck.state = RecheckState.CANCELLED
    recheck.cancel_reason = reason
    recheck.closed_at = now
    db.session.flush()
    add_entry(
        recheck.student, EntryKind.RECHECK_CHANGE, by, body=reason, occurred_at=now, now=now,
        submission_key=submission_key,
        details={"action": "cancelled", "recheck_id": recheck.id,
                 "due_on": recheck.due_on.isoformat()},
    )
    return recheck

