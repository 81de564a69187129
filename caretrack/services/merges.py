"""Merging two records of one student (a duplicate from an old import): everything recorded
about the merged record moves to the surviving one, and the merged record becomes a pointer
to it, so old links still resolve. One transaction, one audit event; undone by the reverse
move only while nothing new was written to either record.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, true, update

from caretrack.access import in_college, visible_merges
from caretrack.extensions import db
from caretrack.models import (
    CategoryAssignment,
    CheckIn,
    CheckinLink,
    ConcernChange,
    DailyStatus,
    Recheck,
    Referral,
    StatusSuggestion,
    Student,
    StudentMerge,
    TimelineEntry,
    User,
)
from caretrack.services.audit import record_event
from caretrack.services.daily import tallies
from caretrack.services.errors import RuleError

#: What moves to the surviving record, by table name.
MOVED = {
    model.__tablename__: model
    for model in (TimelineEntry, CategoryAssignment, ConcernChange, Recheck, Referral,
                  DailyStatus, CheckIn, StatusSuggestion, CheckinLink)
}


@dataclass
class MergePlan:
    """What merging ``merged`` into ``survivor`` would move, by table; and what stays with
    the pointer: the merged record's statuses of days the survivor has one of, and its
    personal check-in link when the survivor has one."""

    survivor: Student
    merged: Student
    moves: dict[str, list[int]]
    kept: dict[str, int]

    @property
    def counts(self) -> dict[str, int]:
        return {table: len(ids) for table, ids in self.moves.items()}


def _current(student_id: int, scope) -> Student:
    student = db.session.scalar(select(Student).where(Student.id == student_id, scope))
    if student is None or student.merged_into_id is not None:
        raise RuleError("merge-not-a-record", "student_number")
    return student


def find_record(number: str, scope) -> Student | None:
    """The current (not merged) record with this student number among the students matching
    ``scope`` (the admin's college)."""
    return db.session.scalar(select(Student).where(
        Student.student_number == number.strip(), Student.merged_into_id.is_(None), scope))


def plan_merge(survivor_id: int, merged_id: int, scope=None) -> MergePlan:
    """Work out what a merge would move; writes nothing.

    :raise RuleError: "merge-same-record", "merge-not-a-record" (unknown or merged already).
    """
    if survivor_id == merged_id:
        raise RuleError("merge-same-record", "merged")
    scope = true() if scope is None else scope
    survivor, merged = _current(survivor_id, scope), _current(merged_id, scope)
    moves, kept = {}, {}
    for table, model in MOVED.items():
        query = select(model.id).where(model.student_id == merged.id)
        if model is DailyStatus:
            taken = select(DailyStatus.day).where(DailyStatus.student_id == survivor.id)
            kept[table] = db.session.scalar(select(func.count(DailyStatus.id)).where(
                DailyStatus.student_id == merged.id, DailyStatus.day.in_(taken))) or 0
            query = query.where(DailyStatus.day.not_in(taken))
        if model is CheckinLink and db.session.scalar(
                select(CheckinLink.id).where(CheckinLink.student_id == survivor.id)):
            kept[table] = db.session.scalar(select(func.count(CheckinLink.id)).where(
                CheckinLink.student_id == merged.id)) or 0
            query = query.where(False)
        moves[table] = list(db.session.scalars(query.order_by(model.id)))
    return MergePlan(survivor, merged, moves, kept)


def merge_students(survivor_id: int, merged_id: int, user: User | None, now: datetime, *,
                   ip: str = "") -> StudentMerge:
    """Merge the record ``merged_id`` into ``survivor_id`` in the current transaction.

    :raise RuleError: as :func:`plan_merge`.
    """
    plan = plan_merge(survivor_id, merged_id, in_college(user) if user else None)
    survivor, merged = plan.survivor, plan.merged
    for table, ids in plan.moves.items():
        model = MOVED[table]
        if ids:
            db.session.execute(update(model).where(model.id.in_(ids))
                               .values(student_id=survivor.id))
    merged.merged_into_id = survivor.id
    db.session.flush()
    last = {table: db.session.scalar(select(func.max(model.id))) or 0
            for table, model in MOVED.items()}
    merge = StudentMerge(
        survivor_id=survivor.id, merged_id=merged.id, merged_by_id=user.id if user else None,
        merged_at=now, moved=json.dumps({**plan.moves, "_last": last}),
        survivor_version=survivor.version_id,
    )
    db.session.add(merge)
    record_event("student.merge", user, survivor.id, now=now, ip=ip,
                 detail=f"merged:{merged.student_number} into:{survivor.student_number}")
    db.session.flush()
    db.session.expire_all()
    return merge


def can_undo(merge: StudentMerge) -> bool:
    """Whether the merge can still be undone: not undone, the surviving record unchanged, and
    nothing written since to either record."""
    if merge.undone_at is not None:
        return False
    if db.session.scalar(select(Student.version_id).where(
            Student.id == merge.survivor_id)) != merge.survivor_version:
        return False
    last = json.loads(merge.moved)["_last"]
    pair = (merge.survivor_id, merge.merged_id)
    return not any(
        db.session.scalar(select(model.id).where(
            model.student_id.in_(pair), model.id > last.get(table, 0)).limit(1))
        for table, model in MOVED.items()
    )


def undo_merge(merge_id: int, user: User | None, now: datetime, *, ip: str = "") -> StudentMerge:
    """Move everything back to the merged record and make it a record again.

    :raise RuleError: "merge-not-reversible" once anything new was written.
    """
    merge = db.session.get(StudentMerge, merge_id)
    if merge is None or not can_undo(merge):
        raise RuleError("merge-not-reversible")
    moved = json.loads(merge.moved)
    for table, model in MOVED.items():
        ids = moved.get(table, [])
        if ids:
            db.session.execute(update(model).where(model.id.in_(ids))
                               .values(student_id=merge.merged_id))
    db.session.execute(update(Student).where(Student.id == merge.merged_id)
                       .values(merged_into_id=None, version_id=Student.version_id + 1))
    tallies.forget()  # the record counts again, with its statuses
    merge.undone_at, merge.undone_by_id = now, user.id if user else None
    record_event("student.unmerge", user, merge.merged_id, now=now, ip=ip,
                 detail=f"merged:{merge.merged.student_number} "
                        f"into:{merge.survivor.student_number}")
    db.session.flush()
    db.session.expire_all()
    return merge


def recent_merges(user: User, limit: int = 20) -> list[StudentMerge]:
    """The latest merges the user may see (their college's), newest first."""
    return list(db.session.scalars(
        visible_merges(user).order_by(StudentMerge.merged_at.desc(), StudentMerge.id.desc())
        .limit(limit)))
