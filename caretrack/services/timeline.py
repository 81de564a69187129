"""Appending to a student's timeline. Entries are never updated or deleted."""

from datetime import datetime

from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import Student, TimelineEntry, User, now_utc


class DuplicateSubmission(Exception):
    """The same form was posted twice; the first entry stands."""

    def __init__(self, entry: TimelineEntry):
        super().__init__(f"submission already recorded as entry {entry.id}")
        self.entry = entry


def find_submission(submission_key: str | None) -> TimelineEntry | None:
    if not submission_key:
        return None
    return db.session.scalars(
        select(TimelineEntry).where(TimelineEntry.submission_key == submission_key)
    ).first()


def add_entry(
    student: Student,
    kind: str,
    author: User,
    *,
    body: str = "",
    details: dict | None = None,
    occurred_at: datetime | None = None,
    referral_id: int | None = None,
    corrects_id: int | None = None,
    submission_key: str | None = None,
    now: datetime | None = None,
) -> TimelineEntry:
    """Append one entry to the student's timeline.

    :raise DuplicateSubmission: if an entry with ``submission_key`` exists already.
    """
    existing = find_submission(submission_key)
    if existing is not None:
        raise DuplicateSubmission(existing)
    now = now or now_utc()
    entry = TimelineEntry(
        student_id=student.id,
        kind=kind,
        author_id=author.id,
        body=body,
        details=details or {},
        occurred_at=occurred_at or now,
        created_at=now,
        referral_id=referral_id,
        corrects_id=corrects_id,
        submission_key=submission_key or None,
    )
    db.session.add(entry)
    db.session.flush()
    return entry
