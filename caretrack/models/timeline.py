"""The append-only per-student timeline, referrals and re-checks."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caretrack.extensions import db
from caretrack.models.base import UTCDateTime, now_utc
from caretrack.models.student import CareCategory, Student
from caretrack.models.user import User


class EntryKind(StrEnum):
    FOLLOW_UP = "follow_up"
    DELIVERY = "delivery"
    REFERRAL = "referral"
    REFERRAL_STEP = "referral_step"
    NOTE = "note"
    CATEGORY_CHANGE = "category_change"
    CONCERN_CHANGE = "concern_change"
    REVIEW = "review"
    STATUS_CHANGE = "status_change"
    RECHECK_CHANGE = "recheck_change"
    CORRECTION = "correction"
    #: A step of an early-return request (details: request_id, action).
    RETURN_REQUEST = "return_request"
    #: The student moved to another counsellor's caseload (details: from_id, from, to_id, to,
    #: source: "transfer" or "roster_import"; the body is the reason).
    TRANSFER = "transfer"


class TimelineEntry(db.Model):
    """One thing that happened to a student. Never updated or deleted."""

    __tablename__ = "timeline_entries"
    __table_args__ = (
        Index("ix_timeline_entries_student_occurred", "student_id", "occurred_at"),
        Index("ix_timeline_entries_kind_occurred", "kind", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    #: One of :class:`EntryKind`.
    kind: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: When it happened (a follow-up may be logged after the call).
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: When it was recorded.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: Free text written by the author (what was said, the note, the reason).
    body: Mapped[str] = mapped_column(Text, default="")
    #: The kind's own fields, e.g. {"channel": "phone", "reached": true, "health": "normal"}.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    #: The entry this one corrects; the corrected entry stays and is shown struck through.
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("timeline_entries.id"), index=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    #: Random key carried by the form that created the entry: a second post of the same form
    #: finds it and records nothing.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: The absent counsellor whose caseload the author was covering when they recorded it.
    covering_for_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    student: Mapped[Student] = relationship()
    author: Mapped[User] = relationship(lazy="joined", foreign_keys=[author_id])
    #: The day the retention policy deleted the entry's text (body and the kind's detail
    #: fields); kind, time and author stay. None while the text is kept.
    purged_on: Mapped[date | None] = mapped_column(Date)
    #: The day the retention policy deleted the health a follow-up observed.
    health_purged_on: Mapped[date | None] = mapped_column(Date)

    covering_for: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[covering_for_id])
    corrects: Mapped["TimelineEntry | None"] = relationship(remote_side=[id])


class ReferralState(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    DONE = "done"
    REVOKED = "revoked"


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class Referral(db.Model):
    """A counsellor bringing a supervisor in for one student; its steps are timeline entries."""

    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_supervisor_state", "supervisor_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    #: The counsellor who made the referral.
    referred_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    #: One of :class:`Urgency`.
    urgency: Mapped[str] = mapped_column(String(10), default=Urgency.NORMAL)
    #: One of :class:`ReferralState`.
    state: Mapped[str] = mapped_column(String(10), default=ReferralState.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: When it reached declined, done or revoked.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version_id: Mapped[int] = mapped_column(Integer, default=1)

    student: Mapped[Student] = relationship()
    referred_by: Mapped[User] = relationship(foreign_keys=[referred_by_id])
    supervisor: Mapped[User] = relationship(foreign_keys=[supervisor_id])

    __mapper_args__ = {"version_id_col": version_id}


class RecheckState(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class RecheckOrigin(StrEnum):
    CADENCE = "cadence"
    FOLLOW_UP = "follow_up"
    ISOLATION = "isolation"
    REVIEW = "review"
    MANUAL = "manual"
    #: A status rule: a worrying daily status asks for a re-check the same day.
    STATUS = "status"
    #: A student asked to return early: the counsellor talks to them the next day.
    RETURN_REQUEST = "return_request"


class Recheck(db.Model):
    """A scheduled reminder to check on one student again."""

    __tablename__ = "rechecks"
    __table_args__ = (
        Index("ix_rechecks_owner_state_due", "owner_id", "state", "due_on"),
        Index("ix_rechecks_student_state", "student_id", "state"),
        Index("ix_rechecks_state_due", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    #: The counsellor who must do it.
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: Day it is due, in the college's timezone.
    due_on: Mapped[date] = mapped_column(Date, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    #: One of :class:`RecheckOrigin`.
    origin: Mapped[str] = mapped_column(String(20))
    #: One of :class:`RecheckState`.
    state: Mapped[str] = mapped_column(String(10), default=RecheckState.OPEN)
    #: The category whose cadence or isolation window scheduled it, if any.
    category_id: Mapped[int | None] = mapped_column(ForeignKey("care_categories.id"))
    #: The follow-up entry that completed it.
    completed_entry_id: Mapped[int | None] = mapped_column(ForeignKey("timeline_entries.id"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    #: The day it was due before its last reschedule; None if it was never rescheduled.
    previous_due_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: When it was done or cancelled.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    student: Mapped[Student] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    category: Mapped[CareCategory | None] = relationship()
    completed_entry: Mapped[TimelineEntry | None] = relationship(
        foreign_keys=[completed_entry_id]
    )
