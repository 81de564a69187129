"""Re-checks: the scheduling rules, as functions of ``now``, and the changes they make.

Rules:
- adding a category with a cadence schedules a re-check, unless one is open sooner;
- a category with an isolation window schedules a re-check on the day the window ends;
- logging a follow-up completes the open re-checks due on or before its day and schedules the
  next one "in N days" (N pre-filled by :func:`suggested_interval`);
- a re-check can be rescheduled or cancelled, with a reason; both land on the timeline.
"""

from datetime import date, datetime, timedelta

from sqlalchemy import select

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
from caretrack.services.timeline import add_entry


class RecheckError(ValueError):
    """A change the re-check rules refuse; the message code is shown to the user."""


# -- pure rules -------------------------------------------------------------------------------


def shortest_cadence(categories: list[CareCategory]) -> int | None:
    """The shortest positive re-check cadence among ``categories``, or None."""
    cadences = [c.cadence_days for c in categories if c.cadence_days and c.cadence_days > 0]
    return min(cadences) if cadences else None


def suggested_interval(categories: list[CareCategory], *, reached: bool = True) -> int | None:
    """The "check again in N days" a follow-up form starts with.

    Not reached: tomorrow. Reached: the shortest cadence of the active categories (None: no
    re-check).
    """
    if not reached:
        return 1
    return shortest_cadence(categories)


def is_overdue(recheck: Recheck, now: datetime) -> bool:
    """Open and due before the college's today."""
    return recheck.state == RecheckState.OPEN and recheck.due_on < local_today(now)


def is_due_today(recheck: Recheck, now: datetime) -> bool:
    return recheck.state == RecheckState.OPEN and recheck.due_on == local_today(now)


def needs_cadence_recheck(open_due_dates: list[date], due_on: date) -> bool:
    """Whether a cadence re-check due ``due_on`` is needed, given the open re-checks' dates."""
    return not any(d <= due_on for d in open_due_dates)


# -- queries ----------------------------------------------------------------------------------


def open_rechecks(student: Student) -> list[Recheck]:
    return list(
        db.session.scalars(
            select(Recheck)
            .where(Recheck.student_id == student.id, Recheck.state == RecheckState.OPEN)
            .order_by(Recheck.due_on, Recheck.id)
        )
    )


def active_categories_of(student: Student) -> list[CareCategory]:
    return list(
        db.session.scalars(
            select(CareCategory)
            .join(CategoryAssignment, CategoryAssignment.category_id == CareCategory.id)
            .where(
                CategoryAssignment.student_id == student.id,
                CategoryAssignment.ended_on.is_(None),
            )
        )
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
) -> Recheck:
    """Add an open re-check for the student, owned by their counsellor unless ``owner`` is
    given; recorded on the timeline."""
    now = now or now_utc()
    recheck = Recheck(
        student_id=student.id,
        owner_id=(owner.id if owner else student.counsellor_id),
        due_on=due_on,
        reason=reason,
        origin=RecheckOrigin(origin),
        state=RecheckState.OPEN,
        category_id=category.id if category else None,
        created_by_id=by.id,
        created_at=now,
    )
    db.session.add(recheck)
    db.session.flush()
    if timeline:
        add_entry(
            student, EntryKind.RECHECK_CHANGE, by, body=reason, occurred_at=now, now=now,
            details={"action": "scheduled", "recheck_id": recheck.id,
                     "due_on": due_on.isoformat(), "origin": str(origin)},
        )
    return recheck


def on_category_assigned(
    assignment: CategoryAssignment, by: User, now: datetime | None = None
) -> list[Recheck]:
    """Schedule what a new category asks for: its cadence re-check (unless one is open
    sooner) and, with an isolation window, a re-check on the day the window ends."""
    now = now or now_utc()
    category = assignment.category
    student = assignment.student
    made = []
    start = max(assignment.started_on, local_today(now))
    if category.cadence_days and category.cadence_days > 0:
        due = start + timedelta(days=category.cadence_days)
        open_dates = [r.due_on for r in open_rechecks(student)]
        if needs_cadence_recheck(open_dates, due):
            made.append(
                schedule(student, due_on=due, reason="", by=by, now=now,
                         origin=RecheckOrigin.CADENCE, category=category)
            )
    if category.isolation_days:
        due = assignment.started_on + timedelta(days=category.isolation_days)
        made.append(
            schedule(student, due_on=due, reason="", by=by, now=now,
                     origin=RecheckOrigin.ISOLATION, category=category)
        )
    return made


def on_follow_up(
    student: Student,
    entry: TimelineEntry,
    by: User,
    *,
    check_again_in_days: int | None,
    now: datetime | None = None,
) -> tuple[list[Recheck], Recheck | None]:
    """Complete the student's open re-checks due on or before the follow-up's day, then
    schedule the next one in ``check_again_in_days`` (None or 0: none)."""
    now = now or now_utc()
    day = local_today(entry.occurred_at)
    completed = []
    for recheck in open_rechecks(student):
        if recheck.due_on <= day:
            recheck.state = RecheckState.DONE
            recheck.completed_entry_id = entry.id
            recheck.closed_at = now
            completed.append(recheck)
    db.session.flush()
    following = None
    if check_again_in_days:
        following = schedule(
            student, due_on=day + timedelta(days=check_again_in_days),
            reason="", origin=RecheckOrigin.FOLLOW_UP, by=by, now=now,
            timeline=False,
        )
    return completed, following


def reschedule(
    recheck: Recheck, by: User, *, due_on: date, reason: str, now: datetime | None = None
) -> Recheck:
    """Move an open re-check to another day; recorded on the timeline.

    :raise RecheckError: if it is not open.
    """
    now = now or now_utc()
    if recheck.state != RecheckState.OPEN:
        raise RecheckError("not-open")
    previous = recheck.due_on
    recheck.due_on = due_on
    db.session.flush()
    add_entry(
        recheck.student, EntryKind.RECHECK_CHANGE, by, body=reason, occurred_at=now, now=now,
        details={"action": "rescheduled", "recheck_id": recheck.id,
                 "from": previous.isoformat(), "due_on": due_on.isoformat()},
    )
    return recheck


def cancel(recheck: Recheck, by: User, *, reason: str, now: datetime | None = None) -> Recheck:
    """Cancel an open re-check with a reason; recorded on the timeline.

    :raise RecheckError: if it is not open.
    """
    now = now or now_utc()
    if recheck.state != RecheckState.OPEN:
        raise RecheckError("not-open")
    recheck.state = RecheckState.CANCELLED
    recheck.cancel_reason = reason
    recheck.closed_at = now
    db.session.flush()
    add_entry(
        recheck.student, EntryKind.RECHECK_CHANGE, by, body=reason, occurred_at=now, now=now,
        details={"action": "cancelled", "recheck_id": recheck.id,
                 "due_on": recheck.due_on.isoformat()},
    )
    return recheck
