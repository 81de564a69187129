"""Daily status of each student and each counsellor's daily report."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caretrack.extensions import db
from caretrack.models.base import UTCDateTime, now_utc
from caretrack.models.student import Student
from caretrack.models.user import User


class Health(StrEnum):
    NORMAL = "normal"
    FEVER = "fever"
    SYMPTOMS = "symptoms"
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"
    ISOLATED_HOME = "isolated_home"
    ISOLATED_CENTRE = "isolated_centre"


class StatusSource(StrEnum):
    COUNSELLOR = "counsellor"
    UPLOAD = "upload"
    #: The student's own check-in (a personal or class link).
    SELF_REPORTED = "self"


class DailyStatus(db.Model):
    """A student's location and health as confirmed for one day; carries forward until changed."""

    __tablename__ = "daily_statuses"
    __table_args__ = (UniqueConstraint("student_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    day: Mapped[date] = mapped_column(Date, index=True)
    province: Mapped[str] = mapped_column(String(50), default="")
    city: Mapped[str] = mapped_column(String(50), default="")
    #: GB/T 2260 codes of the place (see caretrack.services.places); "" when unknown.
    province_code: Mapped[str] = mapped_column(String(6), default="")
    city_code: Mapped[str] = mapped_column(String(6), default="")
    on_campus: Mapped[bool] = mapped_column(Boolean, default=False)
    #: One of :class:`Health`.
    health: Mapped[str] = mapped_column(String(20), default=Health.NORMAL)
    note: Mapped[str] = mapped_column(Text, default="")
    #: Body temperature in °C, when the status gave one (the students' check-in asks it).
    temperature: Mapped[Decimal | None] = mapped_column(Numeric(3, 1))
    #: Contact with Hubei or a risk area in the last 14 days was reported with this status.
    risk_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    #: One of :class:`StatusSource`.
    source: Mapped[str] = mapped_column(String(20), default=StatusSource.COUNSELLOR)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: The state of the counsellor's report of the day (submitted or approved) when this
    #: status last changed, or None for a change before the report (or while returned).
    changed_after: Mapped[str | None] = mapped_column(String(10))

    student: Mapped[Student] = relationship()


class ReportState(StrEnum):
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"


class DailyReport(db.Model):
    """One counsellor's report of the changes in their caseload for one day."""

    __tablename__ = "daily_reports"
    __table_args__ = (UniqueConstraint("counsellor_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    day: Mapped[date] = mapped_column(Date, index=True)
    #: One of :class:`ReportState`.
    state: Mapped[str] = mapped_column(String(10), default=ReportState.SUBMITTED)
    #: True when the counsellor reported that nothing changed.
    is_zero: Mapped[bool] = mapped_column(Boolean, default=False)
    changes_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Students with a status recorded on the day, at the (last) submission; None for the
    #: reports submitted before it was counted (unknown).
    confirmed_count: Mapped[int | None] = mapped_column(Integer)
    #: Students whose status was only carried forward (unconfirmed), at the (last) submission;
    #: None when unknown.
    unconfirmed_count: Mapped[int | None] = mapped_column(Integer)
    #: First submission; it decides whether the report is late.
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: Submitted after the day's deadline in the college's timezone.
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Last time a returned report was corrected and submitted again.
    resubmitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Who submitted it last: the counsellor, or a colleague covering their absence.
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    #: Students still unconfirmed when the deputy secretary approved (None: not counted).
    approved_unconfirmed: Mapped[int | None] = mapped_column(Integer)
    version_id: Mapped[int] = mapped_column(Integer, default=1)

    counsellor: Mapped[User] = relationship(foreign_keys=[counsellor_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])

    __mapper_args__ = {"version_id_col": version_id}


#: The counts a :class:`DailyTally` keeps, besides the health and source counts.
TALLY_COUNTS = ("students", "confirmed", "changes", "hubei", "beijing", "on_campus",
                "after_submission", "after_approval")


class DailyTally(db.Model):
    """One counsellor's numbers of one day - students, confirmed, changes, places, health,
    sources - as the carry-forward counts them over their current caseload, kept current by
    every status write (:mod:`caretrack.services.daily.tallies`), so that the board and the
    deputy secretary's pages read one row per counsellor instead of counting every student.
    """

    __tablename__ = "daily_tallies"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    students: Mapped[int] = mapped_column(Integer, default=0)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    hubei: Mapped[int] = mapped_column(Integer, default=0)
    beijing: Mapped[int] = mapped_column(Integer, default=0)
    on_campus: Mapped[int] = mapped_column(Integer, default=0)
    after_submission: Mapped[int] = mapped_column(Integer, default=0)
    after_approval: Mapped[int] = mapped_column(Integer, default=0)
    #: Students by health (one column per :class:`Health` value).
    health_normal: Mapped[int] = mapped_column(Integer, default=0)
    health_fever: Mapped[int] = mapped_column(Integer, default=0)
    health_symptoms: Mapped[int] = mapped_column(Integer, default=0)
    health_suspected: Mapped[int] = mapped_column(Integer, default=0)
    health_confirmed: Mapped[int] = mapped_column(Integer, default=0)
    health_isolated_home: Mapped[int] = mapped_column(Integer, default=0)
    health_isolated_centre: Mapped[int] = mapped_column(Integer, default=0)
    #: Students confirmed on the day by where the status came from (:class:`StatusSource`).
    source_counsellor: Mapped[int] = mapped_column(Integer, default=0)
    source_upload: Mapped[int] = mapped_column(Integer, default=0)
    source_self: Mapped[int] = mapped_column(Integer, default=0)


class ActivityDay(db.Model):
    """A college's activity of one past day (follow-ups, deliveries, care categories given to
    its students), counted once, so the dashboard's 30 days count only today. A follow-up or
    delivery recorded afterwards as having happened that day clears the day's rows, which are
    counted again at the next day's first status write."""

    __tablename__ = "activity_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    college_id: Mapped[int] = mapped_column(ForeignKey("colleges.id"), primary_key=True)
    follow_ups: Mapped[int] = mapped_column(Integer, default=0)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    new_categories: Mapped[int] = mapped_column(Integer, default=0)
