"""Care categories and concern level of a student, each change kept as history."""

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
from caretrack.services.timeline import add_entry


class CaseRuleError(ValueError):
    """A change that the case rules refuse; the message is shown to the user."""


def assign_category(
    student: Student,
    category: CareCategory,
    by: User,
    *,
    started_on: date,
    reason: str = "",
    now: datetime | None = None,
    submission_key: str | None = None,
) -> CategoryAssignment:
    """Give the student a care category from ``started_on``.

    :raise CaseRuleError: if the student holds the category already.
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
        raise CaseRuleError("already-assigned")
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
    return assignment


def end_category(
    assignment: CategoryAssignment,
    by: User,
    *,
    ended_on: date,
    reason: str = "",
    now: datetime | None = None,
    submission_key: str | None = None,
) -> CategoryAssignment:
    """End a student's care category on ``ended_on``; the assignment stays as history.

    :raise CaseRuleError: if it has ended already or would end before it started.
    """
    now = now or now_utc()
    if assignment.ended_on is not None:
        raise CaseRuleError("already-ended")
    if ended_on < assignment.started_on:
        raise CaseRuleError("ends-before-start")
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
    return assignment


def change_concern_level(
    student: Student,
    level: str,
    by: User,
    *,
    reason: str = "",
    now: datetime | None = None,
    submission_key: str | None = None,
) -> ConcernChange:
    """Set the student's concern level, keeping the change and its reason as history.

    :raise CaseRuleError: if the level is unknown or unchanged.
    """
    now = now or now_utc()
    level = ConcernLevel(level)
    if level == student.concern_level:
        raise CaseRuleError("unchanged")
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
    return change
