"""The deputy secretary's review of high-concern students.

The queue holds every visible student whose concern level is high or whom a counsellor
flagged for review, the longest without a review first. A review is a timeline entry: a note
and a decision – keep high, lower to elevated or to normal, or ask the counsellor to act by a
date (which schedules a re-check owned by the counsellor).
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Select, func, or_, select

from caretrack.access import can_review, student_filter
from caretrack.extensions import db
from caretrack.models import (
    ConcernChange,
    ConcernLevel,
    EntryKind,
    Recheck,
    RecheckOrigin,
    RecheckState,
    Student,
    TimelineEntry,
    User,
    now_utc,
)
from caretrack.services import rechecks
from caretrack.services.audit import record_event
from caretrack.services.cases import change_concern_level
from caretrack.services.clock import local_today
from caretrack.services.daily.carried import statuses_for
from caretrack.services.daily.values import DayStatus
from caretrack.services.errors import RuleError
from caretrack.services.grouping import group_by_student
from caretrack.services.notifications import notify
from caretrack.services.timeline import add_entry


class Decision(StrEnum):
    KEEP = "keep"
    LOWER_ELEVATED = "lower_elevated"
    LOWER_NORMAL = "lower_normal"
    ASK_COUNSELLOR = "ask_counsellor"


@dataclass
class Review:
    entry: TimelineEntry
    recheck: Recheck | None


def queue_query(user: User) -> Select[tuple[Student]]:
    """High-concern and flagged students the user may see, the longest without review first."""
    never_reviewed = Student.last_reviewed_at.is_(None)
    return (
        select(Student)
        .where(
            student_filter(user),
            or_(Student.concern_level == ConcernLevel.HIGH, Student.flagged_for_review),
        )
        .order_by(never_reviewed.desc(), Student.last_reviewed_at, Student.id)
    )


def latest_entries(student_ids: list[int], per_student: int = 3) -> dict[int, list]:
    """The newest ``per_student`` timeline entries of each student (re-check rows left out:
    the overdue ones show on their own), in one query."""
    if not student_ids:
        return {}
    rank = (
        func.row_number()
        .over(
            partition_by=TimelineEntry.student_id,
            order_by=(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc()),
        )
        .label("rank")
    )
    ranked = (
        select(TimelineEntry.id, rank).where(
            TimelineEntry.student_id.in_(student_ids),
            TimelineEntry.kind != EntryKind.RECHECK_CHANGE,  # the re-checks show apart
        ).subquery()
    )
    entries = db.session.scalars(
        select(TimelineEntry)
        .join(ranked, ranked.c.id == TimelineEntry.id)
        .where(ranked.c.rank <= per_student)
        .order_by(TimelineEntry.student_id, TimelineEntry.occurred_at.desc())
    )
    return group_by_student(entries)


def concern_reasons(student_ids: list[int]) -> dict[int, ConcernChange]:
    """The latest concern change of each student: why they are at their level (one query)."""
    if not student_ids:
        return {}
    rank = func.row_number().over(
        partition_by=ConcernChange.student_id,
        order_by=(ConcernChange.created_at.desc(), ConcernChange.id.desc()),
    ).label("rank")
    ranked = select(ConcernChange.id, rank).where(
        ConcernChange.student_id.in_(student_ids)).subquery()
    return {c.student_id: c for c in db.session.scalars(
        select(ConcernChange).join(ranked, ranked.c.id == ConcernChange.id)
        .where(ranked.c.rank == 1))}


def statuses_today(student_ids: list[int], now: datetime) -> dict[int, DayStatus]:
    """Each student's daily status today (confirmed or carried forward)."""
    return statuses_for(student_ids, local_today(now)) if student_ids else {}


def overdue_rechecks(student_ids: list[int], now: datetime) -> dict[int, list[Recheck]]:
    """Open re-checks due before the college's today, per student, in one query."""
    if not student_ids:
        return {}
    rows = db.session.scalars(
        select(Recheck)
        .where(
            Recheck.student_id.in_(student_ids),
            Recheck.state == RecheckState.OPEN,
            Recheck.due_on < local_today(now),
        )
        .order_by(Recheck.due_on)
    )
    return group_by_student(rows)


def record_review_view(student: Student, user: User, *, now: datetime | None = None,
                       ip: str = "") -> None:
    """Audit that ``user`` opened the student's review page."""
    record_event("student.view", user, student.id, detail="review", now=now, ip=ip)


def flag_for_review(
    student: Student, by: User, *, reason: str, now: datetime | None = None, ip: str = ""
) -> TimelineEntry:
    """Put the student in the review queue without raising the concern level.

    :raise RuleError: "already-queued" if the student is in the queue already.
    """
    now = now or now_utc()
    if student.flagged_for_review or student.concern_level == ConcernLevel.HIGH:
        raise RuleError("already-queued")
    student.flagged_for_review = True
    entry = add_entry(
        student, EntryKind.REVIEW, by, body=reason, occurred_at=now, now=now,
        details={"action": "flagged"},
    )
    record_event("review.flag", by, student.id, now=now, ip=ip)
    return entry


def review_student(
    student: Student,
    by: User,
    *,
    note: str,
    decision: str,
    act_by: date | None = None,
    now: datetime | None = None,
    ip: str = "",
    submission_key: str | None = None,
) -> Review:
    """Record the deputy secretary's review, carry out its decision, and audit it.

    :raise RuleError: "not-allowed" unless ``by`` works the review queue (the deputy);
        "act-by-required" or "act-by-past" (on ``act_by``) for a request to the counsellor
        without a date or with a date before today.
    :raise DuplicateSubmission: if the same form was recorded already.
    """
    now = now or now_utc()
    if not can_review(by):
        raise RuleError("not-allowed")
    decision = Decision(decision)
    if decision == Decision.ASK_COUNSELLOR:
        if act_by is None:
            raise RuleError("act-by-required", "act_by")
        if act_by < local_today(now):
            raise RuleError("act-by-past", "act_by")
    details = {"action": "reviewed", "decision": str(decision), "level": student.concern_level}
    if act_by is not None and decision == Decision.ASK_COUNSELLOR:
        details["act_by"] = act_by.isoformat()
    entry = add_entry(
        student, EntryKind.REVIEW, by, body=note, occurred_at=now, now=now, details=details,
        submission_key=submission_key,
    )
    recheck = None
    if decision == Decision.LOWER_ELEVATED and student.concern_level != ConcernLevel.ELEVATED:
        change_concern_level(student, ConcernLevel.ELEVATED, by, reason=note, now=now)
    elif decision == Decision.LOWER_NORMAL and student.concern_level != ConcernLevel.NORMAL:
        change_concern_level(student, ConcernLevel.NORMAL, by, reason=note, now=now)
    elif decision == Decision.ASK_COUNSELLOR:
        recheck = rechecks.schedule(
            student, due_on=act_by, reason=note, origin=RecheckOrigin.REVIEW, by=by, now=now,
            owner=student.counsellor,
        )
        notify(student.counsellor_id, "review.request", student_id=student.id, now=now)
    student.last_reviewed_at = now
    student.flagged_for_review = False
    db.session.flush()
    record_event("review.create", by, student.id, now=now, ip=ip)
    return Review(entry=entry, recheck=recheck)
