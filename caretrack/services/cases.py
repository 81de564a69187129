"""Care categories and concern level of a student, each change kept as history: a timeline
entry and an audit event for every change."""

from datetime import date, datetime

from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import (
    CareCategory,
    CategoryAssignment,
    ConcernChange,
    ConcernLevel,
    EntryKind,
    Student,
    User,
    now_utc,
)
from caretrack.services import rechecks
from caretrack.services.audit import record_event
from caretrack.services.errors import RuleError
from caretrack.services.timeline import add_entry


def assign_category(
    student: Student,
    category: CareCategory,
    by: User,
    *,
    started_on: date,
    reason: str = "",
    now: datetime | None = None,
    ip: str = "",
    submission_key: str | None = None,
) -> CategoryAssignment:
    """Give the student a care category from ``started_on``.

    :raise RuleError: if the student holds the category already.
    """
    now = now or now_utc()
    already = db.session.scalars(
        select(CategoryAssignment.id).where(
            CategoryAssignment.student_id == student.id,
            CategoryAssignment.category_id == category.id,
            CategoryAssignment.ended_on.is_(None),
        )
    ).first()
    if already:
        raise RuleError("already-assigned", "category_id")
    assignment = CategoryAssignment(
        student_id=student.id, category_id=category.id, category=category, started_on=started_on,
        reason=reason, set_by_id=by.id, created_at=now,
    )
    db.session.add(assignment)
    db.session.flush()
    add_entry(
        student, EntryKind.CATEGORY_CHANGE, by, body=reason, occurred_at=now, now=now,
        submission_key=submission_key,
        details={
            "action": "added",
            "assignment_id": assignment.id,
            "category_id": category.id,
            "started_on": started_on.isoformat(),
        },
    )
    rechecks.on_category_assigned(assignment, by, now)
    record_event("category.add", by, student.id, detail=f"assignment:{assignment.id}", now=now,
                 ip=ip)
    return assignment


def end_category(
    assignment: CategoryAssignment,
    by: User,
    *,
    ended_on: date,
    reason: str = "",
    now: datetime | None = None,
    ip: str = "",
    submission_key: str | None = None,
) -> CategoryAssignment:
    """End a student's care category on ``ended_on``; the assignment stays as history.

    :raise RuleError: if it has ended already or would end before it started.
    """
    now = now or now_utc()
    if assignment.ended_on is not None:
        raise RuleError("already-ended", "ended_on")
    if ended_on < assignment.started_on:
        raise RuleError("ends-before-start", "ended_on")
    assignment.ended_on = ended_on
    assignment.end_reason = reason
    assignment.ended_by_id = by.id
    db.session.flush()
    add_entry(
        assignment.student, EntryKind.CATEGORY_CHANGE, by, body=reason, occurred_at=now, now=now,
        submission_key=submission_key,
        details={
            "action": "ended",
            "assignment_id": assignment.id,
            "category_id": assignment.category_id,
            "ended_on": ended_on.isoformat(),
        },
    )
    rechecks.on_category_ended(assignment, by, now)
    record_event("category.end", by, assignment.student_id, detail=f"assignment:{assignment.id}",
                 now=now, ip=ip)
    return assignment


def change_concern_level(
    student: Student,
    level: str,
    by: User,
    *,
    reason: str = "",
    now: datetime | None = None,
    ip: str = "",
    submission_key: str | None = None,
) -> ConcernChange:
    """Set the student's concern level, keeping the change and its reason as history.

    :raise RuleError: if the level is unchanged.
    :raise ValueError: if the level is unknown.
    """
    now = now or now_utc()
    level = ConcernLevel(level)
    if level == student.concern_level:
        raise RuleError("concern-unchanged", "level")
    change = ConcernChange(
        student_id=student.id, level=level, previous_level=student.concern_level,
        reason=reason, set_by_id=by.id, created_at=now,
    )
    student.concern_level = level
    db.session.add(change)
    db.session.flush()
    add_entry(
        student, EntryKind.CONCERN_CHANGE, by, body=reason, occurred_at=now, now=now,
        submission_key=submission_key,
        details={"from": change.previous_level, "to": level},
    )
    record_event("concern.change", by, student.id, detail=f"concern:{change.id}", now=now, ip=ip)
    return change
