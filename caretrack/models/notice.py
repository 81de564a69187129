"""Notices students acknowledge, and students' requests to return to campus early."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caretrack.extensions import db
from caretrack.models.base import UTCDateTime, now_utc
from caretrack.models.student import Student
from caretrack.models.user import User


class Audience(StrEnum):
    """Who a notice goes to."""

    #: Every student of the writing counsellor.
    CASELOAD = "caseload"
    #: Some classes (of the counsellor's caseload, or of the college for the deputy).
    CLASSES = "classes"
    #: The deputy's: every student of the college.
    COLLEGE = "college"
    PROGRAMME = "programme"
    COHORT = "cohort"
    #: The students holding a care category when the notice is published.
    CATEGORY = "category"


class Notice(db.Model):
    """A message to a set of students. Never changed once published: a correction is a new
    notice that points at the one it corrects."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: One of :class:`Audience`.
    audience: Mapped[str] = mapped_column(String(20))
    #: The audience's classes, programme, cohort or category id, as text.
    audience_values: Mapped[list] = mapped_column(JSON, default=list)
    title: Mapped[str] = mapped_column(String(200))
    #: Plain text; line breaks and links are shown as such.
    body: Mapped[str] = mapped_column(Text)
    #: Each student must tap "I have read it" (or tick the pledge).
    must_acknowledge: Mapped[bool] = mapped_column(Boolean, default=True)
    #: A statement the student ticks to acknowledge (a pledge campaign); "" = none.
    pledge: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The notice this one corrects; both stay and both are shown.
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"), index=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    #: Random key of the form that published it: a second post publishes nothing.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: The day the retention policy deleted who the notice went to and who acknowledged it;
    #: the two numbers it had then stay.
    recipients_purged_on: Mapped[date | None] = mapped_column(Date)
    purged_recipients: Mapped[int | None] = mapped_column(Integer)
    purged_acknowledged: Mapped[int | None] = mapped_column(Integer)

    author: Mapped[User] = relationship(lazy="joined")
    corrects: Mapped["Notice | None"] = relationship(remote_side=[id])


class NoticeRecipient(db.Model):
    """One student a notice went to (fixed when it is published), and their acknowledgement."""

    __tablename__ = "notice_recipients"
    __table_args__ = (
        Index("ix_notice_recipients_notice_student", "notice_id", "student_id", unique=True),
        Index("ix_notice_recipients_student", "student_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The student ticked the notice's pledge.
    pledged: Mapped[bool] = mapped_column(Boolean, default=False)

    notice: Mapped[Notice] = relationship()
    student: Mapped[Student] = relationship()


class ReturnReason(StrEnum):
    EXAM = "exam"
    INTERNSHIP = "internship"
    JOB = "job"
    RESEARCH = "research"
    FAMILY = "family"
    OTHER = "other"


class ReturnState(StrEnum):
    #: Asked by the student; the counsellor talks to them and recommends.
    PENDING = "pending"
    #: The counsellor recommended (approve or decline); the deputy decides.
    RECOMMENDED = "recommended"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    #: Approved, and the counsellor recorded the arrival.
    ARRIVED = "arrived"


class ReturnRequest(db.Model):
    """A student's request to return to campus early; each step is a timeline entry."""

    __tablename__ = "return_requests"
    __table_args__ = (Index("ix_return_requests_student_state", "student_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    #: One of :class:`ReturnReason`.
    reason: Mapped[str] = mapped_column(String(20))
    wanted_on: Mapped[date] = mapped_column(Date)
    #: Where the student would travel from.
    travel_from: Mapped[str] = mapped_column(String(100))
    details: Mapped[str] = mapped_column(Text, default="")
    #: One of :class:`ReturnState`.
    state: Mapped[str] = mapped_column(String(12), default=ReturnState.PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: The "wants to return early" assignment the request set (ended when it is decided).
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("category_assignments.id"))
    #: The counsellor's recommendation: "approve" or "decline", with a note.
    recommendation: Mapped[str | None] = mapped_column(String(10))
    recommendation_note: Mapped[str] = mapped_column(Text, default="")
    recommended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recommended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The first day the student may arrive (approved).
    arrival_on: Mapped[date | None] = mapped_column(Date)
    #: What happens on arrival, e.g. "14 days isolated on campus" (approved).
    arrival_plan: Mapped[str] = mapped_column(Text, default="")
    #: Days of isolation on campus after arrival (approved); None = none.
    isolation_days: Mapped[int | None] = mapped_column(Integer)
    #: Why it was declined, which the student reads.
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_on: Mapped[date | None] = mapped_column(Date)
    #: The day the retention policy deleted the request's texts (where from, details, the
    #: notes, plan and reason); its reason code, state and days stay.
    purged_on: Mapped[date | None] = mapped_column(Date)
    version_id: Mapped[int] = mapped_column(Integer, default=1)

    student: Mapped[Student] = relationship()
    recommended_by: Mapped[User | None] = relationship(foreign_keys=[recommended_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def is_open(self) -> bool:
        """Still waiting for a decision (the student may withdraw it)."""
        return self.state in (ReturnState.PENDING, ReturnState.RECOMMENDED)
